"""The exercise pages and drawings (issue #17): public, free of personal data, each exercise with its picture.

Over real HTTP against ``rueckenlotse serve`` and in Chromium at phone width: the SVG route (type, caching,
ETag, 404), the library page and one exercise's page in both languages, the figure in the patient's plan,
and the picture fitting a 390 px column, still when the viewer asks for reduced motion.
"""

from __future__ import annotations

import html
import re

import httpx
import pytest
from playwright.sync_api import Browser, Page

from rueckenlotse.plan.library import default_library

from .conftest import MOBILE, LiveServer
from .test_patient import new_patient

LIB = default_library()
PRACTICES = [*LIB.exercises, *LIB.comfort]
IMG = re.compile(r'<img src="/uebungen/([a-z_0-9]+)\.svg\?lang=(de|en)&amp;v=([0-9a-f]+)" alt="([^"]+)"')


def test_the_drawing_is_a_cached_public_svg(client: httpx.Client) -> None:
    response = client.get("/uebungen/bird_dog.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    assert re.fullmatch(r"public, max-age=\d{6,}", response.headers["cache-control"])
    assert "set-cookie" not in response.headers  # nothing personal, nothing to remember
    assert "script-src" not in response.headers["content-security-policy"]
    assert "default-src 'none'" in response.headers["content-security-policy"]
    assert (
        f'<title id="t">{html.escape(LIB.picture_alt("bird_dog", "de"), quote=False)}</title>'
        in response.text
    )
    assert "<animate " in response.text
    again = client.get("/uebungen/bird_dog.svg", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_the_drawing_speaks_the_asked_language_and_stands_still_when_asked(client: httpx.Client) -> None:
    english = client.get("/uebungen/bridge.svg?lang=en&still=1")
    assert html.escape(LIB.picture_alt("bridge", "en"), quote=False) in english.text
    assert "<animate" not in english.text
    assert english.headers["etag"] != client.get("/uebungen/bridge.svg").headers["etag"]


@pytest.mark.parametrize(
    "path", ["/uebungen/no_such.svg", "/uebungen/..%2fmanifest.svg", "/uebungen/no_such"]
)
def test_an_unknown_exercise_is_a_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["cache-control"] == "no-store"  # a mistake is not kept for a week
    assert "script-src 'self'" in response.headers["content-security-policy"]  # the site's own policy


def test_the_library_page_shows_every_exercise_with_its_drawing(client: httpx.Client) -> None:
    page = client.get("/uebungen")
    assert page.status_code == 200
    shown = {m[0]: m for m in IMG.findall(page.text)}
    assert set(shown) == set(PRACTICES)
    for practice_id, (_, lang, version, alt) in shown.items():
        assert lang == "de" and version == LIB.drawings_version
        assert html.unescape(alt) == LIB.picture_alt(practice_id, "de")
        title = (
            LIB.exercises[practice_id].title
            if practice_id in LIB.exercises
            else LIB.comfort[practice_id].title
        )
        assert html.escape(title.get("de"), quote=False) in page.text
    assert page.text.count('media="(prefers-reduced-motion: reduce)"') == len(PRACTICES)
    assert all(client.get(f"/uebungen/{p}.svg").status_code == 200 for p in shown)


@pytest.mark.parametrize("practice_id", ["side_plank_knees", "slow_breathing"])
def test_one_exercise_in_english_with_steps_feel_and_when_to_stop(
    client: httpx.Client, practice_id: str
) -> None:
    item = LIB.exercises.get(practice_id) or LIB.comfort[practice_id]
    text = html.unescape(client.get(f"/uebungen/{practice_id}?lang=en").text)
    assert item.title.get("en") in text and LIB.picture_alt(practice_id, "en") in text
    for part in [*item.how, item.feel, item.stop_if]:
        assert part.get("en") in text
    assert "112" in text  # the warning not to exercise while a warning sign stands


def test_the_plan_shows_each_of_its_exercises_with_its_drawing(client: httpx.Client) -> None:
    new_patient(client)
    plan = client.get("/mein-bereich/plan").text
    pictured = [m[0] for m in IMG.findall(plan)]
    listed = re.findall(r'<input type="hidden" name="exercise" value="([a-z_0-9]+)">', plan)
    assert listed and set(listed) <= set(pictured)
    assert 'href="/uebungen"' in plan


def _cookies_of(client: httpx.Client, url: str) -> list[dict[str, str]]:
    return [{"name": c.name, "value": c.value or "", "url": url} for c in client.cookies.jar]


def test_the_picture_fits_a_phone_and_stands_still_for_reduced_motion(
    browser: Browser, live_server: LiveServer, client: httpx.Client
) -> None:
    for motion, still in (("no-preference", False), ("reduce", True)):
        context = browser.new_context(base_url=live_server.url, viewport=MOBILE, reduced_motion=motion)
        try:
            page: Page = context.new_page()
            page.goto("/uebungen/bird_dog")
            img = page.locator("figure.exercise-figure img")
            img.evaluate("i => i.decode()")
            natural, shown, column = img.evaluate(
                "i => [i.naturalWidth, i.getBoundingClientRect().width, i.closest('main').clientWidth]"
            )
            assert natural > 0 and 0 < shown <= column <= MOBILE["width"], (natural, shown, column)
            assert shown >= 0.8 * column  # as wide as the column, not a thumbnail
            assert ("still=1" in img.evaluate("i => i.currentSrc")) is still, motion
            assert page.evaluate("document.documentElement.scrollWidth") <= MOBILE["width"]
        finally:
            context.close()
    # The signed-in plan: every exercise's picture loads.
    new_patient(client)
    context = browser.new_context(base_url=live_server.url, viewport=MOBILE)
    try:
        context.add_cookies(_cookies_of(client, live_server.url))  # type: ignore[arg-type]
        page = context.new_page()
        page.goto("/mein-bereich/plan")
        images = page.locator("figure.exercise-figure img")
        assert images.count() >= 2
        for i in range(images.count()):
            images.nth(i).scroll_into_view_if_needed()
            images.nth(i).evaluate("i => i.decode()")
            assert images.nth(i).evaluate("i => i.naturalWidth") > 0
    finally:
        context.close()


def test_reading_and_exercise_pages_work_without_javascript(
    browser: Browser, live_server: LiveServer
) -> None:
    """Issue #17: the reading and exercise pages are plain pages: links, text, sources and pictures without
    any script (the drawing moves by SVG animation, not JavaScript)."""
    context = browser.new_context(
        base_url=live_server.url, viewport=MOBILE, java_script_enabled=False, locale="de-DE"
    )
    try:
        page = context.new_page()
        page.goto("/lesen")
        page.locator("main a[href^='/lesen/']").first.click()
        page.wait_for_load_state()
        main = page.locator("main").inner_text()
        assert "Quellen" in main and len(main) > 500, main[:300]
        page.goto("/uebungen")
        page.locator("main a[href='/uebungen/bird_dog']").first.click()
        page.wait_for_url("**/uebungen/bird_dog")
        assert LIB.exercises["bird_dog"].title.get("de") in page.locator("h1").inner_text()
        img = page.locator("figure.exercise-figure img")
        box = img.bounding_box()
        assert box is not None and box["height"] > 50 and box["width"] <= MOBILE["width"]
        picture = context.request.get(img.get_attribute("src") or "")
        assert picture.status == 200 and picture.headers["content-type"].startswith("image/svg+xml")
    finally:
        context.close()
