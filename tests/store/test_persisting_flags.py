"""A red flag of the intake stands in the stored diary until an entry records the examination, on SQLite
and PostgreSQL: the entry is stored with its answer and date, the plan and the report follow it."""

from __future__ import annotations

import datetime as dt

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, current_plan, latest_of, record_intake, report_for
from rueckenlotse.store import Store

INTAKE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
# Age 72, osteoporosis, a fall a week ago: the fracture red flag at intake.
FRAGILE = {"age": 72, "regions": ["low_back"], "duration_weeks": 1, "trauma": "minor", "osteoporosis": True,
           "recurrent": True}  # fmt: skip


def _entry(days: int, **fields: object) -> DiaryEntry:
    return DiaryEntry.model_validate(
        {"recorded_at": (INTAKE + dt.timedelta(days=days)).isoformat(), "pain": {"low_back": 3}, **fields},
        strict=False,
    )


@pytest.mark.safety("SR-FU-1")
def test_the_fracture_flag_stands_three_weeks_later_until_the_examination_is_stored(store: Store) -> None:
    person = store.create_person().id
    record_intake(store, person, Case.model_validate(FRAGILE), assessed_at=INTAKE)
    for days in (3, 10, 21):
        result = add_entry(store, person, _entry(days))
        assert "spinal_fracture" in {f.condition for f in result.rescreen.assessment.red_flags}
        assert not result.rescreen.escalated
    three_weeks = INTAKE.date() + dt.timedelta(days=21)
    plan = current_plan(store, person, today=three_weeks)
    assert plan.red_flag and plan.exercises == [] and plan.weeks == []
    assert "spinal_fracture" in {f.condition for f in plan.standing_flags}
    report = report_for(store, person)
    assert report.red_flag_text is not None and "untersuchen" in report.red_flag_text.de

    examined = add_entry(store, person, _entry(23, examined_by_doctor=True))
    assert "spinal_fracture" in examined.rescreen.examined
    stored = store.list_diary(person)[-1].entry
    assert stored.examined_by_doctor and stored.recorded_at == INTAKE + dt.timedelta(days=23)
    assert latest_of(store, person).source == "diary_rescreen"
    after = current_plan(store, person, today=three_weeks + dt.timedelta(days=3))
    assert not after.red_flag and after.standing_flags == [] and after.exercises
    assert report_for(store, person).red_flag_text is None
