"""Follow-up data shared by the plan, the diary analysis, the store and the interfaces.

A diary entry is validated as strictly as a Case: bad input gets a field-level error and is never stored.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal, get_args

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from ..core.models import RegionValue
from ..knowledge.loader import packaged_knowledge

# The diary's vocabulary comes from diary.yaml (knowledge.diary): where the pain reaches, from the back
# outwards (moving towards the back, centralisation, is a good sign), and the short warning-sign check asked
# with every entry. The Literal types are built from it, so the entry model, its JSON schema and the API
# accept exactly the signs the knowledge lists; for the type checker they are plain strings.
_DIARY = packaged_knowledge().diary
PAIN_REACH_ORDER: tuple[str, ...] = _DIARY.reach_order
DIARY_WARNING_SIGNS: tuple[str, ...] = _DIARY.signs
# What the diary offers: contract 2 asks legs and arms apart, so version 1's neuro_bilateral is only read
# (entries written before contract 2), never offered.
OFFERED_WARNING_SIGNS: tuple[str, ...] = _DIARY.offered_signs
if TYPE_CHECKING:
    PainReach = str
    DiaryWarningSign = str
else:
    PainReach = Literal[PAIN_REACH_ORDER]
    DiaryWarningSign = Literal[DIARY_WARNING_SIGNS]

# The short function check: each item 0 (no difficulty) to 4 (cannot do it). Our own item set.
FunctionItem = Literal["walking", "sitting", "sleeping", "lifting", "daily_tasks"]
FUNCTION_ITEMS: tuple[str, ...] = get_args(FunctionItem)

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


# How a person found an exercise of today's session (services.sessions, plan.builder's per-exercise rules):
# "take_next" is the answer to an offered harder exercise ("Nächste Stufe nehmen").
ExerciseRating = Literal["too_easy", "fits", "too_hard", "pain_after", "take_next"]
EXERCISE_RATINGS: tuple[str, ...] = get_args(ExerciseRating)


class ExerciseFeedback(BaseModel):
    """One exercise of a session done and/or rated (the diary's "Übungen"); the plan reads the ratings."""

    model_config = _STRICT
    recorded_at: Annotated[AwareDatetime, Field(ge=EARLIEST_ENTRY, le=LATEST_ENTRY)]
    exercise_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9_]+$")]
    done: bool = False
    rating: ExerciseRating | None = None


def utc_day(moment: datetime) -> str:
    """The calendar day of a moment in ISO form (entries are grouped by day for weekly averages)."""
    return moment.date().isoformat()
