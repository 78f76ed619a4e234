"""The audit trail: append-only rows without health data; erasure keeps a practice's rows without the person;
the retention purge removes old reviewed intakes and never a patient account's own data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import MetaData, select

from rueckenlotse import assess
from rueckenlotse.services import data_rights
from rueckenlotse.services.auth import Principal, Role
from rueckenlotse.store import Store
from rueckenlotse.store import audit as audit_store
from rueckenlotse.store.audit import Actor, InvalidAuditEvent
from rueckenlotse.store.practices import Practices
from rueckenlotse.store.schema import AuditEvent

from .conftest import BASE_TIME, populate, sample_case, snapshot

CLINICIAN = Actor("clinician", "c" * 32, "web")
TOKEN = Actor("api_token", "t" * 32, "api")
# Exactly these columns: a new one (say, a note) must be a deliberate change of this test, not a slip.
AUDIT_COLUMNS = {"id", "at", "actor_kind", "actor_id", "person_id", "action", "channel", "practice_id"}


def audit_rows(store: Store) -> list[dict[str, Any]]:
    with store.transaction() as session:
        return [dict(row._mapping) for row in session.execute(select(AuditEvent.__table__))]


def intake_for(store: Store, practice_id: str, name: str = "Pseudo") -> tuple[str, str]:
    """A pseudonymous person with one assessment sent to the practice: (person id, intake id)."""
    person = store.create_person(name)
    case = sample_case(age=44)
    record = store.add_assessment(person.id, case, assess(case))
    return person.id, Practices(store).submit_intake(practice_id, person.id, record.id).id


@pytest.mark.safety("SR-AUD-1")
def test_the_trail_has_no_column_for_data_and_refuses_unknown_actions(store: Store) -> None:
    meta = MetaData()
    with store.engine.connect() as conn:
        meta.reflect(conn, only=["audit_events"])
    assert set(meta.tables["audit_events"].columns.keys()) == AUDIT_COLUMNS
    before = audit_rows(store)
    refused = [(CLINICIAN, "read.diary_note: Rücken steif"), (Actor("admin", None, "web"), "export")]
    for actor, action in refused:
        with pytest.raises(InvalidAuditEvent), store.transaction() as session:
            audit_store.record(session, actor, action, person_id="p" * 32)
    assert audit_rows(store) == before
    # Append-only: the module offers record and reads, nothing that changes a row of someone else.
    own = {
        name
        for name, value in vars(audit_store).items()
        if callable(value) and getattr(value, "__module__", "") == audit_store.__name__
    }
    assert {"record", "events_of_person"} <= own
    assert not {n for n in own if n.startswith(("update", "delete", "remove", "edit", "change"))}


@pytest.mark.safety("SR-AUD-1", "SR-AUD-2")
def test_a_clinicians_reads_are_recorded_and_shown_to_that_person_only(store: Store) -> None:
    practice = Practices(store).create_practice("Praxis Nord")
    person, _ = intake_for(store, practice.id, "Zelda-Marker")
    other, _ = intake_for(store, practice.id, "Otto-Marker")
    data_rights.record(store, CLINICIAN, "read.intake", person_id=person, practice_id=practice.id)
    data_rights.record(store, TOKEN, "review.intake", person_id=person, practice_id=practice.id)
    data_rights.record(store, CLINICIAN, "list.inbox", practice_id=practice.id)
    log = data_rights.access_log(store, person)
    assert [(e.actor_kind, e.action, e.practice_name) for e in log] == [
        ("api_token", "review.intake", "Praxis Nord"),
        ("clinician", "read.intake", "Praxis Nord"),
    ]
    assert data_rights.access_log(store, other) == []
    text = repr(audit_rows(store))
    for secret in ("Zelda-Marker", "Otto-Marker", "low_back", "Praxis Nord"):
        assert secret not in text


@pytest.mark.safety("SR-AUD-1", "SR-DR-2")
def test_erasure_keeps_a_practices_rows_without_the_person_and_deletes_the_persons_own(store: Store) -> None:
    practice = Practices(store).create_practice("Praxis Süd")
    person, _ = intake_for(store, practice.id)
    data_rights.record(store, CLINICIAN, "read.intake", person_id=person, practice_id=practice.id)
    patient = Actor("patient", "a" * 32, "web")
    data_rights.export_person(store, patient, person)
    assert store.rows_of_person(person)["audit_events.person_id"] == 2
    data_rights.erase_account(store, patient, person)
    assert not any(store.rows_of_person(person).values())
    rows = audit_rows(store)
    assert person not in repr(rows)
    kept = sorted((r["actor_kind"], r["action"], r["person_id"], r["actor_id"]) for r in rows)
    # The clinician's read stays (who, when, which practice) without whose; the export went with the person;
    # the erasure is recorded without person and account.
    assert kept == [("clinician", "read.intake", None, "c" * 32), ("patient", "erase", None, None)]


def reviewed(store: Store, practice_id: str, intake_id: str, days_ago: int) -> None:
    practices = Practices(store)
    with store.transaction() as session:
        from rueckenlotse.store.schema import PracticeIntake

        intake = session.get(PracticeIntake, intake_id)
        assert intake is not None
        intake.reviewed_at = BASE_TIME - timedelta(days=days_ago)
    assert practices.intake_detail(practice_id, intake_id).intake.reviewed_at is not None


@pytest.mark.safety("SR-DR-3")
def test_purge_removes_old_reviewed_intakes_and_never_a_patients_own_data(store: Store) -> None:
    practice = Practices(store).create_practice("Praxis West")
    old_person, old_intake = intake_for(store, practice.id, "Alt")
    young_person, young_intake = intake_for(store, practice.id, "Jung")
    open_person, _ = intake_for(store, practice.id, "Offen")  # never reviewed: stays, however old
    patient = populate(store, "Paula")  # a person with a diary: their intake goes, their own data stays
    first = patient["assessments"][0]
    patient_intake = Practices(store).submit_intake(practice.id, patient["person"], first).id
    reviewed(store, practice.id, old_intake, days_ago=400)
    reviewed(store, practice.id, young_intake, days_ago=10)
    reviewed(store, practice.id, patient_intake, days_ago=500)
    paula_before = store.export_person(patient["person"])

    before = snapshot(store.engine)
    dry = data_rights.purge_reviewed(store, 365, dry_run=True, now=BASE_TIME)
    assert (dry.intakes, dry.persons, dry.kept_patients) == (2, 1, 1)
    assert snapshot(store.engine) == before

    counts = data_rights.purge_reviewed(store, 365, now=BASE_TIME)
    assert counts == dry
    assert not any(store.rows_of_person(old_person).values())
    inbox = {row.intake.id for row in Practices(store).inbox(practice.id)}
    assert old_intake not in inbox and patient_intake not in inbox
    assert young_intake in inbox and len(inbox) == 2
    for kept in (young_person, open_person):
        assert store.list_assessments(kept)
    paula_after = store.export_person(patient["person"])
    assert paula_after["practice_intakes"] == []
    for section in ("person", "assessments", "diary", "plans", "exclusions"):
        assert paula_after[section] == paula_before[section], section
    events = [(r["actor_kind"], r["action"], r["person_id"]) for r in audit_rows(store)]
    assert sorted(events, key=repr) == sorted(
        [("system", "purge.intake", None), ("system", "purge.intake", patient["person"])], key=repr
    )
    assert data_rights.purge_reviewed(store, 365, now=BASE_TIME).intakes == 0


def test_actors_of_principals_name_accounts_and_tokens_never_secrets() -> None:
    patient = Principal(role=Role.patient, account_id="a" * 32, person_id="p" * 32)
    clinician = Principal(role=Role.clinician, account_id="c" * 32, practice_ids=frozenset({"x"}))
    token = Principal(role=Role.api_token, practice_ids=frozenset({"x"}))
    assert data_rights.actor_of(patient, "web") == Actor("patient", "a" * 32, "web")
    assert data_rights.actor_of(clinician, "web") == Actor("clinician", "c" * 32, "web")
    assert data_rights.actor_of(token, "api", token_id="t" * 32) == Actor("api_token", "t" * 32, "api")


@pytest.mark.safety("SR-DR-3")
def test_practice_purge_command_uses_the_retention_setting(db_url: str) -> None:
    """The console script: --dry-run counts only; the setting (environment) decides the age."""
    from datetime import UTC, datetime

    from .test_cli_store import run

    with Store.open(db_url) as store:
        practice = Practices(store).create_practice("Praxis CLI")
        person, intake = intake_for(store, practice.id)
        with store.transaction() as session:
            from rueckenlotse.store.schema import PracticeIntake

            row = session.get(PracticeIntake, intake)
            assert row is not None
            row.reviewed_at = datetime.now(UTC) - timedelta(days=40)
    dry = run(
        "practice", "purge", "--dry-run", "--db", db_url, env={"RUECKENLOTSE_INTAKE_RETENTION_DAYS": "30"}
    )
    assert dry.returncode == 0, dry.stderr
    assert "Probelauf" in dry.stdout and "Es würden 1 gesehene Eingänge älter als 30 Tage" in dry.stdout
    kept = run(
        "practice", "purge", "--db", db_url, "--lang", "en", env={"RUECKENLOTSE_INTAKE_RETENTION_DAYS": "60"}
    )
    assert kept.returncode == 0 and "Deleted: 0 reviewed intakes older than 60 days" in kept.stdout
    with Store.open(db_url) as store:
        assert store.list_assessments(person)
    done = run("practice", "purge", "--days", "30", "--db", db_url)
    assert done.returncode == 0, done.stderr
    assert "Gelöscht: 1 gesehene Eingänge" in done.stdout and "davon 1 Personen ohne Konto" in done.stdout
    with Store.open(db_url) as store:
        assert not any(store.rows_of_person(person).values())
        assert [(r["actor_kind"], r["action"], r["channel"]) for r in audit_rows(store)] == [
            ("system", "purge.intake", "cli")
        ]
    bad = run("practice", "purge", "--days", "0", "--db", db_url)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
