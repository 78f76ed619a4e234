"""Reminder mails (services.reminders) on SQLite and PostgreSQL, sent through a real SMTP server (aiosmtpd):
a due reminder goes out once even when two runs race, never without the opt-in and a confirmed address,
never while a red flag stands, and after a gap only the latest one."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from rueckenlotse.i18n.zone import local_zone
from rueckenlotse.services.followup import record_intake
from rueckenlotse.services.mail import Mailer
from rueckenlotse.services.reminders import GRACE, due_now, send_due_reminders
from rueckenlotse.settings import Settings
from rueckenlotse.store import Store
from rueckenlotse.store.reminders import ReminderChoice, Reminders
from rueckenlotse.store.schema import Account, ReminderSend

from ..mail_server import Inbox, body_of, mail_env, mail_server
from ..web.test_auth import PASSWORD, accounts
from .conftest import sample_case

PUBLIC = "https://rueckenlotse.example.org"


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with mail_server() as server:
        yield server


@pytest.fixture
def mailer(inbox: Inbox, tmp_path: Path) -> Mailer:
    env = mail_env(inbox)
    settings = Settings(
        data_dir=tmp_path,
        public_url=PUBLIC,
        smtp_host=env["RUECKENLOTSE_SMTP_HOST"],
        smtp_port=int(env["RUECKENLOTSE_SMTP_PORT"]),
        smtp_starttls=False,
        smtp_from=env["RUECKENLOTSE_SMTP_FROM"],
    )
    return Mailer(settings)


def patient(store: Store, *, verified: bool = True) -> tuple[str, str]:
    """(address, person id) of a patient with a saved intake made today; the address confirmed or not."""
    email = f"p-{uuid.uuid4().hex[:10]}@example.org"
    account, person = accounts(store).register_patient(email, PASSWORD, "Anna")
    if verified:
        with store.transaction() as session:
            session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(email_verified_at=dt.datetime.now(dt.UTC))
            )
    result = record_intake(store, person.id, sample_case(), lang="de")
    assert not result.plan.red_flag
    return email, person.id


def a_minute_ago() -> tuple[dt.datetime, str]:
    """Now (UTC) and the local time of day a minute ago, as the form takes it ("HH:MM")."""
    now = dt.datetime.now(dt.UTC).replace(second=30, microsecond=0)
    earlier = (now - dt.timedelta(minutes=1)).astimezone(local_zone())
    if earlier.date() != now.astimezone(local_zone()).date():
        pytest.skip("a minute ago was yesterday (midnight): the plan starts today")
    return now, f"{earlier:%H:%M}"


def choose(store: Store, person_id: str, times: tuple[str, ...], *, email: bool, at: dt.datetime) -> None:
    Reminders(store).save_choice(person_id, times, frozenset(), email=email, lang="de", now=at)


def sends(store: Store, person_id: str) -> int:
    with store.transaction(write=False) as session:
        return int(session.scalar(select(func.count()).where(ReminderSend.person_id == person_id)) or 0)


def test_a_due_reminder_is_sent_once_when_two_runs_race(store: Store, mailer: Mailer, inbox: Inbox) -> None:
    email, person_id = patient(store)
    now, time = a_minute_ago()
    choose(store, person_id, (time,), email=True, at=now - dt.timedelta(hours=1))
    barrier = threading.Barrier(2)
    counts: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            barrier.wait(timeout=30)
            counts.append(send_due_reminders(store, mailer, now=now))
        except BaseException as e:  # noqa: BLE001 (reported below)
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert sorted(counts) == [0, 1]
    mails = inbox.wait_for(email)
    assert len(mails) == 1 and sends(store, person_id) == 1
    body = body_of(mails[0])
    assert f"{PUBLIC}/mein-bereich/heute" in body and f"{PUBLIC}/mein-bereich/erinnerungen" in body
    assert time in body and "Übungen" in mails[0]["Subject"]
    # Generic: nothing of the assessment or the plan's exercises.
    assert "Rücken steif" not in body and "Katze" not in body
    # A later run at the same moment finds it claimed: nothing more.
    assert send_due_reminders(store, mailer, now=now + dt.timedelta(seconds=30)) == 0
    assert len(inbox.to(email)) == 1


def test_no_reminder_without_the_opt_in_or_a_confirmed_address(
    store: Store, mailer: Mailer, inbox: Inbox
) -> None:
    now, time = a_minute_ago()
    not_asked, not_asked_id = patient(store)
    choose(store, not_asked_id, (time,), email=False, at=now - dt.timedelta(hours=1))
    unconfirmed, unconfirmed_id = patient(store, verified=False)
    choose(store, unconfirmed_id, (time,), email=True, at=now - dt.timedelta(hours=1))
    assert send_due_reminders(store, mailer, now=now) == 0
    assert inbox.to(not_asked) == [] and inbox.to(unconfirmed) == []
    assert sends(store, not_asked_id) == sends(store, unconfirmed_id) == 0


def test_no_reminder_while_a_red_flag_stands(store: Store, mailer: Mailer, inbox: Inbox) -> None:
    email, person_id = patient(store)
    now, time = a_minute_ago()
    store.add_diary_entry(
        person_id,
        {"recorded_at": now - dt.timedelta(minutes=5), "pain": {"low_back": 4}, "warning_signs": ["fever"]},
    )
    choose(store, person_id, (time,), email=True, at=now - dt.timedelta(hours=1))
    assert send_due_reminders(store, mailer, now=now) == 0
    assert inbox.to(email) == [] and sends(store, person_id) == 0


def test_nothing_from_before_the_choice_and_no_backlog_after_a_gap() -> None:
    zone = local_zone()
    day = dt.date(2026, 3, 10)  # a Tuesday
    now = dt.datetime.combine(day, dt.time(18, 30), tzinfo=zone).astimezone(dt.UTC)
    choice = ReminderChoice(("08:00", "18:00"), frozenset(), True, "de", now - dt.timedelta(days=3))
    due = due_now(choice, now, zone)
    # Both of today's times passed; only the latest (18:00) is due; the check would be at 08:00 (too late).
    assert [(d.kind, d.at.astimezone(zone).time()) for d in due] == [("session", dt.time(18, 0))]
    # Made at 18:10: 18:00 was before the choice.
    later = ReminderChoice(("08:00", "18:00"), frozenset(), True, "de", now - dt.timedelta(minutes=20))
    assert due_now(later, now, zone) == []
    # Three hours after 18:00: beyond the grace, nothing at all.
    assert GRACE < dt.timedelta(hours=3)
    assert due_now(choice, now + dt.timedelta(hours=2, minutes=31), zone) == []
    # Only on Mondays: Tuesday has no session.
    mondays = ReminderChoice(("18:00",), frozenset({1}), True, "de", now - dt.timedelta(days=3))
    assert "session" not in [d.kind for d in due_now(mondays, now, zone)]


def test_a_new_calendar_address_replaces_the_old_and_a_revoked_one_is_unknown(store: Store) -> None:
    _, person_id = patient(store)
    reminders = Reminders(store)
    now = dt.datetime.now(dt.UTC)
    first = reminders.new_feed(person_id, "en", now)
    assert reminders.feed_owner(first) == (person_id, "en")
    second = reminders.new_feed(person_id, "de", now + dt.timedelta(seconds=1))
    assert reminders.feed_owner(first) is None and reminders.feed_owner(second) == (person_id, "de")
    assert reminders.feed_state(person_id)[0] is not None
    assert reminders.revoke_feeds(person_id, now) == 1 and reminders.revoke_feeds(person_id, now) == 0
    assert reminders.feed_owner(second) is None and reminders.feed_state(person_id)[0] is None
    assert reminders.feed_owner("") is None and reminders.feed_owner("x" * 500) is None


def test_the_same_choice_saved_twice_changes_nothing(store: Store) -> None:
    _, person_id = patient(store)
    reminders = Reminders(store)
    at = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)
    assert reminders.save_choice(
        person_id, ("18:00", "08:00"), frozenset({1, 5}), email=True, lang="de", now=at
    )
    later = at + dt.timedelta(hours=1)
    assert not reminders.save_choice(
        person_id, ("08:00", "18:00"), frozenset({5, 1}), email=True, lang="de", now=later
    )
    choice = reminders.choice(person_id)
    assert choice == ReminderChoice(("08:00", "18:00"), frozenset({1, 5}), True, "de", at)


def test_export_lists_the_reminders_without_the_token_and_erasure_removes_them(
    store: Store, mailer: Mailer, inbox: Inbox
) -> None:
    email, person_id = patient(store)
    now, time = a_minute_ago()
    choose(store, person_id, (time,), email=True, at=now - dt.timedelta(hours=1))
    token = Reminders(store).new_feed(person_id, "de", now)
    assert send_due_reminders(store, mailer, now=now) == 1
    exported = store.export_person(person_id)["reminders"]
    assert exported["settings"]["times"] == [time] and exported["settings"]["email"] is True
    assert len(exported["calendar_feeds"]) == 1 and len(exported["sent"]) == 1
    assert exported["sent"][0]["sent_at"] is not None
    text = repr(exported)
    assert token not in text and "token" not in text
    store.erase_person(person_id)
    counts = store.rows_of_person(person_id)
    assert all(n == 0 for n in counts.values()), counts
    assert Reminders(store).feed_owner(token) is None


def test_a_disabled_accounts_calendar_address_stops_working(store: Store) -> None:
    email, person_id = patient(store)
    token = Reminders(store).new_feed(person_id, "de", dt.datetime.now(dt.UTC))
    assert Reminders(store).feed_owner(token) is not None
    with store.transaction() as session:
        session.execute(update(Account).where(Account.email == email).values(disabled=True))
    assert Reminders(store).feed_owner(token) is None
