"""Outcome measure responses over the store (SQLite and PostgreSQL): recorded once per form and per week,
what is due when (from the episode start as the checkpoints count it; STarT Back again only without
improvement), the series with its change, the export and the CSV, and erasure of every response."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any

import pytest

from rueckenlotse.core.errors import InvalidInput
from rueckenlotse.core.models import Case
from rueckenlotse.services.followup import AlreadySaved, NoIntake, add_entry, record_intake
from rueckenlotse.services.measures import (
    NotDue,
    due_for,
    measures_csv,
    next_due,
    record_response,
    responses_of,
    series_for,
)
from rueckenlotse.store import Store
from rueckenlotse.store.audit import SYSTEM_CLI
from rueckenlotse.store.exporting import EXPORT_FORMAT_VERSION, MEASURE_COLUMNS

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
STARTBACK = {
    "leg_pain_recent": True,
    "neck_or_shoulder_pain_recent": False,
    "walks_short_distances_only": True,
    "dresses_more_slowly": True,
    "unsafe_to_be_active": True,
    "worrying_thoughts": True,
    "pain_terrible_never_better": True,
    "not_enjoying_things": True,
    "bothersomeness": 3,
}  # total 8, psychosocial 5: high risk
PEG = {"pain": 7, "enjoyment": 6, "activity": 7}


def _person(
    store: Store, *, weeks_ago: int = 0, duration: float = 1, regions: tuple[str, ...] = ("low_back",)
) -> str:
    person = store.create_person("Mess").id
    data: dict[str, Any] = {"age": 44, "regions": list(regions), "duration_weeks": duration}
    if "low_back" in regions:
        data["startback"] = STARTBACK
    record_intake(store, person, Case.model_validate(data), assessed_at=NOW - dt.timedelta(weeks=weeks_ago))
    return person


def _due(store: Store, person: str, **kwargs: Any) -> list[tuple[str, int]]:
    return [(d.measure.id, d.week) for d in due_for(store, person, **kwargs)]


def test_recorded_once_per_form_and_per_week(store: Store) -> None:
    person = _person(store)
    assert _due(store, person) == [("peg", 0), ("psfs", 0)]
    first = record_response(store, person, "peg", PEG, idempotency_key="k" * 40)
    assert (first.week, first.score) == (0, 6.67)
    with pytest.raises(AlreadySaved) as again:
        record_response(
            store, person, "peg", {"pain": 1, "enjoyment": 1, "activity": 1}, idempotency_key="k" * 40
        )
    assert again.value.entry_id == first.id
    with pytest.raises(NotDue):  # another form for the same week: answered already
        record_response(store, person, "peg", PEG, idempotency_key="j" * 40)
    with pytest.raises(NotDue):
        record_response(store, person, "pgic", {"change": 2})
    with pytest.raises(NotDue):
        record_response(store, person, "odi", {})
    with pytest.raises(NotDue):
        record_response(store, person, "psfs", {"activity": [{"name": "Gehen", "value": 3}]}, week=2)
    with pytest.raises(InvalidInput) as bad:
        record_response(store, person, "psfs", {"activity": [{"name": "", "value": 3}]})
    assert [e.field for e in bad.value.errors] == ["activity[0].name"]
    stored = responses_of(store, person)
    assert [(r.measure_id, r.week, r.score, r.answers) for r in stored] == [("peg", 0, 6.67, PEG)]
    assert stored[0].knowledge_version and _due(store, person) == [("psfs", 0)]


def test_weeks_count_from_the_intake_and_a_missed_week_lapses(store: Store) -> None:
    # Intake 5 weeks ago (with a week of pain before): follow-up weeks count from the intake day.
    person = _person(store, weeks_ago=5)
    intake_day = (NOW - dt.timedelta(weeks=5)).date()
    assert _due(store, person, today=intake_day) == [("peg", 0), ("psfs", 0)]
    record_response(store, person, "peg", PEG, at=NOW - dt.timedelta(weeks=5))
    # Two weeks after the intake: PEG, PSFS (its week 0 lapsed) and PGIC.
    week_2 = intake_day + dt.timedelta(weeks=2)
    assert _due(store, person, today=week_2 - dt.timedelta(days=1)) == [("psfs", 0)]
    assert _due(store, person, today=week_2) == [("peg", 2), ("psfs", 2), ("pgic", 2)]
    # Five weeks after it (today): week 4 is the latest due, week 2 lapsed.
    assert _due(store, person) == [("peg", 4), ("psfs", 4), ("pgic", 4)]
    assert next_due(store, person) == intake_day + dt.timedelta(weeks=6)
    assert record_response(store, person, "pgic", {"change": 3}).week == 4


def test_startback_again_at_week_4_only_without_improvement(store: Store) -> None:
    person = _person(store, weeks_ago=4)
    start = NOW - dt.timedelta(weeks=4)
    for day in range(28):  # the same pain every day: no meaningful improvement by week 4
        add_entry(
            store, person, {"recorded_at": start + dt.timedelta(days=day, hours=1), "pain": {"low_back": 6}}
        )
    assert ("startback", 4) in _due(store, person)
    answers = {
        **STARTBACK,
        "worrying_thoughts": False,
        "pain_terrible_never_better": False,
        "bothersomeness": 1,
    }
    recorded = record_response(store, person, "startback", answers)
    assert (recorded.week, recorded.score) == (4, 1.0)  # total 5, psychosocial 2: medium
    [series] = [s for s in series_for(store, person) if s.measure.id == "startback"]
    # The intake's own answers are the first value (high risk), scored as the intake scored them.
    assert [(p.week, p.score, p.response_id is None, p.change) for p in series.points] == [
        (0, 2.0, True, None),
        (4, 1.0, False, "better"),
    ]
    assert series.points[0].subscales == {"total": 8.0, "psychosocial": 5.0}
    assert series.points[1].subscales == {"total": 5.0, "psychosocial": 2.0}


def test_startback_not_again_when_the_diary_improved_or_for_neck_pain(store: Store) -> None:
    better = _person(store, weeks_ago=4)
    start = NOW - dt.timedelta(weeks=4)
    for day in range(28):
        pain = 7 if day < 7 else 2
        add_entry(
            store,
            better,
            {"recorded_at": start + dt.timedelta(days=day, hours=1), "pain": {"low_back": pain}},
        )
    assert not any(m == "startback" for m, _ in _due(store, better))
    neck = _person(store, weeks_ago=4, regions=("neck",))
    for day in range(28):
        add_entry(store, neck, {"recorded_at": start + dt.timedelta(days=day, hours=1), "pain": {"neck": 6}})
    assert not any(m == "startback" for m, _ in _due(store, neck))


def test_series_judges_each_follow_up_against_week_zero(store: Store) -> None:
    person = _person(store, weeks_ago=2)
    record_response(
        store, person, "psfs", {"activity": [{"name": "Treppen", "value": 3}]}, at=NOW - dt.timedelta(weeks=2)
    )
    record_response(store, person, "psfs", {"activity": [{"name": "Treppen", "value": 5}]})
    record_response(store, person, "pgic", {"change": 6})
    series = {s.measure.id: s for s in series_for(store, person)}
    assert set(series) == {"psfs", "pgic"}
    assert [(p.week, p.change) for p in series["psfs"].points] == [(0, None), (2, "better")]
    assert [p.change for p in series["pgic"].points] == ["worse"]


def test_export_csv_and_erasure_hold_every_response(store: Store) -> None:
    person = _person(store)
    other = _person(store)
    record_response(store, person, "peg", PEG)
    record_response(store, person, "psfs", {"activity": [{"name": "=HYPERLINK(1)", "value": 4}]})
    record_response(store, other, "peg", PEG)
    data = store.export_person(person)
    assert data["format_version"] == EXPORT_FORMAT_VERSION == 5
    assert [(m["measure_id"], m["week"], m["score"]) for m in data["measures"]] == [
        ("peg", 0, 6.67),
        ("psfs", 0, 4.0),
    ]
    assert data["measures"][0]["answers"] == PEG and json.loads(json.dumps(data)) == data
    text = measures_csv(store, person, actor=SYSTEM_CLI)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert tuple(rows[0]) == MEASURE_COLUMNS and len(rows) == 3
    assert rows[2][MEASURE_COLUMNS.index("answers")] == "'=HYPERLINK(1)=4"
    counts = store.erase_person(person)
    assert counts["measure_responses"] == 2
    assert not any(store.rows_of_person(person).values())
    assert len(responses_of(store, other)) == 1


def test_without_intake_nothing_is_due(store: Store) -> None:
    person = store.create_person().id
    with pytest.raises(NoIntake):
        due_for(store, person)
    with pytest.raises(NoIntake):
        record_response(store, person, "peg", PEG)
