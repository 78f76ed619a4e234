"""Reminders over real HTTP against the live server: the settings page (validation in German and English,
post/redirect/get), the calendar download and the private feed (parsed back with icalendar), and the
reminder mails sent by two app processes on one database (to a real SMTP server, aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from icalendar import Calendar, Event
from sqlalchemy import func, select, update

from rueckenlotse.i18n.zone import local_zone
from rueckenlotse.plan.library import default_library
from rueckenlotse.services.followup import record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.reminders import Reminders
from rueckenlotse.store.schema import Account, ReminderSend

from ..mail_server import Inbox, body_of, mail_env
from ..serving import served
from ..store.conftest import sample_case
from .conftest import SERVER_OWN, LiveServer
from .test_auth import PASSWORD, accounts, login, open_store, own_client
from .test_patient import csrf_of, diary_entry, new_patient

PAGE = "/mein-bereich/erinnerungen"
SESSION = "Rückenlotse: Übungen"


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    """Every test speaks as its own client address: registrations are limited per address."""
    with own_client(live_server) as own:
        yield own


def settings_form(client: httpx.Client, **fields: str | list[str]) -> httpx.Response:
    page = client.get(PAGE)
    assert page.status_code == 200, page.text[:500]
    data: dict[str, str | list[str]] = {"csrf_token": csrf_of(page)}
    data.update(fields)
    return client.post(PAGE, data=data)


def feed_key(page: httpx.Response) -> str:
    match = re.search(r'name="key" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def new_feed(client: httpx.Client) -> str:
    """Make a calendar address on the page; the URL the page shows once."""
    page = client.get(PAGE)
    made = client.post(PAGE + "/kalender-adresse", data={"csrf_token": csrf_of(page), "key": feed_key(page)})
    assert made.status_code == 303, made.text[:300]
    shown = client.get(made.headers["location"])
    match = re.search(r'id="feed-url"[^>]*>([^<]+)</textarea>', shown.text)
    assert match is not None, shown.text[:3000]
    return match.group(1)


def events(body: bytes) -> list[Event]:
    calendar = Calendar.from_ical(body)
    assert isinstance(calendar, Calendar)
    calendar.validate()
    found = list(calendar.events)
    assert not calendar.errors and not any(event.errors for event in found)  # parsed without a problem
    return found


def sessions_of(found: list[Event]) -> list[Event]:
    return [e for e in found if str(e["SUMMARY"]) == SESSION]


def all_day(found: list[Event]) -> list[Event]:
    return [e for e in found if not isinstance(e.start, dt.datetime)]


# ---- the settings page ----------------------------------------------------------------------------
def test_invalid_times_get_field_errors_in_german_and_english_and_change_nothing(
    client: httpx.Client,
    live_server: LiveServer,
) -> None:
    new_patient(client)
    assert settings_form(client, time1="08:00", time2="18:00").status_code == 303
    german = settings_form(client, time1="25:00", time2="abends", weekdays=["1", "9"])
    assert german.status_code == 422
    assert "Bitte schreiben Sie die Uhrzeit als Stunden:Minuten" in german.text
    assert "Bitte wählen Sie nur Tage aus der Liste" in german.text
    assert 'href="#time1"' in german.text and 'href="#time2"' in german.text
    assert re.search(r'id="time1"[^>]*aria-describedby="[^"]*time1-error', german.text, re.S)
    client.cookies.set("lang", "en")
    english = settings_form(client, time1="")
    assert english.status_code == 422 and "Please enter a time, for example 08:00." in english.text
    same = settings_form(client, time1="07:30", time2="07:30")
    assert same.status_code == 422 and "The second time is the same as the first." in same.text
    client.cookies.set("lang", "de")
    page = client.get(PAGE)
    assert 'value="08:00"' in page.text and 'value="18:00"' in page.text  # unchanged


def test_saving_redirects_and_a_second_post_changes_nothing(
    client: httpx.Client, live_server: LiveServer
) -> None:
    email = new_patient(client)
    page = client.get(PAGE)
    assert 'aria-current="page"' in page.text and "Erinnerungen und Kalender" in page.text
    # This server sends no mail: the page says why there is no e-mail reminder, and none is kept.
    assert "kann keine E-Mails verschicken" in page.text and 'name="email"' not in page.text
    fields: dict[str, str | list[str]] = {
        "time1": "18:00",
        "time2": "08:00",
        "weekdays": ["1", "3"],
        "email": "yes",
    }
    saved = settings_form(client, **fields)
    assert saved.status_code == 303 and saved.headers["location"] == PAGE + "?gespeichert=1"
    shown = client.get(saved.headers["location"])
    assert "Ihre Einstellungen sind gespeichert." in shown.text
    assert re.search(r'value="1" checked', shown.text) and re.search(r'value="3" checked', shown.text)
    assert not re.search(r'value="2" checked', shown.text)
    with open_store(live_server) as store:
        person_id = person_by_email(store, email)
        first = Reminders(store).choice(person_id)
        assert first is not None and first.times == ("08:00", "18:00") and first.email is False
        assert settings_form(client, **fields).status_code == 303
        assert Reminders(store).choice(person_id) == first  # not even the moment it counts from moved


def person_by_email(store: Store, email: str) -> str:
    with store.transaction(write=False) as session:
        person_id = session.scalar(select(Account.person_id).where(Account.email == email))
    assert person_id is not None
    return str(person_id)


def test_the_plan_page_and_the_nav_link_to_the_settings(client: httpx.Client) -> None:
    new_patient(client)
    plan = client.get("/mein-bereich/plan")
    assert f'href="{PAGE}"' in plan.text and "Erinnerungen und Kalender einstellen" in plan.text


# ---- the calendar ----------------------------------------------------------------------------------
def test_the_download_has_the_sessions_at_the_chosen_local_times_and_the_checks_all_day(
    client: httpx.Client,
) -> None:
    new_patient(client)
    assert settings_form(client, time1="08:00", time2="18:00").status_code == 303
    download = client.get(PAGE + "/kalender.ics")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/calendar; charset=utf-8"
    assert "attachment" in download.headers["content-disposition"]
    found = events(download.content)
    sessions = sessions_of(found)
    zone = local_zone()
    today = dt.datetime.now(zone).date()
    assert sessions, "no session events"
    times = {e.start.astimezone(zone).time() for e in sessions}
    assert times == {dt.time(8, 0), dt.time(18, 0)}
    days = sorted({e.start.astimezone(zone).date() for e in sessions})
    assert days[0] == today and len(days) == (days[-1] - days[0]).days + 1  # every day to the plan's end
    assert 80 <= len(days) <= 84  # the plan's twelve weeks from today
    assert all(e.start.tzinfo is not None for e in sessions)  # in a zone, not floating
    assert all(any(c.name == "VALARM" for c in e.subcomponents) for e in sessions)
    checks = all_day(found)
    assert checks and all(e.end - e.start == dt.timedelta(days=1) for e in checks)
    assert any("Wochen-Check" in str(e["SUMMARY"]) for e in checks) or any(
        "Plan überprüfen" in str(e["SUMMARY"]) for e in checks
    )
    uids = [str(e["UID"]) for e in found]
    assert len(uids) == len(set(uids))
    # Downloaded again: the same UIDs (a second import updates instead of doubling).
    assert [str(e["UID"]) for e in events(client.get(PAGE + "/kalender.ics").content)] == uids
    text = download.content.decode()
    assert "/mein-bereich/heute" in text and "/mein-bereich/plan" in text
    assert "BEGIN:VTIMEZONE" in text and "DTSTAMP" in text
    for exercise in default_library().exercises.values():  # generic texts: no exercise is named
        assert exercise.title.get("de") not in text


def test_weekdays_limit_the_sessions(client: httpx.Client) -> None:
    new_patient(client)
    assert settings_form(client, time1="07:15", weekdays=["2", "6"]).status_code == 303
    sessions = sessions_of(events(client.get(PAGE + "/kalender.ics").content))
    zone = local_zone()
    assert sessions and {e.start.astimezone(zone).isoweekday() for e in sessions} <= {2, 6}
    assert {e.start.astimezone(zone).time() for e in sessions} == {dt.time(7, 15)}


def test_the_feed_needs_no_session_and_a_new_address_replaces_the_old(
    client: httpx.Client,
    live_server: LiveServer,
) -> None:
    new_patient(client)
    assert settings_form(client, time1="08:00").status_code == 303
    url = new_feed(client)
    assert url.startswith(live_server.url + "/kalender/") and url.endswith(".ics")
    with httpx.Client(timeout=10.0) as stranger:  # no cookie at all
        feed = stranger.get(url)
        assert feed.status_code == 200
        assert feed.headers["content-type"] == "text/calendar; charset=utf-8"
        assert feed.headers["cache-control"] == "private, no-store"
        assert "set-cookie" not in feed.headers
        assert sessions_of(events(feed.content))
        unknown = stranger.get(live_server.url + "/kalender/" + "x" * 43 + ".ics")
        assert unknown.status_code == 404
        second = new_feed(client)
        assert second != url
        assert stranger.get(url).status_code == 404 and stranger.get(second).status_code == 200
        page = client.get(PAGE)
        revoked = client.post(PAGE + "/kalender-adresse/loeschen", data={"csrf_token": csrf_of(page)})
        assert revoked.status_code == 303
        assert stranger.get(second).status_code == 404
        assert "Sie haben noch keine Kalender-Adresse." in client.get(PAGE).text
    # The access log names the route, never the feed's secret (logs travel further than the database).
    log = live_server.log_text()
    assert "GET /kalender/… 200" in log and "GET /kalender/… 404" in log
    for address in (url, second):
        assert address.rsplit("/", 1)[1].removesuffix(".ics") not in log


def test_posting_the_same_feed_form_twice_makes_one_address(
    client: httpx.Client, live_server: LiveServer
) -> None:
    new_patient(client)
    page = client.get(PAGE)
    data = {"csrf_token": csrf_of(page), "key": feed_key(page)}
    first = client.post(PAGE + "/kalender-adresse", data=data)
    again = client.post(PAGE + "/kalender-adresse", data=data)
    assert first.headers["location"] == again.headers["location"]
    shown = [
        re.search(r'id="feed-url"[^>]*>([^<]+)</textarea>', client.get(r.headers["location"]).text)
        for r in (first, again)
    ]
    assert shown[0] is not None and shown[1] is not None and shown[0].group(1) == shown[1].group(1)
    with httpx.Client(timeout=10.0) as stranger:
        assert stranger.get(shown[0].group(1)).status_code == 200


def test_with_a_red_flag_the_feed_holds_no_exercise_only_the_date_to_have_it_checked(
    client: httpx.Client,
) -> None:
    new_patient(client)
    assert settings_form(client, time1="08:00", time2="18:00").status_code == 303
    url = new_feed(client)
    assert diary_entry(client, warning_signs=["fever"]).status_code == 200
    assert "erinnern wir nicht an Übungen" in client.get(PAGE).text
    with httpx.Client(timeout=10.0) as stranger:
        found = events(stranger.get(url).content)
    assert sessions_of(found) == []
    assert [str(e["SUMMARY"]) for e in found] == ["Rückenlotse: Bitte ärztlich abklären lassen"]
    assert all_day(found) == found


def test_the_feed_answers_in_the_language_it_was_made_in(client: httpx.Client) -> None:
    new_patient(client)
    assert settings_form(client, time1="08:00").status_code == 303
    client.cookies.set("lang", "en")
    url = new_feed(client)
    with httpx.Client(timeout=10.0) as stranger:
        found = events(stranger.get(url).content)
    summaries = {str(e["SUMMARY"]) for e in found}
    assert "Rückenlotse: exercises" in summaries and SESSION not in summaries


# ---- reminder mails from two app processes -----------------------------------------------------------
@pytest.fixture
def two_servers(tmp_path: Path, mail_inbox: Inbox) -> Iterator[Path]:
    """Two app processes on one SQLite database, both sending reminder mails every 0.2 s to ``mail_inbox``."""
    env = {
        k: v for k, v in os.environ.items() if k not in SERVER_OWN and not k.startswith("RUECKENLOTSE_SMTP")
    }
    env |= mail_env(mail_inbox)
    env |= {
        "RUECKENLOTSE_DATA_DIR": str(tmp_path),
        "RUECKENLOTSE_REMINDER_SECONDS": "0.2",
    }
    with ExitStack() as stack:
        stack.enter_context(served(tmp_path, tmp_path / "one.log", env))
        stack.enter_context(served(tmp_path, tmp_path / "two.log", env))
        yield tmp_path


def test_two_app_processes_send_a_due_reminder_once(two_servers: Path, mail_inbox: Inbox) -> None:
    now = dt.datetime.now(dt.UTC)
    earlier = (now - dt.timedelta(minutes=1)).astimezone(local_zone())
    if earlier.date() != now.astimezone(local_zone()).date():
        pytest.skip("a minute ago was yesterday (midnight): the plan starts today")
    with Store.open(f"sqlite:///{two_servers / 'web.db'}") as store:
        email = f"erinnerung-{now:%H%M%S%f}@example.org"
        account, person = accounts(store).register_patient(email, PASSWORD, "Anna")
        with store.transaction() as session:
            session.execute(update(Account).where(Account.id == account.id).values(email_verified_at=now))
        record_intake(store, person.id, sample_case(), lang="de")
        Reminders(store).save_choice(
            person.id,
            (f"{earlier:%H:%M}",),
            frozenset(),
            email=True,
            lang="de",
            now=now - dt.timedelta(hours=1),
        )
        mails = mail_inbox.wait_for(email, timeout=20)
        time.sleep(2.0)  # ten more rounds of both processes: no second mail
        assert len(mail_inbox.to(email)) == 1
        assert re.search(r"https?://\S+/mein-bereich/heute", body_of(mails[0]))
        with store.transaction(write=False) as session:
            rows = session.scalar(select(func.count()).where(ReminderSend.person_id == person.id))
            sent = session.scalar(select(ReminderSend.sent_at).where(ReminderSend.person_id == person.id))
        assert rows == 1 and sent is not None


# ---- the e-mail offer where mail can be sent ------------------------------------------------------
def test_reminder_mails_are_offered_only_for_a_confirmed_address(mail_live_server: LiveServer) -> None:
    with open_store(mail_live_server) as store:
        unconfirmed = f"offen-{uuid.uuid4().hex[:10]}@example.org"
        confirmed = f"bestaetigt-{uuid.uuid4().hex[:10]}@example.org"
        accounts(store).register_patient(unconfirmed, PASSWORD, "Anna")
        account, person = accounts(store).register_patient(confirmed, PASSWORD, "Ben")
        with store.transaction() as session:
            session.execute(
                update(Account)
                .where(Account.id == account.id)
                .values(email_verified_at=dt.datetime.now(dt.UTC))
            )
        with own_client(mail_live_server) as web:
            assert login(web, unconfirmed, PASSWORD).status_code == 303
            page = web.get(PAGE)
            assert (
                "sobald Sie Ihre E-Mail-Adresse bestätigt haben" in page.text
                and 'name="email"' not in page.text
            )
        with own_client(mail_live_server) as web:
            assert login(web, confirmed, PASSWORD).status_code == 303
            page = web.get(PAGE)
            assert 'name="email"' in page.text and "Die E-Mail sagt nur, dass es Zeit ist" in page.text
            assert settings_form(web, time1="19:45", email="yes").status_code == 303
            choice = Reminders(store).choice(person.id)
            assert choice is not None and choice.email is True and choice.times == ("19:45",)
            assert (
                'id="email" name="email" value="yes" aria-describedby="email-hint" checked'
                in web.get(PAGE).text
            )
            assert settings_form(web, time1="19:45").status_code == 303  # unticked: off again
            choice = Reminders(store).choice(person.id)
            assert choice is not None and choice.email is False


def test_without_a_plan_the_page_and_the_download_still_work(client: httpx.Client) -> None:
    response = client.post(
        "/registrieren",
        data={
            "csrf_token": csrf_of(client.get("/")),
            "email": f"ohne-plan-{uuid.uuid4().hex[:10]}@example.org",
            "password": PASSWORD,
            "password_repeat": PASSWORD,
            "display_name": "",
        },
    )
    assert response.status_code == 303
    page = client.get(PAGE)
    assert page.status_code == 200 and "Sie haben noch keinen Plan." in page.text
    assert settings_form(client, time1="08:00").status_code == 303
    assert events(client.get(PAGE + "/kalender.ics").content) == []
