"""The rows of one person, as the repository and the export read them (oldest first)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from .errors import person_not_found
from .schema import (
    DIARY_ORDER,
    FEEDBACK_ORDER,
    AssessmentRow,
    DiaryRow,
    Exclusion,
    ExerciseFeedbackRow,
    MeasureResponse,
    Person,
    PlanRow,
)


def person_row(session: Session, person_id: str) -> Person:
    person = session.get(Person, person_id)
    if person is None:
        raise person_not_found(person_id)
    return person


def assessments_of(session: Session, person_id: str) -> Sequence[AssessmentRow]:
    query = select(AssessmentRow).where(AssessmentRow.person_id == person_id)
    return session.scalars(query.order_by(AssessmentRow.created_at, AssessmentRow.id)).all()


def diary_of(session: Session, person_id: str) -> Sequence[DiaryRow]:
    query = select(DiaryRow).where(DiaryRow.person_id == person_id)
    return session.scalars(query.order_by(*DIARY_ORDER)).all()


def plans_of(session: Session, person_id: str) -> Sequence[PlanRow]:
    query = select(PlanRow).where(PlanRow.person_id == person_id)
    return session.scalars(query.order_by(PlanRow.created_at, PlanRow.id)).all()


def exclusions_of(session: Session, person_id: str) -> Sequence[Exclusion]:
    query = select(Exclusion).where(Exclusion.person_id == person_id)
    return session.scalars(query.order_by(Exclusion.exercise_id)).all()


def feedback_of(session: Session, person_id: str) -> Sequence[ExerciseFeedbackRow]:
    query = select(ExerciseFeedbackRow).where(ExerciseFeedbackRow.person_id == person_id)
    return session.scalars(query.order_by(*FEEDBACK_ORDER)).all()


def measures_of(session: Session, person_id: str) -> Sequence[MeasureResponse]:
    """Outcome measure responses, by the moment the answers describe, then as written."""
    query = select(MeasureResponse).where(MeasureResponse.person_id == person_id)
    order = (MeasureResponse.recorded_at, MeasureResponse.created_at, MeasureResponse.id)
    return session.scalars(query.order_by(*order)).all()
