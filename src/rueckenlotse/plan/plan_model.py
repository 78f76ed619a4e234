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
    # A practice the person shares their course with changed this item: it added the exercise, or the
    # exercise stands in for one the practice left out (``replaces``). See ``Plan.practice_changes``.
    by_practice: bool = False


class MissingAlternative(BaseModel):
    """An excluded exercise for which no suitable alternative was left."""

    model_config = _FROZEN
    exercise_id: str
    title: str
    region: RegionValue
    level: PlanLevel
    # Left out by a practice (not by the person): the person cannot take it back on the plan page.
    by_practice: bool = False


AdjustmentKind = Literal["exclude", "add", "level", "note"]
# Why the builder did not apply a practice's change (``PracticeChange.not_applied``): the exercise (or
# level) is not in the library, fits none of the person's regions, is ruled out by the Case (avoid_if), or
# the person (or a practice) left it out; ``red_flag``: a red flag or warning sign keeps every exercise out
# for now.
NotApplied = Literal[
    "unknown_exercise",
    "unknown_level",
    "region",
    "ruled_out",
    "excluded_by_person",
    "excluded_by_practice",
    "red_flag",
]


class PracticeAdjustment(BaseModel):
    """A clinician's change to the plan, as the builder takes it (``store.shares`` reads the active ones
    of the practices the person currently shares their course with): leave an exercise out, add one, set
    the level from the week of ``on``, or a note for the person. ``note`` may come with any kind."""

    model_config = _FROZEN
    id: str
    kind: AdjustmentKind
    practice: str  # the practice's name, as the person reads it
    on: date  # the day it was made (in UTC)
    exercise_id: str | None = None
    level: int | None = None  # checked by the builder (a level outside 1-3 is not applied)
    note: str | None = None


class PracticeChange(PracticeAdjustment):
    """A practice's change as the plan shows it: the exercise's title in the plan's language, and whether
    it is applied (``not_applied`` says why not)."""

    title: str | None = None
    not_applied: NotApplied | None = None

    @property
    def applied(self) -> bool:
        return self.not_applied is None


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
    # Changes of the practices the person shares their course with (plan.builder, "Practice changes"),
    # oldest first, each applied or not (under a red flag only notes apply). ``level_by_practice``: the
    # current week's level is the one a practice set (no step of the traffic light has moved it since).
    practice_changes: list[PracticeChange] = []
    level_by_practice: bool = False
