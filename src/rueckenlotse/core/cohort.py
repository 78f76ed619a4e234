"""Cohort results of many courses as one SQL statement, and how small counts are shown.

A *course* is one person's episode from their (latest) intake on. The cohort figures count, over a set of
courses, how many improved by the minimal important change (MIC, ``core.measures``) at the outcome weeks,
how many escalated, and how many stopped keeping the diary. The web (SQL on the store, one practice's shared
courses) and the batch path (DuckDB over a file of courses) run the same statement text over four inputs of
one logical shape (``INPUTS``); only how the inputs are made differs (``store.cohort``, ``batch.courses``).

The rules, stated once here and in ``docs/cohort.md``:

* Day 0 is the day of the course's intake (UTC); day ``d`` is ``d`` days later. Week W is reached on day
  ``7 * W``. Only what is dated between day 0 and the reporting date counts (``age_days``: the reporting
  date's day of the course); a course that starts after the reporting date is not counted. The inputs
  leave out what is dated after the reporting date (so the statement needs no join to drop it).
* Measure rows: the answer of a measure labelled week W (the last one when a week was answered twice). A
  course counts in week W's row when it has such an answer (the row's ``n``); a difference rule compares it
  with the week-0 answer (``no_baseline`` counts those without one); a category rule (PGIC) needs none.
* Diary pain row: the mean of each day's worst pain over days ``7W - 6 .. 7W``, against days 0..6.
* Observation window: days 0 to ``min(age_days, 7 * window_weeks)``; its last day is ``last_day``.
* Escalated: a stored re-screen of the diary in the window whose triage ranks above the intake's.
* Stopped keeping the diary: no diary entry in the last ``gap_days`` days of the window; counted among
  courses whose window is at least ``gap_days`` long (a course without any entry counts as stopped).

SQL text only, no database. The MIC judgement (``judge_sql``) states ``core.measures.judge_change``
(TOLERANCE included) so that it gives the same verdict for every score on SQLite, PostgreSQL and DuckDB:
thresholds are written as exact binary fractions (``exact_double``), arithmetic happens in IEEE doubles in
the same order as in Python, and Python's rounding of a category (half to even) is written as comparisons.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from .measures import TOLERANCE, ChangeRule
from .models import TRIAGE_ORDER

# The rank of each triage (higher = more urgent), as stored and as written in a courses file.
TRIAGE_RANK: dict[str, int] = {t.value: i for i, t in enumerate(TRIAGE_ORDER)}

# The four inputs: table (or CTE) name -> its columns. Every path gives exactly these.
INPUTS: dict[str, tuple[str, ...]] = {
    # one row per course: its id, the reporting date's day of the course, the intake's triage rank
    "cohort_courses": ("course_id", "age_days", "intake_rank"),
    # (the other inputs hold only rows dated on or before the reporting date: day <= age_days)
    # every measure answer: the measure, the week it answers, its day, an order (larger = answered
    # later; ties impossible within a course), the score (NULL: not scored, not counted)
    "cohort_measures": ("course_id", "measure_id", "week", "day", "seq", "score"),
    # every diary entry: its day and worst pain (0-10)
    "cohort_diary": ("course_id", "day", "max_pain"),
    # every stored re-screen of the diary: its day and triage rank
    "cohort_escalations": ("course_id", "day", "triage_rank"),
}
DIARY_PAIN = "diary_pain"
EVENT_ITEMS = ("escalated", "stopped_diary", "courses")
# The result's columns, in order (``CohortRow``).
COLUMNS = ("position", "item", "week", "better", "same", "worse", "no_baseline", "n", "count")
# The largest magnitude a threshold may have: integers up to 2^53 are exact doubles everywhere.
_EXACT_LIMIT = 2**53


@dataclass(frozen=True)
class CohortParams:
    """The cohort definition (knowledge/data/cohort.yaml, read by ``knowledge.cohort``)."""

    weeks: tuple[int, ...]
    measures: tuple[str, ...]
    diary_pain: ChangeRule | None = None
    window_weeks: int = 12
    gap_days: int = 14
    min_cell: int = 5

    def __post_init__(self) -> None:
        if not self.weeks or any(w <= 0 for w in self.weeks) or len(set(self.weeks)) != len(self.weeks):
            raise ValueError("outcome weeks must be distinct and after week 0")
        if len(set(self.measures)) != len(self.measures):
            raise ValueError("a measure is listed twice")
        if self.gap_days < 1 or self.window_weeks < 1 or self.min_cell < 1:
            raise ValueError("window, gap and smallest cell must be positive")

    @property
    def window_days(self) -> int:
        return 7 * self.window_weeks


@dataclass(frozen=True)
class CohortRow:
    """One row of the result. Measure and diary-pain rows: ``better`` … ``no_baseline`` and ``n`` (courses
    with an answer that week); ``count`` is None. Event rows (``EVENT_ITEMS``): ``count`` of ``n``."""

    position: int
    item: str
    week: int | None
    better: int | None
    same: int | None
    worse: int | None
    no_baseline: int | None
    n: int
    count: int | None

    @classmethod
    def of(cls, values: Sequence[object]) -> CohortRow:
        """A row as the database returns it (drivers differ in integer types only)."""

        def number(v: object) -> int | None:
            return None if v is None else int(v)  # type: ignore[call-overload]

        pos, item, week, better, same, worse, no_base, n, count = values
        return cls(
            int(pos),  # type: ignore[call-overload]
            str(item),
            number(week),
            number(better),
            number(same),
            number(worse),
            number(no_base),
            int(n),  # type: ignore[call-overload]
            number(count),
        )

    @property
    def is_change(self) -> bool:
        return self.item not in EVENT_ITEMS


class CohortSqlError(ValueError):
    """A rule or parameter has no exact SQL rendering (a threshold too large, a bad id)."""


# ---- exact numbers and the MIC judgement --------------------------------------------------------------
def exact_double(value: float) -> str:
    """A double as SQL that every engine evaluates to exactly this double: an integer numerator cast to
    DOUBLE PRECISION, divided by powers of two (each division exact). A decimal literal would be parsed by
    each engine's own routine (PostgreSQL and DuckDB even take it as a decimal number first)."""
    if not math.isfinite(value) or abs(value) >= _EXACT_LIMIT:
        raise CohortSqlError(f"{value!r} has no exact SQL rendering here")
    numerator, denominator = float(value).as_integer_ratio()
    text = f"CAST({numerator} AS DOUBLE PRECISION)"
    while denominator > 1:
        step = min(denominator, 2**62)
        text += f" / {step}"
        denominator //= step
    return f"({text})" if " / " in text else text


def _reaches(rule: ChangeRule, base: str, gain: str) -> str:
    """SQL of ``core.measures._reaches``: the gain reaches the MIC by points or by a fraction of base."""
    parts = []
    if rule.mic_points is not None:
        parts.append(f"{gain} >= {exact_double(rule.mic_points - TOLERANCE)}")
    if rule.mic_fraction is not None:
        fraction = f"{exact_double(rule.mic_fraction)} * {base} - {exact_double(TOLERANCE)}"
        parts.append(f"({base} > 0 AND {gain} > 0 AND {gain} >= {fraction})")
    return "(" + " OR ".join(parts) + ")"


def _rounds_into(values: Iterable[int], current: str) -> str:
    """SQL of ``round(current) in values`` with Python's rounding (half to even): an even v takes both
    halves beside it, an odd v neither."""
    parts = []
    for v in sorted(values):
        if abs(v) >= _EXACT_LIMIT // 2:
            raise CohortSqlError(f"category value {v} is out of range")
        low, high = exact_double(v - 0.5), exact_double(v + 0.5)
        if v % 2 == 0:
            parts.append(f"({current} >= {low} AND {current} <= {high})")
        else:
            parts.append(f"({current} > {low} AND {current} < {high})")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def judge_sql(rule: ChangeRule, base: str, current: str) -> str:
    """A CASE expression giving 'better', 'same', 'worse' or NULL exactly as ``judge_change`` does, for
    DOUBLE PRECISION expressions ``base`` (NULL: no baseline) and ``current`` (never NULL here)."""
    if rule.kind == "category":
        better, worse = _rounds_into(rule.better, current), _rounds_into(rule.worse, current)
        return f"CASE WHEN {better} THEN 'better' WHEN {worse} THEN 'worse' ELSE 'same' END"
    gain = f"({base} - {current})" if rule.direction == "lower_better" else f"({current} - {base})"
    return (
        f"CASE WHEN {base} IS NULL THEN NULL WHEN {_reaches(rule, base, gain)} THEN 'better' "
        f"WHEN {_reaches(rule, base, f'(-{gain})')} THEN 'worse' ELSE 'same' END"
    )


# ---- the statement ------------------------------------------------------------------------------------
def _id(value: str) -> str:
    if not value.replace("_", "").isalnum() or not value.isascii():
        raise CohortSqlError(f"{value!r} is not a plain id")
    return f"'{value}'"


def _pain_mean(first: int, last: int) -> str:
    inside = f"p.day >= {first} AND p.day <= {last}"
    return (
        f"CAST(SUM(CASE WHEN {inside} THEN p.pain END) AS DOUBLE PRECISION) "
        f"/ NULLIF(COUNT(CASE WHEN {inside} THEN 1 END), 0)"
    )


def _change_row(position: int, item: str, week: int, verdict: str, source: str, where: str) -> str:
    return (
        f"SELECT {position} AS position, {_id(item)} AS item, {week} AS week, "
        "COUNT(CASE WHEN verdict = 'better' THEN 1 END) AS better, "
        "COUNT(CASE WHEN verdict = 'same' THEN 1 END) AS same, "
        "COUNT(CASE WHEN verdict = 'worse' THEN 1 END) AS worse, "
        "COUNT(*) - COUNT(verdict) AS no_baseline, COUNT(*) AS n, CAST(NULL AS BIGINT) AS count "
        f"FROM (SELECT {verdict} AS verdict FROM {source} WHERE {where}) judged"
    )


def _event_row(position: int, item: str, count: str, n: str, source: str) -> str:
    return (
        f"SELECT {position} AS position, {_id(item)} AS item, CAST(NULL AS INTEGER) AS week, "
        "CAST(NULL AS BIGINT) AS better, CAST(NULL AS BIGINT) AS same, CAST(NULL AS BIGINT) AS worse, "
        f"CAST(NULL AS BIGINT) AS no_baseline, {n} AS n, {count} AS count FROM {source}"
    )


def cohort_ctes(params: CohortParams, rules: Mapping[str, ChangeRule]) -> list[str]:
    """The statement's own common table expressions over ``INPUTS``, in order."""
    missing = [m for m in params.measures if m not in rules]
    if missing:
        raise CohortSqlError(f"no change rule for measure(s): {', '.join(missing)}")
    weeks = (0, *params.weeks)
    measures = ", ".join(_id(m) for m in params.measures) or "NULL"
    pivot = ", ".join(f"MAX(CASE WHEN week = {w} THEN score END) AS w{w}" for w in weeks)
    pain = ", ".join(f"{_pain_mean(7 * w - 6, 7 * w)} AS w{w}" for w in params.weeks)
    gap = params.gap_days - 1
    return [
        "cohort_course AS (SELECT course_id, age_days, intake_rank, "
        f"CASE WHEN age_days < {params.window_days} THEN age_days ELSE {params.window_days} END AS last_day "
        "FROM cohort_courses WHERE age_days >= 0)",
        # the last answer of each measure and week (the inputs hold nothing after the reporting date)
        "cohort_answer AS (SELECT course_id, measure_id, week, score FROM ("
        "SELECT course_id, measure_id, week, score, ROW_NUMBER() OVER ("
        "PARTITION BY course_id, measure_id, week ORDER BY seq DESC) AS newest FROM cohort_measures "
        f"WHERE score IS NOT NULL AND day >= 0 AND measure_id IN ({measures}) "
        f"AND week IN ({', '.join(map(str, weeks))})) ranked WHERE newest = 1)",
        f"cohort_measure AS (SELECT course_id, measure_id, {pivot} FROM cohort_answer "
        "GROUP BY course_id, measure_id)",
        # each day's worst pain
        "cohort_day AS (SELECT course_id, day, MAX(max_pain) AS pain FROM cohort_diary WHERE day >= 0 "
        "GROUP BY course_id, day)",
        f"cohort_pain AS (SELECT c.course_id, c.last_day, {_pain_mean(0, 6)} AS w0, {pain}, "
        f"COUNT(CASE WHEN p.day >= c.last_day - {gap} AND p.day <= c.last_day THEN 1 END) AS recent "
        "FROM cohort_course c LEFT JOIN cohort_day p ON p.course_id = c.course_id "
        "GROUP BY c.course_id, c.last_day)",
        "cohort_escalated AS (SELECT DISTINCT e.course_id FROM cohort_escalations e "
        "JOIN cohort_course c ON c.course_id = e.course_id "
        "WHERE e.triage_rank > c.intake_rank AND e.day >= 0 AND e.day <= c.last_day)",
    ]


def cohort_select(params: CohortParams, rules: Mapping[str, ChangeRule]) -> str:
    """The final SELECT over ``cohort_ctes``: one row per ``CohortRow``, in order."""
    rows, position = [], 0
    for measure in params.measures:
        for week in params.weeks:
            position += 1
            verdict = judge_sql(rules[measure], "w0", f"w{week}")
            where = f"measure_id = {_id(measure)} AND w{week} IS NOT NULL"
            rows.append(_change_row(position, measure, week, verdict, "cohort_measure", where))
    if params.diary_pain is not None:
        for week in params.weeks:
            position += 1
            verdict = judge_sql(params.diary_pain, "w0", f"w{week}")
            rows.append(
                _change_row(position, DIARY_PAIN, week, verdict, "cohort_pain", f"w{week} IS NOT NULL")
            )
    rows += [
        _event_row(
            position + 1,
            "escalated",
            "(SELECT COUNT(*) FROM cohort_escalated)",
            "COUNT(*)",
            "cohort_course",
        ),
        _event_row(
            position + 2,
            "stopped_diary",
            "COUNT(CASE WHEN recent = 0 THEN 1 END)",
            "COUNT(*)",
            f"cohort_pain WHERE last_day >= {params.gap_days - 1}",
        ),
        _event_row(position + 3, "courses", "COUNT(*)", "COUNT(*)", "cohort_course"),
    ]
    return "\nUNION ALL\n".join(rows) + "\nORDER BY position"


def cohort_sql(params: CohortParams, rules: Mapping[str, ChangeRule], inputs: Sequence[str] = ()) -> str:
    """The whole statement. ``inputs``: CTEs that define ``INPUTS`` (the store's views on its tables);
    without them the inputs are tables (DuckDB's, in the batch path). The text after the inputs is the
    same for every path (``cohort_body``)."""
    return "WITH " + ",\n".join([*inputs, cohort_body(params, rules)])


def cohort_body(params: CohortParams, rules: Mapping[str, ChangeRule]) -> str:
    """Everything of the statement after ``WITH`` and the input CTEs: the same text on every path."""
    return ",\n".join(cohort_ctes(params, rules)) + "\n" + cohort_select(params, rules)


# ---- small cells ----------------------------------------------------------------------------------------
Cell = int | Literal["small", "hidden"] | None


@dataclass(frozen=True)
class ShownRow:
    """A row as it may be shown: a count, ``"small"`` (between 1 and min_cell - 1: shown as "< k"),
    ``"hidden"`` (large enough, but hidden so that a small count cannot be worked out from the others by
    subtraction), or None (no such cell in this row)."""

    item: str
    week: int | None
    cells: dict[str, Cell] = field(default_factory=dict)

    def cell(self, name: str) -> Cell:
        return self.cells.get(name)


PARTS = ("better", "same", "worse", "no_baseline")


def _small(value: int, k: int) -> bool:
    return 0 < value < k


def _safe(parts: Mapping[str, int], cells: Mapping[str, Cell], n: int, k: int) -> bool:
    """Whether no small part of a row with a shown total ``n`` can be worked out from what is shown. A reader
    knows: every small part is 1 to k - 1, every hidden one at least k, and the hidden ones add up to ``n``
    minus the shown parts. That leaves each small part two values or more only when a hidden part stands
    beside the small ones and the rest is large enough (``rest - (small - 1) - hidden * k >= 2``)."""
    small = sum(1 for name in parts if cells[name] == "small")
    hidden = sum(1 for name in parts if cells[name] == "hidden")
    if small == 0:
        return True
    rest = n - sum(v for name, v in parts.items() if isinstance(cells[name], int))
    return hidden > 0 and rest - (small - 1) - hidden * k >= 2


def _change_cells(row: CohortRow, k: int) -> dict[str, Cell]:
    parts = {name: int(getattr(row, name) or 0) for name in PARTS}
    if _small(row.n, k):  # every part is then below k too
        small: dict[str, Cell] = {name: "small" if v else 0 for name, v in parts.items()}
        return small | {"n": "small"}
    cells: dict[str, Cell] = {name: "small" if _small(v, k) else v for name, v in parts.items()}
    cells["n"] = row.n
    while not _safe(parts, cells, row.n, k):
        shown = [name for name in PARTS if isinstance(cells[name], int) and cells[name] != 0]
        if not shown:
            cells["n"] = "hidden"
            break
        cells[min(shown, key=lambda name: (parts[name], PARTS.index(name)))] = "hidden"
    return cells


def _event_cells(row: CohortRow, k: int) -> dict[str, Cell]:
    count = int(row.count or 0)
    cells: dict[str, Cell]
    if _small(row.n, k):
        cells = {"n": "small", "count": "small" if count else 0}
    elif _small(count, k):
        cells = {"n": row.n, "count": "small"}
    else:
        # The courses without the event are a group too: a small one is not to be worked out either.
        cells = {"n": row.n, "count": "hidden" if _small(row.n - count, k) else count}
    return cells


def suppress(rows: Sequence[CohortRow], min_cell: int) -> list[ShownRow]:
    """Every row with its small counts suppressed. A count from 1 to ``min_cell - 1`` is "small" (shown as
    "< k"); zero is shown. In a change row the parts add up to ``n``: further parts are "hidden" until no
    small part can be worked out from the total and the shown parts (``_safe``), and ``n`` with them when
    nothing else is left to hide; a small ``n`` makes every non-zero part small. In an event row a small
    ``n`` makes the count small, and a count whose complement (``n`` minus it) is small is hidden."""
    return [
        ShownRow(
            row.item, row.week, _change_cells(row, min_cell) if row.is_change else _event_cells(row, min_cell)
        )
        for row in rows
    ]
