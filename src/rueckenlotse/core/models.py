"""Case (input) and Assessment (output) of contract 2 as Pydantic models (version-1 Cases stay valid).

Strict on purpose: no type coercion, unknown fields rejected, explicit nulls rejected for fields
that the contract types as non-nullable. An absent symptom field means "answered no".
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator

CONTRACT_VERSION = "2"


class Region(StrEnum):
    neck = "neck"
    thoracic = "thoracic"
    low_back = "low_back"


class Sex(StrEnum):
    female = "female"
    male = "male"
    diverse = "diverse"


class Trauma(StrEnum):
    none = "none"
    strain = "strain"
    minor = "minor"
    major = "major"


class LegPain(StrEnum):
    none = "none"
    above_knee = "above_knee"
    below_knee = "below_knee"


class Weakness(StrEnum):
    none = "none"
    mild_stable = "mild_stable"
    severe_or_progressive = "severe_or_progressive"


class PhysioHelped(StrEnum):
    yes = "yes"
    partly = "partly"
    no = "no"


class HomeExercise(StrEnum):
    regularly = "regularly"
    sometimes = "sometimes"
    never = "never"


class ImagingFinding(StrEnum):
    disc_degeneration = "disc_degeneration"
    disc_signal_loss = "disc_signal_loss"
    disc_height_loss = "disc_height_loss"
    disc_bulge = "disc_bulge"
    disc_protrusion = "disc_protrusion"
    annular_fissure = "annular_fissure"
    facet_degeneration = "facet_degeneration"
    spondylolisthesis = "spondylolisthesis"


class Triage(StrEnum):
    self_care = "self_care"
    routine = "routine"
    soon = "soon"
    urgent = "urgent"
    emergency = "emergency"


class Imaging(StrEnum):
    not_indicated = "not_indicated"
    consider = "consider"
    prompt = "prompt"
    emergency = "emergency"


class Phase(StrEnum):
    acute = "acute"
    subacute = "subacute"
    chronic = "chronic"


class PainType(StrEnum):
    nonspecific = "nonspecific"
    radicular = "radicular"
    specific_suspected = "specific_suspected"


class RiskGroup(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class ChronificationRisk(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    unknown = "unknown"


class NeuroplasticLevel(StrEnum):
    few = "few"
    some = "some"
    many = "many"


class RecommendationKind(StrEnum):
    seek_care = "seek_care"
    do = "do"
    avoid = "avoid"
    info = "info"


TRIAGE_ORDER: tuple[Triage, ...] = tuple(Triage)
IMAGING_ORDER: tuple[Imaging, ...] = tuple(Imaging)

# Case fields use Literal types: in strict mode they accept exactly the contract's strings.
RegionValue = Literal["neck", "thoracic", "low_back"]
SexValue = Literal["female", "male", "diverse"]
TraumaValue = Literal["none", "strain", "minor", "major"]
LegPainValue = Literal["none", "above_knee", "below_knee"]
WeaknessValue = Literal["none", "mild_stable", "severe_or_progressive"]
PhysioHelpedValue = Literal["yes", "partly", "no"]
HomeExerciseValue = Literal["regularly", "sometimes", "never"]
ImagingFindingValue = Literal[
    "disc_degeneration",
    "disc_signal_loss",
    "disc_height_loss",
    "disc_bulge",
    "disc_protrusion",
    "annular_fissure",
    "facet_degeneration",
    "spondylolisthesis",
]
IMAGING_FINDINGS: tuple[str, ...] = get_args(ImagingFindingValue)

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True, use_enum_values=False)


class StartBackAnswers(BaseModel):
    """Answers to the nine STarT Back domains (the project's own adapted wording)."""

    model_config = _STRICT

    leg_pain_recent: bool
    neck_or_shoulder_pain_recent: bool
    walks_short_distances_only: bool
    dresses_more_slowly: bool
    unsafe_to_be_active: bool
    worrying_thoughts: bool
    pain_terrible_never_better: bool
    not_enjoying_things: bool
    bothersomeness: Annotated[int, Field(ge=0, le=4)]


class NeuroplasticAnswers(BaseModel):
    """Answers to the thirteen neuroplastic-pattern questions; an absent one means no."""

    model_config = _STRICT

    began_in_stressful_period: bool = False
    intensity_varies: bool = False
    began_without_injury: bool = False
    persisted_beyond_healing: bool = False
    multiple_body_sites_or_symptoms: bool = False
    spreads_or_moves: bool = False
    worse_with_stress: bool = False
    eases_with_enjoyable_activity: bool = False
    non_physical_triggers: bool = False
    both_sides: bool = False
    no_clear_diagnosis: bool = False
    delayed_onset_after_activity: bool = False
    personality_worry_pressure: bool = False


# Fields the contract types as plain values: absent is allowed, an explicit null is not.
OPTIONAL_NON_NULL = (
    "sex",
    "pain_intensity",
    "startback",
    "neuroplastic",
    "physiotherapy_weeks",
    "physiotherapy_helped",
    "home_exercise",
    "pregnancy_week",
)


def _drop_null_from_schema(schema: dict[str, Any]) -> None:
    """Absent is allowed but null is not: show these fields with their plain type, as the contract does."""
    schema["title"] = "Case (contract 2)"
    for name in OPTIONAL_NON_NULL:
        prop = schema["properties"][name]
        variants = [v for v in prop.pop("anyOf", []) if v != {"type": "null"}]
        if variants:
            prop.update(variants[0])


class Case(BaseModel):
    """One person's answers (contract 2; every version-1 Case is valid too)."""

    model_config = ConfigDict(
        strict=True, extra="forbid", frozen=True, json_schema_extra=_drop_null_from_schema
    )

    age: Annotated[int, Field(ge=0, le=120)]
    sex: SexValue | None = None
    regions: Annotated[list[RegionValue], Field(min_length=1, json_schema_extra={"uniqueItems": True})]
    duration_weeks: Annotated[float, Field(ge=0, allow_inf_nan=False)]
    pain_intensity: Annotated[int, Field(ge=0, le=10)] | None = None
    recurrent: bool = False
    trauma: TraumaValue = "none"
    injury_checked_by_doctor: bool = False
    leg_pain: LegPainValue = "none"
    arm_pain: bool = False
    numbness_or_tingling: bool = False
    weakness: WeaknessValue = "none"
    neuro_bilateral: bool = False
    saddle_numbness: bool = False
    bladder_dysfunction: bool = False
    bowel_incontinence: bool = False
    sexual_dysfunction_new: bool = False
    gait_unsteady: bool = False
    hand_clumsiness: bool = False
    headache_or_neuro_sudden: bool = False
    fever: bool = False
    feels_systemically_unwell: bool = False
    unexplained_weight_loss: bool = False
    night_sweats: bool = False
    cancer_history: bool = False
    night_pain: bool = False
    immunosuppression: bool = False
    iv_drug_use: bool = False
    recent_infection_or_spinal_procedure: bool = False
    osteoporosis: bool = False
    long_term_steroids: bool = False
    morning_stiffness_over_30min: bool = False
    better_with_movement_not_rest: bool = False
    wakes_second_half_of_night: bool = False
    associated_inflammatory_disease: bool = False
    chest_pain_or_breathlessness: bool = False
    aortic_aneurysm_known: bool = False
    sudden_tearing_pain: bool = False
    pain_unaffected_by_movement: bool = False
    urinary_symptoms: bool = False
    anticoagulants: bool = False
    pregnant: bool = False
    nsaid_risk: bool = False
    # contract 2
    neuro_bilateral_legs: bool = False
    neuro_bilateral_arms: bool = False
    cannot_walk: bool = False
    pain_worse_lying_or_straining: bool = False
    pain_progressive: bool = False
    cancer_active: bool = False
    recent_spinal_procedure: bool = False
    rigors: bool = False
    diabetes: bool = False
    band_like_rash_or_burning: bool = False
    pain_with_exertion_sweating_or_nausea: bool = False
    pregnancy_warning_signs: bool = False
    pregnancy_week: Annotated[int, Field(ge=0, le=42)] | None = None
    sepsis_signs: bool = False
    gave_birth_recently: bool = False
    startback: StartBackAnswers | None = None
    neuroplastic: NeuroplasticAnswers | None = None
    physiotherapy_weeks: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    physiotherapy_helped: PhysioHelpedValue | None = None
    home_exercise: HomeExerciseValue | None = None
    imaging_findings: Annotated[
        list[ImagingFindingValue], Field(default_factory=list, json_schema_extra={"uniqueItems": True})
    ]

    @field_validator(*OPTIONAL_NON_NULL, mode="before")
    @classmethod
    def _no_explicit_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("null is not allowed; leave the field out instead")
        return value

    @field_validator("regions", "imaging_findings")
    @classmethod
    def _no_duplicates(cls, value: list[Any]) -> list[Any]:
        if len(set(value)) != len(value):
            raise ValueError("duplicate entries are not allowed")
        return value


class RedFlag(BaseModel):
    id: str
    condition: str
    evidence: list[str]


class StartBackResult(BaseModel):
    total: Annotated[int, Field(ge=0, le=9)]
    psychosocial: Annotated[int, Field(ge=0, le=5)]
    group: RiskGroup


class ImagingContextRow(BaseModel):
    finding: ImagingFinding
    prevalence_pain_free_percent: Annotated[float, Field(ge=0, le=100)]
    age_band: str
    source: str
    # contract 2: a disc protrusion with radicular pain may be the cause, not a bystander finding
    may_match_symptoms: bool = False


class NeuroplasticResult(BaseModel):
    count: Annotated[int, Field(ge=0)]
    of: Annotated[int, Field(ge=1)]
    level: NeuroplasticLevel


class Recommendation(BaseModel):
    id: str
    kind: RecommendationKind
    text: str
    sources: Annotated[list[str], Field(min_length=1)]


class TraceEntry(BaseModel):
    rule: str
    because: list[str]


class Assessment(BaseModel):
    """The result of assessing one Case (contract 2)."""

    model_config = ConfigDict(
        json_schema_extra={"title": "Assessment (contract 2)"},
        json_schema_serialization_defaults_required=True,
    )

    contract_version: Literal["2"] = "2"
    knowledge_version: str
    triage: Triage
    red_flags: list[RedFlag]
    suspected_conditions: list[str]
    phase: Phase
    pain_type: PainType
    chronification_risk: ChronificationRisk
    startback: StartBackResult | None
    imaging: Imaging
    imaging_context: list[ImagingContextRow]
    neuroplastic_indicators: NeuroplasticResult | None
    recommendations: list[Recommendation]
    review_in_days: Annotated[int, Field(ge=0)]
    trace: list[TraceEntry]
