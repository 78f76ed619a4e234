"""A clinician's change to a shared person's plan posted after their session ended (``web.kept_forms``, kind
``course_adjust``), over real HTTP against the app on SQLite: kept for that clinician only (the draft bound to
the person whose course it changes), saved once right after the password and the code (a replay of the kept
form writes nothing more), recorded as ``adjust.plan`` with the clinician, shown again with its error when it
is refused, dropped when the course is no longer shared, and never kept when the owner field is unsigned,
forged, signed for another form, another course or by a patient's form."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pyotp
import pytest

from .authz_support import sql
from .conftest import LiveServer, save_screenshots, submit
from .share_helpers import Shared, changes, shared_course  # noqa: F401 (the fixture "shared")
from .test_auth import Clinician, csrf_of, login, new_clinician, open_store, own_client, post_form
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_diary_forms import end_sessions
from .test_diary_forms import sign_in as patient_sign_in
from .test_patient import hidden_of
from .test_patient_journey import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Page

COOKIE = "kept_form"
KEPT = "/anmelden?entwurf=1"


def change_form(shared: Shared, kind: str, **fields: str) -> dict[str, str]:
    """The course page's form of this kind as it is rendered (its key, course and signed owner), filled."""
    page = shared.doctor.get(shared.course)
    assert page.status_code == 200, page.text[:500]
    return hidden_of(page, f"form-{kind}") | fields


def sign_in_again(live_server: LiveServer, client: httpx.Client, clinician: Clinician) -> httpx.Response:
    """Password, then the code: the answer of the code step. As if a minute had passed since the last
    sign-in (the account's last used code step is forgotten), so the current code is accepted again."""
    with sql(live_server.data_dir / "web.db") as db:
        db.execute("UPDATE accounts SET totp_last_step = NULL WHERE email = ?", (clinician.email,))
    password = login(client, clinician.email, clinician.password)
    assert password.headers["location"] == "/anmelden/code", password.text[:300]
    assert clinician.secret is not None
    return post_form(client, "/anmelden/code", {"code": pyotp.TOTP(clinician.secret).now()})


def kept_after_the_end(
    live_server: LiveServer, shared: Shared, data: dict[str, str], *, clicks: int = 1
) -> list[str]:
    """Post the change after the clinician's session went idle (``clicks`` times): kept each time, to the
    sign-in page that says so; the cookie's values, in order."""
    end_sessions(live_server, shared.clinician.email)
    values = []
    for _ in range(clicks):
        posted = shared.doctor.post(shared.course + "/anpassen", data=data)
        assert posted.status_code == 303, posted.text[:300]
        assert posted.headers["location"] == KEPT
        value = shared.doctor.cookies.get(COOKIE)
        assert value and value.startswith("course_adjust.")
        values.append(value)
    login_page = shared.doctor.get(KEPT)
    assert (
        "ist aufbewahrt und wird gespeichert" in login_page.text and "mit demselben Konto" in login_page.text
    )
    return values


def not_kept(
    live_server: LiveServer, client: httpx.Client, email: str, path: str, data: dict[str, str]
) -> None:
    end_sessions(live_server, email)
    posted = client.post(path, data=data)
    assert posted.status_code == 303 and posted.headers["location"] == "/anmelden", posted.text[:300]
    assert COOKIE not in posted.headers.get("set-cookie", "")
    assert client.cookies.get(COOKIE) is None


def plan_audit(live_server: LiveServer, person: str) -> list[tuple[str, str, str | None, str]]:
    """The audit rows of the practice's changes to this person's plan: (action, actor kind, id, channel)."""
    with sql(live_server.data_dir / "web.db") as db:
        rows = db.execute(
            "SELECT action, actor_kind, actor_id, channel FROM audit_events"
            " WHERE person_id = ? AND action = 'adjust.plan' ORDER BY at",
            (person,),
        ).fetchall()
    return [(str(a), str(k), i, str(c)) for a, k, i, c in rows]


def account_of(live_server: LiveServer, email: str) -> str:
    with sql(live_server.data_dir / "web.db") as db:
        (account,) = db.execute("SELECT id FROM accounts WHERE email = ?", (email,)).fetchone()
    return str(account)


def kept_drafts(live_server: LiveServer) -> list[str | None]:
    """The person of each kept plan change (the drafts of kind ``course_adjust``)."""
    with sql(live_server.data_dir / "web.db") as db:
        rows = db.execute("SELECT person_id FROM form_drafts WHERE kind = 'course_adjust'").fetchall()
    return [row[0] for row in rows]


# ---- saved once ------------------------------------------------------------------------------------------
def test_a_change_posted_after_the_session_ended_is_saved_once_after_the_second_factor(
    shared: Shared, live_server: LiveServer
) -> None:
    data = change_form(shared, "note", note="Bitte die Spaziergänge langsam verlängern.")
    assert data["entry_owner"] and data["form_key"] and data["intake_id"] == shared.course.rsplit("/", 1)[1]
    # A double click while signed out keeps the same form (the same key) twice, for the shared person.
    first, second = kept_after_the_end(live_server, shared, data, clicks=2)
    assert first != second
    assert kept_drafts(live_server) == [shared.person, shared.person]
    assert changes(live_server, shared.person) == []
    # The password alone saves nothing: a clinician always passes the second factor first.
    password = login(shared.doctor, shared.clinician.email, shared.clinician.password)
    assert password.headers["location"] == "/anmelden/code"
    assert changes(live_server, shared.person) == []
    signed = sign_in_again(live_server, shared.doctor, shared.clinician)
    assert signed.status_code == 303 and signed.headers["location"] == shared.course + "#anpassungen"
    assert shared.doctor.cookies.get(COOKIE) is None  # done with: the cookie goes too
    assert changes(live_server, shared.person) == [("note", None)]
    account = account_of(live_server, shared.clinician.email)
    assert plan_audit(live_server, shared.person) == [("adjust.plan", "clinician", account, "web")]
    course = shared.doctor.get(shared.course)
    assert course.status_code == 200 and "Bitte die Spaziergänge langsam verlängern." in course.text
    assert "Bitte die Spaziergänge langsam verlängern." in shared.patient.get("/mein-bereich/plan").text
    # The other kept copy replayed: the form's key saved it already.
    end_sessions(live_server, shared.clinician.email)
    shared.doctor.cookies.set(COOKIE, first)
    assert (
        sign_in_again(live_server, shared.doctor, shared.clinician).headers["location"]
        == shared.course + "#anpassungen"
    )
    # And once more: the draft is gone, the sign-in goes to the inbox.
    end_sessions(live_server, shared.clinician.email)
    shared.doctor.cookies.set(COOKIE, first)
    assert sign_in_again(live_server, shared.doctor, shared.clinician).headers["location"] == "/praxis"
    assert changes(live_server, shared.person) == [("note", None)]
    assert len(plan_audit(live_server, shared.person)) == 1
    assert kept_drafts(live_server) == []


# ---- refused ---------------------------------------------------------------------------------------------
def test_a_kept_change_that_is_refused_comes_back_with_its_error_at_its_field(
    shared: Shared, live_server: LiveServer
) -> None:
    data = change_form(shared, "level", level="7", note="Stufe sieben ist zu viel")
    kept_after_the_end(live_server, shared, data)
    signed = sign_in_again(live_server, shared.doctor, shared.clinician)
    assert signed.headers["location"] == shared.course + "?entwurf=1"
    assert shared.doctor.cookies.get(COOKIE)  # kept until it is saved
    shown = shared.doctor.get(signed.headers["location"])
    assert shown.status_code == 422
    assert "Ihre Anmeldung war abgelaufen, als Sie diese Änderung abschickten." in shown.text
    assert 'id="level-1-error"' in shown.text and 'href="#level-1"' in shown.text
    assert "Stufe 1, 2 oder 3" in shown.text and "Stufe sieben ist zu viel" in shown.text
    form = hidden_of(shown, "form-level")
    assert form["form_key"] == data["form_key"]  # the same form: one save for it
    english = shared.doctor.get(shared.course + "?entwurf=1&lang=en")
    assert (
        english.status_code == 422 and "Your sign-in had run out when you sent this change." in english.text
    )
    assert changes(live_server, shared.person) == []
    corrected = shared.doctor.post(
        shared.course + "/anpassen", data=form | {"level": "2", "note": "Stufe zwei"}
    )
    assert corrected.status_code == 303 and corrected.headers["location"] == shared.course + "#anpassungen"
    assert "expires=" in corrected.headers.get("set-cookie", "") and shared.doctor.cookies.get(COOKIE) is None
    assert changes(live_server, shared.person) == [("level", None)]
    again = shared.doctor.get(shared.course + "?entwurf=1")
    assert again.status_code == 200 and "Ihre Anmeldung war abgelaufen" not in again.text


# ---- not kept --------------------------------------------------------------------------------------------
def test_a_change_with_a_forged_or_foreign_owner_is_not_kept(shared: Shared, live_server: LiveServer) -> None:
    email = shared.clinician.email
    path = shared.course + "/anpassen"
    note = change_form(shared, "note", note="gefälscht")
    other_form = change_form(shared, "exclude")
    # A patient's diary form: its key and owner, signed with the diary's salt for the person.
    diary = hidden_of(shared.patient.get("/mein-bereich/tagebuch"), "diary")
    attempts = [
        note | {"entry_owner": "nicht.signiert"},
        {k: v for k, v in note.items() if k != "entry_owner"},
        note | {"entry_owner": other_form["entry_owner"]},  # signed for another form's key
        note | {"form_key": diary["entry_key"], "entry_owner": diary["entry_owner"]},  # a patient's
        note | {"intake_id": "0" * 32},  # another course in the field than the signature names
    ]
    for data in attempts:
        not_kept(live_server, shared.doctor, email, path, data)
    # The right form posted to another course's URL (with or without that course in its field).
    for data in (note, note | {"intake_id": "0" * 32}):
        not_kept(live_server, shared.doctor, email, f"/praxis/verlauf/{'0' * 32}/anpassen", data)
    # And the other way round: the clinician's owner on the patient's diary form.
    before = shared.patient.get("/mein-bereich/tagebuch")
    as_diary = hidden_of(before, "diary") | {
        "entry_key": note["form_key"],
        "entry_owner": note["entry_owner"],
    }
    as_diary |= {"pain_low_back": "4", "activity_minutes": "10", "note": "vom Arzt"}
    not_kept(live_server, shared.patient, shared.email, "/mein-bereich/tagebuch", as_diary)
    assert sign_in_again(live_server, shared.doctor, shared.clinician).headers["location"] == "/praxis"
    assert changes(live_server, shared.person) == [] and kept_drafts(live_server) == []


def test_another_account_on_the_same_browser_neither_saves_nor_sees_the_kept_change(
    shared: Shared, live_server: LiveServer
) -> None:
    (kept,) = kept_after_the_end(live_server, shared, change_form(shared, "note", note="Nur von mir"))
    # A colleague of the same practice (who may change this course too) signs in with the cookie.
    with open_store(live_server) as store:
        colleague = new_clinician(store, shared.clinician.practice_id)
    with own_client(live_server) as other:
        other.cookies.set(COOKIE, kept)
        assert sign_in_again(live_server, other, colleague).headers["location"] == "/praxis"
        shown = other.get(shared.course + "?entwurf=1")
        assert shown.status_code == 200 and "Nur von mir" not in shown.text
        assert "Ihre Anmeldung war abgelaufen" not in shown.text
    # The patient whose course it is signs in on a browser holding it: not theirs either.
    shared.patient.cookies.set(COOKIE, kept)
    end_sessions(live_server, shared.email)
    assert patient_sign_in(shared.patient, shared.email).headers["location"] == "/mein-bereich"
    assert changes(live_server, shared.person) == []
    # It stays the clinician's: they sign in on their own browser and it is saved, as them.
    signed = sign_in_again(live_server, shared.doctor, shared.clinician)
    assert signed.headers["location"] == shared.course + "#anpassungen"
    assert changes(live_server, shared.person) == [("note", None)]
    account = account_of(live_server, shared.clinician.email)
    assert plan_audit(live_server, shared.person) == [("adjust.plan", "clinician", account, "web")]


# ---- no longer shared ------------------------------------------------------------------------------------
def stop_sharing(shared: Shared) -> None:
    page = shared.patient.get("/mein-bereich/teilen")
    stopped = shared.patient.post(
        "/mein-bereich/teilen/beenden", data={"csrf_token": csrf_of(page), "practice": shared.practice.id}
    )
    assert stopped.status_code == 303


def test_a_kept_change_to_a_course_no_longer_shared_is_dropped(
    shared: Shared, live_server: LiveServer
) -> None:
    (kept,) = kept_after_the_end(live_server, shared, change_form(shared, "note", note="Zu spät"))
    stop_sharing(shared)
    signed = sign_in_again(live_server, shared.doctor, shared.clinician)
    assert signed.status_code == 303 and signed.headers["location"] == "/praxis/verlauf"
    assert shared.doctor.cookies.get(COOKIE) is None
    assert shared.doctor.get("/praxis/verlauf").status_code == 200
    assert changes(live_server, shared.person) == [] and kept_drafts(live_server) == []
    # Shared again later: the dropped change does not come back.
    end_sessions(live_server, shared.clinician.email)
    shared.doctor.cookies.set(COOKIE, kept)
    assert sign_in_again(live_server, shared.doctor, shared.clinician).headers["location"] == "/praxis"
    assert changes(live_server, shared.person) == []


def test_a_change_posted_after_sharing_stopped_is_not_kept(shared: Shared, live_server: LiveServer) -> None:
    data = change_form(shared, "note", note="Nicht mehr geteilt")
    stop_sharing(shared)
    not_kept(live_server, shared.doctor, shared.clinician.email, shared.course + "/anpassen", data)
    assert kept_drafts(live_server) == []


def test_erasing_the_person_erases_the_kept_change_with_them(shared: Shared, live_server: LiveServer) -> None:
    (kept,) = kept_after_the_end(live_server, shared, change_form(shared, "note", note="Für Paula"))
    with open_store(live_server) as store:
        counts = store.erase_person(shared.person)
    assert counts.get("form_drafts", 0) >= 1 and kept_drafts(live_server) == []
    signed = sign_in_again(live_server, shared.doctor, shared.clinician)
    assert signed.status_code == 303 and signed.headers["location"] == "/praxis"  # nothing left to save


# ---- in Chromium -----------------------------------------------------------------------------------------
def sign_in_in_the_browser(page: Page, live_server: LiveServer, clinician: Clinician) -> None:
    with sql(live_server.data_dir / "web.db") as db:  # as if a minute had passed: the code is new
        db.execute("UPDATE accounts SET totp_last_step = NULL WHERE email = ?", (clinician.email,))
    page.get_by_label("E-Mail-Adresse").fill(clinician.email)
    page.get_by_label("Passwort").fill(clinician.password)
    submit(page.get_by_role("button", name="Anmelden"))
    assert clinician.secret is not None
    page.get_by_label("Code aus der App").fill(pyotp.TOTP(clinician.secret).now())
    submit(page.get_by_role("button", name="Bestätigen"))


@pytest.mark.safety("SR-ACC-1")
def test_a_kept_change_in_chromium(
    shared: Shared,
    live_server: LiveServer,
    page: Page,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    """The clinician types a note, their sign-in runs out, they send it: the sign-in page says it is kept,
    and after password and code the course lists it. Then a change without its exercise, sent after the
    sign-in ran out again: back on the course page with its error at the field. axe on both pages;
    screenshots kept-change-sign-in and kept-change-refused."""
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [
            {"name": c.name, "value": c.value or "", "domain": host, "path": "/"}
            for c in shared.doctor.cookies.jar
        ]
    )
    page.goto(shared.course)
    page.locator("#note-text").fill("Bitte morgens mit den Übungen beginnen.")
    end_sessions(live_server, shared.clinician.email)
    submit(page.locator("#form-note").get_by_role("button", name="Notiz senden"))
    assert page.url.endswith(KEPT)
    assert "ist aufbewahrt" in page.locator(".notice-warning").inner_text()
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "kept-change-sign-in")
    sign_in_in_the_browser(page, live_server, shared.clinician)
    assert page.url.endswith(shared.course + "#anpassungen")
    assert "Bitte morgens mit den Übungen beginnen." in page.locator("#course-changes").inner_text()

    page.locator("#exclude-note").fill("Erst einmal ohne diese Übung.")
    end_sessions(live_server, shared.clinician.email)
    submit(page.get_by_role("button", name="Übung weglassen"))  # no exercise chosen
    assert page.url.endswith(KEPT)
    sign_in_in_the_browser(page, live_server, shared.clinician)
    assert page.url.endswith(shared.course + "?entwurf=1")
    assert "Bitte wählen Sie eine Übung." in page.locator("#exclude-exercise-error").inner_text()
    assert page.locator(".error-summary").is_visible()
    assert "Ihre Anmeldung war abgelaufen" in page.locator("#form-exclude").inner_text()
    assert page.locator("#exclude-note").input_value() == "Erst einmal ohne diese Übung."
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "kept-change-refused")
    assert changes(live_server, shared.person) == [("note", None)]
