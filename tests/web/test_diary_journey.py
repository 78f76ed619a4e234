"""Back, reload and a session that ended, in Debian's Chromium at 390 and 1280 px.

- The questionnaire: the browser's Back shows the previous question (no "Confirm Form Resubmission", no
  ERR_CACHE_MISS), reload shows the same page again, and answering from there goes on as usual.
- The diary: an entry typed while the session ran out is kept; after signing in again it is saved once,
  with a message naming its time, and reloading the page after saving saves nothing again.
- The measures: answers given while the session ran out are kept alike (``web.kept_forms``), and saved
  once after signing in again.
Screenshots go to $RUECKENLOTSE_SCREENSHOTS (diary-kept-login, diary-kept-saved, measures-kept-saved,
intake-back).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from rueckenlotse.reports.diary_svg import WIDTH as CHART_UNITS
from rueckenlotse.store.schema import MeasureResponse

from .conftest import DESKTOP, MOBILE, LiveServer, save_screenshots, submit
from .test_auth import open_store, own_client
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_diary_forms import BERLIN, DIARY, end_sessions, filled, move_intake_back, person_of_email
from .test_patient import PASSWORD, new_patient
from .test_patient_journey import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SIZES = {"390": MOBILE, "1280": DESKTOP}
STEP_URL = re.compile(r"/intake/schritt/[0-9]+$")


@pytest.fixture(params=sorted(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=SIZES[request.param], locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        yield context.new_page()
    finally:
        context.close()


def heading(page: Page) -> str:
    return page.locator("h1").first.inner_text().strip()


def test_back_on_the_questionnaire_shows_the_previous_question(
    sized_page: Page, screenshot_dir: Path
) -> None:
    page = sized_page
    page.goto("/intake")
    first = heading(page)
    page.locator("#answer-3").check()  # lower back
    submit(page.get_by_role("button", name="Weiter"))
    assert STEP_URL.search(page.url), page.url
    second = heading(page)
    submit(page.get_by_role("button", name="Weiter"))  # no warning sign
    third = heading(page)
    assert len({first, second, third}) == 3

    page.go_back()
    assert heading(page) == second and STEP_URL.search(page.url)
    page.go_back()
    assert heading(page) == first
    assert page.locator("#answer-3").is_checked()  # the answer given is still filled in
    page.go_forward()
    assert heading(page) == second
    page.reload()  # a GET: nothing is posted again, the same question shows
    assert heading(page) == second
    assert page.locator(".error-summary").count() == 0
    submit(page.get_by_role("button", name="Weiter"))
    assert heading(page) == third
    save_screenshots(page, screenshot_dir, "intake-back")


def test_an_entry_typed_while_the_session_ran_out_is_saved_after_signing_in(
    sized_page: Page,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        email = new_patient(web)
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("4")
    page.locator("#activity_minutes").fill("25")
    page.locator("#note").fill("Nach der Mittagspause getippt")
    typed_at = page.locator("#entry_time").input_value()
    end_sessions(live_server, email)  # the person was away longer than the idle timeout

    submit(page.get_by_role("button", name="Eintrag speichern"))
    page.wait_for_url("**/anmelden?entwurf=1")
    assert "ist aufbewahrt und wird gespeichert" in page.locator("main").inner_text()
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "diary-kept-login")
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Anmelden"))

    page.wait_for_url(re.compile(r".*/mein-bereich/tagebuch\?gespeichert=[0-9a-f]{32}$"))
    main = page.locator("main").inner_text()
    assert f"Ihr Eintrag von {typed_at} Uhr wurde gespeichert." in main
    assert page.locator(".diary-days").inner_text().count("Nach der Mittagspause getippt") == 1
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "diary-kept-saved")
    page.reload()  # the page after saving is a GET: reloading it saves nothing again
    page.go_back()
    page.goto("/mein-bereich/tagebuch")
    assert page.locator(".diary-days").inner_text().count("Nach der Mittagspause getippt") == 1


def test_answers_given_while_the_session_ran_out_are_saved_after_signing_in(
    sized_page: Page,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        email = new_patient(web)
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto("/mein-bereich/fragebogen")
    peg = page.locator("#form-peg")
    for field, value in (("pain", 6), ("enjoyment", 5), ("activity", 7)):
        peg.locator(f"#{field}-{value}").check()
    end_sessions(live_server, email)  # the person was away longer than the idle timeout

    submit(peg.get_by_role("button", name=re.compile("^Antworten speichern")))
    page.wait_for_url("**/anmelden?entwurf=1")
    assert "ist aufbewahrt und wird gespeichert" in page.locator("main").inner_text()
    page.locator("#email").fill(email)
    page.locator("#password").fill(PASSWORD)
    submit(page.get_by_role("button", name="Anmelden"))

    page.wait_for_url("**/mein-bereich/fragebogen?gespeichert=peg")
    assert "Ihre Antworten sind gespeichert" in page.locator("main").inner_text()
    assert page.locator("#form-peg").count() == 0 and page.locator("#form-psfs").count() == 1
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "measures-kept-saved")
    page.reload()  # a GET: nothing is saved again
    with open_store(live_server) as store, store.transaction(write=False) as session:
        person = person_of_email(store, email)
        count = session.scalar(
            select(func.count()).select_from(MeasureResponse).where(MeasureResponse.person_id == person)
        )
    assert count == 1


def test_reloading_after_saving_in_the_browser_saves_once(
    sized_page: Page,
    live_server: LiveServer,
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        new_patient(web)
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("3")
    page.locator("#note").fill("Nur einmal bitte")
    submit(page.get_by_role("button", name="Eintrag speichern"))
    assert "Ihr Eintrag ist gespeichert." in page.locator("main").inner_text()
    page.reload()
    page.reload()
    assert page.locator(".diary-days").inner_text().count("Nur einmal bitte") == 1


def test_the_chart_is_readable_on_a_phone(
    sized_page: Page,
    live_server: LiveServer,
    screenshot_dir: Path,
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        email = new_patient(web)
        with open_store(live_server) as store:
            move_intake_back(store, email, days=8)
        today = dt.datetime.now(BERLIN).date()
        for back, pain in ((6, 7), (4, 6), (2, 5), (0, 3)):
            day = (today - dt.timedelta(days=back)).isoformat()
            data = filled(web.get(DIARY), pain_low_back=str(pain), entry_date=day)  # at the time shown: now
            assert web.post(DIARY, data=data).status_code == 303
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto("/mein-bereich/tagebuch")
    page.wait_for_function("() => { const i = document.querySelector('img.chart'); return i && i.complete; }")
    chart = page.locator("img.chart")
    box = chart.bounding_box()
    assert box is not None and chart.evaluate("img => img.naturalWidth") > 0
    # The SVG writes its text 13 units high in a 360-unit wide drawing: shown this wide, that many pixels.
    assert 13 * box["width"] / CHART_UNITS >= 12, box
    chart.scroll_into_view_if_needed()
    chart.screenshot(path=str(screenshot_dir / f"diary-chart-{int(page.viewport_size['width'])}.png"))


def test_correcting_and_deleting_an_entry(
    sized_page: Page,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        new_patient(web)
        host = urlsplit(live_server.url).hostname
        page.context.add_cookies(
            [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
        )
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("7")
    page.locator("#note").fill("Vertippt")
    page.locator("#entry_date").fill("2099-01-01")  # the future: refused at its field
    submit(page.get_by_role("button", name="Eintrag speichern"))
    assert page.locator("#entry_date-error").is_visible()
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "diary-date-error")
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("7")
    page.locator("#note").fill("Vertippt")
    submit(page.get_by_role("button", name="Eintrag speichern"))

    submit(page.get_by_role("link", name=re.compile(r"Eintrag von .* ändern oder löschen")))
    assert page.get_by_role("heading", level=1).inner_text().startswith("Eintrag vom")
    assert page.get_by_label("unterer Rücken", exact=False).input_value() == "7"
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "diary-entry-edit")
    page.get_by_label("unterer Rücken", exact=False).fill("3")
    page.locator("#note").fill("Richtig")
    submit(page.get_by_role("button", name="Änderung speichern"))
    days = page.locator(".diary-days").inner_text()
    assert "Richtig" in days and "Vertippt" not in days

    submit(page.get_by_role("link", name=re.compile(r"Eintrag von .* ändern oder löschen")))
    submit(page.get_by_role("button", name="Eintrag endgültig löschen"))
    assert "Der Eintrag ist gelöscht." in page.locator("main").inner_text()
    assert "Noch keine Einträge." in page.locator("main").inner_text()
