"""A stored person's diary, made ready for the clinician report (reports/documents): entries, trend, chart.

A use case, not part of the reports: it reads the store and draws the chart (services.followup), then hands
the reports a plain ReportDiary; the reports themselves know neither store nor services.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ..reports.documents.diary import ChartFormat, ReportDiary, lean_chart_svg
from ..store import Store
from .followup import plot_for, report_for


def diary_from_store(
    store: Store, person_id: str, *, lang: str = "de", chart: ChartFormat = "svg"
) -> ReportDiary | None:
    """The person's diary with its chart, or None when the diary is empty (imports matplotlib).

    chart: "svg" for the HTML report (sharp at any size, text stays text), "jpeg" for the PDF (drawn in a
    fraction of the time; 150 dpi prints sharp on A4)."""
    report = report_for(store, person_id)
    if not report.days:
        return None
    entries = tuple(record.entry for record in store.list_diary(person_id))
    with tempfile.TemporaryDirectory(prefix="rueckenlotse-chart-") as folder:
        if chart == "jpeg":
            path = Path(folder) / "chart.jpeg"
            plot_for(store, person_id, jpeg_path=path, lang=lang)
            return ReportDiary(report=report, entries=entries, chart_svg=None, chart_jpeg=path.read_bytes())
        path = Path(folder) / "chart.svg"
        plot_for(store, person_id, svg_path=path, lang=lang)
        svg = lean_chart_svg(path.read_text(encoding="utf-8"))
    return ReportDiary(report=report, entries=entries, chart_svg=svg)
