"""When a change in an outcome measure matters: the minimal important change (MIC) rule of a measure and
the judgement "better / same / worse" between a baseline and a later score.

Pure and shared on purpose: the person's chart, the clinician's course view and the cohort figures judge
change by this one rule; the cohort SQL (store and batch) states the same rule in SQL and is tested
against this function.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Change = Literal["better", "same", "worse"]
ChangeKind = Literal["difference", "category"]
Direction = Literal["lower_better", "higher_better"]

# Scores are kept to two decimals; a difference within this of the MIC counts as reaching it, so that
# 7.0 − 5.0 ≥ 2 holds in Python, SQLite, PostgreSQL and DuckDB alike.
TOLERANCE = 1e-6


@dataclass(frozen=True)
class ChangeRule:
    """How a measure's change is judged.

    ``difference``: the later score against the baseline; better when it improved by at least
    ``mic_points`` or by at least ``mic_fraction`` of the baseline (whichever is given; either suffices),
    worse when it moved the same amount the other way. ``category``: the score itself rates the change (PGIC:
    1 "sehr viel besser" … 7 "sehr viel schlechter"); no baseline needed.
    """

    kind: ChangeKind
    direction: Direction = "lower_better"
    mic_points: float | None = None
    mic_fraction: float | None = None
    better: frozenset[int] = frozenset()
    worse: frozenset[int] = frozenset()

    def __post_init__(self) -> None:
        if self.kind == "difference" and self.mic_points is None and self.mic_fraction is None:
            raise ValueError("a difference rule needs mic_points or mic_fraction")
        if self.kind == "category" and not self.better:
            raise ValueError("a category rule needs the values that mean better")
        if self.better & self.worse:
            raise ValueError("a value cannot mean both better and worse")


def judge_change(rule: ChangeRule, baseline: float | None, current: float) -> Change | None:
    """ "better", "same" or "worse"; None when a difference rule has no baseline to compare with."""
    if rule.kind == "category":
        value = round(current)
        if value in rule.better:
            return "better"
        return "worse" if value in rule.worse else "same"
    if baseline is None:
        return None
    gain = baseline - current if rule.direction == "lower_better" else current - baseline
    if _reaches(rule, baseline, gain):
        return "better"
    if _reaches(rule, baseline, -gain):
        return "worse"
    return "same"


def _reaches(rule: ChangeRule, baseline: float, gain: float) -> bool:
    if rule.mic_points is not None and gain >= rule.mic_points - TOLERANCE:
        return True
    return (
        rule.mic_fraction is not None
        and baseline > 0
        and gain > 0
        and gain >= rule.mic_fraction * baseline - TOLERANCE
    )
