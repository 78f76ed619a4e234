"""Claims of the hazard log about a specific sign that no test marked with the requirement named before
tests/test_guards_hazard_log.py asked for one: the fragile-bone rows of SR-RF-2 and the known aortic
aneurysm of SR-RF-4. The minimums are written from contract 2's policy table, not read from the rules.
"""

from __future__ import annotations

from typing import Any

import pytest

from rueckenlotse import assess

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
# Earlier episodes and 8 weeks of pain: nothing else in the case asks for care.
LOW_BACK = {"age": 50, "regions": ["low_back"], "duration_weeks": 8, "recurrent": True}


def _at_least(case: dict[str, Any], level: str) -> str:
    got = assess(case).triage.value
    assert LEVELS.index(got) >= LEVELS.index(level), (case, got)
    return got


@pytest.mark.safety("SR-RF-2")
@pytest.mark.parametrize("fragile", ["osteoporosis", "long_term_steroids"])
def test_a_fall_with_fragile_bones_is_seen_soon_and_urgently_with_a_nerve_sign(fragile: str) -> None:
    assert assess(LOW_BACK).triage.value == "routine"
    fall = {**LOW_BACK, "trauma": "minor", fragile: True}
    assert _at_least(fall, "soon") == "soon"
    assert "spinal_fracture" in assess(fall).suspected_conditions
    assert _at_least({**fall, "numbness_or_tingling": True}, "urgent") == "urgent"
    # until a doctor has checked the injury
    assert assess({**fall, "injury_checked_by_doctor": True}).triage.value == "routine"
    # a strain (lifting, twisting) is no fall
    assert assess({**fall, "trauma": "strain"}).triage.value == "routine"


@pytest.mark.safety("SR-RF-2")
@pytest.mark.parametrize("fragile", ["osteoporosis", "long_term_steroids"])
def test_acute_pain_with_fragile_bones_is_seen_soon_without_a_fall(fragile: str) -> None:
    acute = {**LOW_BACK, "duration_weeks": 3, fragile: True}
    assert assess({**acute, fragile: False}).triage.value == "self_care"
    assert _at_least(acute, "soon") == "soon"
    assert _at_least({**acute, "gait_unsteady": True}, "urgent")
    assert assess({**acute, "duration_weeks": 6}).triage.value == "routine"


@pytest.mark.safety("SR-RF-4", "SR-TRI-2")
@pytest.mark.parametrize(
    "change",
    [{"duration_weeks": 4}, {"duration_weeks": 0.5}, {"duration_weeks": 30, "pain_progressive": True}],
)
def test_a_known_aortic_aneurysm_with_new_or_changed_pain_is_an_emergency(change: dict[str, Any]) -> None:
    a = assess({**LOW_BACK, "aortic_aneurysm_known": True, **change})
    assert a.triage.value == "emergency"
    assert a.recommendations[0].id == "call_emergency"
    assert "cardiovascular_emergency" in a.suspected_conditions


@pytest.mark.safety("SR-RF-4")
def test_a_known_aortic_aneurysm_with_long_unchanged_pain_is_still_seen_soon() -> None:
    a = assess({**LOW_BACK, "duration_weeks": 10, "aortic_aneurysm_known": True})
    assert a.triage.value == "soon"
    assert "visceral_cause" in a.suspected_conditions
