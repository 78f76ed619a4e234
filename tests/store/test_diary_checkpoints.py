"""Diary checkpoints: a new entry continues the re-screening from the state after the latest entry instead
of replaying the whole diary — and gives exactly what a full replay gives, on SQLite and PostgreSQL.

Each diary below is written twice into one store: once as the service does it (continuing from the
checkpoint), once with the checkpoint deleted before every entry (so every entry replays the diary). The
re-screens, the stored assessments and the standing red flags must be the same.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from rueckenlotse.core.models import Case
from rueckenlotse.plan import rescreen as rescreen_module
from rueckenlotse.plan.models import DIARY_WARNING_SIGNS, DiaryEntry
from rueckenlotse.services.followup import (
    EntryResult,
    add_entry,
    current_plan,
    intake_of,
    record_intake,
    standing_of,
)
from rueckenlotse.store import Store
from rueckenlotse.store.schema import DiaryCheckpoint

from ..followup import FRAGILE, T0, entry

PLAIN: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 4}


# Warning signs, an examination, a sign again, an entry dated before the latest, leg pain spreading.
STORY = [
    entry(1, 5),
    entry(3, 6, warning_signs=["fever"]),
    entry(4, 6),
    entry(6, 4, examined_by_doctor=True),
    entry(8, 5, warning_signs=["saddle_numbness"]),
    entry(2, 5),  # typed in late: dated before the latest entry
    entry(9, 3),
    entry(12, 3, pain_reach="below_knee"),
    entry(13, 2, examined_by_doctor=True),
    entry(15, 2),
]


def drop_checkpoints(store: Store, person_id: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(DiaryCheckpoint).where(DiaryCheckpoint.person_id == person_id))


def checkpoint_row(store: Store, person_id: str) -> Any:
    with store.engine.connect() as connection:
        query = select(DiaryCheckpoint).where(DiaryCheckpoint.person_id == person_id)
        return connection.execute(query).one_or_none()


def write_both_ways(store: Store, data: dict[str, Any], entries: list[DiaryEntry]) -> list[Any]:
    """Write the diary for two persons, with and without checkpoints; each step's two results."""
    continued, replayed = store.create_person(), store.create_person()
    for person in (continued, replayed):
        record_intake(store, person.id, Case.model_validate(data), assessed_at=T0)
    steps = []
    for item in entries:
        a = add_entry(store, continued.id, item)
        drop_checkpoints(store, replayed.id)
        b = add_entry(store, replayed.id, item)
        steps.append((a, b))
    assert _assessments(store, continued.id) == _assessments(store, replayed.id)
    assert standing_of(store, continued.id) == standing_of(store, replayed.id)
    return steps


def _assessments(store: Store, person_id: str) -> list[tuple[str, str, dt.datetime]]:
    return [(a.source, a.assessment.triage.value, a.created_at) for a in store.list_assessments(person_id)]


def _same(a: EntryResult, b: EntryResult) -> bool:
    return a.rescreen == b.rescreen and a.new_escalations == b.new_escalations


@pytest.mark.safety("SR-FU-1")
def test_continuing_from_the_checkpoint_equals_replaying_the_diary(store: Store) -> None:
    steps = write_both_ways(store, FRAGILE, STORY)
    assert all(_same(a, b) for a, b in steps)
    escalated = [a.rescreen.escalated for a, _ in steps]
    assert escalated[1] and escalated[4]  # fever, then saddle numbness: the story does escalate


def test_the_checkpoint_follows_the_latest_entry(store: Store) -> None:
    person = store.create_person()
    record_intake(store, person.id, Case.model_validate(PLAIN), assessed_at=T0)
    ids = [add_entry(store, person.id, entry(day, 4)).entry_id for day in (1, 2, 3)]
    row = checkpoint_row(store, person.id)
    assert (row.entry_id, row.entry_count, row.lang) == (ids[-1], 3, "de")
    assert row.replay_version == rescreen_module.replay_version()
    # Dated before the latest entry: no state after it to keep; the next later entry writes one again.
    add_entry(store, person.id, entry(0.5, 4))
    assert checkpoint_row(store, person.id) is None
    last = add_entry(store, person.id, entry(4, 4)).entry_id
    row = checkpoint_row(store, person.id)
    assert (row.entry_id, row.entry_count) == (last, 5)


def test_a_later_entry_is_rescreened_once_not_the_whole_diary(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    person = store.create_person()
    record_intake(store, person.id, Case.model_validate(PLAIN), assessed_at=T0)
    for day in range(1, 21):
        add_entry(store, person.id, entry(day / 2, 4))
    calls: list[dt.datetime] = []
    real = rescreen_module.rescreen

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(args[2].recorded_at)
        return real(*args, **kwargs)

    monkeypatch.setattr(rescreen_module, "rescreen", counting)
    add_entry(store, person.id, entry(11, 4))
    assert calls == [entry(11, 4).recorded_at]
    # Without the checkpoint the same entry replays the diary: every entry once more.
    calls.clear()
    drop_checkpoints(store, person.id)
    add_entry(store, person.id, entry(12, 4))
    assert len(calls) == 22


@pytest.mark.safety("SR-FU-1")
@pytest.mark.parametrize(
    "spoil",
    [
        {"state_json": {"not": "a state"}},
        {"entry_count": 1},  # an entry stored past the service (count differs)
        {"replay_version": "0:older-knowledge"},
        {"lang": "en"},
    ],
    ids=["unreadable", "count", "version", "language"],
)
def test_a_checkpoint_that_no_longer_describes_the_diary_is_replayed_not_trusted(
    store: Store, spoil: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    person = store.create_person()
    record_intake(store, person.id, Case.model_validate(PLAIN), assessed_at=T0)
    add_entry(store, person.id, entry(1, 4))
    add_entry(store, person.id, entry(2, 4, warning_signs=["fever"]))
    add_entry(store, person.id, entry(3, 4))
    with store.engine.begin() as connection:
        connection.execute(
            update(DiaryCheckpoint).where(DiaryCheckpoint.person_id == person.id).values(**spoil)
        )
    calls: list[object] = []
    real = rescreen_module.rescreen
    monkeypatch.setattr(rescreen_module, "rescreen", lambda *a, **k: calls.append(a) or real(*a, **k))
    result = add_entry(store, person.id, entry(4, 4))
    assert len(calls) == 4  # replayed
    # The fever raised on day 2 still stands: the re-screen holds it at its triage.
    assert [f.condition for f in result.rescreen.standing] == [
        f.condition for f in standing_of(store, person.id)
    ]
    assert result.rescreen.held
    row = checkpoint_row(store, person.id)
    assert row.entry_count == 4 and row.replay_version == rescreen_module.replay_version()


def test_a_new_intake_is_not_continued_from_the_old_one(store: Store) -> None:
    person = store.create_person()
    record_intake(store, person.id, Case.model_validate(PLAIN), assessed_at=T0)
    add_entry(store, person.id, entry(1, 4, warning_signs=["fever"]))
    assert standing_of(store, person.id)
    record_intake(store, person.id, Case.model_validate(FRAGILE), assessed_at=T0 + dt.timedelta(days=2))
    # Read against the new intake: its own flags, re-screened from the diary (not the old state).
    conditions = {f.condition for f in standing_of(store, person.id)}
    plan = current_plan(store, person.id, today=(T0 + dt.timedelta(days=3)).date())
    assert {f.condition for f in plan.standing_flags} == conditions
    add_entry(store, person.id, entry(3, 4))
    assert checkpoint_row(store, person.id).intake_id == intake_of(store, person.id).id


SIGNS = st.lists(st.sampled_from(DIARY_WARNING_SIGNS), max_size=2, unique=True)


@pytest.mark.safety("SR-FU-1")
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    data=st.sampled_from([FRAGILE, PLAIN]),
    raw=st.lists(
        st.tuples(st.integers(0, 60), st.integers(0, 10), SIGNS, st.booleans()), min_size=1, max_size=8
    ),
)
def test_any_diary_continued_equals_the_replay(
    sqlite_store: Store, data: dict[str, Any], raw: list[tuple[int, int, list[str], bool]]
) -> None:
    entries = [
        entry(half_days / 2, pain, warning_signs=signs, examined_by_doctor=examined)
        for half_days, pain, signs, examined in raw
    ]
    steps = write_both_ways(sqlite_store, data, entries)
    assert all(_same(a, b) for a, b in steps)


@pytest.mark.safety("SR-FU-1")
def test_the_integrity_check_names_a_checkpoint_that_lies_about_the_diary(store: Store) -> None:
    person = store.create_person()
    record_intake(store, person.id, Case.model_validate(PLAIN), assessed_at=T0)
    add_entry(store, person.id, entry(1, 4, warning_signs=["fever"]), lang="en")
    add_entry(store, person.id, entry(2, 4), lang="en")
    assert store.integrity_check() == []  # an English checkpoint is checked against an English replay
    row = checkpoint_row(store, person.id)
    forged = {**row.state_json, "standing": []}  # the fever "forgotten" while the row claims the diary
    with store.engine.begin() as connection:
        connection.execute(
            update(DiaryCheckpoint).where(DiaryCheckpoint.person_id == person.id).values(state_json=forged)
        )
    assert store.integrity_check() == [f"diary_checkpoints {person.id}: differs from the diary's replay"]
