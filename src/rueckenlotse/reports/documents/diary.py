"""The diary part of the clinician report: its input (``ReportDiary``) and how to get it from the store."""

from __future__ import annotations

import base64
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Literal

from ...plan.models import DiaryEntry
from ...plan.trends import FollowUpReport
from ..sources import SourceRef, Sources
from .common import NOTE_LIMIT, clean_user_text, fmt_date, fmt_number
from .texts import DocumentTexts

MAX_NOTES = 12
_SVG = "{http://www.w3.org/2000/svg}"
_GLOBAL_STYLE = re.compile(r"\s*\*\s*\{([^{}]*)\}\s*")
_REFERENCE = re.compile(r"url\(#([^)]+)\)|^#(.+)$")


@dataclass(frozen=True)
class ReportDiary:
    """A person's diary for the report: the trend report, the entries (for notes) and the chart, as SVG for
    the HTML report or as JPEG for the PDF (see plots.plot_diary)."""

    report: FollowUpReport
    entries: tuple[DiaryEntry, ...]
    chart_svg: str | None
    chart_jpeg: bytes | None = None


@dataclass(frozen=True)
class EscalationView:
    line: str
    reason: str
    action: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class NoteView:
    day: str
    text: str


@dataclass(frozen=True)
class DiaryView:
    chart_uri: str | None
    period: str | None
    baseline: str | None
    sign_days: str | None
    centralisation: str | None
    escalations: tuple[EscalationView, ...]
    notes: tuple[NoteView, ...]
    # Contract 2: a red flag of the episode that no doctor has examined yet, and "too few entries".
    red_flag: str | None = None
    too_few: str | None = None


def chart_data_uri(svg: str) -> str:
    """The chart as a data URI: the PDF needs no file or network, and the SVG cannot reach the page."""
    return _data_uri("image/svg+xml", svg.encode("utf-8"))


# The JPEG chart is handed to WeasyPrint by this URL (render.html_to_pdf's resources); an HTML download
# gets it as a data URI instead (render_report).
CHART_JPEG_URL = "rueckenlotse-report:diary-chart.jpeg"


def jpeg_data_uri(jpeg: bytes) -> str:
    return _data_uri("image/jpeg", jpeg)


def _data_uri(media_type: str, content: bytes) -> str:
    return f"data:{media_type};base64," + base64.b64encode(content).decode("ascii")


def _chart_uri(diary: ReportDiary) -> str | None:
    if diary.chart_jpeg is not None:
        return CHART_JPEG_URL
    return chart_data_uri(diary.chart_svg) if diary.chart_svg else None


def lean_chart_svg(svg: str) -> str:
    """Matplotlib's SVG of the chart with what WeasyPrint draws slowly and nobody sees taken out.

    WeasyPrint walks the SVG in Python, node by node, and parses every ``style`` attribute as CSS: the
    metadata, the groups that only carry an id, the ids nothing refers to and the ``style`` attributes
    (written as the same properties in attributes) made a quarter of the time the chart took. The drawing
    is the same; the input is our own matplotlib output, never text from outside.
    """
    root = ET.fromstring(svg)
    for child in list(root):
        if child.tag == f"{_SVG}metadata":
            root.remove(child)
        elif child.tag == f"{_SVG}defs":  # matplotlib's one rule for every node: set on the root instead
            for style in child.findall(f"{_SVG}style"):
                if match := _GLOBAL_STYLE.fullmatch(style.text or ""):
                    _set_declarations(root, match.group(1))
                    child.remove(style)
            if len(child) == 0:
                root.remove(child)
    _unwrap_plain_groups(root)
    referenced = set()
    for element in root.iter():
        if declarations := element.attrib.pop("style", None):
            _set_declarations(element, declarations)
        for value in element.attrib.values():
            for match in _REFERENCE.finditer(value):
                referenced.add(match.group(1) or match.group(2))
    for element in root.iter():
        if element.get("id") not in referenced:
            element.attrib.pop("id", None)
    # Written without prefixes, as matplotlib wrote it (the registry is the module's, set the same each time).
    ET.register_namespace("", _SVG[1:-1])
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    body = ET.tostring(root, encoding="unicode")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + body


def _set_declarations(element: ET.Element, declarations: str) -> None:
    for declaration in declarations.split(";"):
        name, colon, value = declaration.partition(":")
        if colon and name.strip():
            element.set(name.strip(), value.strip())


def _unwrap_plain_groups(parent: ET.Element) -> None:
    """Put the children of a ``<g>`` that has nothing but an id in its place (a group draws nothing)."""
    children: list[ET.Element] = []
    for child in parent:
        _unwrap_plain_groups(child)
        if child.tag == f"{_SVG}g" and set(child.attrib) <= {"id"}:
            children.extend(child)
        else:
            children.append(child)
    parent[:] = children


def diary_view(diary: ReportDiary, sources: Sources, texts: DocumentTexts, lang: str) -> DiaryView:
    report = diary.report
    days = report.days
    period = None
    if report.first_day is not None and report.last_day is not None:
        period = texts.get(
            "doc.clinician.diary_period",
            lang,
            days=len(days),
            first=fmt_date(report.first_day, lang),
            last=fmt_date(report.last_day, lang),
        )
    flagged = [fmt_date(d.day, lang) for d in days if d.warning_signs]
    return DiaryView(
        chart_uri=_chart_uri(diary),
        period=period,
        baseline=texts.get("doc.clinician.baseline", lang, value=fmt_number(round(report.baseline, 1), lang))
        if report.baseline is not None
        else None,
        sign_days=texts.get("doc.clinician.diary_signs", lang, days=", ".join(flagged)) if flagged else None,
        centralisation=report.centralisation.text.get(lang) if report.centralisation is not None else None,
        escalations=tuple(
            EscalationView(
                line=texts.get(
                    "doc.clinician.escalation_line",
                    lang,
                    week=e.due_week,
                    on=fmt_date(e.on, lang),
                    title=e.title.get(lang),
                ),
                reason=e.reason.get(lang),
                action=e.action.get(lang),
                sources=sources.cite(e.sources),
            )
            for e in report.escalations
        ),
        notes=_notes(diary.entries, lang),
        red_flag=report.red_flag_text.get(lang) if report.red_flag_text is not None else None,
        too_few=report.too_few.get(lang) if report.too_few is not None else None,
    )


def _notes(entries: tuple[DiaryEntry, ...], lang: str) -> tuple[NoteView, ...]:
    newest = sorted((e for e in entries if e.note.strip()), key=lambda e: e.recorded_at, reverse=True)
    return tuple(
        NoteView(fmt_date(e.recorded_at.date(), lang), clean_user_text(e.note, NOTE_LIMIT))
        for e in newest[:MAX_NOTES]
    )


ChartFormat = Literal["svg", "jpeg"]
# The chart each report format asks for (services.report_diary draws it): see plots.plot_diary for why.
CHART_FOR: dict[str, ChartFormat] = {"html": "svg", "pdf": "jpeg"}


__all__ = ["DiaryView", "ReportDiary", "chart_data_uri", "diary_view", "lean_chart_svg"]
