"""Reminders (revision 0013): a person's exercise times, their private calendar address, and the reminder
mails claimed for sending.

The calendar address holds a random token; the table keeps only its SHA-256 (as for sessions and mailed
links), so a copy of the database opens no calendar. A reminder is claimed by inserting a row that is unique
per person, kind and due moment: of several app processes (or threads) that find the same reminder due,
exactly one inserts it, and only that one sends the mail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .schema import Account, CalendarFeed, ReminderSend, ReminderSetting, new_id
from .web_sessions import MAX_TOKEN_LENGTH, digest, new_token

if TYPE_CHECKING:
    from .repository import Store


@dataclass(frozen=True)
class ReminderChoice:
    """What the person chose: ``times`` as "HH:MM" (one or two, sorted), ``weekdays`` as ISO numbers
    (1 = Monday; empty = every day)."""

    times: tuple[str, ...]
    weekdays: frozenset[int]
    email: bool
    lang: str
    updated_at: datetime


@dataclass(frozen=True)
class Recipient:
    """An opted-in person with a confirmed address."""

    person_id: str
    address: str
    choice: ReminderChoice


def _choice(row: ReminderSetting) -> ReminderChoice:
    return ReminderChoice(
        times=tuple(t for t in row.times.split(",") if t),
        weekdays=frozenset(int(d) for d in row.weekdays),
        email=row.email,
        lang=row.lang,
        updated_at=row.updated_at,
    )


class Reminders:
    """The reminder tables of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    # ---- the choice ---------------------------------------------------------------------------------
    def choice(self, person_id: str) -> ReminderChoice | None:
        with self._store.transaction(write=False) as session:
            row = session.get(ReminderSetting, person_id)
            return None if row is None else _choice(row)

    def save_choice(
        self,
        person_id: str,
        times: tuple[str, ...],
        weekdays: frozenset[int],
        *,
        email: bool,
        lang: str,
        now: datetime,
    ) -> bool:
        """Keep the choice; True when it changed (the same form posted again changes nothing, not even the
        moment from which reminders count)."""
        values = {
            "times": ",".join(sorted(times)),
            "weekdays": "".join(str(d) for d in sorted(weekdays)),
            "email": email,
            "lang": lang,
        }
        with self._store.transaction() as session:
            row = session.get(ReminderSetting, person_id)
            if row is None:
                session.add(ReminderSetting(person_id=person_id, updated_at=now, **values))
                return True
            if all(getattr(row, key) == value for key, value in values.items()):
                return False
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            return True

    # ---- the private calendar address ---------------------------------------------------------------
    def new_feed(self, person_id: str, lang: str, now: datetime) -> str:
        """A new calendar token for the person; every older one stops working."""
        token = new_token()
        with self._store.transaction() as session:
            _revoke(session, person_id, now)
            session.add(
                CalendarFeed(
                    id=new_id(), person_id=person_id, token_hash=digest(token), lang=lang, created_at=now
                )
            )
        return token

    def revoke_feeds(self, person_id: str, now: datetime) -> int:
        with self._store.transaction() as session:
            return _revoke(session, person_id, now)

    def feed_state(self, person_id: str) -> tuple[datetime | None, datetime | None]:
        """(when the person's working calendar address was made, when their latest one was made, working
        or not); None for none."""
        with self._store.transaction(write=False) as session:
            live = session.scalar(
                select(CalendarFeed.created_at).where(
                    CalendarFeed.person_id == person_id, CalendarFeed.revoked_at.is_(None)
                )
            )
            latest = session.scalar(
                select(func.max(CalendarFeed.created_at)).where(CalendarFeed.person_id == person_id)
            )
            return live, latest

    def feed_owner(self, token: str) -> tuple[str, str] | None:
        """(person id, language) of a working calendar token, else None. Looked up by the token's hash
        (an index on it): how long it takes says nothing about how much of a token was right."""
        if not token or len(token) > MAX_TOKEN_LENGTH:
            return None
        query = (
            select(CalendarFeed.person_id, CalendarFeed.lang)
            .join(Account, Account.person_id == CalendarFeed.person_id)
            .where(
                CalendarFeed.token_hash == digest(token),
                CalendarFeed.revoked_at.is_(None),
                Account.disabled.is_(False),  # a disabled account's calendar stops too
            )
        )
        with self._store.transaction(write=False) as session:
            row = session.execute(query).first()
            return None if row is None else (row[0], row[1])

    # ---- sending ------------------------------------------------------------------------------------
    def recipients(self) -> list[Recipient]:
        """Everyone who asked for reminder mails and whose address is confirmed (an enabled account)."""
        query = (
            select(ReminderSetting, Account.email)
            .join(Account, Account.person_id == ReminderSetting.person_id)
            .where(
                ReminderSetting.email.is_(True),
                Account.email_verified_at.is_not(None),
                Account.disabled.is_(False),
            )
            .order_by(ReminderSetting.person_id)
        )
        with self._store.transaction(write=False) as session:
            return [Recipient(row.person_id, email, _choice(row)) for row, email in session.execute(query)]

    def claimed(self, person_id: str, kind: str, due_at: datetime) -> bool:
        with self._store.transaction(write=False) as session:
            found = session.scalar(
                select(ReminderSend.id).where(
                    ReminderSend.person_id == person_id,
                    ReminderSend.kind == kind,
                    ReminderSend.due_at == due_at,
                )
            )
            return found is not None

    def claim(self, person_id: str, kind: str, due_at: datetime, now: datetime) -> str | None:
        """Claim this reminder for sending: its new row's id, or None when another run claimed it first.

        One INSERT … ON CONFLICT DO NOTHING on the unique (person, kind, due moment): the database lets
        exactly one of any number of concurrent claims through, and the claim is committed before the
        caller sends."""
        send_id = new_id()
        values: dict[str, Any] = {
            "id": send_id,
            "person_id": person_id,
            "kind": kind,
            "due_at": due_at,
            "claimed_at": now,
        }
        with self._store.transaction() as session:
            dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
            statement = (
                dialect.insert(ReminderSend)
                .values(values)
                .on_conflict_do_nothing()
                .returning(ReminderSend.id)
            )
            inserted = session.execute(statement).scalar_one_or_none()
            return send_id if inserted == send_id else None

    def mark_sent(self, send_id: str, now: datetime) -> None:
        with self._store.transaction() as session:
            session.execute(update(ReminderSend).where(ReminderSend.id == send_id).values(sent_at=now))


def _revoke(session: Session, person_id: str, now: datetime) -> int:
    result = session.execute(
        update(CalendarFeed)
        .where(CalendarFeed.person_id == person_id, CalendarFeed.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
