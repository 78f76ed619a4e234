"""Red flags persist until examined (contract 2, SR-FU-1): dated diaries replayed with the real engine."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rueckenlotse import assess
from rueckenlotse.core.models import TRIAGE_ORDER, Case, Triage
from rueckenlotse.plan.models import DIARY_WARNING_SIGNS, DiaryEntry
from rueckenlotse.plan.rescreen import raised_flags, replay

from . import FRAGILE, T0, entry

RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}
# Osteoporosis with pain for 5 weeks: a red flag only while the pain is under 6 weeks old (a time window).
WINDOWED: dict[str, Any] = {
    "age": 55,
    "regions": ["low_back"],
    "duration_weeks": 5,
    "osteoporosis": True,
    "recurrent": True,
}


def _replay(data: dict[str, Any], entries: list[DiaryEntry]) -> Any:
    case = Case.model_validate(data)
    return replay(case, assess(case), entries, assessed_at=T0)


def _conditions(assessment: Any) -> set[str]:
    return {f.condition for f in assessment.red_flags}


@pytest.mark.safety("SR-FU-1")
def test_a_fracture_flag_from_the_intake_stands_three_weeks_later_until_a_doctor_examined_it() -> None:
    intake = assess(FRAGILE)
    assert "spinal_fracture" in _conditions(intake)
    diary = [entry(d, 3) for d in (2, 9, 16, 21)]
    episode = _replay(FRAGILE, diary)
    for result in episode.rescreens:
        assert "spinal_fracture" in _conditions(result.assessment)
        assert RANK[result.assessment.triage] >= RANK[intake.triage]
        assert any(r.id == "no_exercise_until_cleared" for r in result.assessment.recommendations)
    assert "spinal_fracture" in {f.condition for f in episode.standing}
    assert episode.standing[0].raised_at == T0
    # Day 23: "Ein Arzt hat mich deswegen untersucht". The same facts (age, osteoporosis, the fall) do not
    # raise the flag again, in this entry or later ones.
    examined = [*diary, entry(23, 3, examined_by_doctor=True), entry(30, 2)]
    after = _replay(FRAGILE, examined)
    exam, later = after.rescreens[-2], after.rescreens[-1]
    assert "spinal_fracture" in exam.examined and exam.standing == [] and after.standing == []
    assert not exam.assessment.red_flags and not later.assessment.red_flags
    assert any("untersucht" in r.de for r in exam.reasons)
    assert "spinal_fracture" in after.examined_at


@pytest.mark.safety("SR-FU-1")
def test_a_time_window_never_expires_a_raised_flag() -> None:
    # Plain re-screening drops the flag once the pain is 6 weeks old; the episode holds it at its triage.
    later = Case.model_validate({**WINDOWED, "duration_weeks": 8})
    assert "spinal_fracture" not in _conditions(assess(later)), "the rule must have a time window"
    intake = assess(WINDOWED)
    flag = next(f for f in raised_flags_of(intake) if f.condition == "spinal_fracture")
    episode = _replay(WINDOWED, [entry(d, 4) for d in (7, 14, 21)])
    for result in episode.rescreens:
        assert "spinal_fracture" in _conditions(result.assessment)
        assert RANK[result.assessment.triage] >= RANK[flag.triage]
    assert episode.rescreens[-1].held == ["spinal_fracture"]
    assert any("Arzt" in r.de and "untersucht" in r.de for r in episode.rescreens[-1].reasons)
    assert not any(r.escalated for r in episode.rescreens), "a flag that only stands on is no new escalation"


def raised_flags_of(assessment: Any) -> Any:
    from rueckenlotse.knowledge.loader import default_knowledge

    return raised_flags(default_knowledge(), assessment, T0)


@pytest.mark.safety("SR-FU-1")
def test_a_flag_from_a_diary_sign_stands_when_the_sign_is_not_ticked_again() -> None:
    plain: dict[str, Any] = {"age": 45, "regions": ["low_back"], "duration_weeks": 1}
    episode = _replay(plain, [entry(1, 5, warning_signs=["fever"]), entry(3, 4), entry(10, 3)])
    fever, *after = episode.rescreens
    assert fever.escalated and "spinal_infection" in _conditions(fever.assessment)
    for result in after:
        assert "spinal_infection" in _conditions(result.assessment)
        assert RANK[result.assessment.triage] >= RANK[fever.assessment.triage]


@pytest.mark.safety("SR-FU-1")
def test_new_evidence_after_the_examination_raises_the_flag_again() -> None:
    entries = [entry(2, 3, examined_by_doctor=True), entry(5, 3, warning_signs=["weakness_worse"])]
    episode = _replay(FRAGILE, entries)
    examined, weaker = episode.rescreens
    assert "spinal_fracture" not in _conditions(examined.assessment)
    # New weakness: a neuro sign, evidence the doctor has not seen, raises the fracture flag again.
    assert "spinal_fracture" in _conditions(weaker.assessment)
    assert weaker.escalated and RANK[weaker.assessment.triage] >= RANK[Triage.urgent]
    assert "spinal_fracture" in {f.condition for f in episode.standing}


@pytest.mark.safety("SR-FU-1")
def test_an_examination_never_hides_a_sign_ticked_in_the_same_entry() -> None:
    episode = _replay(FRAGILE, [entry(2, 3, examined_by_doctor=True, warning_signs=["saddle_numbness"])])
    result = episode.rescreens[0]
    assert result.assessment.triage is Triage.emergency
    assert "cauda_equina_syndrome" in _conditions(result.assessment)


ENTRY_SIGNS = st.lists(st.sampled_from(DIARY_WARNING_SIGNS), max_size=2, unique=True)
INTAKES = st.sampled_from(
    [
        FRAGILE,
        WINDOWED,
        {"age": 35, "regions": ["low_back"], "duration_weeks": 0.5, "trauma": "major"},
        {"age": 60, "regions": ["thoracic"], "duration_weeks": 2, "cancer_history": True},
        {"age": 50, "regions": ["low_back"], "duration_weeks": 1, "fever": True},
        {
            "age": 40,
            "regions": ["neck"],
            "duration_weeks": 1,
            "trauma": "minor",
            "numbness_or_tingling": True,
        },
    ]
)


@pytest.mark.safety("SR-FU-1")
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    INTAKES,
    st.lists(
        st.tuples(st.floats(0, 120), st.integers(0, 10), ENTRY_SIGNS, st.sampled_from([None, "below_knee"])),
        max_size=6,
    ),
)
def test_without_an_examination_the_rescreen_never_drops_below_the_intake_red_flag_minimum(
    data: dict[str, Any], raw: list[tuple[float, int, list[str], str | None]]
) -> None:
    intake = assess(data)
    minimum = max((f.triage for f in raised_flags_of(intake)), key=RANK.__getitem__)
    entries = [entry(day, pain, warning_signs=signs, pain_reach=reach) for day, pain, signs, reach in raw]
    episode = _replay(data, entries)
    for result in episode.rescreens:
        assert RANK[result.assessment.triage] >= RANK[minimum]
        assert _conditions(intake) <= _conditions(result.assessment)
    assert {f.condition for f in raised_flags_of(intake)} <= {f.condition for f in episode.standing}


def test_replay_keeps_each_entry_findable_in_the_order_given() -> None:
    first, second = entry(5, 3), entry(1, 4)
    episode = _replay(FRAGILE, [first, second])
    assert episode.of_entry(0).recorded_at == first.recorded_at
    assert episode.of_entry(-1).recorded_at == second.recorded_at
    assert [r.recorded_at for r in episode.rescreens] == sorted([first.recorded_at, second.recorded_at])
    assert episode.of_entry(0).recorded_at - episode.of_entry(1).recorded_at == timedelta(days=4)
