"""`practice share`, `practice unshare` and `practice course` (issue #18), on SQLite and PostgreSQL:
sharing needs an intake at the practice, the course is shown only while shared, every step is audited
as done on the command line, and the plan shows a practice's change marked and with its note."""

from __future__ import annotations

import json

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services import sharing
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.services.measures import record_response
from rueckenlotse.services.sharing import PlanChange
from rueckenlotse.store import Practices, Store
from rueckenlotse.store.audit import Actor, all_events

from .account_support import PASSWORD, make_accounts
from .test_cli_store import run

CASE = {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"}


@pytest.fixture
def world(db_url: str) -> dict[str, str]:
    with Store.open(db_url) as store:
        practices = Practices(store)
        north, south = practices.create_practice("Praxis Nord"), practices.create_practice("Praxis Süd")
        person = store.create_person("Anna").id
        result = record_intake(store, person, Case.model_validate(CASE))
        practices.submit_intake(north.id, person, result.record.id)
        for day in range(3):
            entry = {"recorded_at": f"2026-03-0{day + 2}T09:00:00+00:00", "pain": {"low_back": 5 - day}}
            add_entry(store, person, DiaryEntry.model_validate_json(json.dumps(entry)))
        doctor = make_accounts(store).create_clinician("arzt@nord.example", PASSWORD, north.id)
    return {"person": person, "north": north.id, "south": south.id, "doctor": doctor.id}


def _actions(db_url: str) -> list[tuple[str, str, str]]:
    with Store.open(db_url) as store, store.transaction() as session:
        return [(e.action, e.actor_kind, e.channel) for e in all_events(session)]


def test_share_course_and_unshare(db_url: str, world: dict[str, str]) -> None:
    person, north = world["person"], world["north"]
    refused = run("practice", "course", "--practice", north, "--person", person, "--db", db_url)
    assert refused.returncode == 2 and "nicht (oder nicht mehr)" in refused.stderr
    shared = run("practice", "share", "--person", person, "--practice", north, "--db", db_url)
    assert shared.returncode == 0, shared.stderr
    assert "Praxis Nord" in shared.stdout and "geteilt" in shared.stdout
    with Store.open(db_url) as store:
        doctor = Actor("clinician", world["doctor"], "web")
        sharing.adjust(
            store,
            doctor,
            north,
            person,
            PlanChange("exclude", exercise_id="pelvic_tilt", note="Erst einmal nicht"),
        )
        intake_day = store.list_assessments(person)[0].created_at
        record_response(store, person, "peg", {"pain": 7, "enjoyment": 6, "activity": 5}, at=intake_day)
    course = run("practice", "course", "--practice", north, "--person", person, "--db", db_url)
    assert course.returncode == 0, course.stderr
    out = course.stdout
    assert "Verlauf von Anna für die Praxis Praxis Nord" in out and "Wochenwerte aus dem Tagebuch" in out
    assert "Schmerz und Alltag (PEG, angepasst)" in out and "Ausgangswert" in out  # the measures
    assert "weggelassen: Becken kippen – gilt" in out and "Notiz: Erst einmal nicht" in out
    assert (
        "Von Ihrer Praxis angepasst" in out
        and "Praxis Nord hat „Becken kippen“ aus Ihrem Plan genommen" in out
    )
    plan = run("plan", "show", person, "--db", db_url)
    assert "Erst einmal nicht" in plan.stdout and "von Ihrer Praxis angepasst" in plan.stdout
    unshared = run("practice", "unshare", "--person", person, "--practice", north, "--db", db_url)
    assert unshared.returncode == 0 and "nicht mehr" in unshared.stdout
    again = run("practice", "unshare", "--person", person, "--practice", north, "--db", db_url)
    assert again.returncode == 0 and "nichts geändert" in again.stdout
    plan = run("plan", "show", person, "--db", db_url)
    assert "Erst einmal nicht" not in plan.stdout and "Becken kippen" in plan.stdout  # revoked: not applied
    actions = [a for a in _actions(db_url) if a[0] in ("share.grant", "share.revoke", "read.course")]
    assert actions == [
        ("share.grant", "system", "cli"),
        ("read.course", "system", "cli"),
        ("share.revoke", "system", "cli"),
    ]


def test_sharing_with_a_practice_without_an_intake_is_refused(db_url: str, world: dict[str, str]) -> None:
    proc = run("practice", "share", "--person", world["person"], "--practice", world["south"], "--db", db_url)
    assert proc.returncode == 2 and "schon Angaben geschickt" in proc.stderr
    unknown = run("practice", "share", "--person", "0" * 32, "--practice", world["north"], "--db", db_url)
    assert unknown.returncode == 2
    english = run(
        "practice",
        "course",
        "--practice",
        world["south"],
        "--person",
        world["person"],
        "--lang",
        "en",
        "--db",
        db_url,
    )
    assert english.returncode == 2 and "no longer" in english.stderr
