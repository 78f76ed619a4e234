"""Small cells: a count from 1 to 4 is shown as "< 5" in the table, its CSV, the JSON and the chart, and no
small count can be worked out from the others and the total by subtraction."""

from __future__ import annotations

import itertools
import re
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rueckenlotse.core.cohort import PARTS, CohortRow, ShownRow, suppress
from rueckenlotse.reports.cohort_svg import ChartBar, ChartText, Segment, cohort_svg
from rueckenlotse.services.cohort import csv_text, json_of, table_of

from .support import RULES

K = 5


def change(better: int, same: int, worse: int, no_baseline: int = 0, item: str = "peg") -> CohortRow:
    return CohortRow(1, item, 4, better, same, worse, no_baseline, better + same + worse + no_baseline, None)


def event(count: int, n: int, item: str = "escalated") -> CohortRow:
    return CohortRow(9, item, None, None, None, None, None, n, count)


def test_large_counts_and_zero_are_shown() -> None:
    assert suppress([change(12, 30, 7, 0)], K)[0].cells == {
        "better": 12, "same": 30, "worse": 7, "no_baseline": 0, "n": 49,
    }  # fmt: skip


def test_one_small_count_hides_a_second_so_it_cannot_be_worked_out() -> None:
    cells = suppress([change(12, 30, 3, 0)], K)[0].cells
    assert cells["worse"] == "small" and cells["better"] == "hidden"  # the smallest other one
    assert cells["same"] == 30 and cells["n"] == 45 and cells["no_baseline"] == 0


def test_a_small_total_hides_every_count_but_zero() -> None:
    assert suppress([change(2, 1, 0, 0)], K)[0].cells == {
        "better": "small", "same": "small", "worse": 0, "no_baseline": 0, "n": "small",
    }  # fmt: skip


def test_event_rows() -> None:
    shown = suppress([event(3, 100), event(40, 100), event(97, 100), event(2, 4), event(0, 3)], K)
    assert [s.cells for s in shown] == [
        {"n": 100, "count": "small"},
        {"n": 100, "count": 40},
        {"n": 100, "count": "hidden"},  # 3 without the event would follow
        {"n": "small", "count": "small"},
        {"n": "small", "count": 0},
    ]


def _possible(shown: ShownRow, k: int) -> list[tuple[int, ...]]:
    """Every split of the parts a reader could think of, given what the row shows."""
    ranges = []
    total = shown.cell("n")
    assert isinstance(total, int)
    for name in PARTS:
        cell = shown.cell(name)
        ranges.append(
            [cell] if isinstance(cell, int) else range(1, k) if cell == "small" else range(k, total + 1)
        )
    return [split for split in itertools.product(*ranges) if sum(split) == total]


@settings(max_examples=400, deadline=None)
@given(parts=st.lists(st.integers(0, 14), min_size=4, max_size=4))
def test_no_small_count_can_be_worked_out(parts: list[int]) -> None:
    row = change(*parts)
    shown = suppress([row], K)[0]
    for name, value in zip(PARTS, parts, strict=True):
        cell = shown.cell(name)
        assert cell == value or (cell == "small" and 0 < value < K) or (cell == "hidden" and value >= K)
    if not isinstance(shown.cell("n"), int):
        return
    splits = _possible(shown, K)
    assert tuple(parts) in splits
    for index, name in enumerate(PARTS):
        if shown.cell(name) == "small":
            assert len({split[index] for split in splits}) >= 2, (parts, shown.cells)


def test_the_table_the_files_and_the_chart_show_small_counts_as_less_than_5() -> None:
    rows = [change(12, 30, 3), event(2, 45), CohortRow(11, "courses", None, None, None, None, None, 45, 45)]
    rows[1] = CohortRow(9, "escalated", None, None, None, None, None, 45, 2)
    table = table_of(rows, RULES, date(2026, 12, 1), "de")
    text = csv_text(table, "de")
    assert "< 5" in text and ",3," not in text and ",2," not in text
    assert text.splitlines()[1] == "PEG-3 (Schmerz und Alltag),4,verdeckt,30,< 5,0,45,,"
    data = json_of(table)
    assert data["rows"][0] == {"item": "peg", "week": 4, "better": "hidden", "same": 30, "worse": "< 5",
                               "no_baseline": 0, "n": 45}  # fmt: skip
    assert data["rows"][1] == {"item": "escalated", "n": 45, "count": "< 5"}
    bar = ChartBar(
        "PEG-3",
        45,
        [Segment("better", None, "verdeckt"), Segment("same", 30, "30"), Segment("worse", None, "< 5")],
    )
    svg = cohort_svg([bar], ChartText("t", "d", [("same", "gleich"), ("hidden", "verdeckt")]))
    assert ">30<" in svg and "< 5" not in svg and ">3<" not in svg
    widths = [
        float(w)
        for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)" height="16" fill="[^n]', svg)
    ]
    assert len(widths) == 2 and widths[1] == pytest.approx(352 * 15 / 45, abs=0.1)  # the hidden 15 as one
