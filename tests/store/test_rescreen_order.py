"""An escalating diary entry always becomes the newest assessment, even when it is dated at (or before)
the moment of the assessment it escalates, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from rueckenlotse.core.models import Case, Triage
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, current_plan, latest_of, record_intake
from rueckenlotse.store import Store

MOMENT = dt.datetime(2026, 3, 2, 9, 0, 0, 500_000, tzinfo=dt.UTC)


@pytest.mark.safety("SR-DIA-2")
@pytest.mark.parametrize(
    "offset", [dt.timedelta(0), dt.timedelta(seconds=-1), dt.timedelta(microseconds=-500_000)]
)
def test_an_escalating_entry_is_the_newest_assessment(store: Store, offset: dt.timedelta) -> None:
    person = store.create_person()
    case = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1})
    record_intake(store, person.id, case, assessed_at=MOMENT)
    entry = DiaryEntry.model_validate_json(
        DiaryEntry(
            recorded_at=MOMENT + offset, pain={"low_back": 5}, warning_signs=["saddle_numbness"]
        ).model_dump_json()
    )
    result = add_entry(store, person.id, entry)
    assert result.rescreen.escalated
    latest = latest_of(store, person.id)
    assert latest.source == "diary_rescreen" and latest.assessment.triage is Triage.emergency
    assert [a.source for a in store.list_assessments(person.id)] == ["intake", "diary_rescreen"]
    assert current_plan(store, person.id, today=MOMENT.date()).red_flag
