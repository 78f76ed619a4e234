"""Integrity: every stored warning sign has the escalation it calls for.

A diary entry and the assessment it escalates to are written in one transaction (services.followup), so a
warning sign without its escalation can only come from a bug, an import that bypassed the service, or a
database edited by hand. It is the most dangerous inconsistency the store can hold: a fever entry while the
person's triage stays ``self_care``. This check replays each person's diary from their latest intake with the
same re-screening the service uses (plan.rescreen.replay) and, for every entry whose re-screen escalates,
looks for an assessment stored at or after the entry with a triage at least as high.

Any such assessment counts (the entry's own, a later escalation or a newer intake): what matters for safety
is that the person's record was raised by then, not which row did it.

The same replay checks the diary's checkpoint (``store.checkpoints``): a checkpoint that claims to describe
the diary (its intake, latest entry, number of entries and version) must hold the replay's state, since the
next entry is re-screened from it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..core.models import Assessment, Case
from ..plan.models import DiaryEntry
from ..plan.rescreen import Episode, EpisodeState, replay
from . import checkpoints
from .records import parse_stored
from .schema import DIARY_ORDER, TRIAGE_RANK, AssessmentRow, DiaryCheckpoint, DiaryRow


def _persons_with_diary(session: Session) -> Iterator[str]:
    query = select(DiaryRow.person_id).distinct().order_by(DiaryRow.person_id)
    yield from session.scalars(query)


def _covered(assessments: list[AssessmentRow], at: datetime, rank: int) -> bool:
    return any(a.created_at >= at and TRIAGE_RANK.get(a.triage, -1) >= rank for a in assessments)


def person_problems(session: Session, person_id: str) -> list[str]:
    """The person's diary entries whose escalation is missing (empty when every one has it)."""
    query = select(AssessmentRow).where(AssessmentRow.person_id == person_id)
    assessments = list(session.scalars(query.order_by(AssessmentRow.created_at, AssessmentRow.id)))
    intakes = [row for row in assessments if row.source == "intake"]
    if not intakes:
        return []  # a diary needs an intake first; without one nothing was re-screened
    intake = intakes[-1]
    rows = list(
        session.scalars(select(DiaryRow).where(DiaryRow.person_id == person_id).order_by(*DIARY_ORDER))
    )
    try:
        entries = [parse_stored(DiaryEntry, row.entry_json) for row in rows]
        case = parse_stored(Case, intake.case_json)
        assessment = parse_stored(Assessment, intake.assessment_json)
    except ValueError:
        return []  # reported by the document checks already
    episode = replay(case, assessment, entries, assessed_at=intake.created_at)

    def replay_in(lang: str) -> Episode:
        if lang == "de":
            return episode
        return replay(case, assessment, entries, assessed_at=intake.created_at, lang=lang)

    problems = []
    for index, row in enumerate(rows):
        result = episode.of_entry(index)
        if not result.escalated:
            continue
        needed = result.assessment.triage.value
        if not _covered(assessments, row.recorded_at, TRIAGE_RANK[needed]):
            problems.append(f"diary_entries {row.id}: warning sign without its escalation (needs {needed})")
    checkpoint = _checkpoint_problem(session, person_id, intake, rows, lambda lang: replay_in(lang).state)
    return problems + checkpoint


def _checkpoint_problem(
    session: Session,
    person_id: str,
    intake: AssessmentRow,
    rows: list[DiaryRow],
    state_in: Callable[[str], EpisodeState],
) -> list[str]:
    """A checkpoint that claims to describe the diary must hold what replaying the diary gives: the next
    entry trusts it. One that no longer claims so (another intake, entry or version) is merely unused."""
    row = session.get(DiaryCheckpoint, person_id)
    if row is None:
        return []
    checkpoint = checkpoints.checkpoint_of(session, person_id)
    if checkpoint is None:
        return [f"diary_checkpoints {person_id}: unreadable state (replayed instead; harmless)"]
    if checkpoint.describes(intake.id, checkpoints.DiaryTail.of(rows)) and (
        checkpoint.state != state_in(checkpoint.lang)
    ):
        return [f"diary_checkpoints {person_id}: differs from the diary's replay"]
    return []


def escalation_checks(session: Session) -> list[str]:
    problems: list[str] = []
    for person_id in list(_persons_with_diary(session)):
        problems += person_problems(session, person_id)
    return problems
