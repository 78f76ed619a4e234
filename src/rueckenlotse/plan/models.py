"""Follow-up data shared by the plan, the diary analysis, the store and the interfaces.

A diary entry is validated as strictly as a Case: bad input gets a field-level error and is never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ..core.models import RegionValue

# Where the pain reaches, from the back outwards; moving towards the back (centralisation) is a good sign.
PainReach = Literal["back_only", "buttock_thigh", "below_knee"]
PAIN_REACH_ORDER: tuple[str, ...] = get_args(PainReach)

# The short function check: each item 0 (no difficulty) to 4 (cannot do it). Our own item set.
FunctionItem = Literal["walking", "sitting", "sleeping", "lifting", "daily_tasks"]
FUNCTION_ITEMS: tuple[str, ...] = get_args(FunctionItem)

# The short warning-sign check asked with every entry: Case boolean fields, plus "weakness_worse"
# (new or worsening weakness), which re-screens as weakness = severe_or_progressive.
DiaryWarningSign = Literal[
    "saddle_numbness",
    "bladder_dysfunction",
    "bowel_incontinence",
    "sexual_dysfunction_new",
    "weakness_worse",
    "neuro_bilateral",
    "gait_unsteady",
    "hand_clumsiness",
    "fever",
    "feels_systemically_unwell",
    "unexplained_weight_loss",
    "night_pain",
    "chest_pain_or_breathlessness",
    "sudden_tearing_pain",
    "headache_or_neuro_sudden",
    # contract 2
    "neuro_bilateral_legs",
    "neuro_bilateral_arms",
    "cannot_walk",
    "rigors",
    "sepsis_signs",
    "pain_progressive",
    "pain_worse_lying_or_straining",
    "band_like_rash_or_burning",
    "pain_with_exertion_sweating_or_nausea",
    "pregnancy_warning_signs",
    "night_sweats",
]
DIARY_WARNING_SIGNS: tuple[str, ...] = get_args(DiaryWarningSign)
# What the diary offers: contract 2 asks legs and arms apart, so version 1's neuro_bilateral is only read
# (entries written before contract 2), never offered.
OFFERED_WARNING_SIGNS: tuple[str, ...] = tuple(s for s in DIARY_WARNING_SIGNS if s != "neuro_bilateral")

ExerciseFeeling = Literal["good", "ok", "worse"]
MAX_NOTE_CHARS = 2000
MAX_ACTIVITY_MINUTES = 24 * 60

_STRICT = ConfigDict(strict=True, extra="forbid", frozen=True)


# Entries are written in the years 2000-2099 of the writer's clock: with any UTC offset (up to a day)
# that is this range. (JSON Schema has no bounds for date-time: the description says it.)
EARLIEST_ENTRY = datetime(1999, 12, 31, tzinfo=UTC)
LATEST_ENTRY = datetime(2100, 1, 1, 23, 59, 59, tzinfo=UTC)


class ExerciseLog(BaseModel):
    """One exercise done in this entry and how it felt."""

    model_config = _STRICT
    exercise_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    felt: ExerciseFeeling


class DiaryEntry(BaseModel):
    """One diary entry; a person may write several a day."""

    model_config = _STRICT
    # Bounded so that week arithmetic over the diary stays in range (year 1 or 9999 overflowed it).
    recorded_at: Annotated[
        AwareDatetime,
        Field(
            ge=EARLIEST_ENTRY,
            le=LATEST_ENTRY,
            description="Zeitpunkt mit Zeitzone, in den Jahren 2000–2099. / Time with time zone, in the "
            "years 2000–2099.",
        ),
    ]
    pain: Annotated[dict[RegionValue, Annotated[int, Field(ge=0, le=10)]], Field(min_length=1)]
    pain_reach: PainReach | None = None
    function: dict[FunctionItem, Annotated[int, Field(ge=0, le=4)]] = {}
    activity_minutes: Annotated[int, Field(ge=0, le=MAX_ACTIVITY_MINUTES)] = 0
    exercises: Annotated[list[ExerciseLog], Field(max_length=50)] = []
    note: Annotated[str, Field(max_length=MAX_NOTE_CHARS)] = ""
    # uniqueItems in the schema: the validator below refuses a sign given twice, so the API promises it
    warning_signs: Annotated[list[DiaryWarningSign], Field(json_schema_extra={"uniqueItems": True})] = []
    # The answer "Ein Arzt hat mich deswegen untersucht": a doctor examined the person for the warning
    # signs that stood before this entry. Until then a raised red flag keeps its urgency (plan.rescreen).
    examined_by_doctor: bool = Field(
        default=False,
        description="Ein Arzt hat mich wegen der bisherigen Warnzeichen untersucht. / A doctor has examined "
        "me for the warning signs noted so far.",
    )

    @field_validator("warning_signs")
    @classmethod
    def _unique_signs(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("duplicate entries are not allowed")
        return value

    @property
    def max_pain(self) -> int:
        return max(self.pain.values())


def utc_day(moment: datetime) -> str:
    """The calendar day of a moment in ISO form (entries are grouped by day for weekly averages)."""
    return moment.date().isoformat()
