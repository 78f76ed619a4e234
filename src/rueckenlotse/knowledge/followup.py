"""The follow-up rules and texts (knowledge/data/followup.yaml) as validated data.

Every text has German and English with the same {placeholders}; every source id resolves in the
knowledge base's registry; every text key the follow-up code uses exists (a label for every diary warning
sign and pain reach of diary.yaml). A KnowledgeError names the file and the key. The knowledge loader reads
the file and calls ``build_followup``; plan.followup_texts renders the texts.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.kb import KnowledgeError
from ..core.models import Region
from ..i18n import LocalText
from .diary import DiarySpec

FOLLOWUP_FILE = "followup.yaml"
EscalationKind = Literal["risk_screening", "see_clinician", "multidisciplinary"]
ESCALATION_KINDS: tuple[EscalationKind, ...] = ("risk_screening", "see_clinician", "multidisciplinary")

_SPEC = ConfigDict(extra="forbid", frozen=True, strict=True)


# One error class for every knowledge file (kept under its old name for the callers that use it).
FollowUpError = KnowledgeError


class Checkpoint(BaseModel):
    model_config = _SPEC
    kind: EscalationKind
    week: Annotated[int, Field(ge=1, le=104)]
    sources: Annotated[list[str], Field(min_length=1)]
    note: str
    # The step's action sends the person to exercise therapy (not while a red flag stands).
    to_exercise: bool = False


class Improvement(BaseModel):
    model_config = _SPEC
    min_points: Annotated[float, Field(gt=0, le=10)]
    min_fraction: Annotated[float, Field(gt=0, lt=1)]
    nearly_pain_free: Annotated[float, Field(ge=0, le=10)]
    sources: Annotated[list[str], Field(min_length=1)]
    note: str


class CentralisationParams(BaseModel):
    model_config = _SPEC
    window_days: Annotated[int, Field(ge=1, le=60)]
    min_shift: Annotated[float, Field(gt=0, le=2)]


class FunctionParams(BaseModel):
    model_config = _SPEC
    window_days: Annotated[int, Field(ge=1, le=60)]
    min_change: Annotated[float, Field(gt=0, le=4)]


class Parameters(BaseModel):
    model_config = _SPEC
    checkpoints: Annotated[list[Checkpoint], Field(min_length=1)]
    improvement: Improvement
    baseline_days: Annotated[int, Field(ge=1, le=60)]
    recent_days: Annotated[int, Field(ge=1, le=60)]
    centralisation: CentralisationParams
    function: FunctionParams
    min_window_entries: Annotated[int, Field(ge=1, le=21)]

    @property
    def milestone_weeks(self) -> tuple[int, ...]:
        """The plan's milestones: the checkpoints' weeks of the pain episode (rising)."""
        return tuple(c.week for c in self.checkpoints)


class WalkingMinutes(BaseModel):
    """The walking goal in minutes a day: start (level 1), the step per level, the ceiling."""

    model_config = _SPEC
    start: Annotated[int, Field(ge=1, le=120)]
    step: Annotated[int, Field(ge=1, le=30)]
    max: Annotated[int, Field(ge=1, le=180)]


class Progression(BaseModel):
    """When a finished plan week steps up, holds or steps back (contract 2, SR-FU-2)."""

    model_config = _SPEC
    min_week_entries: Annotated[int, Field(ge=1, le=21)]
    up_max_week_rise: Annotated[float, Field(ge=0, le=10)]
    hold_start_rise: Annotated[float, Field(gt=0, le=10)]
    back_start_rise: Annotated[float, Field(gt=0, le=10)]
    rising_weeks_back: Annotated[int, Field(ge=2, le=12)]
    function_worse: Annotated[float, Field(gt=0, le=4)]


class FeedbackRule(BaseModel):
    """Per-exercise progression from the session's ratings (plan.builder): how many "pain_after" in a week
    step the exercise back, how many "too_easy" in a row offer the next level."""

    model_config = _SPEC
    pain_after_back: Annotated[int, Field(ge=1, le=14)]
    too_easy_offer: Annotated[int, Field(ge=1, le=14)]


class PlanParams(BaseModel):
    """The numbers of the 12-week self-management plan."""

    model_config = _SPEC
    weeks: Annotated[int, Field(ge=1, le=52)]
    walking_minutes: WalkingMinutes
    start_level_2_below_pain: Annotated[int, Field(ge=1, le=10)]
    exercises_per_region: Annotated[int, Field(ge=1, le=5)]
    warning_window_days: Annotated[int, Field(ge=1, le=28)]
    physiotherapy_weeks: Annotated[int, Field(ge=1, le=52)]
    progression: Progression
    feedback: FeedbackRule


class FollowUpSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    parameters: Parameters
    plan: PlanParams
    texts: dict[str, LocalText]

    def text(self, key: str) -> LocalText:
        try:
            return self.texts[key]
        except KeyError:
            raise FollowUpError(f"{FOLLOWUP_FILE}: text {key!r} is missing") from None


def required_text_keys(diary: DiarySpec) -> list[str]:
    """Every key the follow-up code reads."""
    keys = ["escalation.reason", "trend.improved"]
    keys += [f"escalation.{k}.{part}" for k in ESCALATION_KINDS for part in ("title", "action")]
    keys += [f"plot.escalation.{k}" for k in ESCALATION_KINDS]
    keys += [f"reach.{r}.label" for r in diary.reach_order]
    keys += [f"centralisation.{d}" for d in ("centralising", "peripheralising", "stable")]
    keys += ["centralisation.peripheralising_with_neuro"]
    keys += [f"function.{d}" for d in ("better", "worse", "same")]
    keys += [f"rescreen.{k}" for k in ("escalated", "new_concern", "noted", "unchanged", "changed_by_time")]
    keys += [f"rescreen.{k}" for k in ("held", "held_rule", "examined")]
    keys += [
        "exam.label",
        "red_flag.title",
        "red_flag.standing",
        "escalation.red_flag.action",
        "trend.too_few",
    ]
    keys += ["plan.too_few_entries", "plan.rescreen_advised"]
    keys += [f"sign.{s}.label" for s in (*diary.signs, "leg_pain_spread")]
    keys += [f"plot.{k}" for k in ("title", "axis.pain", "axis.activity", "axis.date", "warning")]
    keys += [f"plot.legend.{k}" for k in ("activity", "milestone", "escalation", "warning")]
    keys += [f"plot.region.{r.value}" for r in Region]
    return keys


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def _check(spec: FollowUpSpec, known_sources: Collection[str], diary: DiarySpec) -> None:
    for key, entry in spec.texts.items():
        if _placeholders(entry.de) != _placeholders(entry.en):
            raise FollowUpError(f"{FOLLOWUP_FILE}: text {key!r}: placeholders differ between de and en")
    for key in required_text_keys(diary):
        spec.text(key)
    params = spec.parameters
    for owner, ids in [(c.kind, c.sources) for c in params.checkpoints] + [
        ("improvement", params.improvement.sources)
    ]:
        missing = sorted(set(ids) - set(known_sources))
        if missing:
            raise FollowUpError(f"{FOLLOWUP_FILE}: {owner}: unknown source ids {missing}")
    weeks = [c.week for c in params.checkpoints]
    if weeks != sorted(set(weeks)) or len({c.kind for c in params.checkpoints}) != len(weeks):
        raise FollowUpError(f"{FOLLOWUP_FILE}: checkpoints must have rising weeks and distinct kinds")
    _check_plan(spec.plan)


def _check_plan(plan: PlanParams) -> None:
    """The plan's numbers in order: the walking goal within its ceiling, rises from small to large."""
    walking = plan.walking_minutes
    if walking.start > walking.max:
        raise FollowUpError(f"{FOLLOWUP_FILE}: plan.walking_minutes: start must not exceed max")
    rises = plan.progression
    if not rises.up_max_week_rise < rises.hold_start_rise < rises.back_start_rise:
        raise FollowUpError(
            f"{FOLLOWUP_FILE}: plan.progression: needs up_max_week_rise < hold_start_rise < back_start_rise"
        )


def build_followup(raw: Any, known_sources: Collection[str], diary: DiarySpec) -> FollowUpSpec:
    """Validate the parsed followup.yaml against the source registry and the diary's signs and reaches."""
    try:
        spec = FollowUpSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FollowUpError(f"{FOLLOWUP_FILE}: {where}: {first['msg']}") from None
    _check(spec, known_sources, diary)
    return spec
