"""Stored XSS: a display name and a diary note with markup are shown as text on every page that shows them.

Over HTTP the raw markup must be absent and its escaped form present; in Chromium no dialog may fire.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest
from markupsafe import escape

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.store.practices import Practices

from .conftest import LiveServer, submit
from .test_auth import new_clinician, open_store, own_client, sign_in
from .test_journeys import SELF_CARE, answer_until_result
from .test_patient import PASSWORD, diary_entry, new_email, new_patient, register

if TYPE_CHECKING:
    from playwright.sync_api import Dialog, Page

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
PAYLOAD = SCRIPT + IMG
PAGES = [
    "/mein-bereich",
    "/mein-bereich/plan",
    "/mein-bereich/tagebuch",
    "/mein-bereich/daten",
    "/mein-bereich/zugriffe",
]


def assert_inert(text: str, where: str) -> None:
    assert SCRIPT not in text and "<img src=x" not in text and "onerror=alert(1)>" not in text, where
    assert str(escape(PAYLOAD)) in text, where


@pytest.mark.safety("SR-WEB-2")
def test_name_and_note_are_escaped_on_every_page(client: httpx.Client) -> None:
    new_patient(client, name=PAYLOAD)
    posted = diary_entry(client, note=PAYLOAD)
    assert posted.status_code == 200
    assert_inert(posted.text, "diary POST")
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200
        assert_inert(response.text, path)
    assert str(escape(PAYLOAD)) in client.get("/mein-bereich/tagebuch").text.split('id="days-title"')[1]
    chart = client.get("/mein-bereich/tagebuch/verlauf.svg").text
    assert SCRIPT not in chart and "onerror" not in chart


@pytest.mark.safety("SR-WEB-2")
def test_a_refused_registration_shows_the_name_escaped(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        response = register(client, new_email(), password="kurz", name=PAYLOAD)
    assert response.status_code == 422
    assert_inert(response.text, "registration form")


@pytest.mark.safety("SR-WEB-2")
def test_a_refused_diary_entry_shows_the_note_escaped(client: httpx.Client) -> None:
    new_patient(client)
    response = diary_entry(client, note=PAYLOAD, pain_low_back="11")
    assert response.status_code == 422
    assert_inert(response.text, "diary form")


@pytest.mark.safety("SR-WEB-2")
def test_no_dialog_fires_in_the_browser(page: Page) -> None:
    dialogs: list[str] = []

    def on_dialog(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto("/registrieren")
    page.locator("#email").fill(new_email())
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_repeat").fill(PASSWORD)
    page.locator("#display_name").fill(PAYLOAD)
    submit(page.get_by_role("button", name="Konto anlegen"))
    page.wait_for_url("**/mein-bereich")
    assert PAYLOAD in page.locator("main").inner_text()
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)
    submit(page.get_by_role("button", name="Speichern"))
    page.wait_for_url("**/mein-bereich")
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("4")
    page.locator("#note").fill(PAYLOAD)
    submit(page.get_by_role("button", name="Eintrag speichern"))
    assert page.locator(".diary-note").first.inner_text() == PAYLOAD
    for path in PAGES:
        page.goto(path)
        assert PAYLOAD in page.locator("main").inner_text(), path
        assert page.locator("main img[src=x]").count() == 0 and page.locator("main script").count() == 0
    assert dialogs == []


@pytest.mark.safety("SR-WEB-2")
def test_a_hostile_name_is_inert_in_the_practice_inbox_and_detail(live_server: LiveServer) -> None:
    case = Case.model_validate({"age": 50, "regions": ["low_back"], "duration_weeks": 1, "fever": True})
    with open_store(live_server) as store:
        clinician = new_clinician(store)
        person = store.create_person(PAYLOAD)
        record = store.add_assessment(person.id, case, assess(case))
        intake = Practices(store).submit_intake(clinician.practice_id, person.id, record.id)
    with own_client(live_server) as client:
        sign_in(client, clinician)
        assert_inert(client.get("/praxis").text, "inbox")
        assert_inert(client.get(f"/praxis/eingang/{intake.id}").text, "intake detail")
