"""Outcome measure responses (``measure_responses``, revision 0014): one filled-in measure per row, with the
answers, the score the engine computed from them and the knowledge version it was scored under.

The store keeps what it is given: the services check and score the answers (``plan.measures``) and decide
which week a response answers. The idempotency key (the form's) is unique per person: callers look it up
(``by_key``) under the person's lock, so a form posted twice saves one response. Erasure follows the
person's foreign key (``erasing``); the export reads ``queries.measures_of``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from .queries import measures_of, person_row
from .records import MeasureRecord
from .schema import MeasureResponse

if TYPE_CHECKING:
    from .repository import Store


class MeasureResponses:
    """The measure responses of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        person_id: str,
        *,
        measure_id: str,
        week: int | None,
        recorded_at: datetime,
        answers: Mapping[str, Any],
        score: float | None,
        knowledge_version: str,
        idempotency_key: str | None = None,
    ) -> str:
        """Write one response (NotFound for an unknown person); returns its id."""
        with self._store.transaction() as session:
            person_row(session, person_id)
            row = MeasureResponse(
                person_id=person_id,
                measure_id=measure_id,
                week=week,
                recorded_at=recorded_at,
                answers_json=dict(answers),
                score=score,
                knowledge_version=knowledge_version,
                idempotency_key=idempotency_key,
            )
            session.add(row)
            session.flush()
            return row.id

    def by_key(self, person_id: str, idempotency_key: str) -> str | None:
        """The id of the person's response saved from the form with this key, if there is one."""
        with self._store.transaction(write=False) as session:
            query = select(MeasureResponse.id).where(
                MeasureResponse.person_id == person_id, MeasureResponse.idempotency_key == idempotency_key
            )
            return session.scalar(query)

    def of_person(self, person_id: str) -> list[MeasureRecord]:
        """Oldest first (NotFound for an unknown person)."""
        with self._store.transaction(write=False) as session:
            person_row(session, person_id)
            return [MeasureRecord.from_row(row) for row in measures_of(session, person_id)]

    def answered(self, person_id: str) -> set[tuple[str, int]]:
        """The (measure, week) pairs the person has answered."""
        with self._store.transaction(write=False) as session:
            query = select(MeasureResponse.measure_id, MeasureResponse.week).where(
                MeasureResponse.person_id == person_id, MeasureResponse.week.is_not(None)
            )
            return {(measure_id, week) for measure_id, week in session.execute(query) if week is not None}
