"""Tests of the diary follow-up: re-screening, trend rules, centralisation, texts and the plot.

Shared helpers build diaries: one entry a day (or more) from a start moment, pain given per day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the assessment; a Monday
# Age 72, osteoporosis, a fall from standing height a week ago: a fracture red flag at intake.
FRAGILE: dict[str, Any] = {
    "age": 72,
    "regions": ["low_back"],
    "duration_weeks": 1,
    "trauma": "minor",
    "osteoporosis": True,
    "recurrent": True,
}


def case(duration_weeks: float = 1, **answers: Any) -> Case:
    return Case.model_validate(
        {"age": 45, "regions": ["low_back"], "duration_weeks": duration_weeks, **answers}
    )


def entry(day: float, pain: int | dict[str, int], start: datetime = T0, **fields: Any) -> DiaryEntry:
    values = {"low_back": pain} if isinstance(pain, int) else pain
    return DiaryEntry(recorded_at=start + timedelta(days=day), pain=values, **fields)


def diary(
    days: int, pain: Callable[[int], int], start: datetime = T0, skip: Sequence[int] = (), **fields: Any
) -> list[DiaryEntry]:
    """One entry a day for `days` days (minus the skipped ones), pain from a function of the day."""
    return [entry(d, pain(d), start, **fields) for d in range(days) if d not in skip]


def wobble(level: int) -> Callable[[int], int]:
    """Pain around a level (−1, 0, +1, 0, …): the mean stays the level, no trend."""
    return lambda d: level + (-1, 0, 1, 0)[d % 4]
