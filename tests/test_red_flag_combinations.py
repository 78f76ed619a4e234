"""Every combination of the 16 warning signs on several base cases (65,536 each).

The minimum triage of each sign is written here from CLINICAL_BRIEF.md's policy table, on purpose
not read from the knowledge YAML: this is an independent oracle for the rules.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from rueckenlotse import assess

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
SIGNS = [
    "saddle_numbness", "bladder_dysfunction", "bowel_incontinence", "sexual_dysfunction_new",
    "neuro_bilateral", "gait_unsteady", "headache_or_neuro_sudden", "fever", "feels_systemically_unwell",
    "iv_drug_use", "cancer_history", "unexplained_weight_loss", "night_pain", "osteoporosis",
    "chest_pain_or_breathlessness", "sudden_tearing_pain",
]  # fmt: skip
BASES: dict[str, dict[str, Any]] = {
    "acute_low_back_adult": {"age": 40, "regions": ["low_back"], "duration_weeks": 3, "pain_intensity": 5},
    "subacute_neck_arm": {"age": 55, "regions": ["neck", "thoracic"], "duration_weeks": 8, "arm_pain": True},
    "chronic_thigh_pain": {
        "age": 30, "regions": ["low_back"], "duration_weeks": 20, "leg_pain": "above_knee",
    },
    "recent_sciatica_tingling": {
        "age": 62, "regions": ["low_back"], "duration_weeks": 1.5, "leg_pain": "below_knee",
        "numbness_or_tingling": True, "recurrent": True,
    },
}  # fmt: skip


def policy_minimum(case: dict[str, Any]) -> int:
    """Minimum triage level (index into LEVELS) from the brief's warning-sign table."""
    s = {k for k, v in case.items() if v is True}
    low_back = "low_back" in case["regions"]
    upper = bool({"neck", "thoracic"} & set(case["regions"]))
    legs = case.get("leg_pain", "none") != "none" or low_back
    neuro = bool({"numbness_or_tingling", "neuro_bilateral", "gait_unsteady", "hand_clumsiness"} & s) or (
        case.get("weakness", "none") != "none"
    )
    early_bilateral = (
        case.get("leg_pain") == "below_knee"
        or "numbness_or_tingling" in s
        or case.get("weakness", "none") != "none"
        or case["duration_weeks"] <= 2
    )
    needs: list[str] = []
    if {"saddle_numbness", "bladder_dysfunction", "bowel_incontinence", "sexual_dysfunction_new"} & s:
        needs.append("emergency")
    if "neuro_bilateral" in s:
        needs.append("emergency" if legs and early_bilateral else "urgent")
    if "gait_unsteady" in s:
        needs.append("urgent")
    if {"headache_or_neuro_sudden", "chest_pain_or_breathlessness", "sudden_tearing_pain"} & s:
        needs.append("emergency")
    if "fever" in s:
        risk = {"feels_systemically_unwell", "iv_drug_use"} & s or neuro
        needs.append("emergency" if risk else "urgent")
    if {"feels_systemically_unwell", "iv_drug_use"} & s:
        needs.append("urgent" if "night_pain" in s else "soon")
    if "cancer_history" in s:
        compression = case.get("leg_pain") == "below_knee" or case.get("arm_pain") or neuro
        needs.append("emergency" if compression else "urgent" if upper or "night_pain" in s else "soon")
    if {"unexplained_weight_loss", "night_pain"} & s:
        needs.append("urgent" if neuro else "soon")
    if "osteoporosis" in s and case["duration_weeks"] < 6:
        needs.append("urgent" if neuro else "soon")
    return max((LEVELS.index(n) for n in needs), default=0)


@pytest.mark.safety("SR-RF-1", "SR-RF-3", "SR-RF-4", "SR-TRI-1", "SR-TRI-2")
@pytest.mark.slow
@pytest.mark.parametrize("base_name", list(BASES))
def test_every_combination_meets_the_policy_minimum(base_name: str) -> None:
    base = BASES[base_name]
    levels: dict[int, int] = {}
    failures: list[str] = []
    for mask, bits in enumerate(product((False, True), repeat=len(SIGNS))):
        case = dict(base)
        case.update({sign: True for sign, on in zip(SIGNS, bits, strict=True) if on})
        a = assess(case)
        got = LEVELS.index(a.triage.value)
        levels[mask] = got
        if got < policy_minimum(case) and len(failures) < 20:
            failures.append(f"{sorted(k for k in case if case[k] is True)} -> {a.triage.value}")
        if a.triage.value == "emergency":
            assert a.imaging.value == "emergency"
            assert any(r.id == "call_emergency" for r in a.recommendations)
    assert not failures, failures
    assert len(levels) == 2 ** len(SIGNS)
    # Adding any one sign never lowers triage: compare every mask with each superset by one bit.
    width = len(SIGNS)
    for mask, level in levels.items():
        for bit in range(width):
            flag = 1 << bit
            if not mask & flag:
                assert levels[mask | flag] >= level, (base_name, mask, bit)
    print(f"{base_name}: {len(levels)} combinations checked")
