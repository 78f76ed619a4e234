"""The patient's journey in Debian's Chromium: a self-care intake, saving it with a new account, the plan,
a diary entry and its chart; axe on the plan and the diary. Screenshots: patient-plan, patient-diary.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import save_screenshots, submit
from .test_axe import BLOCKING, axe_source, run_axe  # noqa: F401 (axe_source is a fixture)
from .test_journeys import SELF_CARE, answer_until_result
from .test_patient import PASSWORD, new_email

if TYPE_CHECKING:
    from playwright.sync_api import Page


def assert_accessible(page: Page, source: str) -> None:
    violations = run_axe(page, source)
    blocking = [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in violations
        if v.get("impact") in BLOCKING
    ]
    assert not blocking, json.dumps(blocking, indent=2)


def test_self_care_journey_to_plan_and_diary(page: Page, screenshot_dir: Path, axe_source: str) -> None:  # noqa: F811
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)
    assert "Selbst gut für sich sorgen" in page.locator("main").inner_text()
    submit(page.get_by_role("button", name="Speichern"))

    assert page.get_by_role("heading", level=1).inner_text() == "Konto anlegen"
    assert_accessible(page, axe_source)
    page.get_by_label("E-Mail-Adresse").fill(new_email())
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_repeat").fill(PASSWORD)
    page.get_by_label("Wie sollen wir Sie nennen?").fill("Mara")
    submit(page.get_by_role("button", name="Konto anlegen und speichern"))

    page.wait_for_url("**/mein-bereich")
    main = page.locator("main").inner_text()
    assert "Hallo, Mara!" in main and "Selbst gut für sich sorgen" in main
    submit(page.get_by_role("link", name="Zu meinem Plan"))
    page.wait_for_url("**/mein-bereich/plan")
    plan = page.locator("main").inner_text()
    assert "Ihre Übungen" in plan and "Wann aufhören" in plan and "Termine zum Prüfen" in plan
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "patient-plan")

    submit(page.get_by_role("link", name="Tagebuch"))
    page.wait_for_url("**/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("5")
    page.get_by_label("bis in Gesäß oder Oberschenkel").check()
    page.locator("#activity_minutes").fill("30")
    page.locator("#note").fill("Kurzer Spaziergang am Abend")
    submit(page.get_by_role("button", name="Eintrag speichern"))
    assert "Ihr Eintrag ist gespeichert." in page.locator("main").inner_text()
    assert page.get_by_role("alert").count() == 0

    page.goto("/mein-bereich/tagebuch")
    chart = page.locator("img.chart")
    page.wait_for_function("() => { const i = document.querySelector('img.chart'); return i && i.complete; }")
    assert chart.evaluate("img => img.naturalWidth") > 0
    assert chart.get_attribute("alt")
    assert "Kurzer Spaziergang am Abend" in page.locator(".diary-days").inner_text()
    assert_accessible(page, axe_source)
    save_screenshots(page, screenshot_dir, "patient-diary")


@pytest.mark.safety("SR-DIA-2", "SR-TRI-2")
def test_a_new_warning_sign_in_the_diary_puts_112_first(page: Page, screenshot_dir: Path) -> None:
    page.goto("/registrieren")
    page.locator("#email").fill(new_email())
    page.locator("#password").fill(PASSWORD)
    page.locator("#password_repeat").fill(PASSWORD)
    submit(page.get_by_role("button", name="Konto anlegen"))
    page.wait_for_url("**/mein-bereich")
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)
    submit(page.get_by_role("button", name="Speichern"))
    page.wait_for_url("**/mein-bereich")
    page.goto("/mein-bereich/tagebuch")
    page.get_by_label("unterer Rücken", exact=False).fill("6")
    page.get_by_label("Taubheit am Gesäß oder im Intimbereich").check()
    submit(page.get_by_role("button", name="Eintrag speichern"))
    number = page.locator(".emergency-number")
    box = number.bounding_box()
    assert box is not None and box["y"] < 30  # the 112 is the first thing on the page
    assert page.get_by_role("link", name="112 anrufen").first.get_attribute("href") == "tel:112"
    assert "Ihr Eintrag ändert unseren Rat" in page.locator("main").inner_text()
    save_screenshots(page, screenshot_dir, "patient-diary-emergency")
