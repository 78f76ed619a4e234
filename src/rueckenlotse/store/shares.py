"""Shared courses and a practice's changes to a shared person's plan (``schema.CourseShare``,
``schema.PlanAdjustment``, revision 0014).

A person may share their course (diary, outcome measures, plan, escalations) with a practice they sent an
intake to. One row per person and practice: granting again clears ``revoked_at`` (and starts the share
anew); revoking sets it. A practice sees a course only while the share is active; its changes to the plan
count only while the share is active (``plan_adjustments``): after a revocation the practice takes no part
in the person's plan any more, and nothing it decided stays in force behind the person's back. Granting
again brings its changes that were not undone back.

Session-level functions: the caller (``services.sharing``) owns the transaction and records every grant,
revocation, view and change in the audit trail in the same one. Every read that a practice makes filters
by the practice id and the active share in the query itself: another practice's person, a revoked share
and an unknown id all give the same None.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from ..plan.plan_model import PracticeAdjustment
from .errors import StoreError
from .schema import (
    ADJUSTMENT_KINDS,
    NOTE_LENGTH,
    CourseShare,
    DiaryRow,
    Person,
    PlanAdjustment,
    Practice,
    PracticeIntake,
)

MAX_COURSES = 500


class NotSharable(StoreError):
    """The person never sent an intake to this practice: there is nobody there to share with."""

    def __init__(self) -> None:
        super().__init__("share_needs_intake")


class NotShared(StoreError):
    """The person does not share their course with this practice (never, or not any more)."""

    def __init__(self) -> None:
        super().__init__("not_shared")


@dataclass(frozen=True)
class ShareRecord:
    person_id: str
    practice_id: str
    practice_name: str
    granted_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


@dataclass(frozen=True)
class SharablePractice:
    """A practice the person sent an intake to, the latest send, and the share with it (if any)."""

    practice_id: str
    name: str
    last_sent: datetime
    share: ShareRecord | None

    @property
    def shared(self) -> bool:
        return self.share is not None and self.share.active


@dataclass(frozen=True)
class SharedCourse:
    """A course a practice may see: the person (their name, if they gave one), the practice's newest intake
    of the person (its id addresses the course in the practice's pages, its reference names the person when
    there is no name), since when it is shared, and the latest diary day."""

    person_id: str
    practice_id: str
    display_name: str | None
    intake_id: str
    reference: str | None
    granted_at: datetime
    last_entry: datetime | None


@dataclass(frozen=True)
class AdjustmentRecord:
    id: str
    person_id: str
    practice_id: str
    practice_name: str
    account_id: str | None
    kind: str
    exercise_id: str | None
    level: int | None
    note: str | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None

    @property
    def active(self) -> bool:
        return self.undone_at is None

    @classmethod
    def from_row(cls, row: PlanAdjustment, practice_name: str) -> AdjustmentRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            practice_id=row.practice_id,
            practice_name=practice_name,
            account_id=row.account_id,
            kind=row.kind,
            exercise_id=row.exercise_id,
            level=row.level,
            note=row.note,
            created_at=row.created_at,
            undone_at=row.undone_at,
            undone_by=row.undone_by,
        )

    def for_plan(self) -> PracticeAdjustment:
        """As the plan builder takes it (the day it was made, in UTC)."""
        return PracticeAdjustment(
            id=self.id,
            kind=self.kind,  # the table's check constraint holds the kinds
            practice=self.practice_name,
            on=self.created_at.date(),
            exercise_id=self.exercise_id,
            level=self.level,
            note=self.note,
        )


# ---- shares ---------------------------------------------------------------------------------------------


def _share_record(row: CourseShare, name: str) -> ShareRecord:
    return ShareRecord(row.person_id, row.practice_id, name, row.granted_at, row.revoked_at)


def sharable_practices(session: Session, person_id: str) -> list[SharablePractice]:
    """Every practice the person sent an intake to (by name), with the share, if any."""
    query = (
        select(Practice.id, Practice.name, func.max(PracticeIntake.submitted_at))
        .join(PracticeIntake, PracticeIntake.practice_id == Practice.id)
        .where(PracticeIntake.person_id == person_id)
        .group_by(Practice.id, Practice.name)
        .order_by(Practice.name, Practice.id)
    )
    shares = {
        row.practice_id: row
        for row in session.scalars(select(CourseShare).where(CourseShare.person_id == person_id))
    }
    found = []
    for practice_id, name, last_sent in session.execute(query):
        share = shares.get(practice_id)
        record = _share_record(share, name) if share is not None else None
        found.append(SharablePractice(practice_id, name, last_sent, record))
    return found


def sent_intake_to(session: Session, person_id: str, practice_id: str) -> bool:
    query = select(PracticeIntake.id).where(
        PracticeIntake.person_id == person_id, PracticeIntake.practice_id == practice_id
    )
    return session.scalar(query.limit(1)) is not None


def grant(session: Session, person_id: str, practice_id: str, now: datetime) -> tuple[ShareRecord, bool]:
    """Share the person's course with the practice (NotSharable without an intake sent there). True when
    something changed: a new share, or one revoked before and granted again (with a new ``granted_at``).
    An active share stays as it is."""
    practice = session.get(Practice, practice_id)
    if practice is None or not sent_intake_to(session, person_id, practice_id):
        raise NotSharable()
    row = session.get(CourseShare, (person_id, practice_id), with_for_update=True)
    changed = True
    if row is None:
        row = CourseShare(person_id=person_id, practice_id=practice_id, granted_at=now, revoked_at=None)
        session.add(row)
    elif row.revoked_at is not None:
        row.granted_at, row.revoked_at = now, None
    else:
        changed = False
    session.flush()
    return _share_record(row, practice.name), changed


def revoke(session: Session, person_id: str, practice_id: str, now: datetime) -> bool:
    """End an active share at once; False when there was none (nothing changed)."""
    row = session.get(CourseShare, (person_id, practice_id), with_for_update=True)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now
    session.flush()
    return True


def active_share(session: Session, person_id: str, practice_id: str) -> ShareRecord | None:
    """The share, if the person shares their course with this practice now."""
    query = (
        select(CourseShare, Practice.name)
        .join(Practice, Practice.id == CourseShare.practice_id)
        .where(
            CourseShare.person_id == person_id,
            CourseShare.practice_id == practice_id,
            CourseShare.revoked_at.is_(None),
        )
    )
    found = session.execute(query).first()
    return _share_record(found[0], found[1]) if found is not None else None


def shares_of(session: Session, person_id: str) -> list[ShareRecord]:
    """Every share of the person, active or revoked (for their export)."""
    query = (
        select(CourseShare, Practice.name)
        .join(Practice, Practice.id == CourseShare.practice_id)
        .where(CourseShare.person_id == person_id)
        .order_by(CourseShare.granted_at, Practice.id)
    )
    return [_share_record(row, name) for row, name in session.execute(query)]


def shared_courses(
    session: Session, practice_id: str, limit: int = MAX_COURSES, *, person_id: str | None = None
) -> list[SharedCourse]:
    """The courses shared with the practice now (only the person's, with ``person_id``), the latest diary
    day first (then the newest share)."""
    newest = (
        select(PracticeIntake.person_id, func.max(PracticeIntake.submitted_at).label("sent"))
        .where(PracticeIntake.practice_id == practice_id)
        .group_by(PracticeIntake.person_id)
        .subquery()
    )
    last_entry = (
        select(DiaryRow.person_id, func.max(DiaryRow.recorded_at).label("last"))
        .group_by(DiaryRow.person_id)
        .subquery()
    )
    query = (
        select(
            CourseShare, Person.display_name, PracticeIntake.id, PracticeIntake.reference, last_entry.c.last
        )
        .join(Person, Person.id == CourseShare.person_id)
        .join(newest, newest.c.person_id == CourseShare.person_id)
        .join(
            PracticeIntake,
            and_(
                PracticeIntake.practice_id == practice_id,
                PracticeIntake.person_id == CourseShare.person_id,
                PracticeIntake.submitted_at == newest.c.sent,
            ),
        )
        .outerjoin(last_entry, last_entry.c.person_id == CourseShare.person_id)
        .where(CourseShare.practice_id == practice_id, CourseShare.revoked_at.is_(None))
        .order_by(CourseShare.granted_at.desc(), PracticeIntake.id)
    )
    if person_id is not None:
        query = query.where(CourseShare.person_id == person_id)
    courses: dict[str, SharedCourse] = {}
    for share, name, intake_id, reference, last in session.execute(query):
        # Two intakes sent at the very same moment: the first by id stands for the person.
        courses.setdefault(
            share.person_id,
            SharedCourse(
                person_id=share.person_id,
                practice_id=practice_id,
                display_name=name,
                intake_id=intake_id,
                reference=reference,
                granted_at=share.granted_at,
                last_entry=last,
            ),
        )
    ordered = sorted(
        courses.values(),
        key=lambda c: (c.last_entry is None, -(c.last_entry.timestamp() if c.last_entry else 0)),
    )
    return ordered[: max(0, limit)]


def course_by_intake(session: Session, practice_id: str, intake_id: str) -> SharedCourse | None:
    """The course an intake of this practice leads to, while its person shares it with the practice; None
    for an intake of another practice, an unknown one and a course not (or no longer) shared alike."""
    query = select(PracticeIntake.person_id).where(
        PracticeIntake.id == intake_id, PracticeIntake.practice_id == practice_id
    )
    person_id = session.scalar(query)
    if person_id is None:
        return None
    found = shared_courses(session, practice_id, person_id=person_id)
    return found[0] if found else None


# ---- a practice's changes to the plan -------------------------------------------------------------------


def add_adjustment(
    session: Session,
    person_id: str,
    practice_id: str,
    account_id: str | None,
    *,
    kind: str,
    now: datetime,
    exercise_id: str | None = None,
    level: int | None = None,
    note: str | None = None,
) -> AdjustmentRecord:
    """Keep a practice's change (NotShared unless the person shares their course with it now). The caller
    checked the values (``services.sharing``); the kinds and the note's length are checked again here."""
    share = active_share(session, person_id, practice_id)
    if share is None:
        raise NotShared()
    if kind not in ADJUSTMENT_KINDS or (note is not None and len(note) > NOTE_LENGTH):
        raise ValueError(kind)
    row = PlanAdjustment(
        person_id=person_id,
        practice_id=practice_id,
        account_id=account_id,
        kind=kind,
        exercise_id=exercise_id,
        level=level,
        note=note,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return AdjustmentRecord.from_row(row, share.practice_name)


def undo_adjustment(
    session: Session,
    person_id: str,
    practice_id: str,
    adjustment_id: str,
    account_id: str | None,
    now: datetime,
) -> tuple[AdjustmentRecord, bool] | None:
    """Undo a change of this practice to this person's plan (while the share is active). None when there
    is no such change (another practice's, another person's, unknown, or the share ended); True with the
    record when it was undone now, False when it had been undone before (nothing changed)."""
    share = active_share(session, person_id, practice_id)
    if share is None:
        return None
    query = select(PlanAdjustment).where(
        PlanAdjustment.id == adjustment_id,
        PlanAdjustment.person_id == person_id,
        PlanAdjustment.practice_id == practice_id,
    )
    row = session.scalar(query.with_for_update())
    if row is None:
        return None
    changed = row.undone_at is None
    if changed:
        row.undone_at, row.undone_by = now, account_id
        session.flush()
    return AdjustmentRecord.from_row(row, share.practice_name), changed


def adjustments_of(
    session: Session, person_id: str, *, practice_id: str | None = None, active_only: bool = False
) -> list[AdjustmentRecord]:
    """The person's plan changes (of one practice, or of all), oldest first."""
    query = (
        select(PlanAdjustment, Practice.name)
        .join(Practice, Practice.id == PlanAdjustment.practice_id)
        .where(PlanAdjustment.person_id == person_id)
        .order_by(PlanAdjustment.created_at, PlanAdjustment.id)
    )
    if practice_id is not None:
        query = query.where(PlanAdjustment.practice_id == practice_id)
    if active_only:
        query = query.where(PlanAdjustment.undone_at.is_(None))
    return [AdjustmentRecord.from_row(row, name) for row, name in session.execute(query)]


def plan_adjustments(session: Session, person_id: str) -> list[PracticeAdjustment]:
    """What the plan builder applies: the changes not undone, of the practices the person shares their
    course with now (a revoked share's changes rest until the person shares again)."""
    query = (
        select(PlanAdjustment, Practice.name)
        .join(Practice, Practice.id == PlanAdjustment.practice_id)
        .join(
            CourseShare,
            and_(
                CourseShare.person_id == PlanAdjustment.person_id,
                CourseShare.practice_id == PlanAdjustment.practice_id,
            ),
        )
        .where(
            PlanAdjustment.person_id == person_id,
            PlanAdjustment.undone_at.is_(None),
            CourseShare.revoked_at.is_(None),
        )
        .order_by(PlanAdjustment.created_at, PlanAdjustment.id)
    )
    return [AdjustmentRecord.from_row(row, name).for_plan() for row, name in session.execute(query)]


# ---- the person's export --------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def share_section(session: Session, person_id: str) -> list[dict[str, Any]]:
    return [
        {
            "practice": s.practice_name,
            "granted_at": _iso(s.granted_at),
            "revoked_at": _iso(s.revoked_at),
        }
        for s in shares_of(session, person_id)
    ]


def adjustment_section(session: Session, person_id: str) -> list[dict[str, Any]]:
    """Every change a practice made to the person's plan, undone ones too; the practice by name, never the
    clinician's account."""
    return [
        {
            "id": a.id,
            "practice": a.practice_name,
            "kind": a.kind,
            "exercise_id": a.exercise_id,
            "level": a.level,
            "note": a.note,
            "created_at": _iso(a.created_at),
            "undone_at": _iso(a.undone_at),
        }
        for a in adjustments_of(session, person_id)
    ]
