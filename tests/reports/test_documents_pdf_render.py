"""How the PDF is made fast (issue #13) without changing what it shows: the stylesheet and fonts loaded once
per thread, the page prepared for WeasyPrint (no ids, bullets as text) and the chart's SVG made lean.

Speed itself is measured by benchmarks/report_render.py, never here.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.reports.documents import build_view, render_html, render_report
from rueckenlotse.reports.documents.diary import lean_chart_svg
from rueckenlotse.reports.documents.render import BULLET, _pdf_tools, _prepare_for_pdf


def plot_diary(*args: Any, **kwargs: Any) -> None:
    """reports.plots.plot_diary, imported when a test draws: matplotlib is not loaded at collection."""
    from rueckenlotse.reports.plots import plot_diary as draw

    draw(*args, **kwargs)


AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
CASE = Case.model_validate(
    {"age": 42, "regions": ["low_back"], "duration_weeks": 8, "leg_pain": "below_knee", "pain_intensity": 6}
)


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    return " ".join(out.stdout.decode("utf-8").split())


def test_the_html_for_the_pdf_leaves_the_stylesheet_to_the_renderer_but_keeps_the_footer() -> None:
    from rueckenlotse import assess

    view = build_view("patient", CASE, assess(CASE), lang="de", generated_at=AT)
    full, for_pdf = render_html(view), render_html(view, inline_css=False)
    assert "table-layout: fixed" in full and "table-layout: fixed" not in for_pdf
    for html in (full, for_pdf):
        assert "counter(pages)" in html and "Ihre Zusammenfassung" in html
    # the rest of the page is the same
    assert re.sub(r"<style>.*</style>", "", full, flags=re.S) == re.sub(
        r"<style>.*</style>", "", for_pdf, flags=re.S
    )


def test_preparing_for_the_pdf_drops_ids_and_writes_the_bullets_of_lists_only() -> None:
    from weasyprint import HTML

    page = HTML(
        string='<ul id="u"><li id="a">eins</li><li><b>zwei</b></li></ul><ol><li id="s">quelle</li></ol>'
        '<p id="p">text</p>'
    )
    _prepare_for_pdf(page.etree_element)
    assert all("id" not in element.attrib for element in page.etree_element.iter())
    items = [element for element in page.etree_element.iter() if element.tag == "li"]
    assert [item.text for item in items] == [BULLET + "eins", BULLET, "quelle"]  # the <ol> keeps numbers


@pytest.mark.usefixtures("poppler")
def test_the_pdf_shows_footer_bullets_and_every_item() -> None:
    from rueckenlotse import assess

    assessment = assess(CASE)
    text = pdf_text(render_report("patient", CASE, assessment, fmt="pdf", generated_at=AT))
    assert re.search(r"Rückenlotse · Ihre Zusammenfassung Seite 1 von \d", text)
    for rec in assessment.recommendations:
        assert " ".join(f"• {rec.text}".split()) in text.replace("\u00a0", " "), rec.id


@pytest.mark.usefixtures("poppler")
def test_threads_render_at_once_each_with_its_own_fonts() -> None:
    """The web renders PDFs in a thread pool: each thread has its tools, and the PDFs come out whole."""
    from rueckenlotse import assess

    assessment = assess(CASE)
    alone = pdf_text(render_report("clinician", CASE, assessment, fmt="pdf", generated_at=AT))
    results: dict[int, str] = {}
    tools: dict[int, int] = {}

    def work(index: int) -> None:
        tools[index] = id(_pdf_tools())
        pdf = render_report("clinician", CASE, assessment, fmt="pdf", generated_at=AT)
        results[index] = pdf_text(pdf)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(results) == [0, 1, 2]
    assert all(text == alone for text in results.values())
    assert len(set(tools.values())) == 3 and id(_pdf_tools()) not in tools.values()


def _diary_svg(tmp_path: Path) -> str:
    start = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)
    entries = [
        DiaryEntry.model_validate(
            {
                "recorded_at": start + dt.timedelta(days=d),
                "pain": {"low_back": 6 - d // 6},
                "activity_minutes": 20,
            }
        )
        for d in range(0, 30, 2)
    ]
    path = tmp_path / "chart.svg"
    plot_diary(entries, milestones=[(start.date() + dt.timedelta(days=28), "Woche 4")], svg_path=path)
    return path.read_text(encoding="utf-8")


@pytest.mark.usefixtures("poppler")
def test_the_lean_chart_is_drawn_exactly_like_matplotlibs(tmp_path: Path) -> None:
    from PIL import Image, ImageChops
    from weasyprint import HTML

    raw = _diary_svg(tmp_path)
    lean = lean_chart_svg(raw)
    assert lean.startswith("<?xml") and "<metadata" not in lean and "style=" not in lean
    assert len(lean) < len(raw)
    texts = re.compile(r"<text[^>]*>([^<]*)</text>")
    assert texts.findall(lean) == texts.findall(raw) and texts.findall(lean)
    for referenced in re.findall(r'url\(#([^)]+)\)|href="#([^"]+)"', lean):
        assert f'id="{referenced[0] or referenced[1]}"' in lean
    pictures = []
    for name, svg in (("raw", raw), ("lean", lean)):
        uri = "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")
        pdf = tmp_path / f"{name}.pdf"
        HTML(string=f'<body style="margin:0"><img style="width:100%" src="{uri}"></body>').write_pdf(pdf)
        subprocess.run(
            ["pdftoppm", "-r", "80", "-png", "-singlefile", str(pdf), str(tmp_path / name)], check=True
        )
        pictures.append(Image.open(tmp_path / f"{name}.png").convert("L"))
    assert pictures[0].getextrema()[0] < 50  # something was drawn
    assert ImageChops.difference(pictures[0], pictures[1]).getbbox() is None
