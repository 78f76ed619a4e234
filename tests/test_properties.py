"""Property tests over generated valid Cases: monotonicity and the contract's safety invariants."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rueckenlotse import assess
from rueckenlotse.knowledge import default_knowledge

from .strategies import ORDERED_ENUMS, REGIONS, WARNING_SIGNS, cases

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
WITHHELD = {"stay_active", "heat", "exercise_therapy", "rehab_sport", "relaxation_training"}


def _rank(case: dict[str, Any]) -> int:
    return LEVELS.index(assess(case).triage.value)


@pytest.mark.safety("SR-TRI-1")
@settings(max_examples=600, deadline=None)
@given(case=cases(), sign=st.sampled_from(WARNING_SIGNS))
def test_turning_on_a_warning_sign_never_lowers_triage(case: dict[str, Any], sign: str) -> None:
    before = _rank({**case, sign: False})
    assert _rank({**case, sign: True}) >= before


@pytest.mark.safety("SR-TRI-1", "SR-RF-2")
@settings(max_examples=400, deadline=None)
@given(case=cases(), field=st.sampled_from(sorted(ORDERED_ENUMS)), data=st.data())
def test_worsening_weakness_trauma_or_leg_pain_never_lowers_triage(
    case: dict[str, Any], field: str, data: st.DataObject
) -> None:
    values = ORDERED_ENUMS[field]
    low = data.draw(st.integers(0, len(values) - 2))
    high = data.draw(st.integers(low + 1, len(values) - 1))
    assert _rank({**case, field: values[high]}) >= _rank({**case, field: values[low]})


@pytest.mark.safety("SR-TRI-2", "SR-TRI-3", "SR-TRI-5", "SR-INF-2", "SR-INF-3")
@settings(max_examples=800, deadline=None)
@given(case=cases())
def test_safety_invariants_hold(case: dict[str, Any]) -> None:
    a = assess(case)
    ids = {r.id for r in a.recommendations}
    if a.triage.value == "emergency":
        assert "call_emergency" in ids and a.imaging.value == "emergency"
    if a.triage.value == "urgent":
        assert "see_doctor_today" in ids
    if a.red_flags:
        assert "no_exercise_until_cleared" in ids and not ids & WITHHELD
        assert a.neuroplastic_indicators is None
    # invariant 4 (contract 2): avoid_bed_rest whenever triage is not emergency, red flag or not
    if a.triage.value != "emergency" or not a.red_flags:
        assert "avoid_bed_rest" in ids
    registry = default_knowledge().sources
    assert all(r.sources and all(s in registry for s in r.sources) for r in a.recommendations)
    # invariant 7 (contract 2): age 65+ and long-term steroids are medication risks too, and no medication
    # risk ever gets the advice against paracetamol
    medication_risk = any(
        case.get(k) for k in ("anticoagulants", "pregnant", "nsaid_risk", "long_term_steroids")
    )
    if medication_risk or case["age"] >= 65:
        assert "nsaid_short_term_info" not in ids and "medication_check_with_doctor" in ids
        assert "avoid_paracetamol_for_low_back_pain" not in ids
    assert (
        a.review_in_days == {"emergency": 0, "urgent": 1, "soon": 7, "routine": 28, "self_care": 14}[a.triage]
    )
    assert all(flag.evidence for flag in a.red_flags)
    assert all(entry.because for entry in a.trace)


@pytest.mark.safety("SR-TRI-1")
@settings(max_examples=600, deadline=None)
@given(case=cases(), region=st.sampled_from(REGIONS))
def test_adding_a_region_never_lowers_triage(case: dict[str, Any], region: str) -> None:
    """Invariant 8 (contract 2): e.g. neck pain for 5 weeks is routine, and so is neck and mid-back pain."""
    if region in case["regions"]:
        return
    assert _rank({**case, "regions": [*case["regions"], region]}) >= _rank(case)


@pytest.mark.safety("SR-TRI-2")
@settings(max_examples=600, deadline=None)
@given(case=cases())
def test_seek_care_comes_before_any_reassuring_or_activity_text(case: dict[str, Any]) -> None:
    """Invariant 9 (contract 2): from soon upwards the first recommendation is the seek-care text."""
    a = assess(case)
    if LEVELS.index(a.triage.value) < LEVELS.index("soon"):
        return
    kinds = [r.kind.value for r in a.recommendations]
    first_other = next((i for i, k in enumerate(kinds) if k != "seek_care"), len(kinds))
    assert "seek_care" in kinds and kinds.index("seek_care") < first_other
    assert a.recommendations[0].id == {
        "emergency": "call_emergency", "urgent": "see_doctor_today", "soon": "see_doctor_soon"
    }[a.triage.value]  # fmt: skip


@pytest.mark.safety("SR-LANG-1")
@settings(max_examples=300, deadline=None)
@given(case=cases())
def test_english_and_german_agree_on_everything_but_text(case: dict[str, Any]) -> None:
    de = assess(case, lang="de").model_dump(mode="json")
    en = assess(case, lang="en").model_dump(mode="json")
    for a in (de, en):
        for r in a["recommendations"]:
            r.pop("text")
    assert de == en
