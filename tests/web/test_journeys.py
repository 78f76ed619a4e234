"""Patient journeys in Debian's Chromium: emergency, self-care (with back and forward), English, keyboard.

Each journey saves screenshots of its last page (mobile and desktop width) to $RUECKENLOTSE_SCREENSHOTS.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import MOBILE, LiveServer, save_screenshots, submit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# How to answer each question in the browser: option numbers to tick, or text to type. Default: no / nothing.
SELF_CARE: dict[str, list[int] | str] = {
    "regions": [3],
    "age": "35",
    "sex": [1],
    "duration_weeks": "5 Tage",
    "pain_intensity": "4",
    "trauma": [1],
    "leg_pain": [1],
    "weakness": [1],
    "physiotherapy_weeks": "0",
    "home_exercise": [2],
}


def question_id(page: Page) -> str | None:
    locator = page.locator("form#step input[name=question]")
    if locator.count() == 0 or page.locator("form#step input[name=view]").input_value() != "question":
        return None
    return locator.input_value()


def answer(page: Page, plan: dict[str, list[int] | str], question: str) -> None:
    wanted = plan.get(question)
    if isinstance(wanted, str):
        page.locator("#answer").fill(wanted)
    elif wanted:
        for number in wanted:
            page.locator(f"#answer-{number}").check()
    elif page.locator("input[name=answer][value=no]").count():
        page.locator("input[name=answer][value=no]").check()
    # submit waits for the next page: reading the DOM while the POST is still in flight would see the
    # old question (or none at all) and end the walk too early.
    submit(page.get_by_role("button", name=next_label(page)))


def next_label(page: Page) -> str:
    return "Next" if page.locator("html").get_attribute("lang") == "en" else "Weiter"


def answer_until_result(page: Page, plan: dict[str, list[int] | str], limit: int = 60) -> list[str]:
    asked: list[str] = []
    while (question := question_id(page)) is not None:
        assert len(asked) < limit, asked
        asked.append(question)
        answer(page, plan, question)
        assert page.locator(".error-summary").count() == 0, (question, page.content()[:2000])
    return asked


@pytest.mark.safety("SR-RF-1", "SR-TRI-2")
def test_emergency_journey_shows_112_first(page: Page, screenshot_dir: Path) -> None:
    page.goto("/")
    submit(page.get_by_role("link", name="Einschätzung starten"))
    page.get_by_label("Unterer Rücken, Kreuz (Lendenwirbelsäule)").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.get_by_role("checkbox", name=re.compile(r"^Neu: Taubes Gefühl am After")).check()
    submit(page.get_by_role("button", name="Weiter"))

    alert = page.get_by_role("alert")
    assert "112" in alert.inner_text()
    number = page.locator(".emergency-number")
    box = number.bounding_box()
    assert box is not None and box["y"] < 30 and box["height"] > 60  # large, at the very top
    header = page.locator(".site-header").bounding_box()
    assert header is not None and header["y"] > box["y"] + box["height"]
    assert page.get_by_role("link", name="112 anrufen").first.get_attribute("href") == "tel:112"
    assert "Cauda-equina" in page.locator("main").inner_text()
    save_screenshots(page, screenshot_dir, "emergency")

    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))
    assert page.locator(".emergency-number").is_visible()
    assert "Notfall – rufen Sie jetzt 112 an" in page.locator("main").inner_text()
    save_screenshots(page, screenshot_dir, "emergency-result")


def test_self_care_journey_with_back_and_forward(page: Page, screenshot_dir: Path) -> None:
    page.goto("/intake")
    asked: list[str] = []
    while (question := question_id(page)) != "pain_intensity":
        assert question is not None
        asked.append(question)
        answer(page, SELF_CARE, question)
    # Back once: the duration is shown as given (in weeks); forward again: nothing is lost.
    page.locator("#answer").fill("4")
    submit(page.get_by_role("button", name="Zurück"))
    assert question_id(page) == "duration_weeks"
    assert page.locator("#answer").input_value() == "0.71"
    submit(page.get_by_role("button", name="Weiter"))
    assert question_id(page) == "pain_intensity"
    assert page.locator("#answer").input_value() == "4"
    asked += answer_until_result(page, SELF_CARE)
    assert "offer_startback" not in asked  # a recent pain: no questions about the risk of lasting pain

    main = page.locator("main").inner_text()
    assert "Selbst gut für sich sorgen – und später neu prüfen" in main
    assert "In Ihren Angaben haben wir keine Warnzeichen gefunden." in main
    assert page.get_by_role("alert").count() == 0
    assert page.locator("#source-1").count() == 1
    save_screenshots(page, screenshot_dir, "self-care-result")


@pytest.mark.safety("SR-LANG-1")
def test_english_switch_on_the_start_page(page: Page, screenshot_dir: Path) -> None:
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "de"
    submit(page.get_by_role("button", name="Switch to English"))
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text() == "Back pain? Find out what helps now."
    submit(page.get_by_role("link", name="Start the assessment"))
    assert page.get_by_role("heading", level=1).inner_text() == "Where do you have pain?"
    assert "Question 1 of about" in page.locator("main").inner_text()
    answer_until_result(page, SELF_CARE | {"duration_weeks": "5 days"})
    main = page.locator("main").inner_text()
    assert "Look after yourself – and check again later" in main
    assert "Why this assessment" in main and "Weiter" not in main
    save_screenshots(page, screenshot_dir, "english-result")

    submit(page.get_by_role("button", name="Auf Deutsch umschalten"))
    assert "Selbst gut für sich sorgen" in page.locator("main").inner_text()


def submit_with(page: Page, key: str) -> None:
    with page.expect_navigation():
        page.keyboard.press(key)


@pytest.mark.safety("SR-ACC-1")
def test_keyboard_only(page: Page) -> None:
    page.goto("/intake")
    focused: list[str] = []
    for _ in range(5):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.id || document.activeElement.className"))
    # The natural order: the header (name, "Anmelden", language), then the question.
    assert focused == ["skip-link", "brand", "header-login", "button-link", "answer-1"], focused
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # the focus is visible
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")  # low back
    assert page.locator("#answer-3").is_checked()
    page.keyboard.press("Tab")
    submit_with(page, "Enter")  # on "Weiter"
    assert question_id(page) == "emergency_signs"
    for _ in range(2):  # no warning signs: straight to "Weiter"
        page.locator("form#step button[value=next]").focus()
        submit_with(page, "Enter")
    assert question_id(page) == "age"
    page.keyboard.press("Tab")
    while page.evaluate("document.activeElement.id") != "answer":
        page.keyboard.press("Tab")
    submit_with(page, "Enter")  # empty: the error summary gets the focus (app.js)
    assert page.evaluate("document.activeElement.classList.contains('error-summary')")
    page.locator("#answer").focus()
    page.keyboard.type("35")
    submit_with(page, "Enter")  # Enter in the field submits with "Weiter", never "Zurück"
    assert question_id(page) == "sex"


@pytest.mark.safety("SR-ACC-1")
def test_everything_works_without_javascript(browser: Browser, live_server: LiveServer) -> None:
    # A German browser: without ?lang= or the cookie, the pages follow Accept-Language.
    context = browser.new_context(
        base_url=live_server.url, viewport=MOBILE, java_script_enabled=False, locale="de-DE"
    )
    try:
        page = context.new_page()
        page.goto("/")
        submit(page.get_by_role("button", name="Switch to English"))
        submit(page.get_by_role("link", name="Start the assessment"))
        submit(page.get_by_role("button", name="Next"))  # nothing chosen: the error, without app.js
        assert "Please choose at least one area." in page.locator(".error-summary").inner_text()
        answer_until_result(page, SELF_CARE | {"duration_weeks": "1"})
        assert "Look after yourself" in page.locator("main").inner_text()
    finally:
        context.close()


# ---- contract 2 in the browser ----------------------------------------------------------------------------
@pytest.mark.safety("SR-Q-1", "SR-RF-1")
def test_not_sure_in_the_browser_shows_112_and_says_why(page: Page, screenshot_dir: Path) -> None:
    page.goto("/intake")
    page.get_by_label("Unterer Rücken, Kreuz (Lendenwirbelsäule)").check()
    submit(page.get_by_role("button", name="Weiter"))
    assert question_id(page) == "emergency_signs"
    unsure = page.get_by_role("checkbox", name=re.compile(r"^Nicht sicher\s*: Neu: Taubes Gefühl"))
    sign = page.get_by_role("checkbox", name=re.compile(r"^Neu: Taubes Gefühl"))
    unsure.check()
    assert unsure.is_checked() and not sign.is_checked()
    # on a phone, the "not sure" box sits under its sign, inside the screen, and is large enough to tap
    sign_box, unsure_box = sign.bounding_box(), page.locator(".choice-unsure").first.bounding_box()
    assert sign_box is not None and unsure_box is not None
    assert unsure_box["y"] > sign_box["y"] and unsure_box["x"] + unsure_box["width"] <= 390
    assert unsure_box["height"] >= 24
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing sticks out sideways
    save_screenshots(page, screenshot_dir, "signs-with-unsure")
    submit(page.get_by_role("button", name="Weiter"))

    assert "112" in page.get_by_role("alert").inner_text()
    main = page.locator("main").inner_text()
    assert "Hier waren Sie sich nicht sicher" in main and "Zur Sicherheit gehen wir davon aus" in main
    save_screenshots(page, screenshot_dir, "emergency-unsure")
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))
    reasons = page.locator("section", has=page.locator("#reasons-title")).inner_text()
    assert "Taubes Gefühl" in reasons and "waren Sie sich nicht sicher" in reasons
    save_screenshots(page, screenshot_dir, "result-unsure")


@pytest.mark.safety("SR-Q-1")
def test_not_sure_on_a_yes_no_question_in_the_browser(page: Page, screenshot_dir: Path) -> None:
    page.goto("/intake")
    while (question := question_id(page)) != "neuro_bilateral_legs":
        assert question is not None
        answer(page, SELF_CARE | {"regions": [1]}, question)
    radios = page.locator("input[name=answer]")
    assert [radios.nth(i).get_attribute("value") for i in range(radios.count())] == ["yes", "no", "unsure"]
    page.get_by_label("Nicht sicher").check()
    save_screenshots(page, screenshot_dir, "yes-no-unsure")
    submit(page.get_by_role("button", name="Weiter"))
    if page.locator(".page-emergency").count():  # an emergency page may come first: go on
        submit(page.get_by_role("button", name="Trotzdem weitere Fragen beantworten"))
    answer_until_result(page, SELF_CARE | {"regions": [1]})
    assert (
        "Bei „Beschwerden in beiden Beinen“ waren Sie sich nicht sicher." in page.locator("main").inner_text()
    )


@pytest.mark.safety("SR-Q-2")
def test_pregnancy_in_the_browser_only_for_a_woman(page: Page, screenshot_dir: Path) -> None:
    page.goto("/intake")
    asked = answer_until_result(page, SELF_CARE | {"sex": [2]})
    assert not {"pregnant", "pregnancy_week", "pregnancy_warning_signs", "gave_birth_recently"} & set(asked)
    page.goto("/intake")
    woman = SELF_CARE | {"sex": [1], "pregnant": [1], "pregnancy_week": "30"}
    while (question := question_id(page)) != "pregnancy_warning_signs":
        assert question is not None
        answer(page, woman, question)
    save_screenshots(page, screenshot_dir, "pregnancy-warning-signs")
    asked = answer_until_result(page, woman)
    assert "gave_birth_recently" not in asked


@pytest.mark.safety("SR-Q-2")
def test_legs_and_arms_in_the_browser_for_neck_pain_alone(page: Page) -> None:
    page.goto("/intake")
    asked = answer_until_result(page, SELF_CARE | {"regions": [1]})
    for qid in ("leg_pain", "arm_pain", "neuro_bilateral_legs", "neuro_bilateral_arms", "hand_clumsiness"):
        assert qid in asked, qid
