"""How often a practice's public intake link may be used: per client and per link, within an hour.

The link is public by design (printed on a poster, sent by text message), so anyone holding it can send.
A person sends once or twice; a script sends hundreds, and each of its fake emergencies would sit above
the genuine intakes in the inbox. The count and the new attempt are one transaction that holds the
practice's lock (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: the practice's row ``FOR UPDATE``), so parallel
sends of one link are counted one after the other: no race lets more through than the limit.

A send is counted when it is tried, before the assessment is stored, so a refused one costs the server
little. The keys are digests: the table holds no address.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from . import throttling
from .account_records import Throttled
from .accounts import aware
from .engine import BEGIN_OPTION
from .repository import Store
from .schema import IntakeAttempt, Practice

WINDOW = timedelta(hours=1)


@dataclass(frozen=True)
class IntakeLimits:
    """At most ``per_client`` sends per client and ``per_link`` per link within ``window``."""

    per_client: int = 10
    per_link: int = 300
    window: timedelta = WINDOW


def _key(kind: str, *parts: str) -> str:
    return hashlib.sha256("\x00".join(("rueckenlotse.intake-limit", kind, *parts)).encode()).hexdigest()


def count_send(
    store: Store, practice_id: str, client: str, limits: IntakeLimits, *, now: datetime | None = None
) -> None:
    """Count one send through the practice's link by this client; Throttled (with the wait) when the
    client or the link has reached its limit within the window. Atomic per practice (see the module)."""
    moment = aware(now)
    start = moment - limits.window
    # Clients counted as sign-in counts them (IPv6 per /64).
    checks = (
        (_key("client", practice_id, throttling.client_bucket(client)), limits.per_client),
        (_key("link", practice_id), limits.per_link),
    )
    engine = store.engine
    if store.is_sqlite:
        engine = engine.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})

    with Session(engine, expire_on_commit=False) as session, session.begin():
        if not store.is_sqlite:  # one sender of this link at a time; other practices are not held up
            session.execute(select(Practice.id).where(Practice.id == practice_id).with_for_update())
        keys = [key for key, _ in checks]
        session.execute(
            delete(IntakeAttempt).where(IntakeAttempt.key.in_(keys), IntakeAttempt.attempted_at <= start)
        )
        waits = []
        for key, limit in checks:
            query = select(IntakeAttempt.attempted_at).where(
                IntakeAttempt.key == key, IntakeAttempt.attempted_at > start
            )
            times = sorted(session.scalars(query))
            if len(times) >= limit:
                waits.append((times[len(times) - limit] + limits.window - moment).total_seconds())
        if waits:
            raise Throttled(max(waits))
        session.add_all(IntakeAttempt(key=key, attempted_at=moment) for key in keys)
