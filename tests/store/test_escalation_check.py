"""The integrity check finds a warning sign stored without its escalation, on SQLite and PostgreSQL.

The service writes an entry and its escalated assessment in one transaction; here the store is written past
the service (as a bug, a hand edit or an old import could) and the check must name the entry.
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, edit_entry, record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.audit import SYSTEM_CLI

INTAKE = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ROOT = Path(__file__).resolve().parents[2]
CASE = Case(age=45, regions=["low_back"], duration_weeks=2, pain_intensity=5, trauma="none")


def entry(day: int, *signs: str, examined: bool = False) -> DiaryEntry:
    return DiaryEntry.model_validate(
        {
            "recorded_at": INTAKE + dt.timedelta(days=day),
            "pain": {"low_back": 5},
            "warning_signs": list(signs),
            "examined_by_doctor": examined,
        }
    )


def person_with_intake(store: Store) -> str:
    person_id = store.create_person().id
    record_intake(store, person_id, CASE, assessed_at=INTAKE)
    return person_id


def escalation_problems(store: Store) -> list[str]:
    return [p for p in store.integrity_check() if "without its escalation" in p]


@pytest.mark.safety("SR-DIA-1")
def test_a_fever_entry_stored_without_its_escalation_is_named(store: Store) -> None:
    person_id = person_with_intake(store)
    add_entry(store, person_id, entry(1))
    bypassed = store.add_diary_entry(person_id, entry(2, "fever"))
    problems = escalation_problems(store)
    assert len(problems) == 1 and bypassed in problems[0] and "urgent" in problems[0], problems


def test_entries_written_by_the_service_pass(store: Store) -> None:
    person_id = person_with_intake(store)
    for day, signs in enumerate([(), ("fever",), (), ("night_pain", "fever"), ("saddle_numbness",)], 1):
        add_entry(store, person_id, entry(day, *signs))
    assert store.integrity_check() == []


def test_an_examined_sign_raised_again_needs_its_own_escalation(store: Store) -> None:
    """After a doctor's examination a new fever raises the flag again: its escalation must be there too."""
    person_id = person_with_intake(store)
    add_entry(store, person_id, entry(1, "fever"))
    add_entry(store, person_id, entry(3, examined=True))
    assert store.integrity_check() == []
    bypassed = store.add_diary_entry(person_id, entry(5, "fever"))
    problems = escalation_problems(store)
    assert len(problems) == 1 and bypassed in problems[0], problems


def test_a_lower_assessment_does_not_cover_an_emergency_sign(store: Store) -> None:
    """A later assessment counts only when its triage is at least the one the sign calls for."""
    person_id = person_with_intake(store)
    bypassed = store.add_diary_entry(person_id, entry(1, "saddle_numbness"))
    # A new intake with fever (urgent) after the entry: below the emergency the entry calls for.
    record_intake(store, person_id, CASE.model_copy(update={"fever": True}), assessed_at=INTAKE + DAY * 2)
    problems = escalation_problems(store)
    assert len(problems) == 1 and bypassed in problems[0] and "emergency" in problems[0], problems


@pytest.mark.safety("SR-DIA-1")
def test_the_next_entry_repairs_a_missing_escalation(store: Store) -> None:
    """An entry whose replay finds a red flag standing above the stored triage keeps its re-screen, so the
    person's triage is raised at the next entry at the latest."""
    person_id = person_with_intake(store)
    store.add_diary_entry(person_id, entry(1, "fever"))
    assert escalation_problems(store)
    add_entry(store, person_id, entry(2))
    assert store.integrity_check() == []
    assert store.latest_assessment(person_id).assessment.triage == "urgent"
    # Once repaired, plain entries store nothing more.
    count = len(store.list_assessments(person_id))
    add_entry(store, person_id, entry(3))
    assert len(store.list_assessments(person_id)) == count


def test_the_check_command_lists_the_entry_and_exits_1(db_url: str) -> None:
    with Store.open(db_url) as store:
        person_id = person_with_intake(store)
        bypassed = store.add_diary_entry(person_id, entry(1, "fever"))
    command = [str(ROOT / ".venv/bin/rueckenlotse"), "check", "--db", db_url, "--lang", "en"]
    run = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "The check found 1 problem(s):" in run.stdout and bypassed in run.stdout
    with Store.open(db_url) as store:
        add_entry(store, person_id, entry(2))
    run = subprocess.run(command[:-1] + ["de"], capture_output=True, text=True, check=False, timeout=120)
    assert (run.returncode, run.stdout.strip()) == (0, "Die Prüfung fand keine Fehler."), run.stderr


@pytest.mark.safety("SR-DIA-1")
def test_an_examination_dated_before_a_later_sign_keeps_that_sign_escalated(store: Store) -> None:
    """A back-dated (or late-arriving) "a doctor examined me" entry clears the flag up to its day; a warning
    sign recorded after it raises the flag again. The diary reads in time order, so that later sign now
    escalates: the record must say so, and the newest assessment must not fall below it. (Found by the fault
    suite: three writers of one person whose entries arrived out of time order.)"""
    person_id = person_with_intake(store)
    add_entry(store, person_id, entry(1, "saddle_numbness"))
    add_entry(store, person_id, entry(5, "saddle_numbness"))  # stands on: no new escalation at the time
    add_entry(store, person_id, entry(3, examined=True))  # arrives last, dated between the two
    assert store.integrity_check() == []
    newest = store.list_assessments(person_id)[-1]
    assert newest.assessment.triage.value == "emergency", newest.assessment.triage


@pytest.mark.safety("SR-DIA-1")
def test_a_correction_to_an_examination_before_a_later_sign_keeps_that_sign_escalated(store: Store) -> None:
    """The same through a correction: an earlier plain entry edited into "a doctor examined me"."""
    person_id = person_with_intake(store)
    add_entry(store, person_id, entry(1, "saddle_numbness"))
    middle = add_entry(store, person_id, entry(3)).entry_id
    add_entry(store, person_id, entry(5, "saddle_numbness"))  # stands on: no new escalation at the time
    edit_entry(store, person_id, middle, entry(3, examined=True), actor=SYSTEM_CLI)
    assert store.integrity_check() == []
    newest = store.list_assessments(person_id)[-1]
    assert newest.assessment.triage.value == "emergency", newest.assessment.triage
