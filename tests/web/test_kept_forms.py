"""The measures', the session's and a diary entry's correction forms posted after the session ended
(``web.kept_forms``), over real HTTP against the app on SQLite: kept for their own person only, saved once
after signing in (a replay of the same kept form writes nothing more), shown again with their errors when
they need a correction, and never kept when the owner field is unsigned, forged, or signed for another
kind of form (or, for a correction, another entry). The diary's own kept-form tests are in
test_diary_forms.py; here also the diary's cookie from before (``diary_draft``)."""

from __future__ import annotations

import datetime as dt
import html
import re
import secrets

import httpx
from sqlalchemy import select, text

from rueckenlotse.store.schema import ExerciseFeedbackRow, MeasureResponse

from .conftest import LiveServer
from .test_auth import open_store, own_client
from .test_diary_forms import (
    DIARY,
    actions_of,
    days_text,
    end_sessions,
    filled,
    person_of_email,
    saved_entry,
    sign_in,
)
from .test_patient import client, diary_moment, hidden_of, new_patient  # noqa: F401 (fixture)

MEASURES = "/mein-bereich/fragebogen"
SESSION = "/mein-bereich/heute"
PEG = {"pain": "6", "enjoyment": "5", "activity": "7"}
HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"')
COOKIE = "kept_form"


def measure_form(web: httpx.Client, measure: str = "peg", **answers: str) -> dict[str, str]:
    """The measure's form as the page renders it (with its signed owner), filled in."""
    return {**hidden_of(web.get(MEASURES), f"form-{measure}"), **answers}


def session_form(web: httpx.Client, exercise_id: str, **fields: str) -> dict[str, str]:
    """The feedback form of one exercise as the page renders it (with its signed owner), filled in."""
    page = web.get(SESSION)
    assert page.status_code == 200, page.text[:500]
    article = page.text.split(f'id="uebung-{exercise_id}"', 1)[1].split("</form>", 1)[0]
    return {name: html.unescape(value) for name, value in HIDDEN.findall(article)} | fields


def measure_rows(live_server: LiveServer, email: str) -> list[MeasureResponse]:
    with open_store(live_server) as store, store.transaction() as session:
        person = person_of_email(store, email)
        found = session.scalars(select(MeasureResponse).where(MeasureResponse.person_id == person)).all()
        session.expunge_all()
        return list(found)


def feedback_rows(live_server: LiveServer, email: str) -> list[ExerciseFeedbackRow]:
    with open_store(live_server) as store, store.transaction() as session:
        person = person_of_email(store, email)
        found = session.scalars(
            select(ExerciseFeedbackRow).where(ExerciseFeedbackRow.person_id == person)
        ).all()
        session.expunge_all()
        return list(found)


def kept_after_the_end(
    live_server: LiveServer,
    web: httpx.Client,
    email: str,
    path: str,
    data: dict[str, str],
    *,
    clicks: int = 1,
) -> list[str]:
    """Post the form after the session ended (``clicks`` times: a double click): kept each time, to the
    sign-in page that says so; the cookie's values, in order."""
    end_sessions(live_server, email)
    values = []
    for _ in range(clicks):
        posted = web.post(path, data=data)
        assert posted.status_code == 303, posted.text[:300]
        assert posted.headers["location"] == "/anmelden?entwurf=1"
        value = web.cookies.get(COOKIE)
        assert value
        values.append(value)
    login = web.get("/anmelden?entwurf=1")
    assert "ist aufbewahrt und wird gespeichert" in login.text
    return values


def shown_again_after_sign_in(
    live_server: LiveServer, web: httpx.Client, email: str, path: str, data: dict[str, str]
) -> httpx.Response:
    """Post the form after the session ended, sign in again: the form, refused, is shown again on its page
    (``path``) with its errors (422)."""
    kept_after_the_end(live_server, web, email, path, data)
    signed = sign_in(web, email)
    assert signed.headers["location"] == path + "?entwurf=1"
    shown = web.get(signed.headers["location"])
    assert shown.status_code == 422
    return shown


def not_kept(live_server: LiveServer, web: httpx.Client, email: str, path: str, data: dict[str, str]) -> None:
    end_sessions(live_server, email)
    posted = web.post(path, data=data)
    assert posted.status_code == 303 and posted.headers["location"] == "/anmelden"
    assert COOKIE not in posted.headers.get("set-cookie", "")
    assert web.cookies.get(COOKIE) is None


# ---- the measures ---------------------------------------------------------------------------------------
def test_measure_answers_posted_after_the_session_ended_are_saved_once_after_signing_in(
    live_server: LiveServer,
) -> None:
    with own_client(live_server) as web:
        email = new_patient(web)
        data = measure_form(web, **PEG)
        assert data["entry_owner"] and data["entry_key"]
        # A double click while signed out keeps the same form (the same key) twice.
        first, second = kept_after_the_end(live_server, web, email, MEASURES, data, clicks=2)
        assert first != second and first.startswith("measures.")
        signed = sign_in(web, email)
        assert signed.status_code == 303 and signed.headers["location"] == MEASURES + "?gespeichert=peg"
        assert web.cookies.get(COOKIE) is None  # done with: the cookie goes too
        shown = web.get(signed.headers["location"])
        assert "Ihre Antworten sind gespeichert" in shown.text and 'id="form-peg"' not in shown.text
        assert [(r.measure_id, r.week, r.score) for r in measure_rows(live_server, email)] == [
            ("peg", 0, 6.0)
        ]
        # The first kept copy replayed (its cookie set again): the form's key saved it already.
        end_sessions(live_server, email)
        web.cookies.set(COOKIE, first)
        replay = sign_in(web, email)
        assert replay.headers["location"] == MEASURES + "?gespeichert=peg"
        # And the same draft once more: it is gone, the sign-in goes home.
        end_sessions(live_server, email)
        web.cookies.set(COOKIE, first)
        assert sign_in(web, email).headers["location"] == "/mein-bereich"
        assert len(measure_rows(live_server, email)) == 1


def test_kept_measure_answers_are_saved_only_for_their_own_person(live_server: LiveServer) -> None:
    with own_client(live_server) as anna, own_client(live_server) as ben:
        anna_email = new_patient(anna)
        (kept,) = kept_after_the_end(live_server, anna, anna_email, MEASURES, measure_form(anna, **PEG))
        ben_email = new_patient(ben)
        ben.cookies.set(COOKIE, kept)
        end_sessions(live_server, ben_email)
        signed = sign_in(ben, ben_email)
        assert signed.headers["location"] == "/mein-bereich"  # not Anna's answers, not into Ben's measures
        assert measure_rows(live_server, ben_email) == [] == measure_rows(live_server, anna_email)
        assert 'id="form-peg"' in ben.get(MEASURES).text  # still due for Ben
        # Anna's answers stay hers: she signs in on her own browser and they are saved.
        assert sign_in(anna, anna_email).headers["location"] == MEASURES + "?gespeichert=peg"
        assert len(measure_rows(live_server, anna_email)) == 1


def test_a_measure_form_with_a_forged_or_foreign_owner_is_not_kept(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    not_kept(
        live_server, client, email, MEASURES, measure_form(client, **PEG) | {"entry_owner": "nicht.signiert"}
    )
    sign_in(client, email)
    # Signed for another key (another form of the page), or by the diary (another salt): not this form's.
    other = measure_form(client, "psfs")["entry_owner"]
    not_kept(live_server, client, email, MEASURES, measure_form(client, **PEG) | {"entry_owner": other})
    sign_in(client, email)
    diary = hidden_of(client.get(DIARY), "diary")
    as_measure = measure_form(client, **PEG) | {k: diary[k] for k in ("entry_key", "entry_owner")}
    not_kept(live_server, client, email, MEASURES, as_measure)
    assert sign_in(client, email).headers["location"] == "/mein-bereich"
    assert measure_rows(live_server, email) == []


def test_kept_measure_answers_that_need_a_correction_come_back_with_their_errors(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    data = measure_form(client, pain="6", enjoyment="4")  # the third question not answered
    shown = shown_again_after_sign_in(live_server, client, email, MEASURES, data)
    assert "Sie waren abgemeldet, als Sie dieses Formular abschickten." in shown.text
    assert 'id="activity-error"' in shown.text and 'href="#activity"' in shown.text
    assert re.search(r'id="enjoyment-4" name="enjoyment" value="4"\s+checked', shown.text)
    form = hidden_of(shown, "form-peg")
    assert form["entry_key"] == data["entry_key"]  # the same form: one save for it
    assert measure_rows(live_server, email) == []
    corrected = client.post(MEASURES, data=form | {"pain": "6", "enjoyment": "4", "activity": "5"})
    assert corrected.headers["location"] == MEASURES + "?gespeichert=peg"
    assert "expires=" in corrected.headers.get("set-cookie", "") and client.cookies.get(COOKIE) is None
    assert len(measure_rows(live_server, email)) == 1
    assert "Sie waren abgemeldet" not in client.get(MEASURES + "?entwurf=1").text


# ---- the session's feedback ---------------------------------------------------------------------------
def test_feedback_posted_after_the_session_ended_is_saved_once_after_signing_in(
    live_server: LiveServer,
) -> None:
    with own_client(live_server) as web:
        email = new_patient(web)
        page = web.get(SESSION).text
        assert page.count('name="entry_owner"') == page.count('name="entry_key"') > 0  # the offer's too
        data = session_form(web, "pelvic_tilt", done="1", rating="too_hard")
        first, _ = kept_after_the_end(live_server, web, email, SESSION, data, clicks=2)
        signed = sign_in(web, email)
        location = f"{SESSION}?gespeichert=pelvic_tilt#uebung-pelvic_tilt"
        assert signed.status_code == 303 and signed.headers["location"] == location
        assert "Gespeichert:" in web.get(location).text
        rows = feedback_rows(live_server, email)
        assert [(r.exercise_id, r.done, r.rating) for r in rows] == [("pelvic_tilt", True, "too_hard")]
        # Saved at the moment it was posted (the feedback belongs to that day's session).
        recorded = rows[0].recorded_at.replace(tzinfo=rows[0].recorded_at.tzinfo or dt.UTC)
        assert abs(dt.datetime.now(dt.UTC) - recorded) < dt.timedelta(minutes=5)
        end_sessions(live_server, email)
        web.cookies.set(COOKIE, first)  # the other kept copy of the same form: its key saved it already
        assert sign_in(web, email).headers["location"] == location
        assert len(feedback_rows(live_server, email)) == 1


def test_kept_feedback_is_saved_only_for_its_own_person(live_server: LiveServer) -> None:
    with own_client(live_server) as anna, own_client(live_server) as ben:
        anna_email = new_patient(anna)
        data = session_form(anna, "pelvic_tilt", done="1")
        (kept,) = kept_after_the_end(live_server, anna, anna_email, SESSION, data)
        ben_email = new_patient(ben)
        ben.cookies.set(COOKIE, kept)
        end_sessions(live_server, ben_email)
        assert sign_in(ben, ben_email).headers["location"] == "/mein-bereich"
        assert feedback_rows(live_server, ben_email) == [] == feedback_rows(live_server, anna_email)


def test_feedback_with_a_forged_or_foreign_owner_is_not_kept(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    forged = session_form(client, "pelvic_tilt", done="1") | {"entry_owner": "nicht.signiert"}
    not_kept(live_server, client, email, SESSION, forged)
    sign_in(client, email)
    # A measure's owner field with its key, posted as feedback: signed with another salt.
    measure = measure_form(client)
    as_feedback = session_form(client, "pelvic_tilt", done="1") | {
        k: measure[k] for k in ("entry_key", "entry_owner")
    }
    not_kept(live_server, client, email, SESSION, as_feedback)
    # An owner signed for another person's form (Ben's page) does not pass for this one.
    with own_client(live_server) as ben:
        new_patient(ben)
        bens = session_form(ben, "pelvic_tilt", done="1")
    sign_in(client, email)
    not_kept(
        live_server,
        client,
        email,
        SESSION,
        session_form(client, "pelvic_tilt", done="1") | {"entry_owner": bens["entry_owner"]},
    )
    assert sign_in(client, email).headers["location"] == "/mein-bereich"
    assert feedback_rows(live_server, email) == []


def test_kept_feedback_without_an_answer_comes_back_with_its_error(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    shown = shown_again_after_sign_in(
        live_server, client, email, SESSION, session_form(client, "knee_rocking")
    )
    assert 'aria-describedby="rating-knee_rocking-error"' in shown.text
    assert "Sie waren abgemeldet, als Sie dieses Formular abschickten." in shown.text
    assert feedback_rows(live_server, email) == []


# ---- the diary's cookie from before --------------------------------------------------------------------
def test_a_diary_entry_kept_under_the_former_cookie_is_still_saved(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    """Kept before this deploy: a ``diary`` draft whose token the cookie ``diary_draft`` holds."""
    email = new_patient(client)
    data = filled(client.get(DIARY), note="Vor dem Update aufbewahrt")
    token = secrets.token_urlsafe(32)
    pairs = [[name, value] for name, value in data.items() if name != "csrf_token"]
    with open_store(live_server) as store:
        person = person_of_email(store, email)
        store.put_draft(
            token, "diary", {"pairs": pairs, "lang": "de"}, ttl=dt.timedelta(hours=24), person_id=person
        )
    end_sessions(live_server, email)
    client.cookies.set("diary_draft", token)
    signed = sign_in(client, email)
    assert re.match(r"^/mein-bereich/tagebuch\?gespeichert=[0-9a-f]{32}$", signed.headers["location"])
    cleared = [c for c in signed.headers.get_list("set-cookie") if c.startswith("diary_draft=")]
    assert len(cleared) == 1 and "Max-Age=0" in cleared[0]  # the former cookie is done with too
    assert days_text(client.get(DIARY)).count("Vor dem Update aufbewahrt") == 1


# ---- correcting a diary entry ---------------------------------------------------------------------------
def edit_form(web: httpx.Client, path: str, **fields: str) -> dict[str, str]:
    """The correction form of an entry as its page renders it (with its signed owner), filled in."""
    page = web.get(path)
    assert page.status_code == 200, page.text[:500]
    return (
        hidden_of(page, "diary")
        | diary_moment(page)
        | {"pain_low_back": "5", "activity_minutes": "20"}
        | fields
    )


def edit_actors(live_server: LiveServer, email: str) -> list[tuple[str, str, str | None, str]]:
    """The audit rows of the person's entry corrections: (action, actor kind, actor id, channel)."""
    with open_store(live_server) as store, store.transaction(write=False) as session:
        person = person_of_email(store, email)
        rows = session.execute(
            text(
                "SELECT action, actor_kind, actor_id, channel FROM audit_events"
                " WHERE person_id = :p AND action = 'edit.diary_entry' ORDER BY at"
            ),
            {"p": person},
        )
        return [(str(r[0]), str(r[1]), r[2], str(r[3])) for r in rows]


def account_of_email(live_server: LiveServer, email: str) -> str:
    with open_store(live_server) as store, store.transaction(write=False) as session:
        account = session.execute(text("SELECT id FROM accounts WHERE email = :e"), {"e": email}).scalar()
    assert isinstance(account, str)
    return account


def test_a_correction_posted_after_the_session_ended_is_saved_once_after_signing_in(
    live_server: LiveServer,
) -> None:
    with own_client(live_server) as web:
        email = new_patient(web)
        path = saved_entry(web, note="alte Notiz", pain_low_back="6")
        entry_id = path.rsplit("/", 1)[1]
        data = edit_form(web, path, pain_low_back="2", note="nach der Pause korrigiert")
        assert data["entry_owner"] and data["entry_key"] and data["entry_id"] == entry_id
        first, second = kept_after_the_end(live_server, web, email, path, data, clicks=2)
        assert first != second and first.startswith("diary_edit.")
        assert actions_of(live_server, email) == []  # nothing changed while signed out
        signed = sign_in(web, email)
        saved = f"{DIARY}?gespeichert={entry_id}"
        assert signed.status_code == 303 and signed.headers["location"] == saved
        assert web.cookies.get(COOKIE) is None
        shown = web.get(saved)
        assert "Ihre Änderung am Eintrag vom" in shown.text and "aufbewahrt" in shown.text
        days = days_text(shown)
        assert "nach der Pause korrigiert" in days and "alte Notiz" not in days and "Schmerz 2 von 10" in days
        # In the audit trail as the patient's own account, on the web: once.
        account = account_of_email(live_server, email)
        assert edit_actors(live_server, email) == [("edit.diary_entry", "patient", account, "web")]
        # The other kept copy replayed: the same correction again changes nothing.
        end_sessions(live_server, email)
        web.cookies.set(COOKIE, first)
        assert sign_in(web, email).headers["location"] == saved
        end_sessions(live_server, email)
        web.cookies.set(COOKIE, second)  # saved and dropped: nothing left, home
        assert sign_in(web, email).headers["location"] == "/mein-bereich"
        assert actions_of(live_server, email) == ["edit.diary_entry"]
        assert days_text(web.get(DIARY)).count("nach der Pause korrigiert") == 1


def test_a_kept_correction_is_saved_only_for_its_own_person(live_server: LiveServer) -> None:
    with own_client(live_server) as anna, own_client(live_server) as ben:
        anna_email = new_patient(anna)
        path = saved_entry(anna, note="Annas Notiz")
        data = edit_form(anna, path, note="Annas Korrektur")
        (kept,) = kept_after_the_end(live_server, anna, anna_email, path, data)
        ben_email = new_patient(ben)
        ben.cookies.set(COOKIE, kept)
        end_sessions(live_server, ben_email)
        assert sign_in(ben, ben_email).headers["location"] == "/mein-bereich"
        assert actions_of(live_server, ben_email) == [] == actions_of(live_server, anna_email)
        # Anna's correction stays hers: she signs in on her own browser and it is saved.
        entry_id = path.rsplit("/", 1)[1]
        assert sign_in(anna, anna_email).headers["location"] == f"{DIARY}?gespeichert={entry_id}"
        assert "Annas Korrektur" in days_text(anna.get(DIARY))


def test_a_correction_with_a_forged_or_foreign_owner_or_another_entry_is_not_kept(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    first = saved_entry(client, note="erster Eintrag")
    second = saved_entry(client, note="zweiter Eintrag")
    first_id, second_id = first.rsplit("/", 1)[1], second.rsplit("/", 1)[1]
    data = edit_form(client, first, note="gefälscht")
    not_kept(live_server, client, email, first, data | {"entry_owner": "nicht.signiert"})
    sign_in(client, email)
    # The first entry's form posted to the second entry's URL, or with the second's id in its hidden field
    # (its signature names the first), or without the field (a page from before): not kept.
    data = edit_form(client, first, note="gefälscht")
    not_kept(live_server, client, email, second, data)
    sign_in(client, email)
    data = edit_form(client, first, note="gefälscht")
    not_kept(live_server, client, email, second, data | {"entry_id": second_id})
    sign_in(client, email)
    data = edit_form(client, first, note="gefälscht")
    not_kept(live_server, client, email, first, {k: v for k, v in data.items() if k != "entry_id"})
    sign_in(client, email)
    # The second entry's owner on the first entry's form: signed for that entry, not this one.
    other = hidden_of(client.get(second), "diary")
    data = edit_form(client, first, note="gefälscht")
    as_first = data | {k: other[k] for k in ("entry_key", "entry_owner")}
    not_kept(live_server, client, email, first, as_first)
    sign_in(client, email)
    # A new entry's form (the diary's salt), and a measure's, on the correction: another kind's signature.
    for borrowed in (hidden_of(client.get(DIARY), "diary"), measure_form(client)):
        data = edit_form(client, first, note="gefälscht")
        not_kept(
            live_server, client, email, first, data | {k: borrowed[k] for k in ("entry_key", "entry_owner")}
        )
        sign_in(client, email)
    end_sessions(live_server, email)
    assert sign_in(client, email).headers["location"] == "/mein-bereich"
    assert actions_of(live_server, email) == []
    days = days_text(client.get(DIARY))
    assert "gefälscht" not in days and "erster Eintrag" in days and "zweiter Eintrag" in days
    assert first_id != second_id


def test_a_kept_correction_of_an_entry_deleted_meanwhile_is_dropped(live_server: LiveServer) -> None:
    with own_client(live_server) as phone, own_client(live_server) as laptop:
        email = new_patient(phone)
        path = saved_entry(phone, note="bald gelöscht")
        (kept,) = kept_after_the_end(live_server, phone, email, path, edit_form(phone, path, note="zu spät"))
        # Meanwhile the person deletes the entry on another device.
        assert sign_in(laptop, email).headers["location"] == "/mein-bereich"
        deleted = laptop.post(f"{path}/loeschen", data=hidden_of(laptop.get(path), "delete"))
        assert deleted.headers["location"] == f"{DIARY}?geloescht=1"
        end_sessions(live_server, email)
        signed = sign_in(phone, email)
        assert signed.headers["location"] == DIARY  # can no longer be saved: the diary, nothing else
        assert phone.cookies.get(COOKIE) is None
        end_sessions(live_server, email)
        phone.cookies.set(COOKIE, kept)  # the draft is gone
        assert sign_in(phone, email).headers["location"] == "/mein-bereich"
        assert actions_of(live_server, email) == ["delete.diary_entry"]
        assert "zu spät" not in days_text(phone.get(DIARY))


def test_a_kept_correction_that_needs_a_correction_comes_back_on_its_entry_page(
    client: httpx.Client,  # noqa: F811
    live_server: LiveServer,
) -> None:
    email = new_patient(client)
    other = saved_entry(client, note="anderer Eintrag")
    path = saved_entry(client, note="alte Notiz", pain_low_back="6")
    data = edit_form(client, path, pain_low_back="zwölf", note="fast richtig")
    shown = shown_again_after_sign_in(live_server, client, email, path, data)
    assert "Sie waren beim Abschicken dieser Änderung schon abgemeldet." in shown.text
    assert 'id="pain-low_back-error"' in shown.text and 'href="#pain-low_back"' in shown.text
    assert 'value="zwölf"' in shown.text and "fast richtig" in shown.text
    form = hidden_of(shown, "diary")
    assert form["entry_key"] == data["entry_key"] and form["entry_id"] == data["entry_id"]
    # Only on its own entry's page: another entry's page shows that entry.
    elsewhere = client.get(other + "?entwurf=1")
    assert elsewhere.status_code == 200 and "fast richtig" not in elsewhere.text
    assert actions_of(live_server, email) == []
    corrected = client.post(path, data=form | diary_moment(shown) | {"pain_low_back": "3", "note": "richtig"})
    assert corrected.headers["location"] == f"{DIARY}?gespeichert={path.rsplit('/', 1)[1]}"
    assert "expires=" in corrected.headers.get("set-cookie", "") and client.cookies.get(COOKIE) is None
    assert actions_of(live_server, email) == ["edit.diary_entry"]
    assert "richtig" in days_text(client.get(DIARY))
    assert "abgemeldet" not in client.get(path + "?entwurf=1").text
