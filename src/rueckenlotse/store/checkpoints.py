"""Diary checkpoints: the re-screening's state after a person's latest entry (``schema.DiaryCheckpoint``).

A checkpoint is a cache of ``plan.rescreen.replay``: it is read only together with the diary's tail (the
number of entries and the latest one) so the service can tell whether it still describes the diary. A
checkpoint that cannot be read is treated as absent: the diary is replayed, never trusted on a guess.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..plan.rescreen import EpisodeState, replay_version
from .records import parse_stored
from .schema import DIARY_ORDER, DiaryCheckpoint, DiaryRow, utc_now


class _StoredEntry(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def recorded_at(self) -> datetime: ...


@dataclass(frozen=True)
class DiaryTail:
    """How many entries a diary has and its latest one (in the store's order, ``schema.DIARY_ORDER``)."""

    count: int
    last_id: str | None = None
    last_at: datetime | None = None

    @classmethod
    def of(cls, entries: Sequence[_StoredEntry]) -> DiaryTail:
        """The tail of a diary read whole, in the store's order (rows or records alike)."""
        if not entries:
            return cls(0)
        return cls(len(entries), entries[-1].id, entries[-1].recorded_at)


@dataclass(frozen=True)
class Checkpoint:
    """Where the diary's re-screening stood after entry ``entry_id``, the ``entry_count``-th, read against
    the intake ``intake_id``, with the logic and knowledge ``replay_version`` and the language ``lang``."""

    intake_id: str
    entry_id: str
    entry_count: int
    replay_version: str
    lang: str
    state: EpisodeState

    def describes(self, intake_id: str, tail: DiaryTail) -> bool:
        """The state after exactly this diary (its latest entry and number of entries), read against this
        intake, made by today's logic and knowledge: only then may the next entry continue from it."""
        return (
            self.intake_id == intake_id
            and self.entry_id == tail.last_id
            and self.entry_count == tail.count
            and self.replay_version == replay_version()
        )


def tail_of(session: Session, person_id: str) -> DiaryTail:
    count = session.scalar(select(func.count()).where(DiaryRow.person_id == person_id)) or 0
    if not count:
        return DiaryTail(0)
    last = session.execute(
        select(DiaryRow.id, DiaryRow.recorded_at)
        .where(DiaryRow.person_id == person_id)
        .order_by(*(column.desc() for column in DIARY_ORDER))
        .limit(1)
    ).one()
    return DiaryTail(count, last.id, last.recorded_at)


def checkpoint_of(session: Session, person_id: str) -> Checkpoint | None:
    row = session.get(DiaryCheckpoint, person_id)
    if row is None:
        return None
    try:
        state = parse_stored(EpisodeState, row.state_json)
    except (ValidationError, ValueError, TypeError):
        return None  # replayed instead; `rueckenlotse check` names the row
    return Checkpoint(row.intake_id, row.entry_id, row.entry_count, row.replay_version, row.lang, state)


def save(session: Session, person_id: str, checkpoint: Checkpoint) -> None:
    """Keep ``checkpoint`` as the person's one checkpoint (replacing any)."""
    values = {
        "intake_id": checkpoint.intake_id,
        "entry_id": checkpoint.entry_id,
        "entry_count": checkpoint.entry_count,
        "replay_version": checkpoint.replay_version,
        "lang": checkpoint.lang,
        "state_json": checkpoint.state.model_dump(mode="json"),
        "created_at": utc_now(),
    }
    row = session.get(DiaryCheckpoint, person_id)
    if row is None:
        session.add(DiaryCheckpoint(person_id=person_id, **values))
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()


def drop(session: Session, person_id: str) -> None:
    """Forget the checkpoint: the diary changed in a way it does not describe."""
    row = session.get(DiaryCheckpoint, person_id)
    if row is not None:
        session.delete(row)
        session.flush()
