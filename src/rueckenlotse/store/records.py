"""What the store hands out: small frozen records holding parsed, validated models."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from ..core.models import Assessment, Case
from ..plan.models import DiaryEntry, ExerciseFeedback
from .schema import (
    AssessmentRow,
    DiaryRow,
    Exclusion,
    ExerciseFeedbackRow,
    MeasureResponse,
    Person,
    PlanRow,
)

# (done, total) – called repeatedly during long work; total may grow while the work runs.
ProgressCallback = Callable[[int, int], None]

M = TypeVar("M", bound=BaseModel)


def parse_stored(model: type[M], document: dict[str, Any]) -> M:
    """A stored JSON document back as its model: through JSON, so strict models accept ISO timestamps."""
    return model.model_validate_json(json.dumps(document))


@dataclass(frozen=True)
class PersonRecord:
    id: str
    display_name: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Person) -> PersonRecord:
        return cls(id=row.id, display_name=row.display_name, created_at=row.created_at)


@dataclass(frozen=True)
class AssessmentRecord:
    id: str
    person_id: str
    created_at: datetime
    source: str
    knowledge_version: str
    case: Case
    assessment: Assessment

    @classmethod
    def from_row(cls, row: AssessmentRow) -> AssessmentRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            created_at=row.created_at,
            source=row.source,
            knowledge_version=row.knowledge_version,
            case=parse_stored(Case, row.case_json),
            assessment=parse_stored(Assessment, row.assessment_json),
        )


@dataclass(frozen=True)
class DiaryRecord:
    id: str
    person_id: str
    recorded_at: datetime
    created_at: datetime
    entry: DiaryEntry

    @classmethod
    def from_row(cls, row: DiaryRow) -> DiaryRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            recorded_at=row.recorded_at,
            created_at=row.created_at,
            entry=parse_stored(DiaryEntry, row.entry_json),
        )


@dataclass(frozen=True)
class PlanRecord:
    id: str
    person_id: str
    assessment_id: str
    created_at: datetime
    plan: dict[str, Any]

    @classmethod
    def from_row(cls, row: PlanRow) -> PlanRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            assessment_id=row.assessment_id,
            created_at=row.created_at,
            plan=row.plan_json,
        )


@dataclass(frozen=True)
class ExclusionRecord:
    person_id: str
    exercise_id: str
    reason: str | None
    created_at: datetime

    @classmethod
    def from_row(cls, row: Exclusion) -> ExclusionRecord:
        return cls(
            person_id=row.person_id, exercise_id=row.exercise_id, reason=row.reason, created_at=row.created_at
        )


@dataclass(frozen=True)
class FeedbackRecord:
    """An exercise of the session done and/or rated; ``feedback`` is what the plan reads."""

    id: str
    person_id: str
    created_at: datetime
    feedback: ExerciseFeedback

    @classmethod
    def from_row(cls, row: ExerciseFeedbackRow) -> FeedbackRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            created_at=row.created_at,
            feedback=ExerciseFeedback.model_validate(
                {
                    "recorded_at": row.recorded_at,
                    "exercise_id": row.exercise_id,
                    "done": row.done,
                    "rating": row.rating,
                },
                strict=False,
            ),
        )


@dataclass(frozen=True)
class MeasureRecord:
    """One stored outcome measure response (``store.measures``)."""

    id: str
    person_id: str
    measure_id: str
    week: int | None
    recorded_at: datetime
    answers: dict[str, Any]
    score: float | None
    knowledge_version: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: MeasureResponse) -> MeasureRecord:
        return cls(
            id=row.id,
            person_id=row.person_id,
            measure_id=row.measure_id,
            week=row.week,
            recorded_at=row.recorded_at,
            answers=dict(row.answers_json),
            score=row.score,
            knowledge_version=row.knowledge_version,
            created_at=row.created_at,
        )
