"""axe-core (npm, pinned in package-lock.json) on every kind of page: no serious or critical violation.

axe is evaluated through Playwright's page.evaluate, which the page's CSP (script-src 'self') does not
block, so the pages are checked exactly as served, CSP included.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .. import needs
from .conftest import save_screenshots, submit
from .test_journeys import SELF_CARE, answer_until_result

if TYPE_CHECKING:
    from playwright.sync_api import Page

TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="session")
def axe_source() -> str:
    return needs.axe().read_text(encoding="utf-8")


def run_axe(page: Page, source: str) -> list[dict[str, Any]]:
    page.evaluate(source)
    options = {"runOnly": {"type": "tag", "values": TAGS}, "resultTypes": ["violations"]}
    result: dict[str, Any] = page.evaluate("options => axe.run(document, options)", options)
    return list(result["violations"])


def start_page(page: Page) -> None:
    page.goto("/")


def first_question(page: Page) -> None:
    page.goto("/intake")


def question_with_error(page: Page) -> None:
    page.goto("/intake")
    submit(page.get_by_role("button", name="Weiter"))


def text_question_with_error(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    for _ in range(3):
        submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer").fill("viel")
    submit(page.get_by_role("button", name="Weiter"))


def emergency_page(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-1").check()
    submit(page.get_by_role("button", name="Weiter"))


def signs_with_unsure(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-2-unsure").check()


def signs_with_both_ticked(page: Page) -> None:
    signs_with_unsure(page)
    page.locator("#answer-2").check()
    submit(page.get_by_role("button", name="Weiter"))


def emergency_unsure_result(page: Page) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-1-unsure").check()
    submit(page.get_by_role("button", name="Weiter"))
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))


def emergency_result(page: Page) -> None:
    emergency_page(page)
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))


def self_care_result(page: Page) -> None:
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)


def english_result(page: Page) -> None:
    page.goto("/intake?lang=en")
    answer_until_result(page, SELF_CARE)


def not_found(page: Page) -> None:
    page.goto("/nowhere")


def question_after_emergency(page: Page) -> None:
    """The 112 banner kept above a later question (issue #16)."""
    emergency_page(page)
    submit(page.get_by_role("button", name="Trotzdem weitere Fragen beantworten"))


def reading_index(page: Page) -> None:
    page.goto("/lesen")


def reading_module(page: Page) -> None:
    page.goto("/lesen/surgery_and_second_opinion")  # with checked and unchecked sources


def privacy_notice(page: Page) -> None:
    page.goto("/datenschutz")  # the operator's details missing: the notice shows


def legal_notice(page: Page) -> None:
    page.goto("/impressum?lang=en")


def intended_use(page: Page) -> None:
    page.goto("/zweckbestimmung?lang=de")


def offline_page(page: Page) -> None:
    page.goto("/offline")  # what the service worker shows for a page not kept on the device


def forgot_password(page: Page) -> None:
    # This server has no mail server: the page says so (the form itself: test_account_journey.py).
    page.goto("/passwort-vergessen")


def dead_reset_link(page: Page) -> None:
    page.goto("/passwort-neu?code=abgelaufen")


PAGES: dict[str, Callable[[Page], None]] = {
    "start": start_page,
    "question": first_question,
    "question-error": question_with_error,
    "text-question-error": text_question_with_error,
    "emergency": emergency_page,
    "emergency-result": emergency_result,
    "signs-unsure": signs_with_unsure,
    "signs-unsure-error": signs_with_both_ticked,
    "emergency-unsure-result": emergency_unsure_result,
    "result": self_care_result,
    "result-en": english_result,
    "not-found": not_found,
    "question-after-emergency": question_after_emergency,
    "reading": reading_index,
    "reading-module": reading_module,
    "privacy": privacy_notice,
    "imprint-en": legal_notice,
    "intended-use": intended_use,
    "offline": offline_page,
    "forgot-password": forgot_password,
    "dead-reset-link": dead_reset_link,
}


@pytest.mark.safety("SR-ACC-1")
@pytest.mark.parametrize("name", list(PAGES))
def test_no_serious_or_critical_violation(
    page: Page, axe_source: str, name: str, screenshot_dir: Path
) -> None:
    PAGES[name](page)
    violations = run_axe(page, axe_source)
    blocking = [v for v in violations if v.get("impact") in BLOCKING]
    summary = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
    ]
    if summary:
        print(f"{name}: {json.dumps(summary)}")
    assert not blocking, json.dumps(summary, indent=2)
    if name in ("start", "question-error", "text-question-error", "signs-unsure", "signs-unsure-error"):
        save_screenshots(page, screenshot_dir, f"axe-{name}")


@pytest.mark.safety("SR-ACC-1")
def test_the_check_finds_a_planted_violation(page: Page, axe_source: str) -> None:
    page.goto("/intake")
    page.evaluate("document.querySelector('label[for=answer-1]').remove()")
    ids = {v["id"] for v in run_axe(page, axe_source) if v.get("impact") in BLOCKING}
    assert "label" in ids
