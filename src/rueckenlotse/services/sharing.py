"""Sharing a course with a practice, and the practice's changes to the plan (issue #18).

One place for what the web pages and the command line do, each a unit of work with its audit row:

* the person: ``sharable_practices`` (where they sent an intake), ``grant`` and ``revoke`` (at once);
* the practice: ``shared_courses`` (audited ``list.courses``), ``find_course`` (an intake of the practice
  whose person shares the course now; None otherwise), ``read_course`` (audited ``read.course``),
  ``adjust`` (``adjust.plan``) and ``undo`` (``undo.plan_adjustment``);
* the plan: ``has_active_share`` and ``plan_adjustments`` (what ``followup.current_plan`` applies: the
  active changes of practices the person shares with now).

Privacy choice: a practice's changes apply only while the person shares their course with it. After a
revocation the practice takes no part any more, so its changes rest (kept, not applied, listed in the
person's export) and apply again only if the person shares with it again.

The caller must have asked the policy (``auth.can_read_course`` / ``can_adjust_plan``) for the practice;
every function here checks the active share itself, in the query that reads or writes.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..core.models import Case
from ..plan.library import LEVELS, default_library
from ..plan.measures import MeasureSeries
from ..plan.plan_model import Plan, PracticeAdjustment
from ..plan.trends import FollowUpReport
from ..store import audit, drafts, shares
from ..store.audit import Actor
from ..store.records import AssessmentRecord
from ..store.repository import Store
from ..store.schema import NOTE_LENGTH, utc_now
from ..store.shares import (
    AdjustmentRecord,
    NotShared,
    SharablePractice,
    SharedCourse,
    ShareRecord,
)
from .followup import NoIntake, current_plan, latest_of, report_for
from .measures import series_for

__all__ = [
    "AdjustmentRecord",
    "ChangeRefused",
    "Course",
    "NotShared",
    "PlanChange",
    "SharablePractice",
    "ShareRecord",
    "SharedCourse",
    "adjust",
    "addable_exercises",
    "find_course",
    "grant",
    "has_active_share",
    "plan_adjustments",
    "read_course",
    "revoke",
    "sharable_practices",
    "shared_courses",
    "undo",
]

# A clinician's form key (secrets.token_urlsafe(32)); kept as a draft for a day: a reload or a second click
# of the same form within it changes nothing more.
FORM_KEY = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
FORM_KEY_KIND = "adjustment"
FORM_KEY_TTL = timedelta(days=1)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


# ---- the person's side -----------------------------------------------------------------------------------


def sharable_practices(store: Store, person_id: str) -> list[SharablePractice]:
    """The practices the person sent an intake to, each with its share (if any)."""
    with store.transaction(write=False) as session:
        return shares.sharable_practices(session, person_id)


def grant(
    store: Store, actor: Actor, person_id: str, practice_id: str, *, now: datetime | None = None
) -> ShareRecord:
    """Share the person's course with the practice (``shares.NotSharable`` unless they sent it an intake).
    Recorded (``share.grant``) when it changes something; granting an active share again does nothing."""
    moment = now or utc_now()
    with store.atomic():
        store.lock_person(person_id)
        with store.transaction() as session:
            record, changed = shares.grant(session, person_id, practice_id, moment)
            if changed:
                audit.record(
                    session, actor, "share.grant", person_id=person_id, practice_id=practice_id, now=moment
                )
            return record


def revoke(
    store: Store, actor: Actor, person_id: str, practice_id: str, *, now: datetime | None = None
) -> bool:
    """Stop sharing at once: from this commit on the practice's pages answer 404 and its changes no longer
    apply to the plan. False (nothing recorded) when there was no active share."""
    moment = now or utc_now()
    with store.atomic():
        store.lock_person(person_id)
        with store.transaction() as session:
            changed = shares.revoke(session, person_id, practice_id, moment)
            if changed:
                audit.record(
                    session, actor, "share.revoke", person_id=person_id, practice_id=practice_id, now=moment
                )
            return changed


def has_active_share(store: Store, person_id: str, practice_id: str) -> bool:
    """The person shares their course with this practice now."""
    with store.transaction(write=False) as session:
        return shares.active_share(session, person_id, practice_id) is not None


def plan_adjustments(store: Store, person_id: str) -> list[PracticeAdjustment]:
    """The changes the plan applies: not undone, of practices the person shares their course with now."""
    with store.transaction(write=False) as session:
        return shares.plan_adjustments(session, person_id)


# ---- the practice's side ---------------------------------------------------------------------------------


def shared_courses(store: Store, actor: Actor, practice_id: str) -> list[SharedCourse]:
    """The courses shared with the practice now, recorded as one ``list.courses`` row (no person)."""
    with store.transaction() as session:
        found = shares.shared_courses(session, practice_id)
        audit.record(session, actor, "list.courses", practice_id=practice_id)
        return found


def find_course(store: Store, practice_id: str, intake_id: str) -> SharedCourse | None:
    """The course an intake of this practice leads to while it is shared; None for anything else (another
    practice's intake, an unknown one, a share revoked or never granted): the same answer for all."""
    with store.transaction(write=False) as session:
        return shares.course_by_intake(session, practice_id, intake_id)


@dataclass(frozen=True)
class Rescreen:
    """A diary entry that raised the person's assessment (``assessments`` of source diary_rescreen)."""

    at: datetime
    triage: str
    conditions: tuple[str, ...]


@dataclass(frozen=True)
class Course:
    """What a practice sees of a shared course (the web's course page and ``practice course``)."""

    course: SharedCourse
    report: FollowUpReport | None  # None without an intake (cannot happen for a person who sent one)
    plan: Plan | None
    rescreens: list[Rescreen]
    adjustments: list[AdjustmentRecord]  # of this practice, oldest first, undone ones too
    latest_triage: str | None = None
    addable: list[str] = field(default_factory=list)  # exercise ids the practice may add now
    # The outcome measures with "better / same / worse" by each one's minimal important change (part of
    # what ``read.course`` records: read after the check that the share is active).
    measures: list[MeasureSeries] = field(default_factory=list)


def read_course(
    store: Store,
    actor: Actor,
    practice_id: str,
    person_id: str,
    *,
    lang: str = "de",
    today: dt.date | None = None,
) -> Course:
    """The course, read for the practice and recorded (``read.course``) in the same transaction as the
    check that the share is active (NotShared otherwise: nothing is read, nothing recorded)."""
    with store.transaction() as session:
        found = shares.shared_courses(session, practice_id, person_id=person_id)
        if not found:
            raise NotShared()
        audit.record(session, actor, "read.course", person_id=person_id, practice_id=practice_id)
        changes = shares.adjustments_of(session, person_id, practice_id=practice_id)
    try:
        report = report_for(store, person_id, lang=lang)
        plan = current_plan(store, person_id, today=today, lang=lang)
        latest = latest_of(store, person_id)
        measures = series_for(store, person_id)
    except NoIntake:
        return Course(found[0], None, None, [], changes)
    rescreens = [_rescreen(a) for a in store.list_assessments(person_id) if a.source == "diary_rescreen"]
    return Course(
        found[0],
        report,
        plan,
        rescreens,
        changes,
        latest.assessment.triage.value,
        addable_exercises(plan, latest.case),
        measures,
    )


def _rescreen(record: AssessmentRecord) -> Rescreen:
    conditions = tuple(dict.fromkeys(flag.condition for flag in record.assessment.red_flags))
    return Rescreen(record.created_at, record.assessment.triage.value, conditions)


def addable_exercises(plan: Plan, case: Case) -> list[str]:
    """Library exercises a practice may add: covering one of the person's regions, not ruled out by the
    Case, not excluded by the person, and not in this week's plan already (library order)."""
    in_plan = {e.id for e in plan.exercises}
    return [
        e.id
        for e in default_library().exercises.values()
        if set(e.regions) & set(case.regions)
        and not e.avoided_for(case)
        and e.id not in plan.excluded
        and e.id not in in_plan
    ]


# ---- changes to the plan ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanChange:
    """What a clinician's form asks for (read from the form, not yet checked)."""

    kind: str
    exercise_id: str | None = None
    level: int | None = None
    note: str | None = None


class ChangeRefused(ValueError):
    """A change the service refuses, with the form field at fault and why (``reason``: a short code the
    interface words: web texts ``share.error.<reason>``)."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def clean_note(text: str | None) -> str | None:
    """The note as kept: without control characters (line breaks stay), trimmed; None when empty.
    ChangeRefused when longer than the column holds."""
    if text is None:
        return None
    clean = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if len(clean) > NOTE_LENGTH:
        raise ChangeRefused("note", "note_too_long")
    return clean or None


def _check(change: PlanChange, plan: Plan, person_id: str, store: Store) -> PlanChange:
    """The change as kept, or ChangeRefused naming the field (see ``adjust``)."""
    note = clean_note(change.note)
    lib = default_library()
    if change.kind == "note":
        if note is None:
            raise ChangeRefused("note", "note_missing")
        return PlanChange("note", note=note)
    if change.kind not in ("exclude", "add", "level"):
        raise ChangeRefused("kind", "kind")
    if plan.red_flag:
        raise ChangeRefused("exercise" if change.kind != "level" else "level", "red_flag")
    if change.kind == "level":
        if change.level not in LEVELS:
            raise ChangeRefused("level", "level_missing")
        return PlanChange("level", level=change.level, note=note)
    exercise_id = change.exercise_id or ""
    if not exercise_id:
        raise ChangeRefused("exercise", "exercise_missing")
    if exercise_id not in lib.exercises:
        raise ChangeRefused("exercise", "unknown_exercise")
    if change.kind == "exclude":
        if exercise_id not in {e.id for e in plan.exercises}:
            raise ChangeRefused("exercise", "not_in_plan")
        return PlanChange("exclude", exercise_id=exercise_id, note=note)
    latest = latest_of(store, person_id)
    if exercise_id not in addable_exercises(plan, latest.case):
        exercise = lib.exercises[exercise_id]
        if exercise_id in {e.id for e in plan.exercises}:
            reason = "in_plan"
        elif not set(exercise.regions) & set(latest.case.regions):
            reason = "region"
        elif exercise.avoided_for(latest.case):
            reason = "ruled_out"
        else:
            reason = "excluded_by_person"
        raise ChangeRefused("exercise", reason)
    return PlanChange("add", exercise_id=exercise_id, note=note)


def adjust(
    store: Store,
    actor: Actor,
    practice_id: str,
    person_id: str,
    change: PlanChange,
    *,
    form_key: str | None = None,
    lang: str = "de",
    now: datetime | None = None,
) -> AdjustmentRecord:
    """Keep one change of the practice to the shared person's plan, recorded as ``adjust.plan``.

    Checked against today's plan: an exclusion names an exercise of this week (and must leave the week at
    least one exercise: else ChangeRefused ``last_exercise``, the plan would be empty), an addition one of
    ``addable_exercises``, a level one of the library's levels; exercise changes wait while a red flag
    stands (``red_flag``); a note is at most 1000 characters (and needed for kind ``note``).
    ``form_key`` (the form's): the same key again saves nothing and returns the first change, so a reload
    or a second click changes the plan once. NotShared when the share is not active (nothing written)."""
    moment = now or utc_now()
    key = form_key if form_key is not None and FORM_KEY.match(form_key) else None
    earlier = _earlier(store, key, person_id, practice_id)
    if earlier is not None:
        return earlier
    if not has_active_share(store, person_id, practice_id):
        raise NotShared()
    try:
        plan = current_plan(store, person_id, lang=lang)
    except NoIntake:
        raise NotShared() from None
    checked = _check(change, plan, person_id, store)
    if checked.kind == "exclude":
        trial = PracticeAdjustment(
            id="trial", kind="exclude", practice="", on=moment.date(), exercise_id=checked.exercise_id
        )
        after = current_plan(
            store, person_id, lang=lang, adjustments=[*plan_adjustments(store, person_id), trial]
        )
        if not after.exercises:
            raise ChangeRefused("exercise", "last_exercise")
    with store.atomic():
        store.lock_person(person_id)
        again = _earlier(store, key, person_id, practice_id)  # two posts of one form at once: one change
        if again is not None:
            return again
        with store.transaction() as session:
            record = shares.add_adjustment(
                session,
                person_id,
                practice_id,
                actor.id if actor.kind == "clinician" else None,
                kind=checked.kind,
                now=moment,
                exercise_id=checked.exercise_id,
                level=checked.level,
                note=checked.note,
            )
            if key is not None:
                drafts.put(
                    session,
                    key,
                    FORM_KEY_KIND,
                    {"adjustment": record.id, "practice": practice_id},
                    now=moment,
                    expires_at=moment + FORM_KEY_TTL,
                    person_id=person_id,
                )
            audit.record(
                session, actor, "adjust.plan", person_id=person_id, practice_id=practice_id, now=moment
            )
            return record


def _earlier(store: Store, key: str | None, person_id: str, practice_id: str) -> AdjustmentRecord | None:
    """The change this form key saved before (of this person and practice), if any."""
    if key is None:
        return None
    with store.transaction(write=False) as session:
        draft = drafts.get(session, key, FORM_KEY_KIND, now=utc_now())
        if draft is None or draft.person_id != person_id or draft.payload.get("practice") != practice_id:
            return None
        found = [
            a
            for a in shares.adjustments_of(session, person_id, practice_id=practice_id)
            if a.id == draft.payload.get("adjustment")
        ]
        return found[0] if found else None


def undo(
    store: Store,
    actor: Actor,
    practice_id: str,
    person_id: str,
    adjustment_id: str,
    *,
    now: datetime | None = None,
) -> bool:
    """Undo one change of the practice (``undo.plan_adjustment``). True when it was undone now or before
    (undoing twice is one undo, recorded once); NotShared for no such change of this practice and person
    while shared (the same for another practice's change and an unknown id)."""
    moment = now or utc_now()
    with store.atomic():
        store.lock_person(person_id)
        with store.transaction() as session:
            found = shares.undo_adjustment(
                session,
                person_id,
                practice_id,
                adjustment_id,
                actor.id if actor.kind == "clinician" else None,
                moment,
            )
            if found is None:
                raise NotShared()
            _record, changed = found
            if changed:
                audit.record(
                    session,
                    actor,
                    "undo.plan_adjustment",
                    person_id=person_id,
                    practice_id=practice_id,
                    now=moment,
                )
            return True
