"""Forms kept on the server for a short while (``schema.FormDraft``), found by the hash of a random token.

The browser holds the token (a cookie or a hidden field); the table holds only its SHA-256, so a leaked
database copy cannot be used to pick up somebody's draft. Every write purges the expired rows first:
no draft outlives its expiry by more than the time until the next draft is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from .schema import FormDraft
from .web_sessions import MAX_TOKEN_LENGTH, digest

# "adjustment": a practice's plan-change form already saved (services.sharing), found by its form key.
# "diary", "diary_edit", "measures", "session": a patient's form posted after the session ended;
# "course_adjust": a clinician's plan-change form posted after the session ended, kept for the person whose
# course it changes (web.kept_forms). The column is free text (String(20)): a new kind needs no migration.
KINDS = frozenset(
    {
        "intake",
        "diary",
        "diary_edit",
        "measures",
        "session",
        "course_adjust",
        "outcome",
        "calendar",
        "adjustment",
    }
)


@dataclass(frozen=True)
class Draft:
    kind: str
    person_id: str | None
    payload: dict[str, Any]
    created_at: datetime


def put(
    session: Session,
    token: str,
    kind: str,
    payload: dict[str, Any],
    *,
    now: datetime,
    expires_at: datetime,
    person_id: str | None = None,
) -> None:
    """Write (or overwrite) the draft of this token."""
    if kind not in KINDS:
        raise ValueError(kind)
    purge(session, now)
    row = session.get(FormDraft, digest(token))
    if row is None or row.kind != kind:
        if row is not None:
            session.delete(row)
            session.flush()
        session.add(
            FormDraft(
                id=digest(token),
                kind=kind,
                person_id=person_id,
                payload_json=payload,
                created_at=now,
                expires_at=expires_at,
            )
        )
        return
    row.payload_json = payload
    row.person_id = person_id
    row.expires_at = expires_at


def get(session: Session, token: str | None, kind: str, *, now: datetime) -> Draft | None:
    """The live draft of this token and kind, else None (unknown, expired, or not a token of ours)."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.get(FormDraft, digest(token))
    if row is None or row.kind != kind or now >= row.expires_at:
        return None
    return Draft(row.kind, row.person_id, dict(row.payload_json), row.created_at)


def purge(session: Session, now: datetime) -> int:
    """Delete every expired draft; how many."""
    result = session.execute(delete(FormDraft).where(FormDraft.expires_at <= now))
    return int(getattr(result, "rowcount", 0) or 0)


def drop(session: Session, token: str | None) -> None:
    if token and len(token) <= MAX_TOKEN_LENGTH:
        session.execute(delete(FormDraft).where(FormDraft.id == digest(token)))
