"""Web sessions kept in the database, so that any app process can serve any request.

The browser holds a random token; the table holds only its SHA-256. A session ends when it is revoked
(logout), idle for longer than the idle timeout, past its absolute expiry, or its account is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from .account_records import SessionRecord
from .schema import Account, PracticeMember, WebSession

# Writing last_seen_at on every request would turn each page view into a write; a minute is precise
# enough for a 30-minute idle timeout.
TOUCH_EVERY = timedelta(minutes=1)
# Our tokens are 43 characters; anything much longer is not one of ours and is not even hashed.
MAX_TOKEN_LENGTH = 128


def new_token() -> str:
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create(
    session: Session, account_id: str, *, now: datetime, expires_at: datetime, totp_passed: bool
) -> str:
    """A new session; returns the raw token (the only time it exists outside the browser)."""
    token = new_token()
    session.add(
        WebSession(
            id=digest(token),
            account_id=account_id,
            created_at=now,
            last_seen_at=now,
            expires_at=expires_at,
            totp_passed=totp_passed,
        )
    )
    return token


def live(session: Session, token: str, *, now: datetime, idle: timedelta) -> WebSession | None:
    """The session row for this token if it may still be used, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.get(WebSession, digest(token))
    if row is None or row.revoked_at is not None or now >= row.expires_at:
        return None
    if now - row.last_seen_at > idle:
        return None
    return row


def needs_touch(row: WebSession, now: datetime) -> bool:
    return now - row.last_seen_at >= TOUCH_EVERY


def touch(session: Session, token: str, now: datetime) -> None:
    """Move the session's idle clock to ``now``; one conditional UPDATE, so that parallel requests of one
    session write it once, and never backwards (another app process with a slightly slower clock may see
    the same session)."""
    query = (
        update(WebSession)
        .where(
            WebSession.id == digest(token),
            WebSession.revoked_at.is_(None),
            WebSession.last_seen_at <= now - TOUCH_EVERY,
        )
        .values(last_seen_at=now)
    )
    session.execute(query)


# Why a session the browser still holds has ended (the sign-in page says so).
ENDED_IDLE = "idle"
ENDED_ABSOLUTE = "absolute"
ENDED_REVOKED = "revoked"


def end_reason(session: Session, token: str, *, now: datetime, idle: timedelta) -> str | None:
    """Why this token's session is over: ``revoked`` (signed out elsewhere, all sessions ended, a new
    password), ``absolute`` (past its expiry) or ``idle``; None for a live or unknown token."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.get(WebSession, digest(token))
    if row is None:
        return None
    if row.revoked_at is not None:
        return ENDED_REVOKED
    if now >= row.expires_at:
        return ENDED_ABSOLUTE
    if now - row.last_seen_at > idle:
        return ENDED_IDLE
    return None


def record_of(session: Session, row: WebSession, account: Account) -> SessionRecord:
    practices = session.scalars(
        select(PracticeMember.practice_id)
        .where(PracticeMember.account_id == account.id)
        .order_by(PracticeMember.practice_id)
    )
    return SessionRecord(
        account_id=account.id,
        role=account.role,
        person_id=account.person_id,
        practice_ids=tuple(practices),
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        totp_passed=row.totp_passed,
        totp_confirmed=account.totp_confirmed,
    )


def revoke(session: Session, token: str, now: datetime) -> bool:
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return False
    query = (
        update(WebSession)
        .where(WebSession.id == digest(token), WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(session.execute(query), "rowcount", 0)) > 0


def revoke_all(session: Session, account_id: str, now: datetime) -> int:
    query = (
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(session.execute(query), "rowcount", 0))


def revoke_others(session: Session, account_id: str, keep: str | None, now: datetime) -> int:
    """End every session of the account but the one of token ``keep`` (the browser that acts)."""
    query = update(WebSession).where(WebSession.account_id == account_id, WebSession.revoked_at.is_(None))
    if keep:
        query = query.where(WebSession.id != digest(keep))
    return int(getattr(session.execute(query.values(revoked_at=now)), "rowcount", 0))


def purge(session: Session, now: datetime, idle: timedelta) -> int:
    """Delete sessions that can no longer be used (a deleted token is refused like a revoked one)."""
    dead = or_(
        WebSession.revoked_at.is_not(None),
        WebSession.expires_at <= now,
        WebSession.last_seen_at < now - idle,
    )
    return int(getattr(session.execute(delete(WebSession).where(dead)), "rowcount", 0))
