"""axe-core (npm, pinned in package-lock.json) on every kind of page: no serious or critical violation.

axe is evaluated through Playwright's page.evaluate, which the page's CSP (script-src 'self') does not
block, so the pages are checked exactly as served, CSP included.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import needs
from .conftest import LiveServer, save_screenshots, submit
from .test_journeys import SELF_CARE, answer_until_result
from .test_patient import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_source() -> str:
    return needs.axe().read_text(encoding="utf-8")


def run_axe(page: Page, source: str) -> list[dict[str, Any]]:
    page.evaluate(source)
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    return list(result["violations"])


def start_page(page: Page) -> None:
    page.goto("/")


def first_question(page: Page) -> None:
    page.goto("/intake")


def question_with_error(page: Page) -> None:
    page.goto("/intake")
    submit(page.get_by_role("button", name="Weiter"))


def text_question_with_error(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    for _ in range(3):
        submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer").fill("viel")
    submit(page.get_by_role("button", name="Weiter"))


def emergency_page(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-1").check()
    submit(page.get_by_role("button", name="Weiter"))


def signs_with_unsure(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-2-unsure").check()


def signs_with_both_ticked(page: Page) -> None:
    signs_with_unsure(page)
    page.locator("#answer-2").check()
    submit(page.get_by_role("button", name="Weiter"))


def emergency_unsure_result(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-1-unsure").check()
    submit(page.get_by_role("button", name="Weiter"))
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))


def emergency_result(page: Page) -> None:
    emergency_page(page)
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))


def self_care_result(page: Page) -> None:
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)


def english_result(page: Page) -> None:
    page.goto("/intake?lang=en")
    answer_until_result(page, SELF_CARE)


def not_found(page: Page) -> None:
    page.goto("/nowhere")


def question_after_emergency(page: Page) -> None:
    """The 112 banner kept above a later question (issue #16)."""
    emergency_page(page)
    submit(page.get_by_role("button", name="Trotzdem weitere Fragen beantworten"))


def reading_index(page: Page) -> None:
    page.goto("/lesen")


def reading_module(page: Page) -> None:
    page.goto("/lesen/surgery_and_second_opinion")  # with checked and unchecked sources


def exercises_index(page: Page) -> None:
    page.goto("/uebungen")  # every exercise with its drawing (issue #17)


def exercise_page_en(page: Page) -> None:
    page.goto("/uebungen/side_plank_knees?lang=en")


def privacy_notice(page: Page) -> None:
    page.goto("/datenschutz")  # the operator's details missing: the notice shows


def legal_notice(page: Page) -> None:
    page.goto("/impressum?lang=en")


def intended_use(page: Page) -> None:
    page.goto("/zweckbestimmung?lang=de")


def offline_page(page: Page) -> None:
    page.goto("/offline")  # what the service worker shows for a page not kept on the device


def forgot_password(page: Page) -> None:
    # This server has no mail server: the page says so (the form itself: test_account_journey.py).
    page.goto("/passwort-vergessen")


def dead_reset_link(page: Page) -> None:
    page.goto("/passwort-neu?code=abgelaufen")


def signed_in_patient(page: Page) -> None:
    """A new patient with a saved self-care intake, signed in on the page's browser."""
    from urllib.parse import urlsplit

    from .test_auth import own_client
    from .test_patient import new_patient

    page.goto("/")
    origin = urlsplit(page.url)
    server = type("Server", (), {"url": f"{origin.scheme}://{origin.netloc}"})()
    with own_client(server) as web:  # type: ignore[arg-type]
        new_patient(web)
        page.context.add_cookies(
            [
                {"name": c.name, "value": c.value or "", "domain": origin.hostname, "path": "/"}
                for c in web.cookies.jar
            ]
        )


def measures_due(page: Page) -> None:
    """The outcome measures due at the intake (issue #18): PEG and PSFS, one form each."""
    signed_in_patient(page)
    page.goto("/mein-bereich/fragebogen")


def measures_with_errors(page: Page) -> None:
    measures_due(page)
    page.locator("#form-psfs #activity-2-value-4").check()
    submit(page.locator("#form-psfs").get_by_role("button", name=re.compile("^Antworten speichern")))


def course_with_values(page: Page) -> None:
    """The course after the PEG: its chart, table and the sentence on the minimal important change."""
    measures_due(page)
    for item, value in (("pain", 6), ("enjoyment", 5), ("activity", 4)):
        page.locator(f"#form-peg #{item}-{value}").check()
    submit(page.locator("#form-peg").get_by_role("button", name=re.compile("^Antworten speichern")))
    page.goto("/mein-bereich/verlauf")


def session_today(page: Page) -> None:
    """Today's exercises of a signed-in patient with an intake (issue #17), timers shown by session.js."""
    from urllib.parse import urlsplit

    from .test_auth import own_client
    from .test_patient import new_patient

    page.goto("/")
    origin = urlsplit(page.url)
    server = type("Server", (), {"url": f"{origin.scheme}://{origin.netloc}"})()
    with own_client(server) as web:  # type: ignore[arg-type]
        new_patient(web)
        page.context.add_cookies(
            [
                {"name": c.name, "value": c.value or "", "domain": origin.hostname, "path": "/"}
                for c in web.cookies.jar
            ]
        )
    page.goto("/mein-bereich/heute")


def reminder_settings(page: Page) -> None:
    """A new patient with a self-care plan on the reminder settings page."""
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)
    submit(page.get_by_role("button", name="Speichern"))
    page.locator("#email").fill(f"axe-{uuid.uuid4().hex[:10]}@example.org")
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_repeat").fill(PASSWORD)
    submit(page.get_by_role("button", name="Konto anlegen und speichern"))
    page.wait_for_url("**/mein-bereich")
    submit(page.get_by_role("link", name="Erinnerungen"))


def reminder_settings_error(page: Page) -> None:
    reminder_settings(page)
    page.locator("#time1").evaluate("input => { input.type = 'text'; input.value = '25:99'; }")
    page.locator("#weekdays").check()
    submit(page.get_by_role("button", name="Speichern"))


def reminder_settings_with_feed(page: Page) -> None:
    reminder_settings(page)
    page.locator("#time1").fill("08:00")
    page.locator("#time2").fill("18:30")
    submit(page.get_by_role("button", name="Speichern"))
    submit(page.get_by_role("button", name="Kalender-Adresse erstellen"))
    address = page.locator("#feed-url").input_value()
    assert "/kalender/" in address
    # The copy button (app.js; hidden without JavaScript) puts the address on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Adresse kopieren").click()
    page.get_by_text("Die Adresse ist kopiert.").wait_for()
    assert page.evaluate("navigator.clipboard.readText()") == address


def share_page(page: Page) -> None:
    """A new patient's sharing page (issue #18): no practice yet. With a practice, its consent error, the
    practice's course list and course page, and the plan with a practice's change: test_share_journey.py."""
    reminder_settings(page)
    submit(page.get_by_role("link", name="Teilen"))


PAGES: dict[str, Callable[[Page], None]] = {
    "start": start_page,
    "question": first_question,
    "question-error": question_with_error,
    "text-question-error": text_question_with_error,
    "emergency": emergency_page,
    "emergency-result": emergency_result,
    "signs-unsure": signs_with_unsure,
    "signs-unsure-error": signs_with_both_ticked,
    "emergency-unsure-result": emergency_unsure_result,
    "result": self_care_result,
    "result-en": english_result,
    "not-found": not_found,
    "question-after-emergency": question_after_emergency,
    "reading": reading_index,
    "reading-module": reading_module,
    "exercises": exercises_index,
    "exercise-en": exercise_page_en,
    "privacy": privacy_notice,
    "imprint-en": legal_notice,
    "intended-use": intended_use,
    "offline": offline_page,
    "forgot-password": forgot_password,
    "dead-reset-link": dead_reset_link,
    "session-today": session_today,
    "reminders": reminder_settings,
    "reminders-error": reminder_settings_error,
    "reminders-feed": reminder_settings_with_feed,
    "measures": measures_due,
    "measures-error": measures_with_errors,
    "course": course_with_values,
    "share": share_page,
}


@pytest.mark.safety("SR-ACC-1")
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_violation(
    page: Page, axe_source: str, name: str, screenshot_dir: Path
) -> None:
    PAGES[name](page)
    violations = run_axe(page, axe_source)
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]
    if summary:
        print(f"{name}: {json.dumps(summary)}")
    assert not blocking, json.dumps(summary, indent=2)
    if name in (
        "start",
        "question-error",
        "text-question-error",
        "signs-unsure",
        "signs-unsure-error",
        "reminders",
        "reminders-error",
        "reminders-feed",
    ):
        save_screenshots(page, screenshot_dir, f"axe-{name}")


@pytest.mark.safety("SR-ACC-1")
def test_the_practice_results_page(page: Page, axe_source: str, live_server: LiveServer) -> None:
    """The practice's results (issue #18): tables, chart and explanations of a practice with shared courses
    (tests/web/test_cohort_page.py looks at the page and takes its screenshots)."""
    from .test_cohort_page import results_page

    results_page(page, live_server)
    blocking = [v for v in run_axe(page, axe_source) if v.get("impact") in BLOCKING]
    assert not blocking, json.dumps(blocking, indent=2)[:4000]


@pytest.mark.safety("SR-ACC-1")
def test_the_check_finds_a_planted_violation(page: Page, axe_source: str) -> None:
    page.goto("/intake")
    page.evaluate("document.querySelector('label[for=answer-1]').remove()")
    ids = {v["id"] for v in run_axe(page, axe_source) if v.get("impact") in BLOCKING}
    assert "label" in ids


@pytest.mark.safety("SR-ACC-1")
def test_a_kept_correction_with_an_error(
    page: Page, axe_source: str, live_server: LiveServer, screenshot_dir: Path
) -> None:
    """A diary entry's correction posted after the session ended, back on the entry's page with its error
    after signing in (``web.kept_forms``; the behaviour: test_kept_forms.py)."""
    from urllib.parse import urlsplit

    from .test_auth import own_client
    from .test_diary_forms import end_sessions, saved_entry, sign_in
    from .test_kept_forms import edit_form
    from .test_patient import new_patient

    with own_client(live_server) as web:
        email = new_patient(web)
        path = saved_entry(web, note="Spaziergang am Morgen")
        data = edit_form(web, path, pain_low_back="zwölf", note="Spaziergang am Abend")
        end_sessions(live_server, email)
        assert web.post(path, data=data).headers["location"] == "/anmelden?entwurf=1"
        assert sign_in(web, email).headers["location"] == path + "?entwurf=1"
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto(live_server.url + path + "?entwurf=1")
    assert page.locator("#pain-low_back-error").is_visible()
    blocking = [v for v in run_axe(page, axe_source) if v.get("impact") in BLOCKING]
    assert not blocking, json.dumps(blocking, indent=2)[:4000]
    save_screenshots(page, screenshot_dir, "axe-diary-edit-kept-error")
