"""The cohort definition (knowledge/data/cohort.yaml) as validated data.

What a practice's cohort table reports and how it counts: the outcome weeks, the measures shown (their
change rules come from the measures file), the diary-pain row and its rule, the observation window, when a
diary counts as given up, and the smallest count shown. ``params()`` gives the core's ``CohortParams``
(``core.cohort``), which the SQL is built from. Every text has German and English with the same
{placeholders}; every source id resolves in the knowledge base's registry.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator

from ..core.cohort import EVENT_ITEMS, CohortParams
from ..core.kb import KnowledgeError
from ..core.measures import ChangeRule
from ..i18n import LocalText
from .errors import validation_error
from .wording import STRICT, Id, NonBlank

COHORT_FILE = "cohort.yaml"
Week = Annotated[int, Field(ge=1, le=104)]


class ChangeSpec(BaseModel):
    """A change rule as written in YAML (the fields of ``core.measures.ChangeRule``)."""

    model_config = STRICT
    kind: Literal["difference", "category"]
    direction: Literal["lower_better", "higher_better"] = "lower_better"
    mic_points: Annotated[float, Field(gt=0, le=1000)] | None = None
    mic_fraction: Annotated[float, Field(gt=0, le=1)] | None = None
    better: list[int] = []
    worse: list[int] = []

    @model_validator(mode="after")
    def _valid_rule(self) -> ChangeSpec:
        self.rule()  # ChangeRule refuses what it cannot judge
        return self

    def rule(self) -> ChangeRule:
        return ChangeRule(
            kind=self.kind,
            direction=self.direction,
            mic_points=self.mic_points,
            mic_fraction=self.mic_fraction,
            better=frozenset(self.better),
            worse=frozenset(self.worse),
        )


class ReportedMeasure(BaseModel):
    model_config = STRICT
    id: Id
    label: LocalText


class DiaryPain(BaseModel):
    """The diary's worst pain of the day as a further row: the mean over the week up to an outcome week
    against the mean over the first week."""

    model_config = STRICT
    label: LocalText
    change: ChangeSpec
    sources: Annotated[list[str], Field(min_length=1)]
    note: NonBlank


class DiaryStop(BaseModel):
    model_config = STRICT
    gap_days: Annotated[int, Field(ge=1, le=84)]
    note: NonBlank


class SmallCells(BaseModel):
    model_config = STRICT
    min_count: Annotated[int, Field(ge=2, le=100)]
    note: NonBlank


class CohortSpec(BaseModel):
    model_config = STRICT
    outcome_weeks: Annotated[list[Week], Field(min_length=1)]
    window_weeks: Week
    measures: list[ReportedMeasure]
    diary_pain: DiaryPain | None = None
    diary_stop: DiaryStop
    small_cells: SmallCells
    texts: dict[str, LocalText]

    @model_validator(mode="after")
    def _consistent(self) -> CohortSpec:
        if self.outcome_weeks != sorted(set(self.outcome_weeks)):
            raise ValueError("outcome_weeks: must rise, each once")
        if self.outcome_weeks[-1] > self.window_weeks:
            raise ValueError("outcome_weeks: the last must lie within window_weeks")
        ids = [m.id for m in self.measures]
        if len(set(ids)) != len(ids):
            raise ValueError("measures: a measure is listed twice")
        if self.diary_stop.gap_days > 7 * self.window_weeks:
            raise ValueError("diary_stop.gap_days: longer than the window")
        for key, entry in self.texts.items():
            if _placeholders(entry.de) != _placeholders(entry.en):
                raise ValueError(f"texts: {key}: placeholders differ between de and en")
        missing = sorted(set(required_text_keys()) - set(self.texts))
        if missing:
            raise ValueError(f"texts: missing {', '.join(missing)}")
        return self

    def params(self) -> CohortParams:
        return CohortParams(
            weeks=tuple(self.outcome_weeks),
            measures=tuple(m.id for m in self.measures),
            diary_pain=self.diary_pain.change.rule() if self.diary_pain else None,
            window_weeks=self.window_weeks,
            gap_days=self.diary_stop.gap_days,
            min_cell=self.small_cells.min_count,
        )

    def label(self, item: str, lang: str) -> str:
        """The row label of a measure, the diary pain or an event."""
        for measure in self.measures:
            if measure.id == item:
                return measure.label.get(lang)
        if item == "diary_pain" and self.diary_pain is not None:
            return self.diary_pain.label.get(lang)
        return self.text(f"item.{item}", lang)

    def text(self, key: str, lang: str, /, **values: object) -> str:
        return self.texts[key].get(lang).format(**values)


def required_text_keys() -> list[str]:
    """Every key the cohort table and its explanations read."""
    keys = [f"item.{item}" for item in EVENT_ITEMS]
    keys += [f"column.{c}" for c in ("item", "week", "better", "same", "worse", "no_baseline", "n")]
    keys += ["column.count", "column.of", "week", "small", "hidden"]
    keys += [f"explain.{k}" for k in ("points", "fraction", "points_or_fraction", "category")]
    keys += ["explain.lower", "explain.higher", "explain.or", "explain.diary_pain", "explain.baseline"]
    keys += ["explain.escalated", "explain.stopped_diary", "explain.small", "explain.hidden"]
    return keys


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def build_cohort(raw: Any, known_sources: Collection[str]) -> CohortSpec:
    """Validate the parsed cohort.yaml; a KnowledgeError names the file and the key."""
    try:
        spec = CohortSpec.model_validate(raw)
    except ValidationError as e:
        raise validation_error(COHORT_FILE, raw, e) from None
    if spec.diary_pain is not None:
        unknown = sorted(set(spec.diary_pain.sources) - set(known_sources))
        if unknown:
            raise KnowledgeError(f"{COHORT_FILE}: diary_pain: unknown source ids {unknown}")
    return spec
