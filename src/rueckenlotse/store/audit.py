"""The audit trail: who read or changed which person's record, when and through which channel.

What a row holds: the time, the kind of actor (patient, clinician, api_token, system), the actor's id (an
account or API token id; none for the system), the person's id, a fixed action name (``ACTIONS``), the
channel (web, api, cli) and the practice, if any. Never the data itself: no names, notes, answers or
results; the action names are a closed list, so free text cannot slip in.

Append-only: this module offers ``record`` and reads, nothing that changes or deletes a row. The one
exception is the erasure of a person (``erasing.erase``), by this rule:

* the person's own rows (their own exports, what the system did to their record) go with the person;
* rows of what a practice did (a clinician's or an API token's reading and reviewing) stay for the
  practice's accountability, but lose the person id (``forget_person``): they then say only "this
  clinician read an intake at this time", no longer whose.
* the erasure itself is recorded without a person id.

A person's own reads and writes of their own data are not recorded (only their exports, corrections and
deletions of diary entries, and erasure): they would only fill the person's own access page with their own
visits. A changed or deleted diary entry is recorded because it changes what the re-screening saw.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from .errors import StoreError
from .schema import AUDIT_ACTOR_KINDS, AUDIT_CHANNELS, AuditEvent, Practice, utc_now

ACTIONS = frozenset(
    {
        "list.inbox",  # a practice's inbox was listed (no person: one row per listing, not per intake)
        "read.intake",  # one intake with every answer
        "read.intake_report",  # the practice's PDF report of one intake
        "review.intake",  # marked reviewed
        "export",  # the person's data downloaded (JSON)
        "export.diary_csv",  # the person's diary downloaded as CSV
        "export.measures_csv",  # the person's outcome measures downloaded as CSV
        "export.measures_fhir",  # the person's outcome measures as a FHIR Bundle
        "edit.diary_entry",  # a diary entry corrected (its new content is the entry; never here)
        "delete.diary_entry",  # a diary entry deleted (escalations it led to stay in the assessments)
        "read.report",  # a report (patient or clinician) made from the person's stored data (CLI)
        "read.diary",  # the person's diary shown (CLI)
        "read.measures",  # the person's outcome measures and their course shown (CLI)
        "read.plan",  # the person's plan shown (CLI)
        "read.chart",  # the person's diary drawn into a file (CLI)
        "backup",  # the whole database copied into a file (recorded without person)
        "erase",  # an account erased (recorded without person)
        "purge.intake",  # an intake removed after the retention time
        "spam.intake",  # an intake marked as spam by the practice
        "delete.intake",  # an intake deleted by the practice (without person when the person went with it)
        "rotate.keys",  # every sealed secret sealed again under the current data key (without person)
        # Administration (services.administration), without person; the practice where there is one.
        "admin.revoke_token",  # an API token of the practice revoked
        "admin.rotate_intake_link",  # the practice's intake link replaced (the old one stops working)
        "admin.remove_member",  # a clinician removed from the practice
        "admin.disable_account",  # an account disabled (no sign-in, sessions ended)
        "admin.end_sessions",  # every session of an account ended
        "admin.reset_second_factor",  # an account's TOTP forgotten (set up anew at the next sign-in)
        "password.reset",  # an account's password set anew through a link mailed to its address
        "password.change",  # an account's password changed by its owner, signed in
        # A practice's cohort results (services.cohort): counts over its shared courses, without person.
        "read.cohort",  # the results page
        "export.cohort_csv",  # the results downloaded as CSV
        # Shared courses (issue #18; services.sharing), with the person and the practice.
        # An intake sent through a practice link without an account became a new account's first record.
        "claim.receipt",
        "share.grant",  # the person shares their course with the practice (again)
        "share.revoke",  # the person stopped sharing their course with the practice
        "list.courses",  # a practice's list of shared courses (no person: one row per listing)
        "read.course",  # a shared course shown to a practice (diary trend, escalations, plan)
        "adjust.plan",  # a practice changed the shared person's plan (exclude, add, level, note)
        "undo.plan_adjustment",  # a practice undid one of its changes to the plan
    }
)
# Actions done by a practice (clinician or API token): kept, without the person, when the person is erased.
PRACTICE_KINDS = ("clinician", "api_token")
MAX_EVENTS = 500


class InvalidAuditEvent(StoreError, ValueError):
    """A row the trail refuses (an unknown action, actor kind or channel): a bug in the caller."""


@dataclass(frozen=True)
class Actor:
    """Who acts: the kind and the account or token id (None for the system or a forgotten actor)."""

    kind: str
    id: str | None
    channel: str


SYSTEM_CLI = Actor("system", None, "cli")


@dataclass(frozen=True)
class AuditRecord:
    id: str
    at: datetime
    actor_kind: str
    actor_id: str | None
    person_id: str | None
    action: str
    channel: str
    practice_id: str | None
    practice_name: str | None  # the practice's current name, if it still exists

    @classmethod
    def from_row(cls, row: AuditEvent, practice_name: str | None) -> AuditRecord:
        return cls(
            row.id,
            row.at,
            row.actor_kind,
            row.actor_id,
            row.person_id,
            row.action,
            row.channel,
            row.practice_id,
            practice_name,
        )


def _check(actor: Actor, action: str) -> None:
    if action not in ACTIONS:
        raise InvalidAuditEvent("audit_unknown_action", action=action)
    if actor.kind not in AUDIT_ACTOR_KINDS or actor.channel not in AUDIT_CHANNELS:
        raise InvalidAuditEvent("audit_unknown_actor", kind=actor.kind, channel=actor.channel)


def record(
    session: Session,
    actor: Actor,
    action: str,
    *,
    person_id: str | None = None,
    practice_id: str | None = None,
    now: datetime | None = None,
) -> None:
    """Add one row in the caller's transaction (one INSERT, flushed with the rest)."""
    _check(actor, action)
    session.add(
        AuditEvent(
            at=now or utc_now(),
            actor_kind=actor.kind,
            actor_id=actor.id,
            person_id=person_id,
            action=action,
            channel=actor.channel,
            practice_id=practice_id,
        )
    )


def events_of_person(session: Session, person_id: str, limit: int = MAX_EVENTS) -> list[AuditRecord]:
    """The person's rows, newest first, with the practice's name."""
    query = (
        select(AuditEvent, Practice.name)
        .outerjoin(Practice, Practice.id == AuditEvent.practice_id)
        .where(AuditEvent.person_id == person_id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id)
        .limit(max(0, limit))
    )
    return [AuditRecord.from_row(row, name) for row, name in session.execute(query)]


def all_events(session: Session) -> list[AuditRecord]:
    """Every row, oldest first (for operators and tests)."""
    query = (
        select(AuditEvent, Practice.name)
        .outerjoin(Practice, Practice.id == AuditEvent.practice_id)
        .order_by(AuditEvent.at, AuditEvent.id)
    )
    return [AuditRecord.from_row(row, name) for row, name in session.execute(query)]


def forget_person(session: Session, person_ids: Sequence[str]) -> int:
    """Part of erasure only: a practice's rows about these persons keep everything but the person id.
    Returns how many rows were made anonymous. The person's other rows are deleted by the erasure walk."""
    if not person_ids:
        return 0
    query = (
        update(AuditEvent)
        .where(AuditEvent.person_id.in_(person_ids), AuditEvent.actor_kind.in_(PRACTICE_KINDS))
        .values(person_id=None)
    )
    return int(getattr(session.execute(query), "rowcount", 0))
