"""Today's session (/mein-bereich/heute) over real HTTP and in Debian's Chromium at 390 and 1280 px.

- The forms: post/redirect/get to the exercise's anchor with a confirmation, a form posted twice saves one
  row, an unknown rating or an empty form answers 422 with a field error, an exercise not in today's plan
  400; under a diary warning sign the page shows no exercise and no form; without intake the plan's page.
- Without JavaScript the page shows no timer (nothing broken) and its forms work.
- The journey: a person runs the timer, ticks two exercises "erledigt", finds one "zu schwer", and sees on
  the plan page that next week holds that exercise — and, a day later when the traffic light has stepped up
  the level, that the week holds it instead of the harder one (without the rule it would not).
Screenshots go to $RUECKENLOTSE_SCREENSHOTS (session-today, session-saved, session-plan-next-week).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import select, text

from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.store.schema import ExerciseFeedbackRow

from .conftest import DESKTOP, MOBILE, LiveServer, save_screenshots, submit
from .pages_helpers import text_of
from .test_auth import csrf_of, open_store, own_client
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_diary_forms import move_intake_back, person_of_email
from .test_patient import new_email, new_patient, register
from .test_patient_journey import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

SESSION = "/mein-bereich/heute"
SIZES = {"390": MOBILE, "1280": DESKTOP}
KEY = re.compile(r'name="entry_key" value="([A-Za-z0-9_-]{20,64})"')


def form_for(client: httpx.Client, exercise_id: str, **fields: str) -> dict[str, str]:
    page = client.get(SESSION)
    assert page.status_code == 200, page.text[:500]
    article = page.text.split(f'id="uebung-{exercise_id}"', 1)[1]
    key = KEY.search(article)
    assert key is not None
    return {"csrf_token": csrf_of(page), "exercise": exercise_id, "entry_key": key.group(1), **fields}


def feedback_rows(live_server: LiveServer, email: str) -> list[ExerciseFeedbackRow]:
    with open_store(live_server) as store, store.transaction() as session:
        person = person_of_email(store, email)
        rows = session.scalars(
            select(ExerciseFeedbackRow).where(ExerciseFeedbackRow.person_id == person)
        ).all()
        session.expunge_all()
        return list(rows)


@pytest.fixture
def patient(live_server: LiveServer) -> Iterator[tuple[httpx.Client, str]]:
    with own_client(live_server) as web:
        yield web, new_patient(web)


def test_the_session_shows_todays_exercises_with_dose_steps_and_forms(
    patient: tuple[httpx.Client, str],
) -> None:
    web, _ = patient
    page = web.get(SESSION)
    assert page.status_code == 200
    body = text_of(page.text)
    assert "Ihre Übungen heute" in body and "Becken kippen" in body or "pelvic_tilt" in page.text
    assert 'id="uebung-pelvic_tilt"' in page.text and 'id="uebung-knee_rocking"' in page.text
    assert "So geht es" in body and "Wann aufhören" in body and "10-mal" in body
    assert page.text.count('name="rating"') == 2 * 4 and 'href="/mein-bereich/heute"' in page.text
    assert "session.js" in page.text and "hidden>" in page.text.replace('"\n', '"').replace(
        " hidden>", "hidden>"
    )
    plan = web.get("/mein-bereich/plan")
    assert 'href="/mein-bereich/heute"' in plan.text and "Nächste Woche" in plan.text


def test_posting_twice_saves_one_row_and_redirects_to_the_exercise(
    patient: tuple[httpx.Client, str], live_server: LiveServer
) -> None:
    web, email = patient
    data = form_for(web, "pelvic_tilt", done="1", rating="too_hard")
    first = web.post(SESSION, data=data)
    second = web.post(SESSION, data=data)
    for response in (first, second):
        assert response.status_code == 303
        assert response.headers["location"] == f"{SESSION}?gespeichert=pelvic_tilt#uebung-pelvic_tilt"
    rows = feedback_rows(live_server, email)
    assert [(r.exercise_id, r.done, r.rating) for r in rows] == [("pelvic_tilt", True, "too_hard")]
    shown = text_of(web.get(first.headers["location"]).text)
    assert "Gespeichert:" in shown and "Heute: erledigt, zu schwer" in shown
    plan = text_of(web.get("/mein-bereich/plan").text)
    assert "Bleibt nächste Woche gleich – Sie fanden sie zu schwer." in plan
    diary = text_of(web.get("/mein-bereich/tagebuch").text)
    assert "Übungen" in diary and "zu schwer" in diary
    csv_text = web.get("/mein-bereich/tagebuch/uebungen.csv")
    assert csv_text.status_code == 200 and "pelvic_tilt,yes,too_hard" in csv_text.text
    export = web.get("/mein-bereich/daten/export.json").json()
    assert [f["rating"] for f in export["exercise_feedback"]] == ["too_hard"]


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"rating": "super"}, "Wählen Sie eine der Antworten"),
        ({}, "Kreuzen Sie „erledigt“ an"),
    ],
)
def test_bad_answers_get_a_field_error_and_save_nothing(
    patient: tuple[httpx.Client, str], live_server: LiveServer, fields: dict[str, str], message: str
) -> None:
    web, email = patient
    response = web.post(SESSION, data=form_for(web, "knee_rocking", **fields))
    assert response.status_code == 422
    assert message in text_of(response.text) and 'href="#rating-knee_rocking"' in response.text
    assert 'aria-describedby="rating-knee_rocking-error"' in response.text
    assert feedback_rows(live_server, email) == []


def test_an_exercise_not_in_today_plan_or_a_missing_key_is_refused(
    patient: tuple[httpx.Client, str], live_server: LiveServer
) -> None:
    web, email = patient
    data = form_for(web, "knee_rocking", done="1")
    assert web.post(SESSION, data={**data, "exercise": "side_plank_knees"}).status_code == 400
    assert web.post(SESSION, data={**data, "exercise": "../../etc"}).status_code == 400
    assert web.post(SESSION, data={k: v for k, v in data.items() if k != "entry_key"}).status_code == 400
    take = web.post(SESSION, data={**data, "rating": "take_next"})  # no offer stands
    assert take.status_code == 422 and "nächste Stufe ist gerade nicht vorgesehen" in text_of(take.text)
    assert web.post(SESSION, data={k: v for k, v in data.items() if k != "csrf_token"}).status_code == 403
    assert feedback_rows(live_server, email) == []


def test_a_warning_sign_leaves_the_session_without_exercises(
    patient: tuple[httpx.Client, str], live_server: LiveServer
) -> None:
    web, email = patient
    data = form_for(web, "pelvic_tilt", done="1")
    with open_store(live_server) as store:
        person = person_of_email(store, email)
        moment = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        entry = {"recorded_at": moment, "pain": {"low_back": 5}, "warning_signs": ["bladder_dysfunction"]}
        store.add_diary_entry(person, DiaryEntry.model_validate(entry))
    page = web.get(SESSION)
    body = text_of(page.text)
    assert page.status_code == 200 and "enthält Ihr Plan keine Übungen" in body
    assert 'name="rating"' not in page.text and "uebung-" not in page.text and "session.js" not in page.text
    assert web.post(SESSION, data=data).status_code == 400
    assert feedback_rows(live_server, email) == []


def test_without_intake_the_session_is_the_plan_page_without_intake(live_server: LiveServer) -> None:
    with own_client(live_server) as web:
        assert register(web, new_email()).status_code == 303
        session, plan = web.get(SESSION), web.get("/mein-bereich/plan")
    assert session.status_code == plan.status_code == 200
    assert text_of(session.text).split("Ihr Bereich")[-1] == text_of(plan.text).split("Ihr Bereich")[-1]


# ---- in the browser ----------------------------------------------------------------------------------
@pytest.fixture(params=sorted(SIZES))
def sized_page(request: pytest.FixtureRequest, browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport=SIZES[request.param], locale="de-DE")
    try:
        context.set_default_timeout(10_000)
        yield context.new_page()
    finally:
        context.close()


def signed_in(page: Page, live_server: LiveServer, web: httpx.Client) -> None:
    host = urlsplit(live_server.url).hostname
    page.context.add_cookies(
        [{"name": c.name, "value": c.value or "", "domain": host, "path": "/"} for c in web.cookies.jar]
    )


def test_without_javascript_the_page_and_its_forms_work(browser: Browser, live_server: LiveServer) -> None:
    context = browser.new_context(
        base_url=live_server.url, viewport=MOBILE, locale="de-DE", java_script_enabled=False
    )
    try:
        page = context.new_page()
        with own_client(live_server) as web:
            email = new_patient(web)
            signed_in(page, live_server, web)
        page.goto(SESSION)
        assert page.locator(".session-timer").first.is_hidden(), "no timer controls without the script"
        article = page.locator("#uebung-knee_rocking")
        article.get_by_label("Ich habe diese Übung heute gemacht").check()
        article.get_by_label("passt").check()
        submit(article.get_by_role("button", name="Speichern"))
        assert page.url.endswith(f"{SESSION}?gespeichert=knee_rocking#uebung-knee_rocking")
        assert "Gespeichert: " in page.locator("main").inner_text()
        rows = feedback_rows(live_server, email)
        assert [(r.exercise_id, r.done, r.rating) for r in rows] == [("knee_rocking", True, "fits")]
    finally:
        context.close()


def shift_a_day(live_server: LiveServer, email: str, days: int) -> None:
    """Time passes by one day: the intake lies ``days`` back and every feedback row a day earlier."""
    with open_store(live_server) as store:
        move_intake_back(store, email, days=days)
        with store.transaction() as session:
            for row in session.scalars(select(ExerciseFeedbackRow)):
                row.recorded_at = row.recorded_at - dt.timedelta(days=1)
            session.execute(text("DELETE FROM diary_checkpoints"))


def test_journey_timer_done_too_hard_and_next_week_holds_the_exercise(
    sized_page: Page,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    page = sized_page
    with own_client(live_server) as web:
        email = new_patient(web)
        signed_in(page, live_server, web)
    # Today is the last day of plan week 1, and the diary of that week lets the traffic light step up.
    with open_store(live_server) as store:
        move_intake_back(store, email, days=6)
        person = person_of_email(store, email)
        start = (dt.datetime.now(dt.UTC) - dt.timedelta(days=6)).date()
        for day in range(6):
            moment = dt.datetime.combine(start + dt.timedelta(days=day), dt.time(12), tzinfo=dt.UTC)
            store.add_diary_entry(
                person, DiaryEntry.model_validate({"recorded_at": moment, "pain": {"low_back": 4}})
            )

    page.goto(SESSION)
    assert page.locator("h1").inner_text() == "Ihre Übungen heute"
    first, second = page.locator("#uebung-pelvic_tilt"), page.locator("#uebung-knee_rocking")
    title = first.locator("h2").inner_text().split(" – ")[0]
    # The timer: start, see it count down, pause, and it stands still.
    timer = first.locator(".session-timer")
    assert timer.is_visible()
    display = timer.locator(".session-timer-display")
    initial = display.inner_text()
    timer.get_by_role("button", name=re.compile("^Start")).click()
    page.wait_for_function(
        "([el, t]) => el.textContent.trim() !== t", arg=[display.element_handle(), initial], timeout=5000
    )
    assert timer.locator(".session-timer-status").get_attribute("aria-live") == "polite"
    timer.get_by_role("button", name=re.compile("^Pause")).click()
    paused = display.inner_text()
    assert paused != initial
    page.wait_for_timeout(1500)
    assert display.inner_text() == paused
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "session-today")

    # Two exercises done, one of them too hard.
    first.get_by_label("Ich habe diese Übung heute gemacht").check()
    first.get_by_label("zu schwer").check()
    submit(first.get_by_role("button", name="Speichern"))
    assert page.url.endswith("#uebung-pelvic_tilt")
    assert f"Gespeichert: {title}" in page.locator("main").inner_text()
    second = page.locator("#uebung-knee_rocking")
    second.get_by_label("Ich habe diese Übung heute gemacht").check()
    submit(second.get_by_role("button", name="Speichern"))
    main = page.locator("main").inner_text()
    assert "Heute: erledigt, zu schwer" in main and main.count("Heute: erledigt") == 2
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "session-saved")

    # The plan page: next week (not yet decided) holds that exercise, with the note.
    page.goto("/mein-bereich/plan")
    held = page.locator('.next-week-list li[data-exercise="pelvic_tilt"]')
    assert title in held.inner_text()
    assert "Bleibt nächste Woche gleich – Sie fanden sie zu schwer." in held.inner_text()
    save_screenshots(page, screenshot_dir, "session-plan-next-week")

    # A day later week 2 has begun: the traffic light stepped up to level 2 (its first exercise would be
    # the bridge), but the slot holds the exercise found too hard.
    shift_a_day(live_server, email, days=7)
    page.goto("/mein-bereich/plan")
    main = page.locator("main").inner_text()
    assert "Stufe 2" in main
    exercises = page.locator("#uebungen").locator("..")
    assert exercises.locator("#exercise-pelvic_tilt").count() == 1
    assert exercises.locator("#exercise-bridge").count() == 0
    assert "Bleibt gleich – Sie fanden sie zu schwer." in exercises.inner_text()
