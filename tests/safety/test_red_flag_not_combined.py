"""The fields the red-flag rules read that the exhaustive combinations leave out (NOT_COMBINED in
tests/test_red_flag_combinations.py): numbers, regions, graded answers and the two answers that rightly
lower triage. Each value is tried on every base case of the combination test with each warning sign
alone, against the same independent oracle (policy_minimum).

The numbers are tried on each side of every threshold the rules and derived values compare them with,
read from the loaded knowledge, so a new threshold is tried without editing this file.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from itertools import combinations
from typing import Any

import pytest

from rueckenlotse import assess
from rueckenlotse.knowledge import default_knowledge

from ..strategies import ORDERED_ENUMS, REGIONS
from ..test_red_flag_combinations import FAMILIES, LEVELS, NOT_COMBINED, policy_minimum

COMPARISONS = {"lt", "le", "gt", "ge", "eq", "ne"}
EVERY_SIGN = list(dict.fromkeys(sign for _, signs in FAMILIES.values() for sign in signs))


def _thresholds(expr: object, field: str) -> Iterator[float]:
    """Numbers a condition tree compares `field` with ({ge: [age, 65]} -> 65)."""
    if isinstance(expr, Mapping):
        for op, args in expr.items():
            if op in COMPARISONS and isinstance(args, list) and field in args:
                yield from (a for a in args if isinstance(a, int | float) and not isinstance(a, bool))
            yield from _thresholds(args, field)
    elif isinstance(expr, list):
        for item in expr:
            yield from _thresholds(item, field)


def around_thresholds(field: str, step: float, low: float, high: float) -> list[float]:
    spec = default_knowledge().spec
    trees: list[object] = [d.when if d.when is not None else d.value for d in spec.derived]
    trees += [r.when for r in spec.rules] + [e.when for r in spec.rules for e in r.escalate]
    found = {n for tree in trees for n in _thresholds(tree, field)}
    assert found, f"no threshold on {field} in the rules: the list of variations is stale"
    values = {v for n in found for v in (n - step, n, n + step) if low <= v <= high}
    return sorted(values)


VARIATIONS: dict[str, list[Any]] = {
    "age": [int(v) for v in around_thresholds("age", 1, 0, 120)],
    "duration_weeks": around_thresholds("duration_weeks", 0.5, 0, 600),
    "regions": [list(c) for n in range(1, len(REGIONS) + 1) for c in combinations(REGIONS, n)],
    "leg_pain": ORDERED_ENUMS["leg_pain"],
    "trauma": ORDERED_ENUMS["trauma"],
    "weakness": ORDERED_ENUMS["weakness"],
    "recurrent": [False, True],
    "injury_checked_by_doctor": [False, True],
}


def _rank(case: dict[str, Any]) -> int:
    return LEVELS.index(assess(case).triage.value)


def test_every_field_left_out_of_the_combinations_is_varied_here() -> None:
    assert set(VARIATIONS) == set(NOT_COMBINED)
    assert {"leg_pain", "trauma", "weakness"} == set(ORDERED_ENUMS)


@pytest.mark.safety("SR-TRI-1", "SR-RF-2", "SR-RF-5")
@pytest.mark.parametrize("field", list(VARIATIONS))
def test_each_value_with_each_sign_alone_meets_the_minimum(field: str) -> None:
    failures = []
    for name, (base, _) in FAMILIES.items():
        for value in VARIATIONS[field]:
            for sign in [None, *EVERY_SIGN]:
                case = {**base, field: value} | ({sign: True} if sign else {})
                got, minimum = _rank(case), policy_minimum(case)
                if got < minimum:
                    failures.append(f"{name} {field}={value} {sign}: {LEVELS[got]} < {LEVELS[minimum]}")
    assert not failures, failures[:20]


@pytest.mark.safety("SR-TRI-1", "SR-RF-2")
@pytest.mark.parametrize("field", ["leg_pain", "trauma", "weakness"])
def test_worsening_a_graded_answer_never_lowers_triage(field: str) -> None:
    for name, (base, _) in FAMILIES.items():
        for sign in [None, *EVERY_SIGN]:
            case = base | ({sign: True} if sign else {})
            ranks = [_rank({**case, field: value}) for value in ORDERED_ENUMS[field]]
            assert ranks == sorted(ranks), (name, sign, field, ranks)
