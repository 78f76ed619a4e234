"""Web test fixtures: the real app served by `rueckenlotse serve` in a subprocess, and Debian's Chromium.

Every xdist worker starts its own server on a free port with its own data folder and SQLite file, so
workers never share state. The browser is Debian's /usr/bin/chromium driven by Playwright; no browser is
ever downloaded. Without Chromium the browser tests are skipped locally and fail in CI (CI is set).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rueckenlotse.settings import Settings
from rueckenlotse.store import Store
from rueckenlotse.store.sealing import Sealer, sealer_for

from .. import needs
from ..mail_server import Inbox, mail_env, mail_server
from ..serving import served
from ..store.account_support import sealer_for_tests

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Locator, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = needs.CHROMIUM
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
MOBILE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass(frozen=True)
class LiveServer:
    url: str
    log: Path
    data_dir: Path

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


# What the test servers make for themselves in their data folder.
MAIL_SETTINGS = ("RUECKENLOTSE_SMTP_", "RUECKENLOTSE_PUBLIC_URL")
SERVER_OWN = (
    "DATABASE_URL",
    "RUECKENLOTSE_SECRET_KEY",
    "RUECKENLOTSE_DATA_KEY",
    "RUECKENLOTSE_DATA_KEY_PREVIOUS",
)


def server_sealer(store: Store) -> Sealer:
    """The data key of the server whose SQLite file this store opened: the one in the file's folder (its
    data folder), made there by whichever of the two comes first. Accounts made for the server use it, so
    that the server opens the TOTP secrets they seal."""
    database = store.engine.url.database
    if not store.is_sqlite or database is None or not Path(database).is_absolute():
        # No data folder to share (PostgreSQL: the database's name is no path): the tests' own key, never
        # a key file made in the working directory.
        return sealer_for_tests()
    return sealer_for(Settings(data_dir=Path(database).parent))


def made_up_address() -> str:
    """A client address of its own for one test's client or browser context (10.0.0.0/8)."""
    return f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"


@pytest.fixture(scope="session")
def mail_inbox() -> Iterator[Inbox]:
    """The local SMTP server (aiosmtpd) the test servers send their mails to."""
    with mail_server() as inbox:
        yield inbox


def _serve(tmp_path_factory: pytest.TempPathFactory, mail: Inbox | None) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("web-data")
    log = data_dir / "server.log"
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN and not k.startswith(MAIL_SETTINGS)}
    env["RUECKENLOTSE_DATA_DIR"] = str(data_dir)
    # The tests stand in for a reverse proxy on 127.0.0.1: each may speak as its own client address
    # (X-Forwarded-For), which the server believes only because it is told to (trusted_proxies).
    env["RUECKENLOTSE_TRUSTED_PROXIES"] = "127.0.0.1"
    if mail is not None:
        env.update(mail_env(mail))
    with served(data_dir, log, env) as url:
        yield LiveServer(url, log, data_dir)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`rueckenlotse serve` on 127.0.0.1 with a fresh data folder (secret key, SQLite database); no mail
    server, as a fresh installation has none."""
    yield from _serve(tmp_path_factory, None)


@pytest.fixture(scope="session")
def mail_live_server(tmp_path_factory: pytest.TempPathFactory, mail_inbox: Inbox) -> Iterator[LiveServer]:
    """Like ``live_server``, but sending its mails to the local SMTP server ``mail_inbox``. A test module
    about mail overrides ``live_server`` with it (``page`` and ``client`` then use it too)."""
    yield from _serve(tmp_path_factory, mail_inbox)


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    """A client of the shared server with a made-up address of its own (X-Forwarded-For, trusted from
    127.0.0.1): the per-client limits (registrations, sign-ins, sends) count each test apart, so a test never
    meets the limit that the tests before it on the same server used up."""
    with httpx.Client(
        base_url=live_server.url,
        timeout=10.0,
        follow_redirects=False,
        headers={"X-Forwarded-For": made_up_address()},
    ) as c:
        yield c


# ---- the browser ---------------------------------------------------------------------------------
def require_chromium() -> None:
    needs.chromium()


# Per module, not per session: the sync API keeps an event loop running while it is open, and a later
# test of the same worker that runs its own loop (anyio's client in test_api.py, asyncio.run) would fail.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        opened = chromium.new_context

        def own_address_context(**options: Any) -> BrowserContext:
            # Each context speaks as its own client (X-Forwarded-For, trusted from 127.0.0.1), as the
            # `client` fixture does: the per-client limits never carry from one test to the next.
            headers = dict(options.pop("extra_http_headers", None) or {})
            headers.setdefault("X-Forwarded-For", made_up_address())
            # The service worker's install reads every reading and exercise page (about a hundred requests):
            # only the tests of offline use (test_pwa.py) ask for it, the others would wait behind it.
            options.setdefault("service_workers", "block")
            return opened(extra_http_headers=headers, **options)

        chromium.new_context = own_address_context  # type: ignore[method-assign]
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser context (no cookies) at mobile size, German unless the test switches."""
    context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    folder = Path(os.environ.get("RUECKENLOTSE_SCREENSHOTS", "artifacts/screenshots"))
    folder = folder if folder.is_absolute() else ROOT / folder
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def save_screenshots(page: Page, folder: Path, name: str) -> None:
    """The whole page at mobile and at desktop width: name-mobile.png, name-desktop.png."""
    page.set_viewport_size(MOBILE)
    page.screenshot(path=str(folder / f"{name}-mobile.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
    page.screenshot(path=str(folder / f"{name}-desktop.png"), full_page=True)
    page.set_viewport_size(MOBILE)


def submit(target: Locator) -> None:
    """Click a button or link that loads another page, and return once that page has loaded.

    A click does not wait for the page it starts. Reading the page right after it may read the old one:
    once the emergency page's state was read after "Trotzdem weitere Fragen beantworten", and the walk
    through the questions ended before it began (a flaky CI failure)."""
    with target.page.expect_navigation():
        target.click()
