"""Accounts as people use them, in Chromium at 390 and 1280 px: the header's sign-in and sign-out, a
forgotten password reset with the link read from the local SMTP server, changing the password, and the
clinician's authenticator set-up with its QR code. Every page is checked with axe and kept as screenshots.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pyotp
import pytest

from .. import needs
from ..mail_server import Inbox, link_in
from .conftest import DESKTOP, MOBILE, LiveServer, save_screenshots, submit
from .test_account_mail import NEW_PASSWORD
from .test_auth import PASSWORD, accounts, new_clinician, open_store, wrong_code
from .test_practice_journey import assert_accessible, assert_fits_the_width

if TYPE_CHECKING:
    from playwright.sync_api import Page


@pytest.fixture(scope="session")
def live_server(mail_live_server: LiveServer) -> LiveServer:
    """The server of this module's tests sends mail (to ``mail_inbox``)."""
    return mail_live_server


@pytest.fixture(scope="module")
def axe_source() -> str:
    return needs.axe().read_text(encoding="utf-8")


def new_patient_account(server: LiveServer) -> str:
    email = f"journey-{secrets.token_hex(4)}@example.org"
    with open_store(server) as store:
        accounts(store).register_patient(email, PASSWORD, "Jonas")
    return email


def sign_in_by_header(page: Page, email: str, password: str) -> None:
    page.goto("/")
    submit(page.get_by_role("link", name="Anmelden"))
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(password)
    submit(page.get_by_role("button", name="Anmelden"))


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["390", "1280"])
def test_sign_in_sign_out_and_a_new_password_by_mail(
    page: Page,
    live_server: LiveServer,
    mail_inbox: Inbox,
    axe_source: str,
    screenshot_dir: Path,
    viewport: dict[str, int],
) -> None:
    page.set_viewport_size(viewport)
    email = new_patient_account(live_server)
    sign_in_by_header(page, email, PASSWORD)
    assert page.url.endswith("/mein-bereich")
    header = page.locator(".site-header")
    assert header.get_by_role("link", name="Mein Bereich").is_visible()
    if viewport == MOBILE:
        assert_fits_the_width(page, "my-area-header")
    submit(header.get_by_role("button", name="Abmelden"))
    assert "Sie haben sich abgemeldet" in page.locator("#signed-out-reason").inner_text()
    assert header.get_by_role("link", name="Anmelden").is_visible()

    submit(page.get_by_role("link", name="Passwort vergessen?"))
    assert_accessible(page, axe_source, "forgot")
    page.get_by_label("E-Mail-Adresse").fill(email)
    submit(page.get_by_role("button", name="Link schicken"))
    assert "Falls es zu dieser Adresse ein Konto gibt" in page.locator("#forgot-sent").inner_text()
    page.goto(link_in(mail_inbox.wait_for(email)[0]))
    assert page.get_by_role("heading", level=1).inner_text() == "Neues Passwort festlegen"
    assert_accessible(page, axe_source, "reset")
    if viewport == MOBILE:
        save_screenshots(page, screenshot_dir, "account-reset")
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort noch einmal").fill("etwas anderes")
    submit(page.get_by_role("button", name="Passwort speichern"))
    assert page.locator(".error-summary").is_visible()
    assert_accessible(page, axe_source, "reset-error")
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort noch einmal").fill(NEW_PASSWORD)
    submit(page.get_by_role("button", name="Passwort speichern"))
    assert "Ihr neues Passwort ist gespeichert" in page.locator("#signed-out-reason").inner_text()
    assert_accessible(page, axe_source, "login-after-reset")
    if viewport == MOBILE:
        save_screenshots(page, screenshot_dir, "account-login-reason")

    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(NEW_PASSWORD)
    submit(page.get_by_role("button", name="Anmelden"))
    assert page.url.endswith("/mein-bereich")


def test_changing_the_password_in_the_browser(
    page: Page, live_server: LiveServer, axe_source: str, screenshot_dir: Path
) -> None:
    email = new_patient_account(live_server)
    sign_in_by_header(page, email, PASSWORD)
    page.goto("/konto/passwort")
    assert_accessible(page, axe_source, "change-password")
    save_screenshots(page, screenshot_dir, "account-change-password")
    page.get_by_label("Jetziges Passwort").fill(PASSWORD)
    page.get_by_label("Neues Passwort", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Neues Passwort noch einmal").fill(NEW_PASSWORD)
    submit(page.get_by_role("button", name="Passwort ändern"))
    assert "Ihr Passwort ist geändert" in page.locator("#password-changed").inner_text()
    assert_accessible(page, axe_source, "change-password-done")


@pytest.mark.parametrize("viewport", [MOBILE, DESKTOP], ids=["390", "1280"])
def test_the_authenticator_set_up_shows_a_qr_code_and_keeps_its_key(
    page: Page, live_server: LiveServer, axe_source: str, screenshot_dir: Path, viewport: dict[str, int]
) -> None:
    page.set_viewport_size(viewport)
    with open_store(live_server) as store:
        clinician = new_clinician(store, totp=False)
    sign_in_by_header(page, clinician.email, clinician.password)
    assert page.get_by_role("heading", level=1).inner_text() == "Zweiten Schritt einrichten"
    qr = page.get_by_role("img", name="QR-Code für die Authenticator-App")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150  # big enough for a phone's camera
    secret = page.locator("#totp-secret").get_attribute("data-secret")
    assert secret is not None
    svg = qr.evaluate("node => node.outerHTML")
    assert_accessible(page, axe_source, "totp-setup-qr")
    if viewport == MOBILE:
        assert_fits_the_width(page, "totp-setup-qr")
        save_screenshots(page, screenshot_dir, "account-totp-qr")
    page.reload()
    assert page.locator("#totp-secret").get_attribute("data-secret") == secret  # the same key
    assert qr.evaluate("node => node.outerHTML") == svg  # and the same code
    page.get_by_label("Code aus der App").fill(wrong_code(secret))
    submit(page.get_by_role("button", name="Bestätigen"))
    assert page.locator("#totp-secret").get_attribute("data-secret") == secret
    page.get_by_label("Code aus der App").fill(pyotp.TOTP(secret).at(time.time()))
    submit(page.get_by_role("button", name="Bestätigen"))
    assert page.url.endswith("/praxis")
    assert (
        page.locator(".site-header").get_by_role("link", name="Mein Bereich").get_attribute("href")
        == "/praxis"
    )


def test_registering_with_mail_then_confirming_the_address(
    page: Page, live_server: LiveServer, mail_inbox: Inbox, axe_source: str, screenshot_dir: Path
) -> None:
    email = f"neu-{secrets.token_hex(4)}@example.org"
    page.goto("/registrieren")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    page.get_by_label("Passwort noch einmal").fill(PASSWORD)
    submit(page.get_by_role("button", name="Konto anlegen"))
    assert email in page.locator("#register-sent").inner_text()
    assert_accessible(page, axe_source, "register-sent")
    save_screenshots(page, screenshot_dir, "account-register-sent")
    page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    submit(page.get_by_role("button", name="Anmelden"))
    assert page.url.endswith("/mein-bereich")
    assert page.locator("#unverified-address").is_visible()
    assert_accessible(page, axe_source, "home-unverified")
    save_screenshots(page, screenshot_dir, "account-home-unverified")
    page.goto(link_in(mail_inbox.wait_for(email)[0]))
    assert page.locator("#address-verified").is_visible()
    assert_accessible(page, axe_source, "address-verified")
    submit(page.get_by_role("link", name="Mein Bereich").last)
    assert page.locator("#unverified-address").count() == 0
