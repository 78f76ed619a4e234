"""The minimal important change rule (core.measures): worked cases and its symmetry."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rueckenlotse.core.measures import ChangeRule, judge_change

PEG = ChangeRule(kind="difference", direction="lower_better", mic_fraction=0.3)
PSFS = ChangeRule(kind="difference", direction="higher_better", mic_points=2.0)
PGIC = ChangeRule(kind="category", better=frozenset({1, 2}), worse=frozenset({6, 7}))


@pytest.mark.parametrize(
    ("rule", "baseline", "current", "expected"),
    [
        (PEG, 7.0, 4.9, "better"),  # 30 % of 7 is 2.1: exactly reached
        (PEG, 7.0, 5.0, "same"),
        (PEG, 5.0, 6.5, "worse"),
        (PEG, 0.0, 3.0, "same"),  # no fraction of nothing; the rule has no points
        (PSFS, 3.0, 5.0, "better"),
        (PSFS, 3.0, 4.9, "same"),
        (PSFS, 6.0, 4.0, "worse"),
        (PSFS, None, 4.0, None),
        (PGIC, None, 2, "better"),
        (PGIC, None, 3, "same"),
        (PGIC, None, 6, "worse"),
    ],
)
def test_worked_cases(rule: ChangeRule, baseline: float | None, current: float, expected: str | None) -> None:
    assert judge_change(rule, baseline, current) == expected


def test_a_rule_without_a_threshold_is_refused() -> None:
    with pytest.raises(ValueError, match="mic_points or mic_fraction"):
        ChangeRule(kind="difference")
    with pytest.raises(ValueError, match="both better and worse"):
        ChangeRule(kind="category", better=frozenset({1}), worse=frozenset({1}))


scores = st.floats(min_value=0, max_value=10, allow_nan=False).map(lambda x: round(x, 2))


@given(baseline=scores, current=scores)
def test_points_rule_is_symmetric(baseline: float, current: float) -> None:
    """Swapping the two scores of a points rule swaps better and worse."""
    swapped = {"better": "worse", "worse": "better", "same": "same"}
    assert judge_change(PSFS, current, baseline) == swapped[str(judge_change(PSFS, baseline, current))]
