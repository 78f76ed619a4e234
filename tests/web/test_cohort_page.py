"""The practice's results page (/praxis/ergebnisse) in Debian's Chromium: a clinician signs in and sees the
cohort table and chart of the courses shared with the practice, small counts as "< 5", no person's id, name
or date anywhere, and downloads the same table as CSV; each view is audited with the practice and without a
person. axe runs on the page; screenshots: practice-results (390 and 1280 px)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from sqlalchemy import select

from rueckenlotse.batch.courses import generate_courses
from rueckenlotse.services.cohort import csv_text, measure_rules, table_of
from rueckenlotse.store.audit import all_events
from rueckenlotse.store.cohort import load_courses, practice_cohort
from rueckenlotse.store.schema import CourseShare, Person

from .conftest import MOBILE, LiveServer, save_screenshots
from .test_auth import new_clinician, open_store
from .test_practice_admin import sign_in
from .test_practice_journey import assert_accessible, assert_fits_the_width, axe_source  # noqa: F401

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

    from .test_auth import Clinician

TODAY = date.today()


def results_page(page: Page, server: LiveServer, courses: int = 80) -> Clinician:
    """A clinician of a practice with ``courses`` generated shared courses, signed in on the results page."""
    with open_store(server) as store:
        me = new_clinician(store)
        load_courses(
            store, me.practice_id, generate_courses(courses, seed=4, as_of=TODAY), knowledge_version="t"
        )
    assert me.secret is not None
    sign_in(page, me.email, me.password, me.secret)
    page.goto("/praxis/ergebnisse")
    return me


def _cookies(context: object, url: str) -> dict[str, str]:
    return {c["name"]: c["value"] for c in context.cookies(url)}  # type: ignore[attr-defined]


def test_a_clinician_sees_the_practice_results(
    browser: Browser,
    live_server: LiveServer,
    axe_source: str,  # noqa: F811 (the fixture imported above)
    screenshot_dir: Path,
) -> None:
    with open_store(live_server) as store:
        me = new_clinician(store)
        other = new_clinician(store)  # another practice with courses of its own
        courses = list(generate_courses(80, seed=4, as_of=TODAY))
        load_courses(store, me.practice_id, courses, knowledge_version="test")
        load_courses(store, other.practice_id, courses[:20], knowledge_version="test")
        with store.transaction(write=False) as session:
            ours = list(session.scalars(select(CourseShare.person_id)))
        rows = practice_cohort(store, me.practice_id, TODAY, *_definition())
    expected = table_of(rows, measure_rules(), TODAY, "de")
    assert expected.courses > 40
    assert any("< 5" in row.cells.values() for row in expected.rows)  # the page shows a suppressed count

    context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        page = context.new_page()
        assert me.secret is not None
        sign_in(page, me.email, me.password, me.secret)
        page.get_by_role("link", name="Ergebnisse").click()
        page.wait_for_url("**/praxis/ergebnisse")
        main = page.locator("main")
        text = main.inner_text()
        assert (
            "Ergebnisse der geteilten Verläufe" in text
            and f"Gezählt werden {expected.courses} Verläufe" in text
        )
        assert "< 5" in text and "„besser“ heißt" in text
        first = expected.change_rows[0]
        cells = page.locator("table.cohort-cards tbody tr").first.locator("td")
        assert [cells.nth(i).inner_text().split("\n")[-1].strip() for i in range(5)] == [
            first.cells[name] for name in ("better", "same", "worse", "no_baseline", "n")
        ]
        assert page.locator(".cohort-chart svg[role=img]").count() == 1
        html = page.content()
        for person in ours:
            assert person not in html
        assert "c00000" not in html  # the generated course numbers stay in the file
        assert_accessible(page, axe_source, "results")
        assert_fits_the_width(page, "results")
        save_screenshots(page, screenshot_dir, "practice-results")
        save_screenshots(page, Path("/tmp/cohort"), "practice-results")
        assert_fits_the_width(page, "results")

        cookies = _cookies(context, live_server.url)
        with httpx.Client(base_url=live_server.url, cookies=cookies, timeout=10.0) as web:
            download = web.get("/praxis/ergebnisse.csv")
            assert download.status_code == 200
            assert download.headers["content-type"].startswith("text/csv")
            assert download.text == csv_text(expected, "de")
            assert web.get(f"/praxis/ergebnisse.csv?praxis={me.practice_id}").text == download.text
            assert web.get(f"/praxis/ergebnisse.csv?praxis={other.practice_id}").status_code == 404
            assert web.get("/praxis/ergebnisse.csv?praxis=gibtesnicht").status_code == 404
    finally:
        context.close()
    with open_store(live_server) as store, store.transaction(write=False) as session:
        mine = [e for e in all_events(session) if e.practice_id == me.practice_id and "cohort" in e.action]
        assert sorted(e.action for e in mine) == ["export.cohort_csv", "export.cohort_csv", "read.cohort"]
        assert {e.person_id for e in mine} == {None} and {e.actor_kind for e in mine} == {"clinician"}
        assert session.scalar(select(Person.display_name).where(Person.id == ours[0])) is None


def test_a_practice_without_shared_courses(
    browser: Browser,
    live_server: LiveServer,
    axe_source: str,  # noqa: F811 (the fixture imported above)
) -> None:
    with open_store(live_server) as store:
        me = new_clinician(store)
    context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    try:
        page = context.new_page()
        assert me.secret is not None
        sign_in(page, me.email, me.password, me.secret)
        page.goto("/praxis/ergebnisse?lang=en")
        text = page.locator("main").inner_text()
        assert "Nobody shares their course with this practice yet" in text and "How it is counted" in text
        assert page.locator("table").count() == 0 and page.locator("svg").count() == 0
        assert_accessible(page, axe_source, "results-empty")
    finally:
        context.close()


def _definition() -> tuple[object, object]:
    from rueckenlotse.services.cohort import cohort_spec

    return cohort_spec().params(), measure_rules()
