"""The clinician report of a stored person with a diary: chart, escalations and notes (real SQLite store).

Hostile text (HTML, very long, right-to-left and direction overrides) in the name, the pseudonym and the
notes must neither break the page nor reach it as markup.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.reports.documents import ReportDiary, render_report
from rueckenlotse.reports.documents.common import LABEL_LIMIT, clean_user_text
from rueckenlotse.reports.documents.diary import CHART_JPEG_URL
from rueckenlotse.services.followup import add_entry, latest_of, record_intake
from rueckenlotse.services.report_diary import diary_from_store
from rueckenlotse.store import Store

INTAKE_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
AT = dt.datetime(2026, 4, 10, 8, 0, tzinfo=dt.UTC)
CASE = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6})
SCRIPT = "<script>alert('x')</script>"
HOSTILE_NAME = f"{SCRIPT}<img src=x onerror=alert(1)> \u202eevil\u202c שלום עולם " + "W" * 3000
HOSTILE_NOTE = f"</bdi></li></ul><h1>Gefälscht</h1>{SCRIPT} مرحبا \u202egnp.exe \x07" + " lang" * 200


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Store, str]]:
    """A person with an intake and five weeks of diary without improvement: the week-4 check escalates."""
    folder = tmp_path_factory.mktemp("store")
    with Store.open(f"sqlite:///{folder / 'rl.db'}") as store:
        person = store.create_person(HOSTILE_NAME[:200]).id
        record_intake(store, person, CASE, assessed_at=INTAKE_AT)
        for offset in range(0, 36, 2):
            entry = {
                "recorded_at": INTAKE_AT + dt.timedelta(days=offset, hours=10),
                "pain": {"low_back": 6},
                "activity_minutes": 20,
                "note": HOSTILE_NOTE if offset == 34 else ("Gut geschlafen" if offset == 4 else ""),
            }
            add_entry(store, person, entry)
        yield store, person


@pytest.fixture(scope="module")
def diary(stored: tuple[Store, str]) -> ReportDiary:
    store, person = stored
    found = diary_from_store(store, person, lang="de")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def clinician_html(stored: tuple[Store, str], diary: ReportDiary) -> str:
    store, person = stored
    record = latest_of(store, person)
    return render_report(
        "clinician", record.case, record.assessment, person_label=HOSTILE_NAME, diary=diary, generated_at=AT
    ).decode("utf-8")


@pytest.fixture(scope="module")
def jpeg_diary(stored: tuple[Store, str]) -> ReportDiary:
    """The diary as the PDF downloads get it (web and CLI): the chart as JPEG."""
    store, person = stored
    found = diary_from_store(store, person, lang="de", chart="jpeg")
    assert found is not None and found.chart_svg is None and found.chart_jpeg is not None
    return found


@pytest.fixture(scope="module")
def clinician_pdf(stored: tuple[Store, str], jpeg_diary: ReportDiary) -> bytes:
    store, person = stored
    record = latest_of(store, person)
    diary = jpeg_diary
    return render_report(
        "clinician",
        record.case,
        record.assessment,
        fmt="pdf",
        person_label=HOSTILE_NAME,
        diary=diary,
        generated_at=AT,
    )


@pytest.mark.safety("SR-DIA-3")
def test_the_diary_escalates_at_week_4(diary: ReportDiary) -> None:
    assert [e.due_week for e in diary.report.escalations] == [4]
    assert diary.chart_svg is not None and diary.chart_svg.lstrip().startswith("<?xml")


def test_the_chart_is_embedded_as_a_data_uri(clinician_html: str, diary: ReportDiary) -> None:
    match = re.search(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', clinician_html)
    assert match is not None
    assert base64.b64decode(match.group(1)).decode("utf-8") == diary.chart_svg
    assert "<svg" not in clinician_html  # the SVG stays inside the image, never part of the page


def test_escalations_and_notes_are_in_the_report(clinician_html: str, diary: ReportDiary) -> None:
    escalation = diary.report.escalations[0]
    # due on 23.03. (the episode began a week before the intake); the first entry after that is on 24.03.
    assert "Woche 4 (geprüft am 24.03.2026)" in clinician_html
    assert escalation.title.get("de") in clinician_html
    assert "Gut geschlafen" in clinician_html


@pytest.mark.safety("SR-WEB-2")
def test_hostile_text_is_escaped_and_cleaned(clinician_html: str) -> None:
    lowered = clinician_html.lower()
    assert "<script" not in lowered and "<img src=x" not in lowered
    assert "<h1>gefälscht" not in lowered
    assert "&lt;script&gt;" in clinician_html and "&lt;h1&gt;Gefälscht&lt;/h1&gt;" in clinician_html
    assert "\u202e" not in clinician_html and "\x07" not in clinician_html
    assert "שלום עולם" in clinician_html and "مرحبا" in clinician_html
    assert "W" * LABEL_LIMIT not in clinician_html  # the pseudonym is cut short
    assert clinician_html.count("<h1>") == 1
    # the structure after the notes is intact: the sources list still closes the page
    assert clinician_html.rstrip().endswith("</html>")
    assert clinician_html.index('class="notes"') < clinician_html.index('class="sources"')


def test_clean_user_text() -> None:
    assert clean_user_text("a\u202eb\x00c\n d", 80) == "ab c d"
    assert clean_user_text("x" * 100, 10) == "x" * 9 + "…"


@pytest.mark.usefixtures("poppler")
def test_the_pdf_shows_chart_escalation_and_hostile_text(clinician_pdf: bytes, tmp_path: Path) -> None:
    out = subprocess.run(
        ["pdftotext", "-raw", "-", "-"], input=clinician_pdf, capture_output=True, check=True
    )
    text = " ".join(out.stdout.decode("utf-8").split())
    assert "Woche 4 (geprüft am 24.03.2026)" in text
    assert "<script>alert('x')</script>" in text  # printed as the letters typed, not run
    assert "Gefälscht" in text
    # the chart is in the PDF: the JPEG as drawn, at its full 150 dpi (pdfimages lists the page's pictures)
    pdf = tmp_path / "diary.pdf"
    pdf.write_bytes(clinician_pdf)
    pictures = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, check=True).stdout
    assert re.search(r"\bimage\s+1650\s+1275\s+rgb\s+3\s+8\s+jpeg\b", pictures.decode()), pictures
    assert "\u202e" not in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(pdf), str(tmp_path / "page")], check=True)
    assert len(list(tmp_path.glob("page-*.png"))) >= 4


def test_a_person_without_diary_has_no_diary_section(tmp_path: Path) -> None:
    with Store.open(f"sqlite:///{tmp_path / 'rl.db'}") as store:
        person = store.create_person(None).id
        record_intake(store, person, CASE, assessed_at=INTAKE_AT)
        assert diary_from_store(store, person) is None
        record = latest_of(store, person)
        html = render_report("clinician", record.case, record.assessment, generated_at=AT).decode("utf-8")
    assert 'class="diary"' not in html


def test_an_html_report_carries_its_jpeg_chart_itself(
    stored: tuple[Store, str], jpeg_diary: ReportDiary
) -> None:
    # The PDF gets the JPEG by an internal URL; a saved HTML file must not point at that URL.
    store, person = stored
    record = latest_of(store, person)
    html = render_report(
        "clinician", record.case, record.assessment, diary=jpeg_diary, generated_at=AT
    ).decode("utf-8")
    assert CHART_JPEG_URL not in html
    match = re.search(r'src="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert match is not None and base64.b64decode(match.group(1)) == jpeg_diary.chart_jpeg
