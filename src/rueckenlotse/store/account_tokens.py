"""Single-use links mailed to an account: a password reset, or the verification of the address.

The link holds a random token; the table keeps only its SHA-256 (``web_sessions.digest``), so a copy of the
database opens no account. A token works once and only until it expires: using it is one UPDATE that
succeeds for exactly one request, however many arrive at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.orm import Session

from .schema import AccountToken
from .web_sessions import MAX_TOKEN_LENGTH, digest, new_token

RESET = "reset"
VERIFY = "verify"
# A reset link is a key to the account: short-lived. A verification link only confirms the address.
LIFETIME = {RESET: timedelta(hours=1), VERIFY: timedelta(days=7)}


def issue(session: Session, account_id: str, purpose: str, now: datetime) -> str:
    """A new link token for the account; an older unused one of the same purpose stops working, so only
    the latest mail counts."""
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.account_id == account_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )
    token = new_token()
    session.add(
        AccountToken(
            id=digest(token),
            account_id=account_id,
            purpose=purpose,
            created_at=now,
            expires_at=now + LIFETIME[purpose],
        )
    )
    return token


def owner(session: Session, token: str, purpose: str, now: datetime) -> str | None:
    """The account a live token of this purpose belongs to (it stays usable), else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH:
        return None
    row = session.get(AccountToken, digest(token))
    if row is None or row.purpose != purpose or row.used_at is not None or now >= row.expires_at:
        return None
    return row.account_id


def use(session: Session, token: str, purpose: str, now: datetime) -> str | None:
    """Use the token: its account, or None when it is unknown, used, expired or of another purpose. Only
    one of several concurrent requests with the same token gets the account."""
    account_id = owner(session, token, purpose, now)
    if account_id is None:
        return None
    claimed = session.execute(
        update(AccountToken)
        .where(AccountToken.id == digest(token), AccountToken.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return account_id if int(getattr(claimed, "rowcount", 0)) == 1 else None


def end_all(session: Session, account_id: str, purpose: str, now: datetime) -> None:
    """Every unused link of this purpose stops working (after a password change, say)."""
    session.execute(
        update(AccountToken)
        .where(
            AccountToken.account_id == account_id,
            AccountToken.purpose == purpose,
            AccountToken.used_at.is_(None),
        )
        .values(used_at=now)
    )


def purge(session: Session, now: datetime) -> int:
    """Delete links that can no longer be used."""
    dead = or_(AccountToken.used_at.is_not(None), AccountToken.expires_at <= now)
    return int(getattr(session.execute(delete(AccountToken).where(dead)), "rowcount", 0))
