"""The diary part of the clinician report: its input (``ReportDiary``) and how to get it from the store."""

from __future__ import annotations

import base64
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ...plan.models import DiaryEntry
from ...plan.trends import FollowUpReport
from ..sources import SourceRef, Sources
from .common import NOTE_LIMIT, clean_user_text, fmt_date, fmt_number
from .texts import DocumentTexts

if TYPE_CHECKING:
    from ...store.repository import Store

MAX_NOTES = 12


@dataclass(frozen=True)
class ReportDiary:
    """A person's diary for the report: the trend report, the entries (for notes) and the chart as SVG."""

    report: FollowUpReport
    entries: tuple[DiaryEntry, ...]
    chart_svg: str | None


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
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


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
        chart_uri=chart_data_uri(diary.chart_svg) if diary.chart_svg else None,
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


def diary_from_store(store: Store, person_id: str, *, lang: str = "de") -> ReportDiary | None:
    """The person's diary with its chart, or None when the diary is empty (imports matplotlib)."""
    from ...services.followup import plot_for, report_for

    report = report_for(store, person_id)
    if not report.days:
        return None
    entries = tuple(record.entry for record in store.list_diary(person_id))
    with tempfile.TemporaryDirectory(prefix="rueckenlotse-chart-") as folder:
        path = Path(folder) / "chart.svg"
        plot_for(store, person_id, svg_path=path, lang=lang)
        svg = path.read_text(encoding="utf-8")
    return ReportDiary(report=report, entries=entries, chart_svg=svg)


__all__ = ["DiaryView", "ReportDiary", "chart_data_uri", "diary_from_store", "diary_view"]
