"""The practice's administration page in Debian's Chromium: a clinician revokes an API token, ends a
colleague's sessions, disables and removes the colleague, and replaces the intake link; each takes effect
at once and is audited with the clinician as actor. axe runs on the page; screenshots: practice-admin."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pyotp

from rueckenlotse.store.audit import all_events
from rueckenlotse.store.practices import Practices

from .conftest import MOBILE, LiveServer, save_screenshots, submit
from .test_auth import accounts, new_clinician, open_store
from .test_practice_journey import assert_accessible, assert_fits_the_width, axe_source  # noqa: F401

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page


def sign_in(page: Page, email: str, password: str, secret: str) -> None:
    page.goto("/anmelden")
    page.get_by_label("E-Mail-Adresse").fill(email)
    page.get_by_label("Passwort").fill(password)
    submit(page.get_by_role("button", name="Anmelden"))
    page.get_by_label("Code aus der App").fill(pyotp.TOTP(secret).now())
    submit(page.get_by_role("button", name="Bestätigen"))
    assert page.url.endswith("/praxis")


def test_a_clinician_administers_the_practice(
    browser: Browser,
    live_server: LiveServer,
    axe_source: str,  # noqa: F811 (the fixture imported above)
    screenshot_dir: Path,
) -> None:
    with open_store(live_server) as store:
        me = new_clinician(store)
        colleague = new_clinician(store, me.practice_id)
        practices = Practices(store)
        old_code = practices.practice(me.practice_id).intake_code
        _, raw_token = practices.create_api_token(me.practice_id, "Praxissoftware")
        colleague_id = accounts(store).account_by_email(colleague.email).id
        colleague_session = accounts(store).start_session(colleague_id, totp_passed=True)
    assert me.secret is not None
    api = httpx.Client(base_url=live_server.url + "/api/v1", timeout=10.0)
    inbox_path = f"/practices/{me.practice_id}/intakes"
    assert api.get(inbox_path, headers={"Authorization": f"Bearer {raw_token}"}).status_code == 200

    context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        sign_in(page, me.email, me.password, me.secret)
        page.goto("/praxis/verwaltung")
        main = page.locator("main")
        assert "Praxissoftware" in main.inner_text() and colleague.email in main.inner_text()
        assert_accessible(page, axe_source, "admin")
        assert_fits_the_width(page, "admin")
        save_screenshots(page, screenshot_dir, "practice-admin")
        save_screenshots(page, Path("/tmp/auth"), "practice-admin")

        submit(page.get_by_role("button", name="Widerrufen: Token Praxissoftware"))
        assert page.get_by_role("status").inner_text() == "Erledigt."
        assert "widerrufen" in main.inner_text()
        refused = api.get(inbox_path, headers={"Authorization": f"Bearer {raw_token}"})
        assert refused.status_code == 401

        submit(page.get_by_role("button", name=f"Alle Sitzungen beenden: {colleague.email}"))
        with open_store(live_server) as store:
            assert accounts(store).session(colleague_session) is None
        submit(page.get_by_role("button", name=f"Konto sperren: {colleague.email}"))
        assert "gesperrt" in main.inner_text()
        submit(page.get_by_role("button", name=f"Aus der Praxis entfernen: {colleague.email}"))
        assert colleague.email not in main.inner_text()
        # Not for oneself: no button to remove or disable one's own account.
        assert page.get_by_role("button", name=f"Aus der Praxis entfernen: {me.email}").count() == 0

        submit(page.get_by_role("button", name="Neuen Link erzeugen (der alte gilt dann nicht mehr)"))
        assert old_code not in main.inner_text()
        assert httpx.get(f"{live_server.url}/p/{old_code}").status_code == 404
        save_screenshots(page, Path("/tmp/auth"), "practice-admin-after")
    finally:
        context.close()
        api.close()
    with open_store(live_server) as store:
        colleague_account = accounts(store).account(colleague_id)
        assert colleague_account.disabled
        assert Practices(store).members(me.practice_id)[0].email == me.email
        with store.transaction(write=False) as session:
            mine = [
                e.action
                for e in all_events(session)
                if e.practice_id == me.practice_id and e.action.startswith("admin.")
            ]
            actors = {e.actor_kind for e in all_events(session) if e.action.startswith("admin.")}
    assert sorted(mine) == sorted(
        [
            "admin.revoke_token",
            "admin.end_sessions",
            "admin.disable_account",
            "admin.remove_member",
            "admin.rotate_intake_link",
        ]
    )
    assert actors == {"clinician"}
