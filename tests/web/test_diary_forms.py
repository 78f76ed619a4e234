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
    assert "ist aufbewahrt und wird gespeichert" in login.text
    signed = sign_in(client, email)
    assert signed.status_code == 303 and SAVED.match(signed.headers["location"]), signed.headers
    shown = client.get(signed.headers["location"])
    time = data["entry_time"]
    assert f"Ihr Eintrag von {time} Uhr wurde gespeichert." in shown.text
    assert days_text(shown).count("Nach langer Pause geschrieben") == 1
    # The kept draft is used once: the next sign-in goes home, and the old form posted again saves nothing
    # (its CSRF token belongs to the session that ended: refused with the page that says to reload).
    end_sessions(live_server, email)
    assert sign_in(client, email).headers["location"] == "/mein-bereich"
    stale = client.post(DIARY, data=data)
    assert stale.status_code == 403 and "kept_form" not in stale.headers.get("set-cookie", "")
    assert days_text(client.get(DIARY)).count("Nach langer Pause geschrieben") == 1


def test_a_kept_entry_that_needs_a_correction_is_shown_with_its_error_after_signing_in(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    """A kept form that cannot be saved as it is (here a pain of 11) comes back after signing in, filled
    in, with the error at its field; nothing is saved until it is corrected."""
    email = new_patient(client)
    data = filled(client.get(DIARY), note="Mit Tippfehler", pain_low_back="11")
    end_sessions(live_server, email)
    assert client.post(DIARY, data=data).headers["location"] == "/anmelden?entwurf=1"
    signed = sign_in(client, email)
    assert signed.status_code == 303 and signed.headers["location"] == "/mein-bereich/tagebuch?entwurf=1"
    kept = client.get(signed.headers["location"])
    assert "Mit Tippfehler" in kept.text, kept.text[-3000:]
    assert kept.status_code == 422
    assert "Mit Tippfehler" in kept.text and 'aria-invalid="true"' in kept.text
    assert "Mit Tippfehler" not in days_text(client.get(DIARY))


def test_a_kept_entry_is_saved_only_for_its_own_person(live_server: LiveServer) -> None:
    with own_client(live_server) as anna:
        anna_email = new_patient(anna)
        data = filled(anna.get(DIARY), note="Annas Notiz")
        end_sessions(live_server, anna_email)
        assert anna.post(DIARY, data=data).status_code == 303
        kept = anna.cookies.get("kept_form")
        assert kept
    with own_client(live_server) as ben:
        ben_email = new_patient(ben)
        ben.cookies.set("kept_form", kept)
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
    assert "kept_form" not in posted.headers.get("set-cookie", "")


# ---- correcting and deleting an entry, the CSV export --------------------------------------------------
ENTRY_LINK = re.compile(r'href="(/mein-bereich/tagebuch/eintrag/[0-9a-f]{32})"')


def saved_entry(web: httpx.Client, **fields: str | list[str]) -> str:
    """Save an entry; the path of its correction page."""
    saved = web.post(DIARY, data=filled(web.get(DIARY)) | fields)  # type: ignore[operator]
    assert saved.status_code == 303, saved.text[:800]
    entry_id = saved.headers["location"].rsplit("=", 1)[1]
    return f"/mein-bereich/tagebuch/eintrag/{entry_id}"


def person_of_email(store: Store, email: str) -> str:
    with store.transaction(write=False) as session:
        person = session.execute(
            text("SELECT person_id FROM accounts WHERE email = :e"), {"e": email}
        ).scalar()
    assert isinstance(person, str)
    return person


def actions_of(live_server: LiveServer, email: str) -> list[str]:
    with open_store(live_server) as store, store.transaction(write=False) as session:
        person = person_of_email(store, email)
        rows = session.execute(
            text("SELECT action FROM audit_events WHERE person_id = :p ORDER BY at"), {"p": person}
        )
        return [str(row[0]) for row in rows]


def test_an_entry_is_corrected_with_an_audit_row(client: httpx.Client, live_server: LiveServer) -> None:  # noqa: F811
    email = new_patient(client)
    path = saved_entry(client, note="alte Notiz", pain_low_back="6")
    assert path in ENTRY_LINK.findall(client.get(DIARY).text)
    page = client.get(path)
    assert page.status_code == 200
    assert 'name="pain_low_back" maxlength="3"' in page.text or 'value="6"' in page.text
    form = hidden_of(page, "diary") | diary_moment(page)
    correction = form | {"pain_low_back": "2", "activity_minutes": "15", "note": "neue Notiz"}
    edited = client.post(path, data=correction)
    assert edited.status_code == 303 and SAVED.match(edited.headers["location"])
    again = client.post(path, data=correction)  # the same correction once more: reload, double click
    assert again.status_code == 303 and SAVED.match(again.headers["location"])
    shown = client.get(edited.headers["location"])
    assert "ist geändert" in shown.text
    days = days_text(shown)
    assert "neue Notiz" in days and "alte Notiz" not in days and "Schmerz 2 von 10" in days
    assert actions_of(live_server, email) == ["edit.diary_entry"]
    refused = client.post(path, data=form | {"pain_low_back": "zwölf"})
    assert refused.status_code == 422 and 'id="pain-low_back-error"' in refused.text


def test_a_warning_sign_edited_in_escalates(client: httpx.Client, live_server: LiveServer) -> None:  # noqa: F811
    email = new_patient(client)
    path = saved_entry(client)
    page = client.get(path)
    form = hidden_of(page, "diary") | diary_moment(page) | {"pain_low_back": "6", "activity_minutes": "0"}
    edited = client.post(path, data=form | {"warning_signs": "saddle_numbness"})
    shown = client.get(edited.headers["location"])
    assert "Ihr Eintrag ändert unseren Rat" in shown.text and "112" in shown.text
    with open_store(live_server) as store:
        latest = store.latest_assessment(person_of_email(store, email))
        assert latest is not None and latest.assessment.triage.value == "emergency"
        assert latest.source == "diary_rescreen"


def test_deleting_an_entry_keeps_the_escalation_it_raised(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    path = saved_entry(client, warning_signs="saddle_numbness", note="Taubheit")
    with open_store(live_server) as store:
        person = person_of_email(store, email)
        before = [(a.id, a.assessment.triage.value) for a in store.list_assessments(person)]
    assert before[-1][1] == "emergency"
    page = client.get(path)
    deleted = client.post(f"{path}/loeschen", data=hidden_of(page, "delete"))
    assert deleted.status_code == 303 and deleted.headers["location"] == f"{DIARY}?geloescht=1"
    shown = client.get(deleted.headers["location"])
    assert "Der Eintrag ist gelöscht." in shown.text and "Taubheit" not in days_text(shown)
    with open_store(live_server) as store:
        after = [(a.id, a.assessment.triage.value) for a in store.list_assessments(person)]
        assert after == before  # the raised escalation stays on record
        assert store.latest_assessment(person).assessment.triage.value == "emergency"  # type: ignore[union-attr]
    assert actions_of(live_server, email) == ["delete.diary_entry"]
    assert client.get(path).status_code == 404
    assert client.post(f"{path}/loeschen", data=hidden_of(page, "delete")).status_code == 404


def test_another_patients_entry_cannot_be_read_changed_or_deleted(live_server: LiveServer) -> None:
    with own_client(live_server) as anna, own_client(live_server) as ben:
        new_patient(anna)
        new_patient(ben)
        path = saved_entry(anna, note="Annas Eintrag")
        assert ben.get(path).status_code == 404
        page = ben.get(DIARY)
        form = hidden_of(page, "diary") | diary_moment(page) | {"pain_low_back": "1", "note": "Ben war hier"}
        assert ben.post(path, data=form).status_code == 404
        assert ben.post(f"{path}/loeschen", data={"csrf_token": form["csrf_token"]}).status_code == 404
        assert ben.get(f"{DIARY}?gespeichert={path.rsplit('/', 1)[1]}").text.count("Annas Eintrag") == 0
        assert "Annas Eintrag" in days_text(anna.get(DIARY))


def test_the_diary_as_csv(client: httpx.Client, live_server: LiveServer) -> None:  # noqa: F811
    email = new_patient(client)
    saved_entry(client, note="=SUMME(A1)", pain_low_back="4")
    saved_entry(client, note="zweiter Tag", pain_low_back="3")
    data_page = client.get("/mein-bereich/daten")
    assert 'href="/mein-bereich/tagebuch/tagebuch.csv"' in data_page.text  # beside the JSON export
    response = client.get("/mein-bereich/tagebuch/tagebuch.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    lines = response.text.strip().splitlines()
    assert len(lines) == 3 and "zweiter Tag" in response.text
    assert "\n=SUMME" not in response.text and ",=SUMME" not in response.text  # no formula
    assert actions_of(live_server, email) == ["export.diary_csv"]
