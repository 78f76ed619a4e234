"""Printing the result page (issue #16): page 1 used to hold only the triage and the reasons,
two-thirds empty, because every section was kept whole and the long advice moved to page 2. Printed by
Chromium (page.pdf, A4, print CSS) and read back with poppler; the new pages at phone and desktop width are
saved for a look."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .conftest import save_screenshots, submit
from .test_journeys import SELF_CARE, answer_until_result

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.usefixtures("poppler")


def _pages(pdf: Path) -> list[str]:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    count = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
    return [
        subprocess.run(
            ["pdftotext", "-f", str(n), "-l", str(n), "-layout", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for n in range(1, count + 1)
    ]


def test_the_printed_result_fills_page_one(page: Page, tmp_path: Path) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/intake")
    answer_until_result(page, SELF_CARE)
    pdf = tmp_path / "ergebnis.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    pages = _pages(pdf)
    first = pages[0]
    assert "Selbst gut für sich sorgen" in first
    # The advice starts on page 1, right after the reasons, instead of leaving the page two-thirds empty.
    assert "Was Sie jetzt tun können" in first and "Hilfe holen" in first
    assert len([line for line in first.splitlines() if line.strip()]) >= 25
    assert len(pages) <= 2
    assert "Weiter" not in "".join(pages)  # no buttons, no footer on paper
    assert "Quellen" in pages[-1]


def test_the_printed_emergency_result_starts_with_112(page: Page, tmp_path: Path) -> None:
    page.goto("/intake")
    page.locator("#answer-3").check()
    submit(page.get_by_role("button", name="Weiter"))
    page.locator("#answer-1").check()
    submit(page.get_by_role("button", name="Weiter"))
    submit(page.get_by_role("button", name="Zusammenfassung ansehen"))
    pdf = tmp_path / "notfall.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    assert _pages(pdf)[0].lstrip().startswith("112")


@pytest.mark.parametrize(
    "path", ["/lesen", "/lesen/when_to_seek_care", "/datenschutz", "/impressum", "/zweckbestimmung"]
)
def test_the_new_pages_at_phone_and_desktop_width(page: Page, path: str, screenshot_dir: Path) -> None:
    page.goto(path)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"{path} scrolls sideways on a phone ({width} px)"
    save_screenshots(page, screenshot_dir, "info-" + path.strip("/").replace("/", "-"))
