"""Throttling of failed attempts (passwords per address and per client, TOTP codes per account), and of
new accounts per client (every registration counts there, not only failures).

Attempts are kept in the database, not in the process, so several app processes count together. Keys are
SHA-256 digests: the table never holds an e-mail or network address in plain text.

The check and the recording are one step: ``lock`` serialises every transaction that counts the same keys
(on PostgreSQL a transaction-scoped advisory lock per key; on SQLite the write transaction already began
IMMEDIATE and holds the database's write lock), and ``reserve`` records an attempt as failed before the
password is even verified, so a hundred parallel guesses cannot all read "four so far" before any of them
is counted. A success then turns its reserved rows into a success (``settle``).
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from .account_records import Throttled
from .schema import LoginAttempt, new_id


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``per_email`` failed sign-ins per address, ``per_client`` per client (network),
    ``per_totp`` wrong codes per account and ``registrations_per_client`` registrations per client within
    ``window``."""

    window: timedelta = timedelta(minutes=15)
    per_email: int = 5
    per_client: int = 20
    # Failures of one client for one account: after ``per_email`` of them, the next attempt from that
    # client waits ``backoff``, then twice as long after each further failure (at most ``window``).
    backoff: timedelta = timedelta(minutes=1)
    per_totp: int = 5
    # A family or a waiting room behind one address stays well below this; a script making accounts not.
    registrations_per_client: int = 10


def attempt_key(kind: str, value: str) -> str:
    # The kind keeps an address and a client that happen to spell the same from sharing a counter.
    return hashlib.sha256(f"{kind}\x00{value}".encode()).hexdigest()


def client_bucket(client: str) -> str:
    """IPv6 clients are counted per /64 (one household or host gets a whole /64, so single addresses
    are free to rotate); IPv4 per address; anything else as given."""
    try:
        address = ipaddress.ip_address(client.strip())
    except ValueError:
        return client.strip()
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def registration_key(client: str) -> str:
    return attempt_key("register", client_bucket(client))


def _failures_since(session: Session, key: str, now: datetime, window: timedelta) -> list[datetime]:
    """Failed attempts in the window that came after the key's last success (a success clears)."""
    start = now - window
    last_success = session.scalar(
        select(func.max(LoginAttempt.attempted_at)).where(
            LoginAttempt.key == key, LoginAttempt.success.is_(True), LoginAttempt.attempted_at > start
        )
    )
    query = select(LoginAttempt.attempted_at).where(
        LoginAttempt.key == key,
        LoginAttempt.success.is_(False),
        LoginAttempt.attempted_at > max(start, last_success or start),
    )
    return list(session.scalars(query.order_by(LoginAttempt.attempted_at)))


def lock(session: Session, keys: list[str]) -> None:
    """Serialise the transactions that count these keys, until this transaction ends.

    PostgreSQL: one advisory transaction lock per key, taken in a fixed order (no deadlock between two
    requests that share keys). SQLite: nothing to do, the write transaction holds the write lock already
    (``Store.transaction`` begins IMMEDIATE)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in sorted(set(keys)):
        number = int.from_bytes(bytes.fromhex(key)[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:n)"), {"n": number})


def wait_for(
    session: Session,
    key: str,
    limit: int,
    now: datetime,
    window: timedelta,
    *,
    backoff: timedelta | None = None,
) -> float | None:
    """Seconds until the key may be tried again, or None when it may be tried now.

    Without ``backoff`` the key is locked until enough failures have left the window. With it, ``limit``
    failures cost ``backoff`` after the latest one, and each further failure doubles that (at most the
    window): a person who mistyped waits a minute, a guesser ever longer."""
    failures = _failures_since(session, key, now, window)
    if len(failures) < limit:
        return None
    if backoff is None:
        # The attempt that has to leave the window before the count drops below the limit.
        freeing = failures[len(failures) - limit]
        return (freeing + window - now).total_seconds()
    delay = min(window, backoff * 2 ** min(len(failures) - limit, 32))
    wait = (failures[-1] + delay - now).total_seconds()
    return wait if wait > 0 else None


def check(session: Session, limits: list[tuple[str, int]], now: datetime, window: timedelta) -> None:
    """Raise Throttled when any key has reached its limit, with the wait until one attempt is free."""
    waits = [wait_for(session, key, limit, now, window) for key, limit in limits]
    raise_if_waiting(waits)


def raise_if_waiting(waits: list[float | None]) -> None:
    """Raise Throttled with the longest of the waits, if there is any."""
    due = [wait for wait in waits if wait is not None]
    if due:
        raise Throttled(max(due))


def check_every_attempt(session: Session, key: str, limit: int, now: datetime, window: timedelta) -> None:
    """Like ``check``, but every attempt in the window counts, successful or not (a success clears
    nothing): for what is limited as such, such as making new accounts."""
    query = select(LoginAttempt.attempted_at).where(
        LoginAttempt.key == key, LoginAttempt.attempted_at > now - window
    )
    attempts = list(session.scalars(query.order_by(LoginAttempt.attempted_at)))
    if len(attempts) >= limit:
        freeing = attempts[len(attempts) - limit]
        raise Throttled((freeing + window - now).total_seconds())


def record(session: Session, keys: list[str], now: datetime, *, success: bool) -> None:
    session.add_all(LoginAttempt(key=key, attempted_at=now, success=success) for key in keys)


def reserve(session: Session, keys: list[str], now: datetime) -> list[str]:
    """Count an attempt as failed for each key before it is judged; returns the rows' ids for ``settle``.
    Should the request die before it is judged, the attempt stays counted, as a guess should."""
    rows = [LoginAttempt(id=new_id(), key=key, attempted_at=now, success=False) for key in keys]
    session.add_all(rows)
    return [row.id for row in rows]


def settle(session: Session, reserved: list[str], *, cleared: list[str], forgotten: list[str]) -> None:
    """After a success: the reserved rows of the ``cleared`` keys become a success (which clears their
    count); those of the ``forgotten`` keys are removed (the attempt does not count there at all)."""
    if cleared:
        session.execute(
            update(LoginAttempt)
            .where(LoginAttempt.id.in_(reserved), LoginAttempt.key.in_(cleared))
            .values(success=True)
        )
    if forgotten:
        session.execute(
            delete(LoginAttempt).where(LoginAttempt.id.in_(reserved), LoginAttempt.key.in_(forgotten))
        )


def purge(session: Session, now: datetime, window: timedelta) -> int:
    """Forget attempts that no longer count; returns how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - window))
    return int(getattr(result, "rowcount", 0))
