"""A service's writes land together or not at all, on SQLite and PostgreSQL.

The fault is real: a trigger makes the database refuse the second write of a unit (the plan of an intake,
the escalated assessment of a diary entry), as a full disk or a lost connection would at that moment.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store

INTAKE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
CASE = {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"}


def refuse_inserts(store: Store, table: str, *, when: str = "TRUE") -> None:
    """From now on the database refuses inserts into ``table`` (where ``when`` holds for the new row)."""
    with store.engine.begin() as connection:
        if store.is_sqlite:
            sqlite_when = when.replace("TRUE", "1")
            connection.execute(
                text(
                    f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} WHEN {sqlite_when} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                )
            )
            return
        connection.execute(
            text(
                f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql AS "
                "$$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
            )
        )
        connection.execute(
            text(
                f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} FOR EACH ROW WHEN ({when}) "
                f"EXECUTE FUNCTION refuse_{table}()"
            )
        )


def test_an_intake_is_never_kept_without_its_plan(store: Store) -> None:
    person = store.create_person().id
    refuse_inserts(store, "plans")
    with pytest.raises(DBAPIError, match="refused by the test"):
        record_intake(store, person, Case.model_validate(CASE), assessed_at=INTAKE)
    assert store.list_assessments(person) == []
    assert store.list_plans(person) == []


def test_the_two_writes_of_an_intake_are_separate_without_a_unit(store: Store) -> None:
    """Companion: the same fault between two plain store calls leaves the first write behind, so the test
    above would catch an intake that lost its unit of work."""
    person = store.create_person().id
    refuse_inserts(store, "plans")
    case = Case.model_validate(CASE)
    record = store.add_assessment(person, case, assess(case), "intake", assessed_at=INTAKE)
    with pytest.raises(DBAPIError):
        store.save_plan(person, record.id, {"weeks": []})
    assert [a.id for a in store.list_assessments(person)] == [record.id]


def test_a_warning_sign_is_never_kept_without_its_escalation(store: Store) -> None:
    person = store.create_person().id
    record_intake(store, person, Case.model_validate(CASE), assessed_at=INTAKE)
    refuse_inserts(store, "assessments", when="NEW.source = 'diary_rescreen'")
    fever = DiaryEntry.model_validate(
        {
            "recorded_at": (INTAKE + dt.timedelta(days=3)).isoformat(),
            "pain": {"low_back": 6},
            "warning_signs": ["fever"],
        },
        strict=False,
    )
    with pytest.raises(DBAPIError, match="refused by the test"):
        add_entry(store, person, fever)
    assert store.list_diary(person) == []
    assert [a.source for a in store.list_assessments(person)] == ["intake"]


def test_a_successful_unit_commits_every_write(store: Store) -> None:
    person = store.create_person().id
    result = record_intake(store, person, Case.model_validate(CASE), assessed_at=INTAKE)
    assert [a.id for a in store.list_assessments(person)] == [result.record.id]
    (plan,) = store.list_plans(person)
    assert plan.assessment_id == result.record.id


def test_a_unit_on_one_store_does_not_capture_another_store(store: Store, sqlite_store: Store) -> None:
    """Two stores in one thread: a call on the second inside the first's unit commits on its own."""
    other = sqlite_store.create_person().id
    mine = store.create_person().id
    with pytest.raises(RuntimeError), store.atomic():
        store.add_assessment(mine, Case.model_validate(CASE), assess(Case.model_validate(CASE)))
        sqlite_store.add_assessment(other, Case.model_validate(CASE), assess(Case.model_validate(CASE)))
        raise RuntimeError("the unit fails after both writes")
    assert store.list_assessments(mine) == []
    assert len(sqlite_store.list_assessments(other)) == 1
