"""Every combination of 16 warning signs on several base cases (65,536 each), for three sets of signs.

The minimum triage of each sign is written here from contract 2's policy table (with CLINICAL_BRIEF.md
where contract 2 is silent), on purpose not read from the knowledge YAML: this is an independent
oracle for the rules. Version 1's signs run on four base cases, contract 2's new signs on three more,
and the remaining yes/no signs the rules read, with the signs they interact with, on two more.

Every Case field a red-flag rule reads is either combined here or listed in NOT_COMBINED with the reason
and the test that covers it instead; tests/test_guards_red_flag_coverage.py holds both lists to the
rules as loaded.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest

from rueckenlotse import assess

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
SIGNS_V1 = [
    "saddle_numbness", "bladder_dysfunction", "bowel_incontinence", "sexual_dysfunction_new",
    "neuro_bilateral", "gait_unsteady", "headache_or_neuro_sudden", "fever", "feels_systemically_unwell",
    "iv_drug_use", "cancer_history", "unexplained_weight_loss", "night_pain", "osteoporosis",
    "chest_pain_or_breathlessness", "sudden_tearing_pain",
]  # fmt: skip
SIGNS_V2 = [
    "neuro_bilateral_legs", "neuro_bilateral_arms", "cannot_walk", "pain_worse_lying_or_straining",
    "pain_progressive", "cancer_active", "recent_spinal_procedure", "rigors", "band_like_rash_or_burning",
    "pain_with_exertion_sweating_or_nausea", "pregnancy_warning_signs", "sepsis_signs", "anticoagulants",
    "aortic_aneurysm_known", "immunosuppression", "urinary_symptoms",
]  # fmt: skip
# The yes/no signs the rules read that neither list above combines (the first seven and the last), with
# signs they interact with in the rules: tingling or clumsy hands as the nerve sign that raises the
# fracture, bleeding, infection and cancer rows; arm pain as radiating pain with an active cancer;
# steroids and blood thinners with a fall; night sweats with the cancer rows; pregnancy with urinary and
# pregnancy warning signs; a recent infection or procedure as an infection risk with fever and night pain.
SIGNS_V3 = [
    "numbness_or_tingling", "hand_clumsiness", "arm_pain", "long_term_steroids", "night_sweats",
    "pregnant", "recent_infection_or_spinal_procedure", "neuro_bilateral_legs", "cancer_active",
    "urinary_symptoms", "pregnancy_warning_signs", "fever", "night_pain", "anticoagulants", "cannot_walk",
    "pain_unaffected_by_movement",
]  # fmt: skip
# name -> (base case, the signs combined on it)
FAMILIES: dict[str, tuple[dict[str, Any], list[str]]] = {
    "acute_low_back_adult": (
        {"age": 40, "regions": ["low_back"], "duration_weeks": 3, "pain_intensity": 5},
        SIGNS_V1,
    ),
    "subacute_neck_arm": (
        {"age": 55, "regions": ["neck", "thoracic"], "duration_weeks": 8, "arm_pain": True},
        SIGNS_V1,
    ),
    "chronic_thigh_pain": (
        {"age": 30, "regions": ["low_back"], "duration_weeks": 20, "leg_pain": "above_knee"},
        SIGNS_V1,
    ),
    "recent_sciatica_tingling": (
        {
            "age": 62,
            "regions": ["low_back"],
            "duration_weeks": 1.5,
            "leg_pain": "below_knee",
            "numbness_or_tingling": True,
            "recurrent": True,
        },
        SIGNS_V1,
    ),
    "pregnant_acute_low_back": (
        {
            "age": 31,
            "sex": "female",
            "regions": ["low_back"],
            "duration_weeks": 0.5,
            "pregnant": True,
            "pregnancy_week": 30,
            "recurrent": True,
        },
        SIGNS_V2,
    ),
    "fall_at_72_neck_and_mid_back": (
        {
            "age": 72,
            "regions": ["neck", "thoracic"],
            "duration_weeks": 3,
            "trauma": "minor",
            "recurrent": True,
        },
        SIGNS_V2,
    ),
    "subacute_sciatica_strain": (
        {
            "age": 35,
            "regions": ["low_back"],
            "duration_weeks": 8,
            "leg_pain": "below_knee",
            "trauma": "strain",
            "recurrent": True,
        },
        SIGNS_V2,
    ),
    "fall_at_45_neck_acute": (
        {"age": 45, "regions": ["neck"], "duration_weeks": 0.5, "trauma": "minor"},
        SIGNS_V3,
    ),
    "mid_and_low_back_woman_34": (
        {"age": 34, "sex": "female", "regions": ["thoracic", "low_back"], "duration_weeks": 8},
        SIGNS_V3,
    ),
}
# Fields the red-flag rules read that are not combined above: field -> (why, the tests that cover it).
_NOT_COMBINED_TESTS = "tests/safety/test_red_flag_not_combined.py::"
_EACH_VALUE = _NOT_COMBINED_TESTS + "test_each_value_with_each_sign_alone_meets_the_minimum"
_WORSENING = _NOT_COMBINED_TESTS + "test_worsening_a_graded_answer_never_lowers_triage"
_GRADED = "a graded answer: every value is tried with each sign, and a worse one never lowers triage"
_LOWERS = "yes rightly lowers triage ({}), so it cannot join combinations in which no added sign may lower it"
NOT_COMBINED: dict[str, tuple[str, tuple[str, ...]]] = {
    "age": (
        "a number: each side of its thresholds (5, 16, 50, 65, 70, 80) is tried with each sign",
        (_EACH_VALUE,),
    ),
    "duration_weeks": (
        "a number: each side of its thresholds (1, 4, 6 weeks) is tried with each sign",
        (_EACH_VALUE,),
    ),
    "regions": (
        "a set: every non-empty set of regions is tried with each sign; another region never lowers triage",
        (_EACH_VALUE, "tests/test_properties.py::test_adding_a_region_never_lowers_triage"),
    ),
    "leg_pain": (_GRADED, (_EACH_VALUE, _WORSENING)),
    "trauma": (_GRADED, (_EACH_VALUE, _WORSENING)),
    "weakness": (_GRADED, (_EACH_VALUE, _WORSENING)),
    "recurrent": (_LOWERS.format("a first episode from 70 is the warning sign"), (_EACH_VALUE,)),
    "injury_checked_by_doctor": (_LOWERS.format("a doctor has checked the injury"), (_EACH_VALUE,)),
}
BASES: dict[str, dict[str, Any]] = {name: base for name, (base, _) in FAMILIES.items()}


def _level(emergency: bool, urgent: bool = False, soon: bool = True) -> str | None:
    if emergency:
        return "emergency"
    if urgent:
        return "urgent"
    return "soon" if soon else None


def _neuro(case: dict[str, Any], s: set[str]) -> tuple[bool, bool, bool]:
    """(any neuro sign, both legs, both arms); version 1's neuro_bilateral read as contract 2 says."""
    legs_involved = case.get("leg_pain", "none") != "none" or bool(
        {"low_back", "thoracic"} & set(case["regions"])
    )
    legs = "neuro_bilateral_legs" in s or ("neuro_bilateral" in s and legs_involved)
    arms = "neuro_bilateral_arms" in s or ("neuro_bilateral" in s and not legs_involved)
    neuro = (
        bool({"numbness_or_tingling", "gait_unsteady", "hand_clumsiness"} & s)
        or legs
        or arms
        or case.get("weakness", "none") != "none"
    )
    return neuro, legs, arms


def _nerve_and_cord(case: dict[str, Any], s: set[str]) -> list[str | None]:
    neuro, legs, arms = _neuro(case, s)
    weakness = case.get("weakness", "none")
    deficit = case.get("leg_pain") == "below_knee" or "numbness_or_tingling" in s or weakness != "none"
    injury = case.get("trauma") in ("minor", "major") and "injury_checked_by_doctor" not in s
    return [
        _level(True, soon=False)
        if {"saddle_numbness", "bladder_dysfunction", "bowel_incontinence", "sexual_dysfunction_new"} & s
        else None,
        _level(deficit, True) if legs else None,
        "urgent" if {"gait_unsteady", "hand_clumsiness"} & s or arms else None,
        "emergency" if weakness == "severe_or_progressive" else None,
        "soon" if weakness == "mild_stable" else None,
        _level(injury or weakness != "none" or legs or "gait_unsteady" in s, True)
        if "cannot_walk" in s
        else None,
    ]


def _fracture_and_bleeding(case: dict[str, Any], s: set[str]) -> list[str | None]:
    neuro = _neuro(case, s)[0]
    age, weeks, trauma = case["age"], case["duration_weeks"], case.get("trauma", "none")
    checked = "injury_checked_by_doctor" in s
    early = weeks <= 1
    injury = trauma in ("minor", "major") and not checked
    fragile = bool({"osteoporosis", "long_term_steroids"} & s)
    return [
        _level(early, True) if trauma == "major" and not checked else None,
        _level(early, True)
        if "neck" in case["regions"] and injury and (age >= 65 or "numbness_or_tingling" in s)
        else None,
        _level(False, neuro) if trauma == "minor" and not checked and (fragile or age >= 65) else None,
        _level(False, neuro) if fragile and weeks < 6 else None,
        "soon" if age >= 80 and weeks < 6 else None,
        _level(neuro, True) if "anticoagulants" in s and injury else None,
        "emergency" if {"anticoagulants", "recent_spinal_procedure"} <= s and neuro else None,
    ]


def _infection_and_cancer(case: dict[str, Any], s: set[str]) -> list[str | None]:
    neuro = _neuro(case, s)[0]
    risk = bool(
        {
            "iv_drug_use",
            "immunosuppression",
            "recent_infection_or_spinal_procedure",
            "recent_spinal_procedure",
        }
        & s
    )
    upper = bool({"neck", "thoracic"} & set(case["regions"]))
    radiating = case.get("leg_pain") == "below_knee" or "arm_pain" in s
    cancer = bool({"cancer_history", "cancer_active"} & s)
    worse = bool({"night_pain", "pain_worse_lying_or_straining", "pain_progressive"} & s)
    return [
        _level(neuro, bool({"night_pain", "rigors", "feels_systemically_unwell", "pain_progressive"} & s))
        if risk
        else None,
        "urgent" if {"rigors", "feels_systemically_unwell"} & s else None,
        _level(neuro or risk, True) if "fever" in s else None,
        "emergency" if "sepsis_signs" in s else None,
        _level(
            neuro or "cannot_walk" in s or ("cancer_active" in s and radiating), radiating or upper or worse
        )
        if cancer
        else None,
        _level(False, neuro) if {"unexplained_weight_loss", "night_sweats", "night_pain"} & s else None,
        "soon" if "pain_progressive" in s else None,
        "soon" if case["age"] >= 70 and "recurrent" not in s else None,
    ]


def _vascular_and_other(case: dict[str, Any], s: set[str]) -> list[str | None]:
    regions = set(case["regions"])
    upper = bool({"neck", "thoracic"} & regions)
    age, weeks = case["age"], case["duration_weeks"]
    return [
        "emergency"
        if {"headache_or_neuro_sudden", "chest_pain_or_breathlessness", "sudden_tearing_pain"} & s
        else None,
        "emergency" if "pain_with_exertion_sweating_or_nausea" in s and (upper or age >= 50) else None,
        _level(weeks <= 4 or "pain_progressive" in s) if "aortic_aneurysm_known" in s else None,
        "soon" if "thoracic" in regions and weeks < 6 and age >= 50 else None,
        _level(False, "pregnant" in s) if "urinary_symptoms" in s else None,
        "soon" if "pain_unaffected_by_movement" in s else None,
        _level(False, weeks <= 1 or "immunosuppression" in s) if "band_like_rash_or_burning" in s else None,
        "emergency" if {"pregnant", "pregnancy_warning_signs"} <= s else None,
        _level(False, age < 5) if age < 16 else None,
    ]


def policy_minimum(case: dict[str, Any]) -> int:
    """Minimum triage level (index into LEVELS) from contract 2's policy table."""
    s = {k for k, v in case.items() if v is True}
    needs = [
        *_nerve_and_cord(case, s),
        *_fracture_and_bleeding(case, s),
        *_infection_and_cancer(case, s),
        *_vascular_and_other(case, s),
    ]
    return max((LEVELS.index(n) for n in needs if n is not None), default=0)


@pytest.mark.safety("SR-RF-1", "SR-RF-3", "SR-RF-4", "SR-TRI-1", "SR-TRI-2")
@pytest.mark.slow
@pytest.mark.parametrize("base_name", list(FAMILIES))
def test_every_combination_meets_the_policy_minimum(base_name: str) -> None:
    base, signs = FAMILIES[base_name]
    levels: dict[int, int] = {}
    failures: list[str] = []
    for mask, bits in enumerate(product((False, True), repeat=len(signs))):
        case = dict(base)
        case.update({sign: True for sign, on in zip(signs, bits, strict=True) if on})
        a = assess(case)
        got = LEVELS.index(a.triage.value)
        levels[mask] = got
        if got < policy_minimum(case) and len(failures) < 20:
            failures.append(f"{sorted(k for k in case if case[k] is True)} -> {a.triage.value}")
        if a.triage.value == "emergency":
            assert a.imaging.value == "emergency"
            assert any(r.id == "call_emergency" for r in a.recommendations)
    assert not failures, failures
    assert len(levels) == 2 ** len(signs)
    # Adding any one sign never lowers triage: compare every mask with each superset by one bit.
    width = len(signs)
    for mask, level in levels.items():
        for bit in range(width):
            flag = 1 << bit
            if not mask & flag:
                assert levels[mask | flag] >= level, (base_name, mask, bit)
    print(f"{base_name}: {len(levels)} combinations checked")
