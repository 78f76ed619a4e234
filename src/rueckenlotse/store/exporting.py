"""A person's data as JSON (everything) and the diary as CSV that spreadsheets cannot execute."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from ..core.models import Region
from ..plan.models import FUNCTION_ITEMS
from .records import DiaryRecord
from .schema import AssessmentRow, DiaryRow, Exclusion, Person, PlanRow

EXPORT_FORMAT = "rueckenlotse-export"
EXPORT_FORMAT_VERSION = 1

# A spreadsheet treats a cell starting with one of these as a formula (OWASP "CSV injection").
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")

REGIONS: tuple[str, ...] = tuple(r.value for r in Region)
DIARY_COLUMNS: tuple[str, ...] = (
    "id",
    "recorded_at",
    "max_pain",
    *(f"pain_{region}" for region in REGIONS),
    "pain_reach",
    *(f"function_{item}" for item in FUNCTION_ITEMS),
    "activity_minutes",
    "exercises",
    "warning_signs",
    "note",
)


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def person_section(row: Person) -> dict[str, Any]:
    return {"id": row.id, "display_name": row.display_name, "created_at": _iso(row.created_at)}


def assessment_section(rows: Iterable[AssessmentRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "created_at": _iso(r.created_at),
            "source": r.source,
            "knowledge_version": r.knowledge_version,
            "triage": r.triage,
            "case": r.case_json,
            "assessment": r.assessment_json,
        }
        for r in rows
    ]


def diary_section(rows: Iterable[DiaryRow]) -> list[dict[str, Any]]:
    return [
        {
            "id": r.id,
            "recorded_at": _iso(r.recorded_at),
            "created_at": _iso(r.created_at),
            "entry": r.entry_json,
        }
        for r in rows
    ]


def plan_section(rows: Iterable[PlanRow]) -> list[dict[str, Any]]:
    return [
        {"id": r.id, "assessment_id": r.assessment_id, "created_at": _iso(r.created_at), "plan": r.plan_json}
        for r in rows
    ]


def exclusion_section(rows: Iterable[Exclusion]) -> list[dict[str, Any]]:
    return [
        {"exercise_id": r.exercise_id, "reason": r.reason, "created_at": _iso(r.created_at)} for r in rows
    ]


def neutralise_formula(cell: str) -> str:
    """Prefix a quote so a spreadsheet shows the text instead of evaluating it."""
    return "'" + cell if cell.startswith(FORMULA_PREFIXES) else cell


def _diary_row(record: DiaryRecord) -> list[str]:
    entry = record.entry
    pain = {str(region): value for region, value in entry.pain.items()}
    function = {str(item): value for item, value in entry.function.items()}
    cells: list[object] = [
        record.id,
        entry.recorded_at.isoformat(),
        entry.max_pain,
        *(pain.get(region, "") for region in REGIONS),
        entry.pain_reach or "",
        *(function.get(item, "") for item in FUNCTION_ITEMS),
        entry.activity_minutes,
        "; ".join(f"{e.exercise_id}:{e.felt}" for e in entry.exercises),
        "; ".join(entry.warning_signs),
        entry.note,
    ]
    return [neutralise_formula(str(cell)) for cell in cells]


def diary_csv(records: Sequence[DiaryRecord]) -> str:
    """One line per entry, with a header; every cell is text that cannot start a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(DIARY_COLUMNS)
    for record in records:
        writer.writerow(_diary_row(record))
    return out.getvalue()
