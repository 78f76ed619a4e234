"""The outcome measure pages over real HTTP and in Debian's Chromium at 390 and 1280 px.

- /mein-bereich/fragebogen: at the intake PEG and PSFS are due (week 0), each with its own form; a form posted
  saves once (post/redirect/get, the same key twice saves one row), errors answer 422 with a German message
  beside each field and every answer kept; a week not due is not saved; two weeks later the follow-up is due
  with the activities named the first time.
- /mein-bereich/verlauf: per measure a chart (SVG), a table with "besser / gleich / schlechter" and the
  sentence on the minimal important change; the CSV download (audited) and the JSON export hold the responses.
Screenshots go to $RUECKENLOTSE_SCREENSHOTS (measures-home, measures-form, measures-errors, measures-course).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest
from sqlalchemy import select

from rueckenlotse.store.schema import MeasureResponse

from .conftest import LiveServer, save_screenshots, submit
from .pages_helpers import text_of
from .test_auth import csrf_of, open_store, own_client
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_diary_forms import actions_of, move_intake_back, person_of_email
from .test_patient import new_email, new_patient, register
from .test_patient_journey import assert_accessible
from .test_session_page import signed_in, sized_page  # noqa: F401 (a fixture)

if TYPE_CHECKING:
    from playwright.sync_api import Page

MEASURES = "/mein-bereich/fragebogen"
COURSE = "/mein-bereich/verlauf"
KEY = re.compile(r'name="entry_key" value="([A-Za-z0-9_-]{20,64})"')
PEG = {"pain": "6", "enjoyment": "5", "activity": "7"}
PSFS = {"activity-1-name": "Treppen steigen", "activity-1-value": "3", "activity-2-name": "Sitzen",
        "activity-2-value": "5"}  # fmt: skip


def form_of(page: httpx.Response, measure: str) -> dict[str, str]:
    """The hidden fields of one measure's form on the page."""
    part = page.text.split(f'id="form-{measure}"', 1)[1].split("</form>", 1)[0]
    key = KEY.search(part)
    week = re.search(r'name="week" value="(\d+)"', part)
    assert key is not None and week is not None, part[:500]
    return {"csrf_token": csrf_of(page), "measure": measure, "week": week.group(1), "entry_key": key.group(1)}


def post(client: httpx.Client, measure: str, answers: dict[str, str]) -> httpx.Response:
    page = client.get(MEASURES)
    assert page.status_code == 200, page.text[:500]
    return client.post(MEASURES, data={**form_of(page, measure), **answers})


def rows(live_server: LiveServer, email: str) -> list[MeasureResponse]:
    with open_store(live_server) as store, store.transaction() as session:
        person = person_of_email(store, email)
        found = session.scalars(select(MeasureResponse).where(MeasureResponse.person_id == person)).all()
        session.expunge_all()
        return sorted(found, key=lambda r: r.recorded_at)


@pytest.fixture
def patient(live_server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    with own_client(live_server) as web:
        yield web, new_patient(web)


def test_at_the_intake_peg_and_psfs_are_due_and_linked_from_home(patient: tuple[httpx.Client, str]) -> None:
    web, _ = patient
    home = web.get("/mein-bereich")
    assert 'id="measures-due"' in home.text and 'href="/mein-bereich/fragebogen"' in home.text
    assert 'href="/mein-bereich/verlauf"' in home.text
    page = web.get(MEASURES)
    assert page.status_code == 200
    assert 'id="form-peg"' in page.text and 'id="form-psfs"' in page.text
    assert 'id="form-pgic"' not in page.text and 'id="form-startback"' not in page.text
    body = text_of(page.text)
    assert "Schmerz und Alltag (PEG, angepasst)" in body and "Beginn, offen seit" in body
    assert "0 = gar keine Schmerzen, 10 = die stärksten Schmerzen" in body


def test_a_form_saves_once_and_is_no_longer_due(
    live_server: LiveServer, patient: tuple[httpx.Client, str]
) -> None:
    web, email = patient
    page = web.get(MEASURES)
    data = {**form_of(page, "peg"), **PEG, "person_id": "someone-else"}
    first = web.post(MEASURES, data=data)
    assert first.status_code == 303 and first.headers["location"] == MEASURES + "?gespeichert=peg"
    again = web.post(MEASURES, data=data)  # a reload of the POST, or a double click
    assert again.status_code == 303
    saved = rows(live_server, email)
    assert [(r.measure_id, r.week, r.score, r.answers_json) for r in saved] == [
        ("peg", 0, 6.0, {"pain": 6, "enjoyment": 5, "activity": 7})
    ]
    shown = web.get(first.headers["location"])
    assert "Danke! Ihre Antworten sind gespeichert: Schmerz und Alltag (PEG, angepasst)." in text_of(
        shown.text
    )
    assert 'id="form-peg"' not in shown.text and 'id="form-psfs"' in shown.text


def test_errors_stand_beside_their_fields_and_keep_the_answers(
    live_server: LiveServer, patient: tuple[httpx.Client, str]
) -> None:
    web, email = patient
    page = web.get(MEASURES)
    response = web.post(MEASURES, data={**form_of(page, "peg"), "enjoyment": "4", "activity": "11"})
    assert response.status_code == 422
    body = text_of(response.text)
    assert "Bitte beantworten Sie diese Frage." in body
    assert "Bitte wählen Sie eine ganze Zahl von 0 bis 10." in body
    assert 'id="pain-error"' in response.text and 'id="activity-error"' in response.text
    assert 'href="#pain"' in response.text  # the summary links to the field
    assert re.search(r'id="enjoyment-4" name="enjoyment" value="4"\s+checked', response.text)
    assert form_of(response, "peg")["entry_key"] == form_of(page, "peg")["entry_key"]
    psfs = web.post(MEASURES, data={**form_of(page, "psfs"), "activity-2-value": "4"})
    assert psfs.status_code == 422
    assert 'id="activity-2-name-error"' in psfs.text and "höchstens 80 Zeichen" in text_of(psfs.text)
    web.cookies.set("lang", "en")
    english = web.post(MEASURES, data={**form_of(page, "peg"), "pain": "x"})
    assert "Please choose a whole number from 0 to 10." in text_of(english.text)
    assert rows(live_server, email) == []


def test_a_week_not_due_or_a_broken_form_is_not_saved(
    live_server: LiveServer, patient: tuple[httpx.Client, str]
) -> None:
    web, email = patient
    page = web.get(MEASURES)
    late = web.post(MEASURES, data={**form_of(page, "peg"), **PEG, "week": "4"})
    assert late.status_code == 303 and late.headers["location"] == MEASURES
    pgic = web.post(MEASURES, data={**form_of(page, "peg"), "measure": "pgic", "week": "2", "change": "1"})
    assert pgic.status_code == 303
    for broken in ({"measure": "odi"}, {"entry_key": "kurz"}, {"week": "zwei"}):
        response = web.post(MEASURES, data={**form_of(page, "peg"), **PEG, **broken})
        assert response.status_code == 400
    assert rows(live_server, email) == []


def test_two_weeks_on_the_follow_up_keeps_the_named_activities(
    live_server: LiveServer, patient: tuple[httpx.Client, str]
) -> None:
    web, email = patient
    assert post(web, "peg", PEG).status_code == 303
    assert post(web, "psfs", PSFS).status_code == 303
    with open_store(live_server) as store:
        # The intake lies 15 days back: with a week of pain before it, week 2 of the episode began 8 days ago.
        move_intake_back(store, email, days=15)
        with store.transaction() as session:
            for row in session.scalars(select(MeasureResponse)):
                row.recorded_at -= dt.timedelta(days=15)
    page = web.get(MEASURES)
    assert {"form-peg", "form-psfs", "form-pgic"} <= set(re.findall(r'id="(form-[a-z]+)"', page.text))
    assert "Woche 2, offen seit" in text_of(page.text)
    assert 'name="activity-1-name" value="Treppen steigen"' in page.text
    assert "Bitte bewerten Sie dieselben Tätigkeiten wie beim ersten Mal." in text_of(page.text)
    assert post(web, "peg", {"pain": "3", "enjoyment": "2", "activity": "3"}).status_code == 303
    names = {**PSFS, "activity-1-value": "6", "activity-2-value": "6"}
    assert post(web, "psfs", names).status_code == 303
    assert post(web, "pgic", {"change": "2"}).status_code == 303
    assert [(r.measure_id, r.week) for r in rows(live_server, email)] == [
        ("peg", 0), ("psfs", 0), ("peg", 2), ("psfs", 2), ("pgic", 2)
    ]  # fmt: skip

    course = web.get(COURSE)
    assert course.status_code == 200
    body = text_of(course.text)
    # PEG 6,0 -> 2,7: at least 30 % less; PSFS 4 -> 6: 2 points more; PGIC "viel besser".
    assert body.count("Zuletzt: besser als beim ersten Mal.") == 2
    assert "Zuletzt: besser als zu Beginn, nach Ihrer eigenen Einschätzung." in body
    assert "Beginn" in body and "Woche 2" in body and "Ausgangswert" in body and "besser" in body
    assert "mindestens 30 Prozent" in body and "mindestens 2 Punkte" in body and "viel besser" in body
    for measure in ("peg", "psfs", "pgic"):
        chart = web.get(f"{COURSE}/{measure}.svg")
        assert chart.status_code == 200 and chart.headers["content-type"].startswith("image/svg+xml")
        assert chart.headers["cache-control"] == "no-store" and "<script" not in chart.text
    assert web.get(f"{COURSE}/startback.svg").status_code == 404
    assert web.get(f"{COURSE}/unbekannt.svg").status_code == 404

    download = web.get(f"{COURSE}/frageboegen.csv")
    assert download.status_code == 200 and "attachment" in download.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(download.text)))
    assert [(r["measure_id"], r["week"]) for r in table][:2] == [("peg", "0"), ("psfs", "0")]
    assert "Treppen steigen=3" in table[1]["answers"]
    assert actions_of(live_server, email) == ["export.measures_csv"]
    exported = json.loads(web.get("/mein-bereich/daten/export.json").text)
    assert exported["format_version"] == 5 and len(exported["measures"]) == 5


def test_without_intake_the_pages_say_so(live_server: LiveServer) -> None:
    with own_client(live_server) as web:
        assert register(web, new_email()).status_code == 303
        for path in (MEASURES, COURSE):
            page = web.get(path)
            assert page.status_code == 200 and 'href="/intake"' in page.text
        assert web.get(f"{COURSE}/peg.svg").status_code == 404
        home = web.get("/mein-bereich")
        assert 'id="measures-due"' not in home.text


# ---- in the browser ----------------------------------------------------------------------------------
def test_journey_fill_in_and_see_the_course(
    sized_page: Page,  # noqa: F811
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        email = new_patient(web)
        signed_in(page, live_server, web)
    page.goto("/mein-bereich")
    assert "Offen zum Ausfüllen: Schmerz und Alltag" in page.locator("#measures-due").inner_text()
    save_screenshots(page, screenshot_dir, "measures-home")
    submit(page.get_by_role("link", name="Fragebogen ausfüllen"))
    assert page.locator("h1").inner_text() == "Fragebogen"
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "measures-form")

    peg = page.locator("#form-peg")
    peg.locator("#enjoyment-5").check()
    submit(peg.get_by_role("button", name=re.compile("^Antworten speichern")))
    assert page.locator(".error-summary").is_visible()
    assert page.locator("#pain-error").is_visible() and page.locator("#enjoyment-5").is_checked()
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "measures-errors")

    peg = page.locator("#form-peg")
    peg.locator("#pain-6").check()
    peg.locator("#activity-7").check()
    submit(peg.get_by_role("button", name=re.compile("^Antworten speichern")))
    assert "gespeichert" in page.locator("main").inner_text()
    psfs = page.locator("#form-psfs")
    psfs.locator("#activity-1-name").fill("Treppen steigen")
    psfs.locator("#activity-1-value-3").check()
    submit(psfs.get_by_role("button", name=re.compile("^Antworten speichern")))
    assert "Zurzeit ist kein Fragebogen offen." in page.locator("main").inner_text()

    with open_store(live_server) as store:
        move_intake_back(store, email, days=15)
        with store.transaction() as session:
            for row in session.scalars(select(MeasureResponse)):
                row.recorded_at -= dt.timedelta(days=15)
    page.goto(MEASURES)
    page.locator("#form-peg #pain-3").check()
    page.locator("#form-peg #enjoyment-3").check()
    page.locator("#form-peg #activity-2").check()
    submit(page.locator("#form-peg").get_by_role("button", name=re.compile("^Antworten speichern")))
    assert page.locator("#form-psfs #activity-1-name").input_value() == "Treppen steigen"
    page.locator("#form-psfs #activity-1-value-4").check()
    submit(page.locator("#form-psfs").get_by_role("button", name=re.compile("^Antworten speichern")))
    page.locator("#form-pgic #change-2").check()
    submit(page.locator("#form-pgic").get_by_role("button", name=re.compile("^Antworten speichern")))

    submit(page.get_by_role("link", name="Zum Verlauf"))
    assert page.locator("h1").inner_text() == "Mein Verlauf"
    main = page.locator("main").inner_text()
    assert (
        "Zuletzt: besser als beim ersten Mal." in main and "Zuletzt: etwa gleich wie beim ersten Mal." in main
    )
    charts = page.locator("img.chart")
    assert charts.count() == 3
    for index in range(3):
        assert charts.nth(index).evaluate("img => img.complete && img.naturalWidth > 0")
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "measures-course")
