"""Re-screening a diary entry with the real engine: new warning signs escalate at once."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rueckenlotse import assess
from rueckenlotse.core.models import TRIAGE_ORDER, Case, Triage
from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.plan.models import DIARY_WARNING_SIGNS
from rueckenlotse.plan.rescreen import rescreen, updated_case

from ..strategies import cases
from . import T0, case, entry

RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}


@pytest.mark.safety("SR-DIA-2", "SR-RF-3")
def test_new_fever_with_iv_drug_use_escalates_to_an_emergency_and_says_why() -> None:
    before = case(2, iv_drug_use=True)
    previous = assess(before)
    assert previous.triage is Triage.soon
    result = rescreen(before, previous, entry(3, 6, warning_signs=["fever"]), assessed_at=T0)
    assert result.escalated and result.assessment.triage is Triage.emergency
    assert result.new_signs == ["fever"] and result.previous_triage is Triage.soon
    assert "spinal_infection" in result.assessment.suspected_conditions
    assert "call_emergency" in {r.id for r in result.assessment.recommendations}
    headline, action, *why = result.reasons
    assert "Fieber über 38 Grad" in headline.de and "fever above 38" in headline.en
    assert action.de.startswith("Rufen Sie sofort 112 an") and "112" in action.en
    assert any("Fieber" in r.de for r in why) and any("infection" in r.en for r in why)
    # the emergency step for fever with a risk factor names the risk actually given
    assert any("Zum Fieber kommt: Drogen, die gespritzt werden" in r.de for r in why)
    assert any("The fever comes with: injected drugs" in r.en for r in why)


@pytest.mark.safety("SR-DIA-2")
def test_a_harmless_entry_does_not_escalate() -> None:
    before = case(2)
    previous = assess(before)
    result = rescreen(before, previous, entry(2, 4, pain_reach="back_only"), assessed_at=T0)
    assert not result.escalated and result.new_signs == [] and result.new_conditions == []
    assert result.assessment.triage is previous.triage is Triage.self_care
    with pytest.raises(ValueError, match="lang"):
        rescreen(before, previous, entry(2, 4), assessed_at=T0, lang="fr")
    assert [r.de for r in result.reasons] == [
        "Ihr Eintrag zeigt kein neues Warnzeichen. Der Rat von vorher gilt weiter."
    ]


def test_the_updated_case_has_the_signs_the_weakness_and_the_later_duration() -> None:
    before = case(2, weakness="mild_stable", sex="female")
    later = updated_case(before, entry(14, 5, warning_signs=["weakness_worse", "night_pain"]), assessed_at=T0)
    assert later.weakness == "severe_or_progressive" and later.night_pain
    assert later.duration_weeks == pytest.approx(4.0) and later.sex == "female"
    assert later.model_dump(exclude={"weakness", "night_pain", "duration_weeks"}) == before.model_dump(
        exclude={"weakness", "night_pain", "duration_weeks"}
    )
    early = updated_case(before, entry(-30, 5), assessed_at=T0)
    assert early.duration_weeks == 0


@pytest.mark.safety("SR-DIA-2")
def test_worse_weakness_escalates() -> None:
    before = case(3, weakness="mild_stable")
    result = rescreen(before, assess(before), entry(1, 5, warning_signs=["weakness_worse"]), assessed_at=T0)
    assert result.escalated and result.new_signs == ["weakness_worse"]
    # Contract 1 said urgent, contract 2 emergency: at least urgent under either.
    assert result.assessment.triage in (Triage.urgent, Triage.emergency)
    assert "progressive_neurological_deficit" in result.new_conditions
    assert any("Schwäche" in r.de for r in result.reasons)


def test_a_sign_the_case_already_had_is_not_new() -> None:
    before = case(2, night_pain=True)
    previous = assess(before)
    result = rescreen(before, previous, entry(1, 5, warning_signs=["night_pain"]), assessed_at=T0)
    assert not result.escalated and result.new_signs == []
    assert result.assessment.triage is previous.triage


def test_a_sign_that_stays_escalates_only_once_when_rescreens_are_chained() -> None:
    before = case(2)
    first = rescreen(before, assess(before), entry(1, 5, warning_signs=["night_pain"]), assessed_at=T0)
    assert first.escalated and first.assessment.triage is Triage.soon
    again = rescreen(before, first.assessment, entry(2, 5, warning_signs=["night_pain"]), assessed_at=T0)
    assert not again.escalated and again.new_signs == ["night_pain"]
    assert "Das ändert unseren Rat nicht" in again.reasons[0].de


@pytest.mark.safety("SR-DIA-2")
def test_a_new_red_flag_at_the_same_level_escalates() -> None:
    before = case(2, fever=True, iv_drug_use=True)
    previous = assess(before)
    assert previous.triage is Triage.emergency
    result = rescreen(
        before, previous, entry(1, 5, warning_signs=["chest_pain_or_breathlessness"]), assessed_at=T0
    )
    assert result.escalated and result.new_conditions == ["cardiovascular_emergency"]
    assert result.assessment.triage is Triage.emergency
    assert "neuen Grund zur Vorsicht" in result.reasons[0].de
    assert any("Brust" in r.de for r in result.reasons[1:])


def test_time_alone_is_no_escalation() -> None:
    # Five weeks of acute pain (self-care); two weeks later the pain is subacute: a routine appointment.
    before = case(5)
    previous = assess(before)
    result = rescreen(before, previous, entry(14, 5), assessed_at=T0, lang="en")
    assert result.assessment.triage is Triage.routine and not result.escalated
    assert "time has passed" in result.reasons[0].en
    assert "book_appointment" in {r.id for r in result.assessment.recommendations}
    assert result.assessment.recommendations[0].text.isascii()  # English texts asked for


# ---- properties ----------
signs = st.lists(st.sampled_from(DIARY_WARNING_SIGNS), unique=True, max_size=4)


@pytest.mark.safety("SR-DIA-2", "SR-TRI-1")
@settings(max_examples=250, deadline=None)
@given(
    answers=cases(),
    base=signs,
    extra=st.sampled_from(DIARY_WARNING_SIGNS),
    days=st.one_of(st.just(0.0), st.floats(0, 200, allow_nan=False)),
)
def test_adding_a_diary_warning_sign_never_lowers_triage_and_escalates_or_keeps(
    answers: dict[str, Any], base: list[str], extra: str, days: float
) -> None:
    before = Case.model_validate(answers, strict=True)
    previous = assess(before)
    fewer = rescreen(before, previous, entry(days, 5, warning_signs=base), assessed_at=T0)
    more_signs = base if extra in base else [*base, extra]
    more = rescreen(before, previous, entry(days, 5, warning_signs=more_signs), assessed_at=T0)
    assert RANK[more.assessment.triage] >= RANK[fewer.assessment.triage]
    assert set(more.new_signs) >= set(fewer.new_signs)
    if fewer.escalated:
        assert more.escalated
    assert more.reasons and fewer.reasons


@pytest.mark.safety("SR-DIA-2")
@settings(max_examples=250, deadline=None)
@given(answers=cases(), chosen=signs)
def test_at_the_assessment_moment_an_entry_escalates_or_keeps_the_triage(
    answers: dict[str, Any], chosen: list[str]
) -> None:
    before = Case.model_validate(answers, strict=True)
    previous = assess(before)
    result = rescreen(before, previous, entry(0, 5, warning_signs=chosen), assessed_at=T0)
    assert RANK[result.assessment.triage] >= RANK[previous.triage]
    if not result.new_signs:
        assert result.assessment.triage is previous.triage and not result.escalated
    rose = result.assessment.triage is not previous.triage
    assert result.escalated == (bool(result.new_signs) and (rose or bool(result.new_conditions)))
    if result.escalated:
        assert len(result.reasons) >= 2  # the headline and at least one reason or action
    # Every new diary sign points to a serious condition: from calm answers it always escalates.
    if result.new_signs and not previous.red_flags:
        assert result.escalated


@pytest.mark.safety("SR-DIA-2")
def test_an_entry_just_after_the_assessment_matches_assess_on_the_updated_case() -> None:
    before = case(2, cancer_history=True)
    result = rescreen(before, assess(before), entry(0, 5, warning_signs=["weakness_worse"]), assessed_at=T0)
    direct = assess(before.model_copy(update={"weakness": "severe_or_progressive"}))
    assert result.assessment == direct
    assert result.assessment.triage is Triage.emergency
    assert result.case.duration_weeks == 2 and T0 + timedelta(0) == result.recorded_at


@pytest.mark.safety("SR-DIA-2", "SR-RF-3")
def test_pain_spreading_below_the_knee_escalates_with_a_cancer_history() -> None:
    from datetime import UTC, datetime, timedelta

    from rueckenlotse import assess
    from rueckenlotse.core.models import Case
    from rueckenlotse.plan.models import DiaryEntry
    from rueckenlotse.plan.rescreen import rescreen

    case = Case.model_validate(
        {"age": 60, "regions": ["low_back"], "duration_weeks": 2, "cancer_history": True}
    )
    before = assess(case)
    assert before.triage.value == "soon"
    at = datetime(2026, 3, 2, 9, tzinfo=UTC)
    entry = DiaryEntry(recorded_at=at + timedelta(days=3), pain={"low_back": 5}, pain_reach="below_knee")
    result = rescreen(case, before, entry, assessed_at=at)
    assert result.leg_pain_spread and result.case.leg_pain == "below_knee"
    # Contract 2: urgent with a cancer history (emergency only with active cancer); never lower.
    assert result.assessment.triage.value in ("urgent", "emergency") and result.escalated
    action = default_knowledge().triage_action(result.assessment, "de")
    assert action in [r.de for r in result.reasons]
    # pain that stays in the back never lowers the leg pain the Case already had
    calm = DiaryEntry(recorded_at=at + timedelta(days=4), pain={"low_back": 3}, pain_reach="back_only")
    sciatica = case.model_copy(update={"leg_pain": "below_knee", "cancer_history": False})
    assert rescreen(sciatica, assess(sciatica), calm, assessed_at=at).case.leg_pain == "below_knee"
