"""The audit trail and a person's data rights, for the web pages, the API and the command line.

* ``actor_of``: the audit actor of a principal (patient or clinician account, or a practice's API token).
* ``record``: one audit row in its own short transaction (a single INSERT, right after the read it records).
* ``access_log``: what a person may see about who accessed their record.
* ``export_person`` / ``erase_account``: the data rights; both are recorded (the erasure without person).
* ``purge_reviewed``: the retention rule for intakes a practice has closed.

The caller must have asked the policy (``services.auth.can_read_person`` …) before calling any of these.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ..store import audit
from ..store.audit import Actor, AuditRecord
from ..store.practices import Practices, PurgeCounts
from ..store.repository import Store
from ..store.schema import utc_now
from .auth import Principal, Role

# A person's page lists at most this many rows (the newest); the API the same.
ACCESS_LOG_LIMIT = 200


def actor_of(principal: Principal, channel: str, *, token_id: str | None = None) -> Actor:
    """The audit actor of a signed-in principal; an API token is named by its id, never its value."""
    if principal.role is Role.api_token:
        return Actor("api_token", token_id, channel)
    if principal.role is Role.clinician:
        return Actor("clinician", principal.account_id, channel)
    return patient_actor(principal.account_id, channel)


def patient_actor(account_id: str | None, channel: str) -> Actor:
    """The audit actor of a patient's account."""
    return Actor("patient", account_id, channel)


def record(
    store: Store,
    actor: Actor,
    action: str,
    *,
    person_id: str | None = None,
    practice_id: str | None = None,
) -> None:
    with store.transaction() as session:
        audit.record(session, actor, action, person_id=person_id, practice_id=practice_id)


def access_log(store: Store, person_id: str, limit: int = ACCESS_LOG_LIMIT) -> list[AuditRecord]:
    """Who accessed this person's record, newest first."""
    with store.transaction(write=False) as session:
        return audit.events_of_person(session, person_id, limit)


def export_person(store: Store, actor: Actor, person_id: str) -> dict[str, Any]:
    """Everything stored about the person (``Store.export_person``), recorded as an export."""
    data = store.export_person(person_id)
    record(store, actor, "export", person_id=person_id)
    return data


def erase_account(store: Store, actor: Actor, person_id: str) -> dict[str, int]:
    """Erase the person with their account, sessions, second factor and throttling rows (verified by
    ``Store.erase_person``); the erasure itself is recorded without the person or the account."""
    counts = store.erase_person(person_id)
    record(store, Actor(actor.kind, None, actor.channel), "erase")
    return counts


def purge_reviewed(
    store: Store, retention_days: int, *, dry_run: bool = False, now: datetime | None = None
) -> PurgeCounts:
    """Remove intakes reviewed more than ``retention_days`` ago (see ``Practices.purge_reviewed``)."""
    moment = now or utc_now()
    cutoff = moment - timedelta(days=retention_days)
    return Practices(store).purge_reviewed(cutoff, dry_run=dry_run, now=moment)
