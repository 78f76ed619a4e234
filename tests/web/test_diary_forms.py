"""The diary form over real HTTP: post/redirect/get, one entry per form (its idempotency key), the date
and time field, and an entry posted after the session ended that is saved after signing in again."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import text

from rueckenlotse.store import Store

from .conftest import LiveServer
from .test_auth import open_store, own_client
from .test_patient import PASSWORD, client, diary_moment, hidden_of, new_patient  # noqa: F401 (fixture)

DIARY = "/mein-bereich/tagebuch"
SAVED = re.compile(r"^/mein-bereich/tagebuch\?gespeichert=[0-9a-f]{32}$")
BERLIN = ZoneInfo("Europe/Berlin")


def filled(page: httpx.Response, **fields: str) -> dict[str, str]:
    data = {**hidden_of(page, "diary"), **diary_moment(page), "pain_low_back": "5", "activity_minutes": "20"}
    return data | fields


def days_text(page: httpx.Response) -> str:
    return page.text.split('id="days-title"', 1)[1]


def test_reload_after_saving_saves_once(client: httpx.Client) -> None:  # noqa: F811
    new_patient(client)
    data = filled(client.get(DIARY), note="Einmal gegangen")
    first = client.post(DIARY, data=data)
    assert first.status_code == 303 and SAVED.match(first.headers["location"]), first.text[:500]
    shown = client.get(first.headers["location"])
    assert "Ihr Eintrag ist gespeichert." in shown.text and "Ihr Eintrag vom" in shown.text
    # The browser posts the same form again ("resubmit"), and the page after it is reloaded twice.
    again = client.post(DIARY, data=data)
    assert again.status_code == 303 and again.headers["location"] == first.headers["location"]
    for _ in range(2):
        reloaded = client.get(first.headers["location"])
        assert reloaded.status_code == 200
    assert days_text(reloaded).count("Einmal gegangen") == 1
    assert "20 Minuten" in days_text(reloaded) and "40 Minuten" not in days_text(reloaded)


def test_every_form_has_its_own_key(client: httpx.Client) -> None:  # noqa: F811
    new_patient(client)
    one, two = client.get(DIARY), client.get(DIARY)
    assert hidden_of(one, "diary")["entry_key"] != hidden_of(two, "diary")["entry_key"]
    for page, note in ((one, "erste Notiz"), (two, "zweite Notiz")):
        assert client.post(DIARY, data=filled(page, note=note)).status_code == 303
    days = days_text(client.get(DIARY))
    assert "erste Notiz" in days and "zweite Notiz" in days


def test_a_refused_form_keeps_its_key(client: httpx.Client) -> None:  # noqa: F811
    new_patient(client)
    page = client.get(DIARY)
    refused = client.post(DIARY, data=filled(page, pain_low_back="elf"))
    assert refused.status_code == 422
    assert hidden_of(refused, "diary")["entry_key"] == hidden_of(page, "diary")["entry_key"]


def test_the_moment_is_checked_at_its_field_in_the_readers_language(client: httpx.Client) -> None:  # noqa: F811
    new_patient(client)
    page = client.get(DIARY)
    now = dt.datetime.now(BERLIN)
    cases = [
        ({"entry_date": (now + dt.timedelta(days=1)).date().isoformat()}, "entry_date", "in der Zukunft"),
        ({"entry_date": (now - dt.timedelta(days=3)).date().isoformat()}, "entry_date", "ab dem Tag Ihrer"),
        ({"entry_date": "31.02.2026"}, "entry_date", "Bitte geben Sie ein Datum ein"),
        ({"entry_time": "25:10"}, "entry_time", "Bitte geben Sie eine Uhrzeit ein"),
    ]
    for fields, field, message in cases:
        refused = client.post(DIARY, data=filled(page, **fields))
        assert refused.status_code == 422, fields
        error = re.search(rf'id="{field}-error"[^>]*>(.*?)</p>', refused.text, re.S)
        assert error is not None and message in error.group(1), (fields, refused.text[:300])
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', refused.text, re.S), fields
    client.cookies.set("lang", "en")
    english = client.post(
        DIARY, data=filled(page, entry_date=(now + dt.timedelta(days=1)).date().isoformat())
    )
    assert english.status_code == 422 and "This moment is in the future" in english.text


def test_a_missed_day_can_be_filled_in_within_the_episode(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    with open_store(live_server) as store:
        move_intake_back(store, email, days=5)
    page = client.get(DIARY)
    two_days_ago = dt.datetime.now(BERLIN) - dt.timedelta(days=2)
    day, time = two_days_ago.date().isoformat(), "08:15"
    saved = client.post(DIARY, data=filled(page, entry_date=day, entry_time=time, note="nachgetragen"))
    assert saved.status_code == 303, saved.text[:800]
    shown = client.get(saved.headers["location"])
    assert "08:15" in shown.text and two_days_ago.strftime("%d.%m.%Y") in shown.text
    too_early = client.post(
        DIARY,
        data=filled(client.get(DIARY), entry_date=(two_days_ago - dt.timedelta(days=4)).date().isoformat()),
    )
    assert too_early.status_code == 422 and "ab dem Tag Ihrer Einschätzung" in too_early.text


def move_intake_back(store: Store, email: str, *, days: int) -> None:
    with store.transaction() as session:
        person = session.execute(
            text("SELECT person_id FROM accounts WHERE email = :e"), {"e": email}
        ).scalar()
        moved = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
        session.execute(
            text("UPDATE assessments SET created_at = :t WHERE person_id = :p"), {"t": moved, "p": person}
        )


def end_sessions(live_server: LiveServer, email: str) -> None:
    """The session went idle: its last use lies longer back than any idle timeout."""
    with open_store(live_server) as store, store.transaction() as session:
        account = session.execute(text("SELECT id FROM accounts WHERE email = :e"), {"e": email}).scalar()
        old = dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)
        session.execute(
            text("UPDATE web_sessions SET last_seen_at = :t WHERE account_id = :a"), {"t": old, "a": account}
        )


def sign_in(web: httpx.Client, email: str) -> httpx.Response:
    page = web.get("/anmelden")
    csrf = hidden_of(page, "login")["csrf_token"]
    return web.post("/anmelden", data={"csrf_token": csrf, "email": email, "password": PASSWORD})


def test_an_entry_posted_after_the_session_ended_is_saved_after_signing_in(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    page = client.get(DIARY)
    data = filled(page, note="Nach langer Pause geschrieben")
    end_sessions(live_server, email)
    posted = client.post(DIARY, data=data)
    assert posted.status_code == 303 and posted.headers["location"] == "/anmelden?entwurf=1"
    login = client.get(posted.headers["location"])
    assert "Ihr Tagebucheintrag ist aufbewahrt" in login.text
    signed = sign_in(client, email)
    assert signed.status_code == 303 and SAVED.match(signed.headers["location"]), signed.headers
    shown = client.get(signed.headers["location"])
    time = data["entry_time"]
    assert f"Ihr Eintrag von {time} Uhr wurde gespeichert." in shown.text
    assert days_text(shown).count("Nach langer Pause geschrieben") == 1
    # The kept draft is used once: the next sign-in goes home, and the old form posted again saves nothing.
    end_sessions(live_server, email)
    assert sign_in(client, email).headers["location"] == "/mein-bereich"
    assert client.post(DIARY, data=data).headers["location"] == signed.headers["location"]
    assert days_text(client.get(DIARY)).count("Nach langer Pause geschrieben") == 1


def test_a_kept_entry_is_saved_only_for_its_own_person(live_server: LiveServer) -> None:
    with own_client(live_server) as anna:
        anna_email = new_patient(anna)
        data = filled(anna.get(DIARY), note="Annas Notiz")
        end_sessions(live_server, anna_email)
        assert anna.post(DIARY, data=data).status_code == 303
        kept = anna.cookies.get("diary_draft")
        assert kept
    with own_client(live_server) as ben:
        ben_email = new_patient(ben)
        ben.cookies.set("diary_draft", kept)
        end_sessions(live_server, ben_email)
        signed = sign_in(ben, ben_email)
        assert signed.headers["location"] == "/mein-bereich"  # not Anna's entry, not into Ben's diary
        assert "Annas Notiz" not in ben.get(DIARY).text


def test_an_unsigned_form_after_the_session_ended_is_not_kept(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    data = filled(client.get(DIARY), note="gefälscht") | {"entry_owner": "nicht.signiert"}
    end_sessions(live_server, email)
    posted = client.post(DIARY, data=data)
    assert posted.status_code == 303 and posted.headers["location"] == "/anmelden"
    assert "diary_draft" not in posted.headers.get("set-cookie", "")
