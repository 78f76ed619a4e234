"""A practice's cohort results, and the same table for a file of courses: one presentation for the web page,
its CSV download and ``rueckenlotse batch cohort``.

The counts come from one SQL statement (``core.cohort``): on the store for the courses shared with the
practice (``store.cohort``), in DuckDB for a file (``batch.courses``). Here they become the table a person
reads: labels and explanations from ``knowledge/data/cohort.yaml``, small counts suppressed
(``core.cohort.suppress``) before anything is shown or written. Nothing of a person is in it: no name, id
or date, only counts and the reporting date.

Every reading of a practice's table is audited (``read.cohort``, ``export.cohort_csv``), with the practice
and without a person.

The change rules (minimal important change) of the measures come from ``knowledge/data/measures.yaml``
(``measure_rules()``); every other function takes the rules as a parameter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from ..core.cohort import PARTS, Cell, CohortRow, ShownRow, suppress
from ..core.measures import ChangeRule
from ..i18n.formatting import decimal, format_day
from ..knowledge.cohort import CohortSpec
from ..knowledge.loader import packaged_knowledge
from ..store import audit
from ..store.audit import Actor
from ..store.cohort import practice_cohort
from ..store.repository import Store

# The table's columns (``CohortTable.rows``): label, week, then these counts.
COUNT_COLUMNS = (*PARTS, "n", "count", "of")


def measure_rules() -> Mapping[str, ChangeRule]:
    """The change rule (minimal important change) of each outcome measure, as measures.yaml states it:
    the cohort counts "improved" by the same rule the person's own course page shows."""
    return {m.id: m.change_rule for m in packaged_knowledge().measures.measures}


def cohort_spec() -> CohortSpec:
    return packaged_knowledge().cohort


@dataclass(frozen=True)
class TableRow:
    """One row as shown: its id (``item``), label, week (or None) and its cells as text ("" = none)."""

    item: str
    label: str
    week: int | None
    week_label: str
    cells: dict[str, str]
    shown: ShownRow


@dataclass(frozen=True)
class CohortTable:
    as_of: date
    as_of_label: str
    min_cell: int
    change_rows: list[TableRow]
    event_rows: list[TableRow]
    explanations: list[str]
    courses: int  # the number of courses (0: nothing to show yet)
    knowledge_version: str

    @property
    def rows(self) -> list[TableRow]:
        return [*self.change_rows, *self.event_rows]


def cell_text(cell: Cell, spec: CohortSpec, lang: str) -> str:
    if cell is None:
        return ""
    if cell == "small":
        return spec.text("small", lang, k=spec.small_cells.min_count)
    if cell == "hidden":
        return spec.text("hidden", lang)
    return str(cell)


def table_of(
    rows: Sequence[CohortRow],
    rules: Mapping[str, ChangeRule],
    as_of: date,
    lang: str,
    spec: CohortSpec | None = None,
) -> CohortTable:
    """The table as shown from the statement's rows: suppressed, labelled, explained."""
    spec = spec or cohort_spec()
    shown = suppress(rows, spec.small_cells.min_count)
    change, events = [], []
    for raw, row in zip(rows, shown, strict=True):
        week_label = spec.text("week", lang, week=row.week) if row.week is not None else ""
        if raw.is_change:
            cells = {name: cell_text(row.cell(name), spec, lang) for name in PARTS}
            cells |= {"n": cell_text(row.cell("n"), spec, lang), "count": "", "of": ""}
            change.append(TableRow(row.item, spec.label(row.item, lang), row.week, week_label, cells, row))
        else:
            cells = dict.fromkeys(PARTS, "") | {"n": ""}
            cells |= {
                "count": cell_text(row.cell("count"), spec, lang),
                "of": cell_text(row.cell("n"), spec, lang),
            }
            events.append(TableRow(row.item, spec.label(row.item, lang), None, "", cells, row))
    courses = next((r.n for r in rows if r.item == "courses"), 0)
    return CohortTable(
        as_of=as_of,
        as_of_label=format_day(as_of, lang),
        min_cell=spec.small_cells.min_count,
        change_rows=change,
        event_rows=events,
        explanations=explanations(spec, rules, lang),
        courses=courses,
        knowledge_version=packaged_knowledge().version,
    )


def _number(value: float, lang: str) -> str:
    return decimal(f"{value:g}", lang)


def _rule_text(label: str, rule: ChangeRule, spec: CohortSpec, lang: str) -> str:
    if rule.kind == "category":

        def listed(values: frozenset[int]) -> str:
            items = [str(v) for v in sorted(values)] or ["–"]
            if len(items) == 1:
                return items[0]
            return ", ".join(items[:-1]) + " " + spec.text("explain.or", lang) + " " + items[-1]

        return spec.text(
            "explain.category", lang, label=label, better=listed(rule.better), worse=listed(rule.worse)
        )
    direction = spec.text("explain.lower" if rule.direction == "lower_better" else "explain.higher", lang)
    values: dict[str, Any] = {"label": label, "direction": direction}
    if rule.mic_points is not None:
        values["points"] = _number(rule.mic_points, lang)
    if rule.mic_fraction is not None:
        values["percent"] = _number(round(rule.mic_fraction * 100, 1), lang)
    key = "points_or_fraction" if len(values) == 4 else ("points" if "points" in values else "fraction")
    return spec.text(f"explain.{key}", lang, **values)


def explanations(spec: CohortSpec, rules: Mapping[str, ChangeRule], lang: str) -> list[str]:
    """What "better" means for each row, what counts as answered, and the event rows' rules."""
    params = spec.params()
    texts = [_rule_text(m.label.get(lang), rules[m.id], spec, lang) for m in spec.measures]
    if spec.diary_pain is not None:
        label = spec.diary_pain.label.get(lang)
        texts.append(_rule_text(label, spec.diary_pain.change.rule(), spec, lang))
        texts.append(spec.text("explain.diary_pain", lang))
    texts.append(spec.text("explain.baseline", lang))
    texts.append(spec.text("explain.escalated", lang, weeks=params.window_weeks))
    texts.append(spec.text("explain.stopped_diary", lang, days=params.gap_days, weeks=params.window_weeks))
    texts.append(spec.text("explain.small", lang, k=params.min_cell))
    texts.append(spec.text("explain.hidden", lang))
    return texts


def today() -> date:
    return datetime.now(UTC).date()


def practice_results(
    store: Store,
    actor: Actor,
    practice_id: str,
    *,
    lang: str = "de",
    as_of: date | None = None,
    rules: Mapping[str, ChangeRule] | None = None,
    action: str = "read.cohort",
) -> CohortTable:
    """The practice's cohort table on ``as_of`` (today, UTC), recorded in the audit as ``action``. The
    caller has asked the policy (``services.auth.can_read_intake``) for the practice."""
    spec = cohort_spec()
    rules = rules if rules is not None else measure_rules()
    day = as_of or today()
    rows = practice_cohort(store, practice_id, day, spec.params(), rules)
    with store.transaction() as session:
        audit.record(session, actor, action, practice_id=practice_id)
    return table_of(rows, rules, day, lang, spec)


# ---- files -------------------------------------------------------------------------------------------
def _headers(spec: CohortSpec, lang: str) -> list[str]:
    names = ["item", "week", *PARTS, "n", "count", "of"]
    return [spec.text(f"column.{name}", lang) for name in names]


def csv_text(table: CohortTable, lang: str, spec: CohortSpec | None = None) -> str:
    """The table as CSV: one header line, then every row as shown (small counts as "< k")."""
    spec = spec or cohort_spec()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(_headers(spec, lang))
    for row in table.rows:
        writer.writerow(
            [row.label, row.week if row.week is not None else "", *(row.cells[c] for c in COUNT_COLUMNS)]
        )
    return out.getvalue()


def json_of(table: CohortTable, *, courses_in_file: int | None = None) -> dict[str, Any]:
    """The table for machines: ids instead of labels; a suppressed count as "< k", or "hidden" for a larger
    one hidden so that a small one cannot be worked out."""

    def value(cell: Cell) -> int | str | None:
        if cell == "small":
            return f"< {table.min_cell}"
        if cell == "hidden":
            return "hidden"
        return cell

    rows = []
    for row in table.rows:
        entry: dict[str, Any] = {"item": row.item}
        if row.week is not None:
            entry["week"] = row.week
        entry |= {name: value(row.shown.cell(name)) for name in row.shown.cells}
        rows.append(entry)
    data: dict[str, Any] = {
        "as_of": table.as_of.isoformat(),
        "knowledge_version": table.knowledge_version,
        "min_cell": table.min_cell,
        "rows": rows,
    }
    if courses_in_file is not None:
        data["courses_in_file"] = courses_in_file
    return data
