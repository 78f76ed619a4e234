"""The self-management plan as data: what ``plan.builder.build_plan`` returns and the reports render.

Titles and texts are already in the plan's language; the full exercise steps live in the library
(``plan.library``) and are looked up by id when the plan is shown.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from ..core.models import Phase, RegionValue, Triage
from ..i18n import check_language
from .models import DiaryWarningSign

Step = Literal["start", "up", "hold", "back"]
# Why the plan took a step (plan.builder.progression); None for week 1 and weeks not yet decided.
StepReason = Literal[
    "ok", "too_few_entries", "warning_sign", "pain_rise", "function_worse", "rise_from_start", "rising_weeks"
]
PlanLevel = Annotated[int, Field(ge=1, le=3)]
# Why a slot holds another exercise than its level's (plan.builder, the session's ratings): stepped back
# after pain, held after "too hard", or the harder exercise the person took.
Adjusted = Literal["pain_after", "too_hard", "took_next"]

_FROZEN = ConfigDict(frozen=True)


class PlanExercise(BaseModel):
    """One exercise of a week; ``replaces`` names the excluded exercise it stands in for.

    ``adjusted``: the session's ratings changed this slot (``instead_of``: the level's exercise it stands in
    for, None when it is that one); ``next_level``: a harder exercise offered after "too easy"."""

    model_config = _FROZEN
    id: str
    title: str
    level: PlanLevel
    regions: list[RegionValue]
    minutes: int | None = None
    repetitions: int | None = None
    replaces: str | None = None
    adjusted: Adjusted | None = None
    instead_of: str | None = None
    next_level: str | None = None


class MissingAlternative(BaseModel):
    """An excluded exercise for which no suitable alternative was left."""

    model_config = _FROZEN
    exercise_id: str
    title: str
    region: RegionValue
    level: PlanLevel


class ComfortEntry(BaseModel):
    """A heat or relaxation item of the plan."""

    model_config = _FROZEN
    id: str
    kind: Literal["heat", "relaxation"]
    title: str
    minutes: int


class PlanWeek(BaseModel):
    """One week of the plan. ``step`` is how this week follows from the one before (week 1: start)."""

    model_config = _FROZEN
    number: Annotated[int, Field(ge=1)]
    starts: date
    ends: date
    activity_minutes: Annotated[int, Field(ge=0)]
    level: PlanLevel
    step: Step
    step_reason: StepReason | None = None
    pain_average: float | None
    exercises: list[PlanExercise]


class Milestone(BaseModel):
    """A date to check how things are going (plan weeks 4, 6 and 12)."""

    model_config = _FROZEN
    week: int
    on: date
    text: str


class Advice(BaseModel):
    """A seek-care recommendation carried over from the assessment (text in the assessment's language)."""

    model_config = _FROZEN
    id: str
    text: str


class StandingFlag(BaseModel):
    """A red flag raised earlier in the episode that stands until a doctor has examined it."""

    model_config = _FROZEN
    condition: str
    label: str
    triage: Triage
    since: date


class Plan(BaseModel):
    """A self-management plan built from one assessment (and, later, the diary)."""

    model_config = _FROZEN
    lang: Annotated[str, AfterValidator(check_language)]
    start: date
    today: date
    red_flag: bool
    triage: Triage
    phase: Phase
    regions: list[RegionValue]
    current_week: int | None
    current_level: PlanLevel | None
    activity_minutes: int | None
    weeks: list[PlanWeek]
    exercises: list[PlanExercise]
    heat: list[ComfortEntry]
    relaxation: list[ComfortEntry]
    education: list[str]
    milestones: list[Milestone]
    advice: list[Advice]
    review_on: date
    excluded: list[str]
    no_alternative: list[MissingAlternative]
    ignored_exclusions: list[str]
    diary_warning_signs: list[DiaryWarningSign]
    # Red flags of the episode not yet examined by a doctor (they keep the plan free of exercises).
    standing_flags: list[StandingFlag] = []
    # The pain rose so far that the plan stepped back: check the warning signs again.
    rescreen_advised: bool = False
    # The last finished week had too few diary entries to decide a step.
    too_few_entries: bool = False
