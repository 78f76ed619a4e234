"""Report downloads of the web pages: the patient summary and the clinician intake report as PDF.

The PDF is made from the same HTML as ``rueckenlotse report`` (``reports.documents``). It is sent as an
attachment, never shown inline: the report's own styles and chart would clash with the site's strict
Content-Security-Policy, and a download keeps the document out of the page history. WeasyPrint is
imported only when a report is asked for.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from starlette.responses import Response

from ..core.models import Assessment, Case
from ..store import Store

ReportKind = Literal["patient", "clinician"]
KIND_FILE_NAMES: dict[ReportKind, str] = {
    "patient": "rueckenlotse-zusammenfassung.pdf",
    "clinician": "rueckenlotse-bericht-fuer-die-praxis.pdf",
}


def report_pdf(
    kind: ReportKind,
    case: Case,
    assessment: Assessment,
    *,
    lang: str,
    person_label: str | None = None,
    store: Store | None = None,
    person_id: str | None = None,
) -> bytes:
    """The report as PDF; with a store and person id the clinician report carries the diary and chart, and
    the summary the plan as the plan page shows it (exclusions, review date)."""
    from ..reports.documents import render_report
    from ..reports.documents.diary import CHART_FOR
    from ..services.followup import NoIntake, current_plan
    from ..services.report_diary import diary_from_store

    diary = None
    plan = None
    if kind == "clinician" and store is not None and person_id is not None:
        diary = diary_from_store(store, person_id, lang=lang, chart=CHART_FOR["pdf"])
    if kind == "patient" and store is not None and person_id is not None:
        try:
            plan = current_plan(store, person_id, lang=lang)
        except NoIntake:  # a saved assessment without an intake: the plan starts today, as on the result page
            plan = None
    return render_report(
        kind,
        case,
        assessment,
        lang=lang,
        fmt="pdf",
        person_label=person_label,
        diary=diary,
        generated_at=dt.datetime.now(dt.UTC),
        plan=plan,
    )


def pdf_download(content: bytes, kind: ReportKind) -> Response:
    """An attachment that no cache keeps (it holds health data)."""
    return Response(
        content,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{KIND_FILE_NAMES[kind]}"',
            "Cache-Control": "no-store",
        },
    )
