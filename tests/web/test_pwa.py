"""Installing the web app and reading offline (issue #17), against the real server and Debian's Chromium.

- The manifest is valid JSON with the members an install needs, and its icons answer with the sizes it
  names (read from the PNG header); the pages link it.
- /sw.js is JavaScript from the root (scope "/"), never stale (no-cache), and lists every reading page and
  exercise page in every language, but no personal page.
- In Chromium, with the service worker installed after a first visit and the network cut:
  a reading page opens with its text; the diary does not (the offline page with 112 instead); the plan
  opens only after the person agreed on the plan page, and is gone again after "Kopie löschen" and after
  signing out (logout also sends Clear-Site-Data).
- Every reading page shows its sources.
Screenshots go to $RUECKENLOTSE_SCREENSHOTS (pwa-offline-reading, pwa-offline-page, pwa-plan-consent,
pwa-plan-saved, pwa-plan-offline).
"""

from __future__ import annotations

import json
import re
import struct
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from rueckenlotse import __version__
from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.plan.library import default_library

from .conftest import DESKTOP, MOBILE, LiveServer, save_screenshots, submit
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_patient import PASSWORD, new_patient
from .test_patient_journey import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

PLAN_CACHE = "rueckenlotse-plan"
MODULE = "mri_findings"
MODULE_TEXT = "Brauche ich ein MRT? Ohne Warnzeichen meist nicht."
OFFLINE_TITLE = "Sie sind offline"
CONFIG = re.compile(r"^const CONFIG = (\{.*?\});\n", re.S)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", data[:16]
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def worker_config(client: httpx.Client) -> dict[str, Any]:
    response = client.get("/sw.js")
    found = CONFIG.match(response.text)
    assert found, response.text[:200]
    config: dict[str, Any] = json.loads(found.group(1))
    return config


# ---- manifest and worker over HTTP -----------------------------------------------------------------
def test_the_manifest_is_valid_and_its_icons_have_their_sizes(client: httpx.Client) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == "Rückenlotse" and manifest["short_name"]
    assert manifest["start_url"] == "/mein-bereich" and manifest["scope"] == "/"
    assert manifest["display"] == "standalone" and manifest["lang"] == "de"
    assert manifest["theme_color"] == "#0b4f8a" and manifest["background_color"] == "#ffffff"
    assert "--primary: #0b4f8a" in client.get("/static/app.css").text  # the colour is the app's own
    purposes = set()
    for icon in manifest["icons"]:
        answer = client.get(icon["src"])
        assert answer.status_code == 200, icon
        assert answer.headers["content-type"].startswith(icon["type"])
        purposes.add((icon["sizes"], icon["purpose"]))
        if icon["type"] == "image/png":
            width, height = png_size(answer.content)
            assert f"{width}x{height}" == icon["sizes"]
        else:
            assert icon["type"] == "image/svg+xml" and answer.text.startswith("<svg")
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable"), ("any", "any")} <= purposes


def test_every_page_links_the_manifest_and_the_touch_icon(client: httpx.Client) -> None:
    for path in ("/", "/lesen", "/anmelden"):
        html = client.get(path).text
        assert '<link rel="manifest" href="/manifest.webmanifest">' in html
        assert '<meta name="theme-color" content="#0b4f8a">' in html
        assert re.search(r'<script src="/static/pwa\.js\?v=[0-9a-f]+" defer></script>', html)
        touch = re.search(r'<link rel="apple-touch-icon" href="([^"]+)">', html)
        assert touch is not None
        assert png_size(client.get(touch.group(1)).content) == (180, 180)


def test_the_service_worker_is_served_from_the_root_and_never_stale(client: httpx.Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/"
    csp = response.headers["content-security-policy"]
    assert "worker-src 'self'" in csp and "manifest-src 'self'" in csp and "script-src 'self';" in csp


def test_the_worker_keeps_reading_and_exercises_in_every_language_and_nothing_personal(
    client: httpx.Client,
) -> None:
    config = worker_config(client)
    library = default_library()
    assert __version__ in config["cache"] and default_knowledge().version in config["cache"]
    pages = set(config["pages"])
    for lang in ("de", "en"):
        assert f"/lesen?lang={lang}" in pages and f"/uebungen?lang={lang}" in pages
        assert {f"/lesen/{m}?lang={lang}" for m in library.modules} <= pages
        assert {f"/uebungen/{e}?lang={lang}" for e in library.exercises} <= pages
        assert config["offline"][lang] == f"/offline?lang={lang}"
    assert {f"/uebungen/{e}.svg" for e in library.exercises} <= pages
    kept = [*pages, *config["static"]]
    assert all(url.startswith(("/lesen", "/uebungen", "/static/", "/manifest")) for url in kept), kept
    assert not any("mein-bereich" in url or "tagebuch" in url for url in kept)
    for url in config["static"]:
        assert client.get(url).status_code == 200, url
    for url in [u for u in pages if u.startswith("/lesen")]:
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_reading_page_shows_its_sources(client: httpx.Client, lang: str) -> None:
    registry = default_knowledge().sources
    for module in default_library().modules.values():
        html = client.get(f"/lesen/{module.id}?lang={lang}").text
        checked = [registry[s] for s in module.sources if s in registry and registry[s].status == "checked"]
        assert checked, module.id  # every module rests on at least one checked source
        sources = html.split('id="sources-title"', 1)[1]
        for source in checked:
            assert source.title.replace("&", "&amp;") in sources or source.title in sources, (
                module.id,
                source.id,
            )


def test_logout_and_erasure_clear_the_site_cache(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0, follow_redirects=False) as client:
        new_patient(client)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/mein-bereich").text)
        assert token is not None
        response = client.post("/abmelden", data={"csrf_token": token.group(1)})
        assert response.status_code == 303
        assert response.headers["clear-site-data"] == '"cache"'
        assert 'data-session="out"' in client.get(response.headers["location"]).text
    with httpx.Client(base_url=live_server.url, timeout=10.0, follow_redirects=False) as client:
        email = new_patient(client)
        assert 'data-session="in"' in client.get("/mein-bereich/daten").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/mein-bereich/daten").text)
        assert token is not None
        data = {"csrf_token": token.group(1), "confirm_email": email}
        erased = client.post("/mein-bereich/daten/loeschen", data=data)
        assert erased.status_code == 200
        assert erased.headers["clear-site-data"] == '"cache"'
        assert 'data-session="out"' in erased.text


# ---- in Chromium -----------------------------------------------------------------------------------
@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url, viewport=MOBILE, locale="de-DE", service_workers="allow"
    )
    try:
        context.set_default_timeout(15_000)
        yield context
    finally:
        context.close()


def wait_for_worker(page: Page, module: str = MODULE) -> None:
    """Until the service worker controls the page and has kept the reading (its install is done)."""
    try:
        page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=90_000)
    except Exception:
        state = page.evaluate(
            """async () => {
                const r = await navigator.serviceWorker.getRegistration();
                const kept = [];
                for (const n of await caches.keys()) {
                    kept.push(n, (await (await caches.open(n)).keys()).length);
                }
                return {url: location.href, reg: r ? [!!r.installing, !!r.waiting, !!r.active,
                        r.active && r.active.state] : null, kept};
            }"""
        )
        raise AssertionError(f"no worker controls the page: {state}") from None
    page.wait_for_function(
        """async (url) => {
            const names = await caches.keys();
            for (const name of names) {
                if (name !== "rueckenlotse-plan" && (await (await caches.open(name)).match(url))) return true;
            }
            return false;
        }""",
        arg=f"/lesen/{module}?lang=de",
        timeout=90_000,
    )


def plan_kept(page: Page) -> bool:
    return bool(
        page.evaluate(
            """async () => (await caches.has("rueckenlotse-plan"))
                && Boolean(await (await caches.open("rueckenlotse-plan")).match("/mein-bereich/plan"))"""
        )
    )


def sign_in(page: Page, email: str) -> None:
    page.goto("/anmelden")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Anmelden"))
    page.wait_for_url("**/mein-bereich")


def heading(page: Page) -> str:
    return page.locator("h1").first.inner_text().strip()


def test_reading_opens_offline_but_the_diary_never_comes_from_the_cache(
    context: BrowserContext,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
        email = new_patient(client)
    page = context.new_page()
    sign_in(page, email)
    page.goto("/mein-bereich/tagebuch")  # seen online first: still never kept
    diary_heading = heading(page)
    page.goto("/lesen")
    wait_for_worker(page)

    context.set_offline(True)
    page.goto(f"/lesen/{MODULE}")
    assert MODULE_TEXT in page.locator("main").inner_text()
    assert "Quellen" in page.locator("main").inner_text()
    save_screenshots(page, screenshot_dir, "pwa-offline-reading")

    page.goto("/mein-bereich/tagebuch")
    assert heading(page) == OFFLINE_TITLE != diary_heading
    main = page.locator("main").inner_text()
    assert "112" in main
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "pwa-offline-page")
    kept = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(request.url);
            }
            return urls;
        }"""
    )
    assert kept and not [u for u in kept if "/mein-bereich" in u or "/api/" in u], kept

    context.set_offline(False)
    page.goto("/mein-bereich/tagebuch")  # online again: the real page, from the network
    assert heading(page) == diary_heading


def test_the_plan_is_kept_offline_only_with_consent_and_goes_on_sign_out(
    context: BrowserContext, live_server: LiveServer, screenshot_dir: Path
) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
        email = new_patient(client)
    page = context.new_page()
    sign_in(page, email)
    page.goto("/mein-bereich/plan")
    plan_heading = heading(page)
    wait_for_worker(page)
    box = page.locator("[data-offline-plan]")
    save_button = page.get_by_role("button", name="Plan auf diesem Gerät offline speichern")
    save_button.wait_for()
    assert "Jeder, der dieses Gerät" in box.inner_text()
    assert box.get_attribute("data-state") == "not-saved" and not plan_kept(page)
    box.scroll_into_view_if_needed()
    save_screenshots(page, screenshot_dir, "pwa-plan-consent")

    # Without consent: not there offline.
    context.set_offline(True)
    page.goto("/mein-bereich/plan")
    assert heading(page) == OFFLINE_TITLE
    context.set_offline(False)

    # With consent: there offline.
    page.goto("/mein-bereich/plan")
    page.get_by_role("button", name="Plan auf diesem Gerät offline speichern").click()
    page.wait_for_selector("[data-offline-plan][data-state=saved]")
    assert plan_kept(page)
    assert page.get_by_role("button", name="Kopie löschen").is_visible()
    save_screenshots(page, screenshot_dir, "pwa-plan-saved")
    context.set_offline(True)
    page.goto("/mein-bereich/plan")
    assert heading(page) == plan_heading
    save_screenshots(page, screenshot_dir, "pwa-plan-offline")
    context.set_offline(False)

    # "Kopie löschen" takes it away again, and it can be kept again.
    page.goto("/mein-bereich/plan")
    page.get_by_role("button", name="Kopie löschen").click()
    page.wait_for_selector("[data-offline-plan][data-state=not-saved]")
    assert not plan_kept(page)
    page.get_by_role("button", name="Plan auf diesem Gerät offline speichern").click()
    page.wait_for_selector("[data-offline-plan][data-state=saved]")
    assert plan_kept(page)

    # Signing out deletes it.
    submit(page.locator("#header-logout"))
    page.wait_for_url("**/anmelden?abgemeldet=1")
    page.wait_for_function('async () => !(await caches.has("rueckenlotse-plan"))')
    context.set_offline(True)
    page.goto("/mein-bereich/plan")
    assert heading(page) == OFFLINE_TITLE
    context.set_offline(False)


def test_the_consent_control_is_absent_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10.0) as client:
        email = new_patient(client)
    context = browser.new_context(
        base_url=live_server.url, viewport=DESKTOP, locale="de-DE", java_script_enabled=False
    )
    try:
        page = context.new_page()
        sign_in(page, email)
        page.goto("/mein-bereich/plan")
        assert page.locator("[data-offline-plan]").count() == 1
        assert not page.locator("[data-offline-plan]").is_visible()
    finally:
        context.close()


# ---- ask links its answers to their reading page ------------------------------------------------------
def test_ask_answers_link_their_reading_page_over_real_http(client: httpx.Client) -> None:
    answer = client.get("/api/v1/ask", params={"q": "Brauche ich ein MRT?", "k": 3}).json()
    assert answer["hits"]
    for hit in answer["hits"]:
        assert hit["read_url"] == f"/lesen/{hit['module_id']}?lang=de"
        page = client.get(hit["read_url"])
        assert page.status_code == 200
        assert hit["module_title"] in page.text and hit["text"] in page.text and "Quellen" in page.text
    english = client.get("/api/v1/ask", params={"q": "Does bed rest help?", "lang": "en", "k": 1}).json()
    (hit,) = english["hits"]
    assert hit["read_url"] == f"/lesen/{hit['module_id']}?lang=en"
    assert hit["text"] in client.get(hit["read_url"]).text


def test_with_a_warning_sign_the_screen_still_comes_before_the_linked_hits(client: httpx.Client) -> None:
    response = client.get("/api/v1/ask", params={"q": "Fieber nach der Spritze in den Rücken", "k": 5})
    assert response.text.index('"screen"') < response.text.index('"hits"') < response.text.index('"read_url"')
    answer = response.json()
    assert answer["screen"]["level"] == "emergency" and answer["screen"]["text"].startswith("Rufen Sie")
    assert all(hit["read_url"].startswith("/lesen/") for hit in answer["hits"])


def test_ask_links_are_absolute_with_the_public_address(mail_live_server: LiveServer) -> None:
    with httpx.Client(base_url=mail_live_server.url, timeout=10.0) as client:
        answer = client.get("/api/v1/ask", params={"q": "Brauche ich ein MRT?", "k": 1}).json()
    (hit,) = answer["hits"]
    assert hit["read_url"] == f"{mail_live_server.url}/lesen/{hit['module_id']}?lang=de"
    assert httpx.get(hit["read_url"], timeout=10.0).status_code == 200


def test_offline_reading_follows_the_language_last_read_in(context: BrowserContext) -> None:
    page = context.new_page()
    page.goto("/lesen")
    wait_for_worker(page)
    submit(page.get_by_role("button", name="English"))  # the language switch: a form, then a cookie
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto("/lesen")  # pwa.js tells the worker the page's language
    page.wait_for_function(
        """async () => {
            for (const name of await caches.keys()) {
                const kept = await (await caches.open(name)).match("/__rueckenlotse/lang");
                if (kept && (await kept.text()) === "en") return true;
            }
            return false;
        }"""
    )
    context.set_offline(True)
    page.goto(f"/lesen/{MODULE}")  # no ?lang=: the kept English copy
    assert page.locator("html").get_attribute("lang") == "en"
    assert "Do I need an MRI?" in page.locator("main").inner_text()
    page.goto("/mein-bereich/tagebuch")
    assert heading(page) == "You are offline"
    page.goto(f"/lesen/{MODULE}?lang=de")  # asked for German: German
    assert MODULE_TEXT in page.locator("main").inner_text()
    context.set_offline(False)
