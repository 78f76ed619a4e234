"""Throttling of failed attempts (passwords per address and per client, TOTP codes per account), and of
new accounts per client (every registration counts there, not only failures).

Attempts are kept in the database, not in the process, so several app processes count together. Keys are
SHA-256 digests: the table never holds an e-mail or network address in plain text. The check and the
recording are separate statements, so concurrent requests may slip a few attempts past the limit; the
limit bounds guessing, it is not an exact counter.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .account_records import Throttled
from .schema import LoginAttempt


@dataclass(frozen=True)
class ThrottlePolicy:
    """At most ``per_email`` failed sign-ins per address, ``per_client`` per client (network),
    ``per_totp`` wrong codes per account and ``registrations_per_client`` registrations per client within
    ``window``."""

    window: timedelta = timedelta(minutes=15)
    per_email: int = 5
    per_client: int = 20
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


def check(session: Session, limits: list[tuple[str, int]], now: datetime, window: timedelta) -> None:
    """Raise Throttled when any key has reached its limit, with the wait until one attempt is free."""
    waits = []
    for key, limit in limits:
        failures = _failures_since(session, key, now, window)
        if len(failures) >= limit:
            # The attempt that has to leave the window before the count drops below the limit.
            freeing = failures[len(failures) - limit]
            waits.append((freeing + window - now).total_seconds())
    if waits:
        raise Throttled(max(waits))


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


def purge(session: Session, now: datetime, window: timedelta) -> int:
    """Forget attempts that no longer count; returns how many."""
    result = session.execute(delete(LoginAttempt).where(LoginAttempt.attempted_at <= now - window))
    return int(getattr(result, "rowcount", 0))
