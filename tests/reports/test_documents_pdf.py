"""The PDF reports of every public vignette, read back with pdftotext and drawn with pdftoppm (poppler).

One PDF per vignette and kind, each rendered once; the checks read its text in content order (-raw),
with runs of whitespace folded, so that a line break inside a long question does not matter.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse import assess
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Assessment, Case
from rueckenlotse.reports.documents import build_view, render_report
from rueckenlotse.reports.documents.render import package_only_fetcher
from rueckenlotse.reports.documents.texts import document_texts
from rueckenlotse.reports.documents.views import ClinicianReport

from ..conftest import SHARED

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
CASES = SHARED / "cases" / "v2"  # contract 2: the public vignettes of version 1 and the new ones
VIGNETTES = sorted(p.stem for p in CASES.glob("*.json"))

pytestmark = pytest.mark.usefixtures("poppler")


def vignette(name: str, lang: str = "de") -> tuple[Case, Assessment]:
    data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text("utf-8"))
    case = Case.model_validate(data["case"])
    return case, assess(case, lang=lang)


# What the page margins print (the running footer) and the list bullets: -raw puts them where a page
# ends, which may be inside a long recommendation.
_PAGE_FURNITURE = re.compile(r"^(•|Rückenlotse · .* (Seite|Page) \d+ (von|of) \d+)$")


def pdf_text(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True, check=True)
    lines = out.stdout.decode("utf-8").replace("\f", "\n").splitlines()
    return " ".join(" ".join(x for x in lines if not _PAGE_FURNITURE.match(x.strip())).split())


def folded(text: str) -> str:
    return " ".join(text.split())


def unbroken(text: str) -> str:
    """Text whose lines broke after a hyphen ("Reithosen- Bereich") joined again."""
    return re.sub(r"(?<=\w)- (?=\w)", "-", text)


@pytest.mark.parametrize("name", VIGNETTES)
def test_clinician_pdf_has_triage_every_warning_sign_answer_and_the_sources(
    name: str, kb: KnowledgeBase
) -> None:
    case, assessment = vignette(name)
    pdf = render_report("clinician", case, assessment, fmt="pdf", person_label="PX-1", generated_at=AT)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert folded(kb.render(f"triage.{assessment.triage.value}.title", "de")) in text
    assert folded(document_texts().get(f"doc.level.{assessment.triage.value}", "de")) in text
    view = build_view("clinician", case, assessment, lang="de", generated_at=AT)
    assert isinstance(view, ClinicianReport)
    assert len(view.signs) >= 25
    # Yes: a table row with its answer. No and not asked: listed after their heading ("Verneint: …").
    headings = {
        a: folded(document_texts().get(f"doc.clinician.signs_{a}", "de") + ":") for a in ("no", "not_asked")
    }
    for sign in view.signs:
        if sign.answer == "yes":
            assert folded(f"{sign.label} ▶ {sign.text}") in text, sign.field
        else:
            assert headings[sign.answer] in text, sign.answer
            listed = unbroken(text[text.index(headings[sign.answer]) :])
            assert folded(sign.label) in listed, sign.field
    cited = {s for rec in assessment.recommendations for s in rec.sources}
    cited |= {row.source for row in assessment.imaging_context}
    for source_id in cited:
        assert folded(kb.sources[source_id].title) in text, source_id
    assert "PX-1" in text
    assert kb.version in text


@pytest.mark.safety("SR-INF-1", "SR-INF-2")
@pytest.mark.parametrize("name", VIGNETTES)
def test_patient_pdf_has_triage_advice_seek_care_signs_and_sources(name: str, kb: KnowledgeBase) -> None:
    case, assessment = vignette(name, "en")
    pdf = render_report("patient", case, assessment, lang="en", fmt="pdf", generated_at=AT)
    text = pdf_text(pdf)
    assert folded(kb.render(f"triage.{assessment.triage.value}.title", "en")) in text
    assert folded(kb.triage_action(assessment, "en")) in text
    assert folded(document_texts().get("doc.patient.seek_care_title", "en")) in text
    for rec in assessment.recommendations:
        assert folded(rec.text) in text, rec.id
        for source_id in rec.sources:  # a patient reads only the checked sources (issue #16)
            source = kb.sources[source_id]
            assert (folded(source.title) in text) == (source.status == "checked"), source_id
    assert folded(kb.render("ui.disclaimer", "en")) in text
    if assessment.triage.value == "emergency":
        assert text.startswith("112 ")


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Path]]:
    """The first pages of an emergency and of a calm report, drawn as PNG (kept for a look by eye)."""
    folder = tmp_path_factory.mktemp("pages")
    drawn: dict[str, list[Path]] = {}
    drawn_cases = (
        ("p01-ces-classic", "clinician"),
        ("p13-mri-context", "patient"),
        ("p42-pregnancy-warning-signs", "clinician"),
        ("p29-thoracic-exertion-sweating", "patient"),
    )
    for name, kind in drawn_cases:
        case, assessment = vignette(name)
        pdf = folder / f"{name}-{kind}.pdf"
        pdf.write_bytes(render_report(kind, case, assessment, fmt="pdf", generated_at=AT))
        subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(folder / pdf.stem)], check=True)
        drawn[name] = sorted(folder.glob(f"{pdf.stem}-*.png"))
    return drawn


def test_pages_are_a4_and_drawn(pages: dict[str, list[Path]]) -> None:
    from PIL import Image

    for name, files in pages.items():
        assert files, name
        for file in files:
            with Image.open(file) as image:
                width, height = image.size
                # A4 is 210 x 297 mm: at 50 dpi about 413 x 585 pixels
                assert abs(width - 413) <= 2 and abs(height - 585) <= 2, (name, image.size)
                assert image.convert("L").getextrema()[0] < 50  # there is dark ink on every page


@pytest.mark.safety("SR-WEB-2")
def test_the_report_never_fetches_from_outside_the_package() -> None:
    fetcher = package_only_fetcher()
    for url in ("http://127.0.0.1:9/x.png", "https://example.org/a.css", "file:///etc/passwd", "ftp://x/y"):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
    inside = Path(__file__).resolve().parents[2] / "src" / "rueckenlotse" / "reports" / "templates"
    response = fetcher.fetch((inside / "base.html").as_uri())
    try:
        assert b"<html" in response.read()
    finally:
        response.close()
    data = fetcher.fetch("data:text/plain;base64,aGFsbG8=")
    try:
        assert data.read() == b"hallo"
    finally:
        data.close()
