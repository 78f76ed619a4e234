"""Follow-up use cases over the store: intake, diary entries with re-screening, plan, report and plot.

One place for what the CLI (and later the web app) do with a person's data, so both behave alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.engine import evaluate
from ..core.models import Assessment, Case
from ..knowledge.loader import default_knowledge
from ..plan.builder import build_plan
from ..plan.models import DiaryEntry
from ..plan.plan_model import Plan, PracticeAdjustment, StandingFlag
from ..plan.rescreen import Episode, EpisodeState, RaisedFlag, Rescreen, replay, replay_version, step
from ..plan.trends import Escalation, FollowUpReport, follow_up_report
from ..store import audit, shares
from ..store.audit import Actor
from ..store.checkpoints import Checkpoint, DiaryTail
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


class AlreadySaved(StoreError):
    """This form (its idempotency key) saved an entry already: nothing new was written."""

    def __init__(self, entry_id: str) -> None:
        super().__init__("already_saved")
        self.entry_id = entry_id


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
    intake = store.latest_assessment(person_id, source="intake")
    if intake is None:
        raise NoIntake()
    return intake


def latest_of(store: Store, person_id: str) -> AssessmentRecord:
    """The newest assessment of any kind: an escalated re-screen outranks the intake it came from."""
    latest = store.latest_assessment(person_id)
    if latest is None:
        raise NoIntake()
    return latest


def assessment_in(record: AssessmentRecord, lang: str) -> Assessment:
    """A stored assessment with its texts in ``lang``: it was kept in the language it was made in, and a
    person who switched to English must not read its advice in German. Evaluated again only under the
    same knowledge (same result, new texts); an assessment of older knowledge keeps what it said."""
    kb = default_knowledge()
    if record.knowledge_version != kb.version:
        return record.assessment
    again = evaluate(kb, record.case, lang)
    kept = record.assessment
    # Safety: only the words may change. Should the result differ in anything (a re-screen that saw more
    # than its case holds), the stored assessment stands as it was made.
    if (again.triage, again.red_flags, again.suspected_conditions) != (
        kept.triage,
        kept.red_flags,
        kept.suspected_conditions,
    ) or [r.id for r in again.recommendations] != [r.id for r in kept.recommendations]:
        return kept
    return again


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
    store: Store,
    person_id: str,
    data: Mapping[str, Any] | DiaryEntry,
    *,
    lang: str = "de",
    idempotency_key: str | None = None,
) -> EntryResult:
    """Validate and keep a diary entry, re-screen it at once, and name the trend steps it makes due.

    The re-screen carries the whole diary along, so red flags raised earlier stand until an entry records
    that a doctor examined them (plan.rescreen). An entry that escalates, or that records the examination,
    keeps its assessment: the plan reads the newest one. A later entry continues from the diary's
    checkpoint (the state after its latest entry) instead of replaying the diary, so its cost does not
    grow with the diary; an entry dated before the latest one replays the diary.

    With an ``idempotency_key`` (the web form's), a second call with the same key saves nothing and
    raises ``AlreadySaved`` with the first entry's id: a reload or a double click saves once.
    """
    if idempotency_key is not None:
        earlier = store.diary_entry_by_key(person_id, idempotency_key)
        if earlier is not None:  # before the re-screen: a reload costs nothing
            raise AlreadySaved(earlier)
    entry = (
        data if isinstance(data, DiaryEntry) else validate_model(DiaryEntry, data, default_knowledge(), lang)
    )
    # Re-screened outside the write transaction (a replay takes long; SQLite's write lock is one for all).
    screened = _screen_new_entry(store, person_id, entry, lang)
    # The entry and the assessment it escalates to are one unit: a warning sign is never stored without
    # its escalation.
    with store.atomic():
        store.lock_person(person_id)
        if idempotency_key is not None:
            # Checked again under the person's lock: two posts of one form at once save one entry.
            earlier = store.diary_entry_by_key(person_id, idempotency_key)
            if earlier is not None:
                raise AlreadySaved(earlier)
        if _diary_moved(store, person_id, screened):
            # Another entry (or intake) of this person was stored meanwhile: screen again, now that the
            # transaction holds the diary still.
            screened = _screen_new_entry(store, person_id, entry, lang)
        result = screened.result
        previous = latest_of(store, person_id)
        entry_id = store.add_diary_entry(person_id, entry, lang=lang, idempotency_key=idempotency_key)
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
        if screened.later_escalation is not None:
            _keep_latest(store, person_id, screened.later_escalation)
        if screened.is_latest:
            checkpoint = Checkpoint(
                screened.intake_id, entry_id, screened.tail.count + 1, replay_version(), lang, screened.state
            )
            store.save_diary_checkpoint(person_id, checkpoint)
    report = report_for(store, person_id, lang=lang, standing=screened.state.standing)
    day = entry.recorded_at.date()
    return EntryResult(entry_id, result, [e for e in report.escalations if e.on == day])


def _keep_latest(store: Store, person_id: str, now: Rescreen) -> None:
    """Keep the re-screen of the diary's latest entry (where the episode stands now) strictly after every
    stored assessment, the one just written included: the newest record never falls below a sign the
    diary holds. Called inside the writing transaction."""
    newest = latest_of(store, person_id)
    store.add_assessment(
        person_id,
        now.case,
        now.assessment,
        "diary_rescreen",
        assessed_at=max(now.recorded_at, newest.created_at + dt.timedelta(microseconds=1)),
    )


class NoSuchEntry(StoreError):
    """The person has no diary entry of this id."""

    def __init__(self) -> None:
        super().__init__("no_such_entry")


def edit_entry(
    store: Store,
    person_id: str,
    entry_id: str,
    data: Mapping[str, Any] | DiaryEntry,
    *,
    actor: Actor,
    lang: str = "de",
) -> EntryResult:
    """Correct a diary entry, re-screen the diary with the correction, and record the change in the audit.

    The whole diary is replayed (the entry may now lie anywhere in it); the corrected entry's re-screen is
    the result. A warning sign edited in escalates as a new entry would: the escalated assessment is kept,
    so the plan reads it. Escalations kept before stay: a correction never removes one.
    """
    entry = (
        data if isinstance(data, DiaryEntry) else validate_model(DiaryEntry, data, default_knowledge(), lang)
    )
    with store.atomic():
        store.lock_person(person_id)
        records = store.list_diary(person_id)
        stored = next((record.entry for record in records if record.id == entry_id), None)
        if stored is None:
            raise NoSuchEntry()
        # The same correction posted twice (reload, double click) is one change: the second writes nothing,
        # keeps no second assessment and no second audit row; the person still sees the re-screen.
        changed = stored != entry
        if changed:
            if not store.replace_diary_entry(person_id, entry_id, entry, lang=lang):
                raise NoSuchEntry()
            records = store.list_diary(person_id)
        intake = intake_of(store, person_id)
        episode = replay(
            intake.case,
            intake.assessment,
            [r.entry for r in records],
            assessed_at=intake.created_at,
            lang=lang,
        )
        index = next(i for i, record in enumerate(records) if record.id == entry_id)
        result = episode.of_entry(index)
        previous = latest_of(store, person_id)
        keep = result.escalated or result.examined or _below_standing(previous, episode.of_entry(-1))
        if changed and keep:
            kept = result if (result.escalated or result.examined) else episode.of_entry(-1)
            store.add_assessment(
                person_id,
                kept.case,
                kept.assessment,
                "diary_rescreen",
                assessed_at=max(entry.recorded_at, previous.created_at + dt.timedelta(microseconds=1)),
            )
        later = episode.rescreens[episode.positions[index] + 1 :]
        if changed and any(r.escalated for r in later):
            # As for a back-dated entry (add_entry): a correction that lets a later sign escalate keeps where
            # the episode stands now, after every stored assessment.
            _keep_latest(store, person_id, episode.rescreens[-1])
        if changed:
            with store.transaction() as session:
                audit.record(session, actor, "edit.diary_entry", person_id=person_id)
    report = report_for(store, person_id, lang=lang)
    day = entry.recorded_at.date()
    return EntryResult(entry_id, result, [e for e in report.escalations if e.on == day])


def delete_entry(store: Store, person_id: str, entry_id: str, *, actor: Actor) -> None:
    """Delete a diary entry and record it in the audit. Assessments the entry escalated to stay (the
    plan keeps reading the newest one): deleting an entry never lowers the advice silently."""
    with store.atomic():
        store.lock_person(person_id)
        if not store.delete_diary_entry(person_id, entry_id):
            raise NoSuchEntry()
        with store.transaction() as session:
            audit.record(session, actor, "delete.diary_entry", person_id=person_id)


def diary_csv(store: Store, person_id: str, *, actor: Actor) -> str:
    """The diary as CSV, recorded in the audit like the JSON export."""
    text = store.diary_csv(person_id)
    with store.transaction() as session:
        audit.record(session, actor, "export.diary_csv", person_id=person_id)
    return text


@dataclass(frozen=True)
class _Screened:
    """A new entry's re-screen and the episode's state after the diary with it, as computed on ``tail``."""

    result: Rescreen
    state: EpisodeState
    intake_id: str
    tail: DiaryTail
    # The entry comes after every stored one: the state is the one after it (a checkpoint for it).
    is_latest: bool
    # An entry dated before others (back-dated, or arriving late) changes how the entries after it read:
    # when one of them now escalates (an examination before a later sign lets that sign raise the flag
    # again), the re-screen of the diary's latest entry — where the episode stands now — is kept too.
    later_escalation: Rescreen | None = None


def _screen_new_entry(store: Store, person_id: str, entry: DiaryEntry, lang: str) -> _Screened:
    intake = intake_of(store, person_id)
    checkpoint, tail = store.diary_checkpoint(person_id)
    # Strictly later: an entry of the same moment as the latest is placed by the time it is written
    # (schema.DIARY_ORDER), which a clock set back could put before the latest; such an entry replays.
    is_latest = tail.last_at is None or entry.recorded_at > tail.last_at
    if is_latest and checkpoint is not None and _describes(checkpoint, intake, tail, lang):
        result, state = step(intake.case, checkpoint.state, entry, assessed_at=intake.created_at, lang=lang)
        return _Screened(result, state, intake.id, tail, is_latest)
    records = store.list_diary(person_id)
    stored = DiaryTail.of(records)
    entries = [record.entry for record in records] + [entry]
    episode = replay(intake.case, intake.assessment, entries, assessed_at=intake.created_at, lang=lang)
    is_latest = stored.last_at is None or entry.recorded_at > stored.last_at
    after = episode.rescreens[episode.positions[-1] + 1 :]
    later = episode.rescreens[-1] if any(r.escalated for r in after) else None
    return _Screened(episode.of_entry(-1), episode.state, intake.id, stored, is_latest, later)


def _describes(checkpoint: Checkpoint, intake: AssessmentRecord, tail: DiaryTail, lang: str) -> bool:
    """The checkpoint is the state after this diary, read against this intake, in this language."""
    return checkpoint.describes(intake.id, tail) and checkpoint.lang == lang


def _diary_moved(store: Store, person_id: str, screened: _Screened) -> bool:
    moved = store.diary_tail(person_id) != screened.tail
    return moved or intake_of(store, person_id).id != screened.intake_id


def standing_of(store: Store, person_id: str, *, lang: str = "de") -> list[RaisedFlag]:
    """The red flags standing after the person's diary: from its checkpoint when that still describes the
    diary, else from a replay."""
    intake = intake_of(store, person_id)
    checkpoint, tail = store.diary_checkpoint(person_id)
    if checkpoint is not None and _describes(checkpoint, intake, tail, lang):
        return checkpoint.state.standing
    return episode_of(store, person_id, lang=lang).standing


def _below_standing(previous: AssessmentRecord, result: Rescreen) -> bool:
    """The newest stored triage is below a red flag that still stands: the record misses an escalation
    (written before escalations were kept with their entry, or past the service). Keeping this re-screen
    repairs it at the next entry instead of leaving the person at the lower triage."""
    stored = TRIAGE_RANK[previous.assessment.triage]
    return any(TRIAGE_RANK[flag.triage] > stored for flag in result.standing)


def report_for(
    store: Store, person_id: str, *, lang: str = "de", standing: list[RaisedFlag] | None = None
) -> FollowUpReport:
    """The trend report of the diary; ``standing``: the red flags standing after it, when the caller has
    them already."""
    intake = intake_of(store, person_id)
    entries = [record.entry for record in store.list_diary(person_id)]
    if standing is None:
        standing = standing_of(store, person_id, lang=lang)
    return follow_up_report(entries, case=intake.case, assessed_at=intake.created_at, standing=standing)


def current_plan(
    store: Store,
    person_id: str,
    *,
    today: dt.date | None = None,
    lang: str = "de",
    adjustments: Sequence[PracticeAdjustment] | None = None,
) -> Plan:
    """The plan as it stands today: progression from the diary and the session's ratings, exclusions, the
    newest assessment, the red flags of the episode that no doctor has examined yet, and the changes of
    the practices the person shares their course with now (``adjustments`` instead, to try one out)."""
    intake = intake_of(store, person_id)
    latest = latest_of(store, person_id)
    if adjustments is None:
        with store.transaction(write=False) as session:
            adjustments = shares.plan_adjustments(session, person_id)
    return build_plan(
        latest.case,
        assessment_in(latest, lang),
        start=intake.created_at.date(),
        exclusions=[x.exercise_id for x in store.list_exclusions(person_id)],
        diary=[record.entry for record in store.list_diary(person_id)],
        today=today or dt.datetime.now(dt.UTC).date(),
        lang=lang,
        standing=standing_flags(standing_of(store, person_id, lang=lang), lang=lang),
        feedback=[record.feedback for record in store.list_feedback(person_id)],
        adjustments=adjustments,
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
