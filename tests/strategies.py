"""Hypothesis strategies for valid Cases (every field of contract 2, version 1's included)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from rueckenlotse.core.models import IMAGING_FINDINGS, NeuroplasticAnswers, StartBackAnswers

REGIONS = ["neck", "thoracic", "low_back"]
BOOLEAN_FIELDS = [
    "recurrent",
    "injury_checked_by_doctor",
    "arm_pain",
    "numbness_or_tingling",
    "neuro_bilateral",
    "saddle_numbness",
    "bladder_dysfunction",
    "bowel_incontinence",
    "sexual_dysfunction_new",
    "gait_unsteady",
    "hand_clumsiness",
    "headache_or_neuro_sudden",
    "fever",
    "feels_systemically_unwell",
    "unexplained_weight_loss",
    "night_sweats",
    "cancer_history",
    "night_pain",
    "immunosuppression",
    "iv_drug_use",
    "recent_infection_or_spinal_procedure",
    "osteoporosis",
    "long_term_steroids",
    "morning_stiffness_over_30min",
    "better_with_movement_not_rest",
    "wakes_second_half_of_night",
    "associated_inflammatory_disease",
    "chest_pain_or_breathlessness",
    "aortic_aneurysm_known",
    "sudden_tearing_pain",
    "pain_unaffected_by_movement",
    "urinary_symptoms",
    "anticoagulants",
    "pregnant",
    "nsaid_risk",
    # contract 2
    "neuro_bilateral_legs",
    "neuro_bilateral_arms",
    "cannot_walk",
    "pain_worse_lying_or_straining",
    "pain_progressive",
    "cancer_active",
    "recent_spinal_procedure",
    "rigors",
    "diabetes",
    "band_like_rash_or_burning",
    "pain_with_exertion_sweating_or_nausea",
    "pregnancy_warning_signs",
    "sepsis_signs",
    "gave_birth_recently",
]
# Not warning signs: answering yes can rightly lower triage (an injury checked, earlier episodes).
NOT_WARNING_SIGNS = {"recurrent", "injury_checked_by_doctor"}
WARNING_SIGNS = [f for f in BOOLEAN_FIELDS if f not in NOT_WARNING_SIGNS]
ORDERED_ENUMS = {
    "weakness": ["none", "mild_stable", "severe_or_progressive"],
    "trauma": ["none", "strain", "minor", "major"],
    "leg_pain": ["none", "above_knee", "below_knee"],
}

durations = st.one_of(
    st.integers(min_value=0, max_value=600),
    st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 0.5, 1, 1.5, 2, 3.9, 4, 5.9, 6, 12, 12.1, 13]),
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


startback = st.fixed_dictionaries(
    {k: st.booleans() for k in StartBackAnswers.model_fields if k != "bothersomeness"}
    | {"bothersomeness": st.integers(0, 4)}
)
neuroplastic = st.fixed_dictionaries(
    {}, optional={k: st.booleans() for k in NeuroplasticAnswers.model_fields}
)


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    case: dict[str, Any] = {
        "age": draw(st.integers(0, 120)),
        "regions": draw(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)),
        "duration_weeks": draw(durations),
    }
    for field in BOOLEAN_FIELDS:
        value = draw(st.one_of(st.none(), st.booleans()))
        if value is not None:
            case[field] = value
    for field, values in ORDERED_ENUMS.items():
        value = draw(_optional(st.sampled_from(values)))
        if value is not None:
            case[field] = value
    optional: dict[str, st.SearchStrategy[Any]] = {
        "sex": st.sampled_from(["female", "male", "diverse"]),
        "pain_intensity": st.integers(0, 10),
        "startback": startback,
        "neuroplastic": neuroplastic,
        "physiotherapy_weeks": st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)),
        "physiotherapy_helped": st.sampled_from(["yes", "partly", "no"]),
        "home_exercise": st.sampled_from(["regularly", "sometimes", "never"]),
        "imaging_findings": st.lists(st.sampled_from(list(IMAGING_FINDINGS)), unique=True),
        "pregnancy_week": st.integers(0, 42),
    }
    for field, strategy in optional.items():
        value = draw(_optional(strategy))
        if value is not None:
            case[field] = value
    return case
