"""Follow-up use cases over the store: intake, diary entries with re-screening, plan, report and plot.

One place for what the CLI (and later the web app) do with a person's data, so both behave alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.engine import evaluate
from ..core.models import Case
from ..knowledge.loader import default_knowledge
from ..plan.builder import build_plan
from ..plan.models import DiaryEntry
from ..plan.plan_model import Plan, StandingFlag
from ..plan.rescreen import Episode, RaisedFlag, Rescreen, replay
from ..plan.trends import Escalation, FollowUpReport, follow_up_report
from ..store.errors import StoreError
from ..store.records import AssessmentRecord
from ..store.repository import Store
from ..store.schema import TRIAGE_RANK
from ..validation import validate_model


class NoIntake(StoreError):
    """A diary or plan needs an intake assessment first."""

    def __init__(self) -> None:
        super().__init__("no_intake")


@dataclass(frozen=True)
class IntakeResult:
    record: AssessmentRecord
    plan: Plan


@dataclass(frozen=True)
class EntryResult:
    entry_id: str
    rescreen: Rescreen
    new_escalations: list[Escalation]


def record_intake(
    store: Store, person_id: str, case: Case, *, assessed_at: dt.datetime | None = None, lang: str = "de"
) -> IntakeResult:
    """Assess a Case for a person, keep it, and keep the plan made from it: both or neither, so an intake
    is never stored without its plan."""
    assessment = evaluate(default_knowledge(), case, lang)
    with store.atomic():
        record = store.add_assessment(person_id, case, assessment, "intake", assessed_at=assessed_at)
        plan = build_plan(case, assessment, start=record.created_at.date(), lang=lang)
        store.save_plan(person_id, record.id, plan.model_dump(mode="json"))
    return IntakeResult(record, plan)


def intake_of(store: Store, person_id: str) -> AssessmentRecord:
    """The latest intake: the Case the diary is read against (re-screens never replace it)."""
    intakes = [a for a in store.list_assessments(person_id) if a.source == "intake"]
    if not intakes:
        raise NoIntake()
    return intakes[-1]


def latest_of(store: Store, person_id: str) -> AssessmentRecord:
    """The newest assessment of any kind: an escalated re-screen outranks the intake it came from."""
    latest = store.latest_assessment(person_id)
    if latest is None:
        raise NoIntake()
    return latest


def episode_of(store: Store, person_id: str, *, extra: DiaryEntry | None = None, lang: str = "de") -> Episode:
    """The person's diary re-screened from the intake on (with ``extra`` as one more entry, not stored)."""
    intake = intake_of(store, person_id)
    entries = [record.entry for record in store.list_diary(person_id)]
    if extra is not None:
        entries.append(extra)
    return replay(intake.case, intake.assessment, entries, assessed_at=intake.created_at, lang=lang)


def standing_flags(flags: list[RaisedFlag], *, lang: str = "de") -> list[StandingFlag]:
    """The episode's standing red flags for the plan, with their labels in the plan's language."""
    kb = default_knowledge()
    return [
        StandingFlag(
            condition=f.condition,
            label=kb.render(f"condition.{f.condition}.label", lang),
            triage=f.triage,
            since=f.raised_at.date(),
        )
        for f in flags
    ]


def add_entry(
    store: Store, person_id: str, data: Mapping[str, Any] | DiaryEntry, *, lang: str = "de"
) -> EntryResult:
    """Validate and keep a diary entry, re-screen it at once, and name the trend steps it makes due.

    The re-screen replays the whole diary, so red flags raised earlier stand until an entry records that a
    doctor examined them (plan.rescreen). An entry that escalates, or that records the examination, keeps
    its assessment: the plan reads the newest one.
    """
    entry = (
        data if isinstance(data, DiaryEntry) else validate_model(DiaryEntry, data, default_knowledge(), lang)
    )
    episode = episode_of(store, person_id, extra=entry, lang=lang)
    result = episode.of_entry(-1)
    previous = latest_of(store, person_id)
    # The entry and the assessment it escalates to are one unit: a warning sign is never stored without
    # its escalation.
    with store.atomic():
        entry_id = store.add_diary_entry(person_id, entry, lang=lang)
        if result.escalated or result.examined or _below_standing(previous, result):
            # Strictly after the assessment it follows: on a tie of timestamps the order by id is
            # arbitrary, and the older assessment could still count as the newest.
            after_previous = previous.created_at + dt.timedelta(microseconds=1)
            store.add_assessment(
                person_id,
                result.case,
                result.assessment,
                "diary_rescreen",
                assessed_at=max(entry.recorded_at, after_previous),
            )
    # The episode replayed above already holds this entry: the stored diary is the same one.
    report = report_for(store, person_id, lang=lang, episode=episode)
    day = entry.recorded_at.date()
    return EntryResult(entry_id, result, [e for e in report.escalations if e.on == day])


def _below_standing(previous: AssessmentRecord, result: Rescreen) -> bool:
    """The newest stored triage is below a red flag that still stands: the record misses an escalation
    (written before escalations were kept with their entry, or past the service). Keeping this re-screen
    repairs it at the next entry instead of leaving the person at the lower triage."""
    stored = TRIAGE_RANK[previous.assessment.triage]
    return any(TRIAGE_RANK[flag.triage] > stored for flag in result.standing)


def report_for(
    store: Store, person_id: str, *, lang: str = "de", episode: Episode | None = None
) -> FollowUpReport:
    """The trend report of the diary; ``episode``: the diary's replay when the caller has it already (the
    replay is the costly part, and grows with the diary)."""
    intake = intake_of(store, person_id)
    entries = [record.entry for record in store.list_diary(person_id)]
    standing = (episode or episode_of(store, person_id, lang=lang)).standing
    return follow_up_report(entries, case=intake.case, assessed_at=intake.created_at, standing=standing)


def current_plan(store: Store, person_id: str, *, today: dt.date | None = None, lang: str = "de") -> Plan:
    """The plan as it stands today: progression from the diary, exclusions, the newest assessment, and the
    red flags of the episode that no doctor has examined yet."""
    intake = intake_of(store, person_id)
    latest = latest_of(store, person_id)
    return build_plan(
        latest.case,
        latest.assessment,
        start=intake.created_at.date(),
        exclusions=[x.exercise_id for x in store.list_exclusions(person_id)],
        diary=[record.entry for record in store.list_diary(person_id)],
        today=today or dt.datetime.now(dt.UTC).date(),
        lang=lang,
        standing=standing_flags(episode_of(store, person_id, lang=lang).standing, lang=lang),
    )


def plot_for(
    store: Store,
    person_id: str,
    *,
    svg_path: Path | None = None,
    png_path: Path | None = None,
    jpeg_path: Path | None = None,
    lang: str = "de",
) -> FollowUpReport:
    """Draw a person's diary with the plan's milestones and the escalations; returns the report drawn."""
    from ..reports.plots import plot_diary  # matplotlib is heavy: load it only when a plot is asked for

    report = report_for(store, person_id)
    entries = [record.entry for record in store.list_diary(person_id)]
    plan = current_plan(store, person_id, today=report.last_day, lang=lang)
    # A checkpoint that escalated is drawn as the escalation; its milestone line would only crowd it.
    escalated_weeks = {e.due_week for e in report.escalations}
    milestones = [(m.on, m.text.split(":")[0]) for m in plan.milestones if m.week not in escalated_weeks]
    plot_diary(
        entries,
        escalations=report.escalations,
        milestones=milestones,
        lang=lang,
        svg_path=svg_path,
        png_path=png_path,
        jpeg_path=jpeg_path,
    )
    return report
