"""Red-flag verification report: every warning sign alone and every combination, on several base cases.

Runs each combination of 16 warning signs on each base case (version 1's signs on four, contract 2's
new signs on three more, the remaining signs the rules read on two more; the lists are shared with
tests/test_red_flag_combinations.py) through the real engine
(``rueckenlotse.assess``) and checks two things against the independent oracle of
tests/test_red_flag_combinations.py (the policy minimums written from CLINICAL_BRIEF.md):
  * triage is never below the policy minimum of the signs present;
  * adding one sign never lowers triage (each combination against each superset by one sign).
It prints a table with the number of signs, bases, combinations tried and violations, and exits 1 on
any violation.

Usage: .venv/bin/python scripts/redflag_report.py [--workers N]
"""

from __future__ import annotations

import argparse
import os
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.test_red_flag_combinations import FAMILIES, LEVELS, policy_minimum  # noqa: E402

from rueckenlotse import assess  # noqa: E402

SHOWN = 5  # violations listed per base; the count is always complete


@dataclass
class BaseResult:
    base: str
    combinations: int = 0
    single_signs: int = 0
    alone: dict[str, tuple[str, str]] = field(default_factory=dict)  # sign -> (triage, policy minimum)
    below_minimum: list[str] = field(default_factory=list)
    lowered_by_a_sign: list[str] = field(default_factory=list)


def _case(base: str, mask: int) -> dict[str, object]:
    start, signs = FAMILIES[base]
    case = dict(start)
    case.update({sign: True for bit, sign in enumerate(signs) if mask >> bit & 1})
    return case


def check_base(base: str) -> BaseResult:
    result = BaseResult(base)
    levels: list[int] = []
    signs = FAMILIES[base][1]
    for mask in range(2 ** len(signs)):
        case = _case(base, mask)
        got = LEVELS.index(assess(case).triage.value)
        levels.append(got)
        if mask and not mask & (mask - 1):
            result.alone[signs[mask.bit_length() - 1]] = (LEVELS[got], LEVELS[policy_minimum(case)])
        if got < policy_minimum(case):
            result.below_minimum.append(f"{sorted(k for k, v in case.items() if v is True)} -> {LEVELS[got]}")
    result.combinations = len(levels)
    result.single_signs = len(result.alone)
    for mask, level in enumerate(levels):
        for bit, sign in enumerate(signs):
            if not mask >> bit & 1 and levels[mask | 1 << bit] < level:
                result.lowered_by_a_sign.append(f"mask {mask:#06x} + {sign}: {LEVELS[level]} -> lower")
    return result


def report(results: list[BaseResult]) -> str:
    every_sign = list(dict.fromkeys(sign for r in results for sign in FAMILIES[r.base][1]))
    width = max(30, *(len(sign) + 1 for sign in every_sign))
    rows = [
        f"Red-flag verification: {len(every_sign)} warning signs, {len(results)} base cases",
        "",
        "Each sign alone: triage (policy minimum) per base case",
        f"{'sign':<{width}} " + " ".join(f"{r.base[:24]:<26}" for r in results),
    ]
    for sign in every_sign:
        cells = ("{} ({})".format(*r.alone.get(sign, ("-", "-"))) for r in results)
        rows.append(f"{sign:<{width}} " + " ".join(f"{c:<26}" for c in cells))
    rows += [
        "",
        f"{'base case':<28} {'signs alone':>11} {'combinations':>12} {'below minimum':>13} {'lowered':>8}",
    ]
    for r in results:
        rows.append(
            f"{r.base:<28} {r.single_signs:>11} {r.combinations:>12,} "
            f"{len(r.below_minimum):>13} {len(r.lowered_by_a_sign):>8}"
        )
    total = sum(r.combinations for r in results)
    violations = sum(len(r.below_minimum) + len(r.lowered_by_a_sign) for r in results)
    rows += ["", f"combinations tried: {total:,}   violations: {violations}"]
    for r in results:
        rows += [f"  {r.base} below minimum: {v}" for v in r.below_minimum[:SHOWN]]
        rows += [f"  {r.base} lowered: {v}" for v in r.lowered_by_a_sign[:SHOWN]]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Red-flag verification report")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes (default: CPUs)")
    args = parser.parse_args(argv)
    with ProcessPoolExecutor(max_workers=max(1, min(args.workers, len(FAMILIES)))) as pool:
        results = list(pool.map(check_base, FAMILIES))
    print(report(results))
    failed = any(r.below_minimum or r.lowered_by_a_sign for r in results)
    if failed:
        print("FEHLER / ERROR: Triage unter dem Minimum oder gesenkt / triage below minimum or lowered")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
