"""One test per row of contract 2's policy tables, with the minimums written here from
contract/v2/CONTRACT.md (never read from the knowledge YAML): triage rows, recommendation rows and the
changed field meanings. Each case is the smallest one that should fire the row; a second case next to it
shows the boundary where the contract draws one.
"""

from __future__ import annotations

from typing import Any

import pytest

from rueckenlotse import assess

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
LOW_BACK = {"age": 45, "regions": ["low_back"], "duration_weeks": 3, "recurrent": True}
MID_BACK = {"age": 45, "regions": ["thoracic"], "duration_weeks": 3, "recurrent": True}
NECK = {"age": 45, "regions": ["neck"], "duration_weeks": 2, "recurrent": True}

# (row, case, exact triage, a condition that must be suspected or None)
TRIAGE_ROWS: list[tuple[str, dict[str, Any], str, str | None]] = [
    (
        "both legs with pain below the knee, low back",
        {**LOW_BACK, "neuro_bilateral_legs": True, "leg_pain": "below_knee"},
        "emergency",
        "cauda_equina_syndrome",
    ),
    (
        "both legs with numbness, mid back only: the cord",
        {**MID_BACK, "neuro_bilateral_legs": True, "numbness_or_tingling": True},
        "emergency",
        "spinal_cord_compression",
    ),
    (
        "both legs with weakness after 20 weeks: the v1 duration clause is gone, still an emergency",
        {**LOW_BACK, "duration_weeks": 20, "neuro_bilateral_legs": True, "weakness": "mild_stable"},
        "emergency",
        "cauda_equina_syndrome",
    ),
    (
        "an ache in both thighs alone, at 1 week",
        {**LOW_BACK, "duration_weeks": 1, "neuro_bilateral_legs": True},
        "urgent",
        "cauda_equina_syndrome",
    ),
    (
        "an ache in both thighs alone, at 30 weeks",
        {**LOW_BACK, "duration_weeks": 30, "neuro_bilateral_legs": True},
        "urgent",
        "cauda_equina_syndrome",
    ),
    (
        "version 1's neuro_bilateral with low back means the legs",
        {**LOW_BACK, "neuro_bilateral": True, "numbness_or_tingling": True},
        "emergency",
        "cauda_equina_syndrome",
    ),
    (
        "version 1's neuro_bilateral with mid-back pain means the legs",
        {**MID_BACK, "neuro_bilateral": True, "numbness_or_tingling": True},
        "emergency",
        "spinal_cord_compression",
    ),
    (
        "version 1's neuro_bilateral with neck only means the arms",
        {**NECK, "neuro_bilateral": True},
        "urgent",
        "myelopathy",
    ),
    ("both arms", {**NECK, "neuro_bilateral_arms": True}, "urgent", "myelopathy"),
    (
        "weakness getting worse",
        {**LOW_BACK, "weakness": "severe_or_progressive"},
        "emergency",
        "progressive_neurological_deficit",
    ),
    ("cannot walk alone", {**LOW_BACK, "cannot_walk": True}, "urgent", "unable_to_walk"),
    (
        "cannot walk after a fall",
        {**LOW_BACK, "cannot_walk": True, "trauma": "minor"},
        "emergency",
        "unable_to_walk",
    ),
    (
        "cannot walk after a fall that a doctor has examined",
        {**LOW_BACK, "cannot_walk": True, "trauma": "minor", "injury_checked_by_doctor": True},
        "urgent",
        "unable_to_walk",
    ),
    (
        "cannot walk with unsteady gait",
        {**LOW_BACK, "cannot_walk": True, "gait_unsteady": True},
        "emergency",
        "unable_to_walk",
    ),
    (
        "cannot walk after a strain (no fall): urgent, not the fall row",
        {**LOW_BACK, "cannot_walk": True, "trauma": "strain"},
        "urgent",
        "unable_to_walk",
    ),
    ("fall at 65", {**LOW_BACK, "age": 65, "trauma": "minor"}, "soon", "spinal_fracture"),
    ("fall at 64 with nothing else", {**LOW_BACK, "age": 64, "trauma": "minor"}, "self_care", None),
    (
        "fall at 65 with numbness",
        {**LOW_BACK, "age": 65, "trauma": "minor", "numbness_or_tingling": True},
        "urgent",
        "spinal_fracture",
    ),
    ("strain at 75 is not a fracture row", {**LOW_BACK, "age": 75, "trauma": "strain"}, "self_care", None),
    (
        "new pain at 80 although recurrent",
        {**LOW_BACK, "age": 80, "duration_weeks": 2},
        "soon",
        "spinal_fracture",
    ),
    ("pain at 80 for 8 weeks", {**LOW_BACK, "age": 80, "duration_weeks": 8}, "routine", None),
    (
        "neck after a fall at 66, first week",
        {**NECK, "age": 66, "trauma": "minor", "duration_weeks": 0.5},
        "emergency",
        "spinal_fracture",
    ),
    (
        "neck after a strain at 66",
        {**NECK, "age": 66, "trauma": "strain", "duration_weeks": 0.5},
        "self_care",
        None,
    ),
    (
        "blood thinners after a fall",
        {**LOW_BACK, "anticoagulants": True, "trauma": "minor"},
        "urgent",
        "bleeding_or_fracture",
    ),
    (
        "blood thinners after a fall, with numbness",
        {**LOW_BACK, "anticoagulants": True, "trauma": "minor", "numbness_or_tingling": True},
        "emergency",
        "bleeding_or_fracture",
    ),
    (
        "blood thinners after a fall a doctor examined",
        {**LOW_BACK, "anticoagulants": True, "trauma": "minor", "injury_checked_by_doctor": True},
        "self_care",
        None,
    ),
    (
        "blood thinners, spinal injection, new weakness",
        {**LOW_BACK, "anticoagulants": True, "recent_spinal_procedure": True, "weakness": "mild_stable"},
        "emergency",
        "bleeding_or_fracture",
    ),
    ("spinal injection alone", {**LOW_BACK, "recent_spinal_procedure": True}, "soon", "spinal_infection"),
    (
        "spinal injection with night pain",
        {**LOW_BACK, "recent_spinal_procedure": True, "night_pain": True},
        "urgent",
        "spinal_infection",
    ),
    (
        "infection risk with pain getting worse",
        {**LOW_BACK, "iv_drug_use": True, "pain_progressive": True},
        "urgent",
        "spinal_infection",
    ),
    (
        "infection risk with numbness",
        {**LOW_BACK, "immunosuppression": True, "numbness_or_tingling": True},
        "emergency",
        "spinal_infection",
    ),
    ("shaking chills alone", {**LOW_BACK, "rigors": True}, "urgent", "spinal_infection"),
    ("feeling very ill alone", {**LOW_BACK, "feels_systemically_unwell": True}, "urgent", "spinal_infection"),
    ("fever alone", {**LOW_BACK, "fever": True}, "urgent", "spinal_infection"),
    (
        "fever with shaking chills stays urgent",
        {**LOW_BACK, "fever": True, "rigors": True},
        "urgent",
        "spinal_infection",
    ),
    (
        "fever after a spinal injection",
        {**LOW_BACK, "fever": True, "recent_spinal_procedure": True},
        "emergency",
        "spinal_infection",
    ),
    ("sepsis signs", {**LOW_BACK, "sepsis_signs": True}, "emergency", "spinal_infection"),
    ("cancer history, low back", {**LOW_BACK, "cancer_history": True}, "soon", "malignancy"),
    ("active cancer counts as a history", {**LOW_BACK, "cancer_active": True}, "soon", "malignancy"),
    (
        "cancer with pain worse lying down",
        {**LOW_BACK, "cancer_history": True, "pain_worse_lying_or_straining": True},
        "urgent",
        "malignancy",
    ),
    (
        "old cancer with sciatica",
        {**LOW_BACK, "cancer_history": True, "leg_pain": "below_knee"},
        "urgent",
        "malignancy",
    ),
    (
        "active cancer with sciatica",
        {**LOW_BACK, "cancer_active": True, "leg_pain": "below_knee"},
        "emergency",
        "malignancy",
    ),
    (
        "cancer and cannot walk",
        {**LOW_BACK, "cancer_history": True, "cannot_walk": True},
        "emergency",
        "malignancy",
    ),
    (
        "pain getting worse over weeks at 30",
        {**LOW_BACK, "age": 30, "pain_progressive": True},
        "soon",
        "malignancy",
    ),
    ("tearing pain", {**LOW_BACK, "sudden_tearing_pain": True}, "emergency", "cardiovascular_emergency"),
    (
        "sweating pattern with mid-back pain at 40",
        {**MID_BACK, "age": 40, "pain_with_exertion_sweating_or_nausea": True},
        "emergency",
        "cardiovascular_emergency",
    ),
    (
        "sweating pattern with low back pain at 50",
        {**LOW_BACK, "age": 50, "pain_with_exertion_sweating_or_nausea": True},
        "emergency",
        "cardiovascular_emergency",
    ),
    (
        "aneurysm with pain of 3 weeks",
        {**LOW_BACK, "aortic_aneurysm_known": True},
        "emergency",
        "cardiovascular_emergency",
    ),
    (
        "aneurysm with pain of 10 weeks, unchanged",
        {**LOW_BACK, "duration_weeks": 10, "aortic_aneurysm_known": True},
        "soon",
        "visceral_cause",
    ),
    (
        "aneurysm with pain of 10 weeks, getting worse",
        {**LOW_BACK, "duration_weeks": 10, "aortic_aneurysm_known": True, "pain_progressive": True},
        "emergency",
        "cardiovascular_emergency",
    ),
    ("new mid-back pain at 50", {**MID_BACK, "age": 50}, "soon", "visceral_cause"),
    ("new mid-back pain at 49", {**MID_BACK, "age": 49}, "self_care", None),
    (
        "urinary symptoms in pregnancy",
        {**LOW_BACK, "age": 30, "pregnant": True, "urinary_symptoms": True},
        "urgent",
        "visceral_cause",
    ),
    (
        "shingles, rash 5 days old",
        {**MID_BACK, "duration_weeks": 0.7, "band_like_rash_or_burning": True},
        "urgent",
        "herpes_zoster",
    ),
    ("shingles for 3 weeks", {**MID_BACK, "band_like_rash_or_burning": True}, "soon", "herpes_zoster"),
    (
        "shingles for 3 weeks with a weak immune system",
        {**MID_BACK, "band_like_rash_or_burning": True, "immunosuppression": True},
        "urgent",
        "herpes_zoster",
    ),
    (
        "pregnancy with warning signs",
        {**LOW_BACK, "age": 30, "pregnant": True, "pregnancy_warning_signs": True},
        "emergency",
        "obstetric_emergency",
    ),
    (
        "neck and mid back at 5 weeks: the neck is past acute",
        {**NECK, "regions": ["neck", "thoracic"], "duration_weeks": 5},
        "routine",
        None,
    ),
    ("neck alone at 5 weeks", {**NECK, "duration_weeks": 5}, "routine", None),
    (
        "STarT Back medium in the acute phase",
        {
            **LOW_BACK,
            "startback": {
                "leg_pain_recent": True,
                "neck_or_shoulder_pain_recent": True,
                "walks_short_distances_only": True,
                "dresses_more_slowly": True,
                "unsafe_to_be_active": False,
                "worrying_thoughts": False,
                "pain_terrible_never_better": False,
                "not_enjoying_things": False,
                "bothersomeness": 1,
            },
        },
        "routine",
        None,
    ),
    ("very strong pain in the acute phase", {**LOW_BACK, "pain_intensity": 8}, "soon", None),
    ("strong pain 7 in the acute phase", {**LOW_BACK, "pain_intensity": 7}, "self_care", None),
]


def _ids(assessment: Any) -> set[str]:
    return {r.id for r in assessment.recommendations}


@pytest.mark.safety("SR-TRI-1", "SR-RF-1", "SR-RF-2", "SR-RF-3", "SR-RF-4", "SR-RF-6")
@pytest.mark.parametrize(("row", "case", "triage", "condition"), TRIAGE_ROWS, ids=[r[0] for r in TRIAGE_ROWS])
def test_triage_row(row: str, case: dict[str, Any], triage: str, condition: str | None) -> None:
    a = assess(case)
    assert a.triage.value == triage, row
    if condition is not None:
        assert condition in a.suspected_conditions
    if LEVELS.index(triage) >= LEVELS.index("soon") and not a.red_flags:
        # only the severe-pain and STarT Back rows raise triage without a red flag
        assert case.get("pain_intensity", 0) >= 8


@pytest.mark.safety("SR-TRI-3")
@pytest.mark.parametrize(
    "case",
    [
        {**LOW_BACK, "age": 75, "trauma": "strain"},
        {**NECK, "age": 66, "trauma": "strain"},
        {**LOW_BACK, "anticoagulants": True, "trauma": "strain"},
    ],
)
def test_a_strain_never_starts_the_injury_rows(case: dict[str, Any]) -> None:
    a = assess(case)
    assert not {"spinal_fracture", "bleeding_or_fracture"} & set(a.suspected_conditions)
    minor = assess({**case, "trauma": "minor"})
    assert LEVELS.index(minor.triage.value) > LEVELS.index(a.triage.value)


@pytest.mark.safety("SR-TRI-3")
def test_severe_acute_pain_is_not_a_red_flag_and_keeps_activity_advice() -> None:
    a = assess({**LOW_BACK, "pain_intensity": 9})
    assert not a.red_flags and {"stay_active", "heat", "see_doctor_soon"} <= _ids(a)


@pytest.mark.safety("SR-INF-3")
@pytest.mark.parametrize("triage_case", [{**LOW_BACK, "cancer_history": True}, {**LOW_BACK, "fever": True}])
def test_avoid_bed_rest_stands_while_a_red_flag_waits_for_the_doctor(triage_case: dict[str, Any]) -> None:
    a = assess(triage_case)
    assert a.red_flags and a.triage.value != "emergency"
    assert {"avoid_bed_rest", "no_exercise_until_cleared"} <= _ids(a) and "stay_active" not in _ids(a)


@pytest.mark.safety("SR-TRI-5")
@pytest.mark.parametrize(
    "risk", [{"age": 65}, {"long_term_steroids": True}, {"anticoagulants": True}, {"nsaid_risk": True}]
)
def test_every_medication_risk_gets_the_check_and_no_advice_against_paracetamol(risk: dict[str, Any]) -> None:
    a = assess({**LOW_BACK, "duration_weeks": 8, **risk})
    ids = _ids(a)
    assert "medication_check_with_doctor" in ids
    assert not ids & {"nsaid_short_term_info", "avoid_paracetamol_for_low_back_pain"}


@pytest.mark.safety("SR-TRI-5")
def test_pregnancy_gets_pregnancy_pain_relief_and_no_nsaid_information() -> None:
    a = assess({**LOW_BACK, "age": 30, "duration_weeks": 1, "pregnant": True, "pregnancy_week": 30})
    ids = _ids(a)
    assert {"pregnancy_pain_relief", "medication_check_with_doctor"} <= ids
    assert not ids & {"nsaid_short_term_info", "avoid_paracetamol_for_low_back_pain"}
    text = next(r.text for r in a.recommendations if r.id == "pregnancy_pain_relief")
    assert "Paracetamol" in text and "28" in text


@pytest.mark.safety("SR-TRI-5")
def test_after_birth_gets_postpartum_advice_not_pregnancy_advice() -> None:
    a = assess({**LOW_BACK, "age": 30, "gave_birth_recently": True})
    assert "postpartum_pain_relief" in _ids(a) and "pregnancy_pain_relief" not in _ids(a)
    assert "112" in next(r.text for r in a.recommendations if r.id == "postpartum_pain_relief")


@pytest.mark.parametrize(
    "numb", [{"numbness_or_tingling": True, "leg_pain": "below_knee"}, {"diabetes": True}]
)
def test_heat_with_care_replaces_heat_on_numb_skin_or_with_diabetes(numb: dict[str, Any]) -> None:
    ids = _ids(assess({**LOW_BACK, **numb}))
    assert "heat_with_care" in ids and "heat" not in ids


@pytest.mark.parametrize(("age", "given"), [(15, False), (16, True), (66, True), (67, False)])
def test_stay_at_work_only_from_16_to_66(age: int, given: bool) -> None:
    a = assess({**LOW_BACK, "age": age, "duration_weeks": 8})
    assert ("stay_at_work" in _ids(a)) is given


@pytest.mark.parametrize(("bothersomeness", "group"), [(1, "medium"), (4, "high")])
def test_stratified_care_sends_medium_and_high_risk_to_physiotherapy(bothersomeness: int, group: str) -> None:
    answers = {
        "leg_pain_recent": True,
        "neck_or_shoulder_pain_recent": True,
        "walks_short_distances_only": True,
        "dresses_more_slowly": True,
        "unsafe_to_be_active": group == "high",
        "worrying_thoughts": group == "high",
        "pain_terrible_never_better": group == "high",
        "not_enjoying_things": False,
        "bothersomeness": bothersomeness,
    }
    a = assess({**LOW_BACK, "startback": answers})
    assert a.startback is not None and a.startback.group.value == group
    assert "physiotherapy_referral" in _ids(a)
    assert ("psychological_therapy" in _ids(a)) is (group == "high")


def test_startback_is_not_scored_for_neck_pain_only() -> None:
    answers = dict.fromkeys(
        (
            "leg_pain_recent",
            "neck_or_shoulder_pain_recent",
            "walks_short_distances_only",
            "dresses_more_slowly",
            "unsafe_to_be_active",
            "worrying_thoughts",
            "pain_terrible_never_better",
            "not_enjoying_things",
        ),
        True,
    )
    a = assess({**NECK, "startback": {**answers, "bothersomeness": 4}})
    assert a.startback is None and a.chronification_risk.value == "unknown"
    assert "physiotherapy_referral" not in _ids(a)
    with_low_back = assess(
        {**NECK, "regions": ["neck", "low_back"], "startback": {**answers, "bothersomeness": 4}}
    )
    assert with_low_back.startback is not None


MANY = dict.fromkeys(
    (
        "began_in_stressful_period",
        "intensity_varies",
        "began_without_injury",
        "persisted_beyond_healing",
        "multiple_body_sites_or_symptoms",
        "spreads_or_moves",
        "worse_with_stress",
        "eases_with_enjoyable_activity",
    ),
    True,
)


@pytest.mark.parametrize(
    "extra",
    [
        {"leg_pain": "below_knee"},
        {"cancer_history": True},
        {
            "age": 35,
            "duration_weeks": 20,
            "morning_stiffness_over_30min": True,
            "better_with_movement_not_rest": True,
        },
    ],
)
def test_no_neuroplastic_result_with_a_red_flag_radiculopathy_or_axial_spa(extra: dict[str, Any]) -> None:
    assert (
        assess({**LOW_BACK, "duration_weeks": 20, "neuroplastic": MANY}).neuroplastic_indicators is not None
    )
    a = assess({**LOW_BACK, "duration_weeks": 20, "neuroplastic": MANY, **extra})
    assert a.neuroplastic_indicators is None and "neuroplastic_pain_info" not in _ids(a)


def test_the_neuroplastic_text_says_it_rests_on_one_trial_by_the_developers() -> None:
    a = assess({**LOW_BACK, "duration_weeks": 20, "neuroplastic": MANY}, lang="en")
    text = next(r.text for r in a.recommendations if r.id == "neuroplastic_pain_info")
    assert "single trial" in text and "developers" in text


@pytest.mark.parametrize(
    "case",
    [{**LOW_BACK, "age": 17}, {**NECK}, {**MID_BACK}],
    ids=["under 18", "neck only", "mid back only"],
)
def test_no_prevalence_table_for_a_minor_or_without_low_back_pain(case: dict[str, Any]) -> None:
    a = assess({**case, "imaging_findings": ["disc_bulge"]})
    assert a.imaging_context == [] and "discuss_findings_with_doctor" in _ids(a)
    assert "imaging_findings_context" not in _ids(a)


def test_a_protrusion_may_match_radicular_pain() -> None:
    a = assess({**LOW_BACK, "leg_pain": "below_knee", "imaging_findings": ["disc_protrusion", "disc_bulge"]})
    rows = {r.finding.value: r.may_match_symptoms for r in a.imaging_context}
    assert rows == {"disc_protrusion": True, "disc_bulge": False}
    assert {"discuss_findings_with_doctor", "imaging_findings_context"} <= _ids(a)
    plain = assess({**LOW_BACK, "imaging_findings": ["disc_protrusion"]})
    assert [r.may_match_symptoms for r in plain.imaging_context] == [False]
    assert "discuss_findings_with_doctor" not in _ids(plain)


@pytest.mark.parametrize(
    "case",
    [
        {**MID_BACK, "chest_pain_or_breathlessness": True},
        {**NECK, "headache_or_neuro_sudden": True},
        {**LOW_BACK, "pregnant": True, "pregnancy_warning_signs": True},
    ],
)
def test_emergencies_outside_the_spine_promise_no_spine_mri(case: dict[str, Any]) -> None:
    a = assess(case)
    assert a.triage.value == "emergency" and a.imaging.value == "emergency"
    from rueckenlotse.knowledge import default_knowledge

    kb = default_knowledge()
    for lang in ("de", "en"):
        shown = [kb.text("imaging.emergency.explain", lang), *(r.text for r in a.recommendations)]
        assert not any("MRT" in t or "MRI" in t for t in shown), lang


@pytest.mark.safety("SR-INF-4")
@pytest.mark.parametrize(
    ("case", "named", "not_named"),
    [
        ({**LOW_BACK, "bladder_dysfunction": True}, "Blase", ["Stuhl", "Sexualität", "Gesäß"]),
        ({**LOW_BACK, "rigors": True}, "Schüttelfrost", ["Gefühl von Krankheit"]),
        ({**LOW_BACK, "unexplained_weight_loss": True}, "Gewicht", ["Nacht"]),
        (
            {**LOW_BACK, "recent_spinal_procedure": True},
            "Spritze oder Operation am Rücken",
            ["Drogen", "Abwehr"],
        ),
    ],
)
def test_reasons_name_the_sign_actually_given_not_every_alternative(
    case: dict[str, Any], named: str, not_named: list[str]
) -> None:
    from rueckenlotse.knowledge import default_knowledge
    from rueckenlotse.reports.reasons import reasons

    shown = " ".join(reasons(default_knowledge(), assess(case), "de"))
    assert named in shown and "{signs}" not in shown
    assert not [word for word in not_named if word in shown], shown


def _sentences(text: str) -> list[str]:
    return [part for part in text.replace("!", ".").split(". ") if part]


@pytest.mark.safety("SR-INF-4")
def test_one_ladder_of_when_to_seek_help_fever_is_same_day_not_112() -> None:
    """Fever alone is urgent (a doctor today, 116117 after hours): no text may put it under 112."""
    from rueckenlotse.knowledge import default_knowledge
    from rueckenlotse.plan.library import default_library

    kb = default_knowledge()
    texts = [kb.text(key, "de") for key in ("rec.when_to_seek_care", "rec.when_to_seek_care.child")]
    module = default_library().modules["when_to_seek_care"]
    texts += [p.de for p in module.passages]
    for text in texts:
        for sentence in _sentences(text):
            if "Fieber" in sentence:
                assert "112" not in sentence and "selben Tag" in sentence, sentence
    assert assess({**LOW_BACK, "fever": True}).triage.value == "urgent"


@pytest.mark.safety("SR-INF-4")
def test_with_a_child_under_16_the_texts_speak_to_the_parents() -> None:
    child = assess({**LOW_BACK, "age": 12})
    assert child.recommendations and all(" Kind" in r.text for r in child.recommendations), [
        r.text for r in child.recommendations
    ]
    adult = assess({**LOW_BACK, "age": 16, "cancer_history": True})
    assert not any(" Kind" in r.text for r in adult.recommendations)
    from rueckenlotse.knowledge import default_knowledge

    kb = default_knowledge()
    for case in (
        {**LOW_BACK, "age": 12},
        {**LOW_BACK, "age": 4},
        {**LOW_BACK, "age": 12, "fever": True, "iv_drug_use": True},
    ):
        action = kb.triage_action(assess(case), "de")
        assert " Kind" in action, action
    assert " Kind" not in kb.triage_action(adult, "de")
