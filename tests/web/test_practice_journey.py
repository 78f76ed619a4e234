"""The practice journey in Debian's Chromium: two patients send their result through the practice's link,
then a clinician signs in with password and TOTP code, sees the emergency first, opens it and marks it
reviewed. Screenshots: clinician-inbox, clinician-detail. axe runs on the inbox and the detail page."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest

from rueckenlotse.store.practices import Practices

from .. import needs
from .conftest import DESKTOP, MOBILE, LiveServer, save_screenshots, submit
from .practice_link_helpers import MIN_SECONDS
from .test_auth import PASSWORD, new_clinician, open_store, wrong_code
from .test_axe import BLOCKING, run_axe
from .test_journeys import SELF_CARE, answer_until_result

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SCREENSHOTS = (
    Path("/tmp/practice") if Path("/tmp/practice").is_dir() else Path("artifacts/screenshots/practice")
)
CAUDA_EQUINA: dict[str, list[int] | str] = SELF_CARE | {"emergency_signs": [1], "age": "52"}


@pytest.fixture(scope="session")
def axe_source() -> str:
    return needs.axe().read_text(encoding="utf-8")


def send_through_link(
    page: Page,
    code: str,
    plan: dict[str, list[int] | str],
    emergency: bool,
    contact: dict[str, str] | None = None,
) -> None:
    """Agree, answer, "An die Praxis senden …", (contact details,) read the page a moment, send."""
    page.goto(f"/p/{code}")
    submit(page.get_by_role("button", name="Einverstanden, Fragen beginnen"))
    answer_until_result(page, plan)
    if emergency:  # the emergency page first: go on with the questions
        assert "112" in page.get_by_role("alert").inner_text()
        submit(page.get_by_role("button", name="Trotzdem weitere Fragen beantworten"))
        answer_until_result(page, plan)
    submit(page.get_by_role("button", name="An die Praxis senden …"))
    page.wait_for_timeout(MIN_SECONDS * 1000)
    submit(page.get_by_role("button", name="An die Praxis senden", exact=True))
    assert page.url.split("/")[-2] == "beleg", page.url
    assert page.locator("#receipt-reference").inner_text()
    assert (page.locator(".emergency-number").count() > 0) is emergency  # 112 stays first


def assert_accessible(page: Page, axe_source: str, name: str) -> None:
    violations = run_axe(page, axe_source)
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]
    assert not blocking, (name, json.dumps(summary, indent=2))


def assert_fits_the_width(page: Page, name: str) -> None:
    """No sideways scrolling of the page at the phone's width."""
    assert page.viewport_size == MOBILE
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], (name, widths)


@pytest.mark.safety("SR-TRI-2")
def test_clinician_sees_the_emergency_first(
    page: Page, browser: Browser, live_server: LiveServer, axe_source: str, screenshot_dir: Path
) -> None:
    with open_store(live_server) as store:
        clinician = new_clinician(store)
        code = Practices(store).practice(clinician.practice_id).intake_code
    send_through_link(page, code, CAUDA_EQUINA, emergency=True)
    page.context.clear_cookies()
    send_through_link(page, code, SELF_CARE, emergency=False)

    context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        doctor = context.new_page()
        doctor.goto("/praxis")
        assert doctor.url.endswith("/anmelden")
        assert_accessible(doctor, axe_source, "login")
        doctor.get_by_label("E-Mail-Adresse").fill(clinician.email)
        doctor.get_by_label("Passwort").fill(clinician.password)
        submit(doctor.get_by_role("button", name="Anmelden"))
        assert clinician.secret is not None
        assert_accessible(doctor, axe_source, "code")
        doctor.get_by_label("Code aus der App").fill(pyotp.TOTP(clinician.secret).now())
        submit(doctor.get_by_role("button", name="Bestätigen"))
        assert doctor.url.endswith("/praxis")

        rows = doctor.locator("tr.inbox-row")
        assert rows.count() == 2
        assert "Notfall" in rows.nth(0).inner_text()
        assert "Cauda-equina-Syndrom" in rows.nth(0).inner_text()
        assert "Selbsthilfe" in rows.nth(1).inner_text()
        assert_fits_the_width(doctor, "inbox")
        labels = rows.nth(0).locator(".cell-label")
        assert labels.count() == 3 and all(labels.nth(i).is_visible() for i in range(3))  # the column names
        # Still a table for screen readers, as cards: its headers, its rows (header row too), its cells.
        assert doctor.get_by_role("columnheader").count() == 3
        assert doctor.get_by_role("row").count() == 3 and doctor.get_by_role("cell").count() == 6
        save_screenshots(doctor, screenshot_dir, "clinician-inbox")
        assert_accessible(doctor, axe_source, "inbox")
        assert_fits_the_width(doctor, "inbox")  # again, after the desktop screenshot (back at 390 px)

        submit(rows.nth(0).get_by_role("link"))
        main = doctor.locator("main").inner_text()
        assert "Taubes Gefühl am After" in main and "Nein" in main and "nicht gefragt" in main
        save_screenshots(doctor, screenshot_dir, "clinician-detail")
        assert_accessible(doctor, axe_source, "detail")

        submit(doctor.get_by_role("button", name="Als gesehen markieren"))
        assert "Gesehen am" in doctor.locator("#review-state").inner_text()
        submit(doctor.get_by_role("link", name="Zurück zum Eingang"))
        # The open inbox (the default) has only the other one left; the reviewed one is under "Gesehen".
        assert doctor.locator("tr.inbox-row").count() == 1
        assert "Selbsthilfe" in doctor.locator("tr.inbox-row").nth(0).inner_text()
        doctor.get_by_label("Stand").select_option("gesehen")
        submit(doctor.get_by_role("button", name="Anzeigen"))
        assert "Gesehen am" in doctor.locator("tr.inbox-row").nth(0).inner_text()
        submit(doctor.get_by_role("button", name="Abmelden"))
        doctor.goto("/praxis")
        assert doctor.url.endswith("/anmelden")
    finally:
        context.close()


@pytest.mark.safety("SR-WEB-3")
def test_first_sign_in_sets_up_the_authenticator(
    page: Page, live_server: LiveServer, axe_source: str, screenshot_dir: Path
) -> None:
    with open_store(live_server) as store:
        clinician = new_clinician(store, totp=False)
    page.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(clinician.email)
    page.get_by_label("Passwort").fill(clinician.password)
    submit(page.get_by_role("button", name="Anmelden"))
    assert page.get_by_role("heading", level=1).inner_text() == "Zweiten Schritt einrichten"
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    assert secret is not None and page.locator("#totp-uri").input_value().startswith("otpauth://totp/")
    save_screenshots(page, screenshot_dir, "clinician-totp-setup")
    assert_accessible(page, axe_source, "totp-setup")
    page.get_by_label("Code aus der App").fill(wrong_code(secret))
    submit(page.get_by_role("button", name="Bestätigen"))
    assert "Dieser Code passt nicht" in page.locator(".error-summary").inner_text()
    assert page.locator("#totp-secret").get_attribute("data-secret") == secret  # the same key again
    page.get_by_label("Code aus der App").fill(pyotp.TOTP(secret).now())
    submit(page.get_by_role("button", name="Bestätigen"))
    assert page.url.endswith("/praxis")
    assert page.get_by_role("heading", level=1).inner_text() == "Eingang der Praxis"


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["390px", "1280px"])
def test_practice_link_journey_with_consent_contact_receipt_and_not_asked(
    browser: Browser, live_server: LiveServer, axe_source: str, viewport: dict[str, int], screenshot_dir: Path
) -> None:
    """The person: the practice's name and consent first, the questions, contact details (one wrong
    first), the receipt with the reference and their own PDF. The clinician: the name, the reference, the
    contact details, and "nicht gefragt" for what the questionnaire never asked."""
    with open_store(live_server) as store:
        clinician = new_clinician(store)
        practice = Practices(store).practice(clinician.practice_id)
    width = viewport["width"]
    folder = SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(
        base_url=live_server.url, viewport=viewport, locale="de-DE", accept_downloads=True
    )
    try:
        context.set_default_timeout(15_000)
        page = context.new_page()
        page.goto(f"/p/{practice.intake_code}")
        assert practice.name in page.get_by_role("heading", level=1).inner_text()
        assert (
            "keine Diagnose" in page.locator("main").inner_text()
            and "112" in page.locator("main").inner_text()
        )
        assert page.locator("input[name='answer']").count() == 0  # no question before agreeing
        assert_accessible(page, axe_source, "welcome")
        page.screenshot(path=str(folder / f"practice-welcome-{width}.png"), full_page=True)
        submit(page.get_by_role("button", name="Einverstanden, Fragen beginnen"))
        answer_until_result(page, SELF_CARE)
        submit(page.get_by_role("button", name="An die Praxis senden …"))
        assert practice.name in page.get_by_role("heading", level=1).inner_text()
        assert_accessible(page, axe_source, "confirm")
        page.get_by_label("Name", exact=True).fill("Erika Mustermann")
        page.get_by_label("Telefonnummer").fill("12ab")
        page.get_by_label("Geburtsdatum").fill("30.04.1961")
        page.wait_for_timeout(MIN_SECONDS * 1000)
        submit(page.get_by_role("button", name="An die Praxis senden", exact=True))
        assert "mindestens 6 Ziffern" in page.locator(".error-summary").inner_text()
        assert page.get_by_label("Name", exact=True).input_value() == "Erika Mustermann"  # kept
        assert_accessible(page, axe_source, "confirm-error")
        page.screenshot(path=str(folder / f"practice-confirm-error-{width}.png"), full_page=True)
        page.get_by_label("Telefonnummer").fill("030 1234567")
        submit(page.get_by_role("button", name="An die Praxis senden", exact=True))
        reference = page.locator("#receipt-reference").inner_text()
        assert len(reference) == 9 and "/beleg/" in page.url
        assert_accessible(page, axe_source, "receipt")
        page.screenshot(path=str(folder / f"practice-receipt-{width}.png"), full_page=True)
        with page.expect_download() as download:
            page.locator("#receipt-pdf-patient").click()
        path = download.value.path()
        assert path is not None and Path(path).read_bytes().startswith(b"%PDF")
        assert download.value.suggested_filename == "rueckenlotse-zusammenfassung.pdf"
        page.reload()  # a reload of the receipt sends nothing again
        assert page.locator("#receipt-reference").inner_text() == reference
        with open_store(live_server) as store:
            assert len(Practices(store).inbox(clinician.practice_id)) == 1
        # Without an account before: one made from the receipt takes the intake along (issue #18).
        submit(page.locator("#receipt-register"))
        assert practice.name in page.locator("#receipt").inner_text()
        assert_accessible(page, axe_source, "register-from-receipt")
        page.screenshot(path=str(folder / f"practice-receipt-register-{width}.png"), full_page=True)
        page.get_by_label("E-Mail-Adresse").fill(f"erika-{secrets.token_hex(4)}@example.org")
        page.get_by_label("Passwort", exact=True).fill(PASSWORD)
        page.get_by_label("Passwort noch einmal").fill(PASSWORD)
        submit(page.get_by_role("button", name="Konto anlegen"))
        assert page.url.endswith("/mein-bereich")
        page.goto("/mein-bereich/teilen")
        assert practice.name in page.locator("main").inner_text()

        doctor = context.new_page()
        context.clear_cookies()
        doctor.goto("/anmelden")
        doctor.get_by_label("E-Mail-Adresse").fill(clinician.email)
        doctor.get_by_label("Passwort").fill(clinician.password)
        submit(doctor.get_by_role("button", name="Anmelden"))
        assert clinician.secret is not None
        doctor.get_by_label("Code aus der App").fill(pyotp.TOTP(clinician.secret).now())
        submit(doctor.get_by_role("button", name="Bestätigen"))
        row = doctor.locator("tr.inbox-row")
        assert row.count() == 1 and "Erika Mustermann" in row.inner_text() and reference in row.inner_text()
        assert_accessible(doctor, axe_source, "inbox-filter")
        doctor.screenshot(path=str(folder / f"practice-inbox-{width}.png"), full_page=True)
        doctor.get_by_label("Suche (Name oder Kennung)").fill(reference)
        submit(doctor.get_by_role("button", name="Anzeigen"))
        submit(doctor.locator("tr.inbox-row").get_by_role("link"))
        main = doctor.locator("main").inner_text()
        assert "Erika Mustermann" in main and "030 1234567" in main and "30.04.1961" in main
        assert "nicht gefragt" in main and reference in main
        clumsy = doctor.locator("tr", has_text="feine Arbeit mit den Händen")
        assert clumsy.locator("td").nth(1).inner_text() == "nicht gefragt"
        assert_accessible(doctor, axe_source, "detail-contact")
        doctor.screenshot(path=str(folder / f"practice-detail-{width}.png"), full_page=True)
        if viewport == MOBILE:
            assert_fits_the_width(doctor, "detail")
    finally:
        context.close()
