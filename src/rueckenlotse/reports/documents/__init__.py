"""Printable reports: the patient summary and the clinician intake report, as HTML and as PDF.

``render_report(kind, case, assessment, *, lang, fmt, person_label, diary, generated_at) -> bytes`` is the
one entry point; ``services.report_diary.diary_from_store`` collects a person's diary (with its chart) for
the clinician report.
The view models (``build_view``) are pure; the PDF is WeasyPrint's rendering of the very same HTML.
"""

from __future__ import annotations

from .diary import ReportDiary
from .render import FORMATS, KINDS, Format, Kind, build_view, html_to_pdf, render_html, render_report

__all__ = [
    "FORMATS",
    "KINDS",
    "Format",
    "Kind",
    "ReportDiary",
    "build_view",
    "html_to_pdf",
    "render_html",
    "render_report",
]
