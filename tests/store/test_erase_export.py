"""Erase leaves no row of the person anywhere; export contains all of it; the CSV cannot run formulas."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import MetaData, Text, cast, func, or_, select

from rueckenlotse import assess
from rueckenlotse.store import NotFound, Practices, Store
from rueckenlotse.store.exporting import DIARY_COLUMNS, FORMULA_PREFIXES, neutralise_formula
from rueckenlotse.store.measures import MeasureResponses

from .conftest import populate, sample_case, sample_entry, snapshot


def rows_mentioning(store: Store, value: str) -> dict[str, int]:
    """Rows in every table of the live database in which any column (as text) contains the value."""
    meta = MetaData()
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        meta.reflect(conn)
        for name, table in meta.tables.items():
            hit = or_(*(cast(column, Text).contains(value) for column in table.columns))
            counts[name] = int(conn.scalar(select(func.count()).select_from(table).where(hit)) or 0)
    return counts


def rows_of(store: Store, person_id: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [r for r in rows if person_id in repr(r)] for name, rows in snapshot(store.engine).items()}


def test_erase_leaves_no_row_of_the_person_in_any_table(store: Store) -> None:
    anna = populate(store, "Anna", entries=7)
    ben = populate(store, "Ben", entries=3)
    # An outcome measure answered (issue #18): erased with the person, like every row that names it.
    MeasureResponses(store).add(
        anna["person"],
        measure_id="peg",
        week=0,
        recorded_at=datetime.now(UTC),
        answers={"pain": 6, "enjoyment": 5, "activity": 4},
        score=5.0,
        knowledge_version="test",
    )
    ben_before = rows_of(store, ben["person"])
    counts = store.erase_person(anna["person"])
    assert counts == {
        "plans": 1, "exclusions": 2, "diary_entries": 7, "assessments": 2, "measure_responses": 1,
        "persons": 1,
    }  # fmt: skip
    left = rows_mentioning(store, anna["person"])
    assert set(left) >= {
        "persons",
        "assessments",
        "diary_entries",
        "plans",
        "exclusions",
        "measure_responses",
    }
    assert not any(left.values()), left
    for record_id in [*anna["assessments"], *anna["diary"], anna["plan"]]:
        assert not any(rows_mentioning(store, record_id).values())
    assert not any(store.rows_of_person(anna["person"]).values())
    assert rows_of(store, ben["person"]) == ben_before
    assert len(store.list_diary(ben["person"])) == 3
    with pytest.raises(NotFound):
        store.get_person(anna["person"])


def test_erase_of_an_unknown_person_is_not_found(store: Store) -> None:
    populate(store)
    before = snapshot(store.engine)
    with pytest.raises(NotFound):
        store.erase_person("nobody")
    assert snapshot(store.engine) == before


def test_erased_text_is_gone_from_the_sqlite_files(sqlite_store: Store) -> None:
    store = sqlite_store
    person = store.create_person("Zelda-Unverwechselbar").id
    secret = "GEHEIMNIS-" + "q" * 40
    store.add_diary_entry(person, sample_entry(1, note=secret))
    store.erase_person(person)
    path = store.engine.url.database
    assert path is not None
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            continue
        assert secret.encode() not in content
        assert b"Zelda-Unverwechselbar" not in content


def test_export_contains_everything_of_the_person_and_nothing_else(store: Store) -> None:
    anna = populate(store, "Anna", entries=6)
    ben = populate(store, "Ben", entries=2)
    data = store.export_person(anna["person"])
    text = json.dumps(data, ensure_ascii=False)
    assert ben["person"] not in text and "Ben" not in text
    assert data["person"]["id"] == anna["person"] and data["person"]["display_name"] == "Anna"
    assert sorted(a["id"] for a in data["assessments"]) == sorted(anna["assessments"])
    assert sorted(d["id"] for d in data["diary"]) == sorted(anna["diary"])
    assert [p["id"] for p in data["plans"]] == [anna["plan"]]
    assert [e["exercise_id"] for e in data["exclusions"]] == anna["exclusions"]
    # Every stored value is there, not just the ids: each entry reads back as the entry written.
    diary = {record.id: record for record in store.list_diary(anna["person"])}
    for item in data["diary"]:
        assert item["entry"] == diary[item["id"]].entry.model_dump(mode="json")
    for item, record in zip(data["assessments"], store.list_assessments(anna["person"]), strict=True):
        assert item["assessment"] == record.assessment.model_dump(mode="json")
        assert item["knowledge_version"] == record.knowledge_version
    assert json.loads(text) == data


def test_export_reports_progress(store: Store) -> None:
    anna = populate(store)
    calls: list[tuple[int, int]] = []
    store.export_person(anna["person"], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] and [done for done, _ in calls] == sorted(done for done, _ in calls)


DANGEROUS = ['=HYPERLINK("http://x","klick")', "+49 170", "-3+4", "@SUM(A1)", "\tTab", "\r=1+1", "=1+1"]


def test_diary_csv_neutralises_formulas(store: Store) -> None:
    person = store.create_person().id
    for n, note in enumerate(DANGEROUS):
        store.add_diary_entry(person, sample_entry(n, note=note))
    store.add_diary_entry(person, sample_entry(20, note='Ganz normal, 5 km gelaufen; "gut"'))
    rows = list(csv.reader(io.StringIO(store.diary_csv(person), newline="")))
    header, body = rows[0], rows[1:]
    assert tuple(header) == DIARY_COLUMNS
    assert len(body) == len(DANGEROUS) + 1
    notes = [row[header.index("note")] for row in body]
    assert sorted(notes) == sorted(["'" + note for note in DANGEROUS] + ['Ganz normal, 5 km gelaufen; "gut"'])
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), cell


def test_diary_csv_columns(store: Store) -> None:
    person = store.create_person().id
    entry = sample_entry(5)
    store.add_diary_entry(person, entry)
    [header, row] = list(csv.reader(io.StringIO(store.diary_csv(person), newline="")))
    cells: dict[str, Any] = dict(zip(header, row, strict=True))
    assert cells["recorded_at"] == entry.recorded_at.isoformat()
    assert cells["max_pain"] == str(entry.max_pain)
    assert cells["pain_low_back"] == str(entry.pain["low_back"]) and cells["pain_thoracic"] == ""
    assert cells["exercises"] == "cat_cow:good"
    assert cells["note"] == entry.note


@given(st.text(max_size=20))
def test_neutralised_cells_never_start_a_formula_and_keep_the_text(cell: str) -> None:
    safe = neutralise_formula(cell)
    assert not safe.startswith(FORMULA_PREFIXES)
    assert safe in (cell, "'" + cell)


# --- erasing a patient account (the web's "Konto löschen") ---------------------------------------------


@pytest.mark.safety("SR-DR-2")
def test_erasing_an_account_leaves_nothing_of_it_in_any_table(store: Store) -> None:
    """Account, sessions, second factor, throttling rows, audit rows and the intake sent to a practice:
    every table of the live database is searched for every id, key and text of the person."""
    from datetime import timedelta

    import pyotp

    from rueckenlotse.services import data_rights, sharing
    from rueckenlotse.services.sharing import PlanChange
    from rueckenlotse.store import throttling
    from rueckenlotse.store.audit import Actor

    from .account_support import CLIENT, PASSWORD, T0, make_accounts

    accounts = make_accounts(store)
    practices = Practices(store)
    email = "zelda-loeschen@example.org"
    account, person = accounts.register_patient(email, PASSWORD, "Zelda-Unverwechselbar")
    other, other_person = accounts.register_patient("otto@example.org", PASSWORD, "Otto")
    diary = store.add_diary_entry(person.id, sample_entry(3, note="GEHEIM-" + "n" * 20))
    case = sample_case()
    assessment = store.add_assessment(person.id, case, assess(case))
    practice = practices.create_practice("Praxis Ost")
    intake = practices.submit_intake(practice.id, person.id, assessment.id)
    secret = accounts.totp_setup(account.id).secret
    assert accounts.totp_confirm(account.id, pyotp.TOTP(secret).at(T0), now=T0)
    assert not accounts.totp_verify(account.id, "000000", now=T0 + timedelta(minutes=1))
    assert accounts.authenticate(email, "falsch falsch falsch", client=CLIENT, now=T0) is None
    sessions = [accounts.start_session(account.id) for _ in range(2)]
    clinician = Actor("clinician", "c" * 32, "web")
    data_rights.record(store, clinician, "read.intake", person_id=person.id, practice_id=practice.id)
    patient = Actor("patient", account.id, "web")
    data_rights.export_person(store, patient, person.id)
    # The course shared with the practice, and a clinician's change to the plan with a note (issue #18).
    doctor = accounts.create_clinician("doc-ost@praxis.example", PASSWORD, practice.id)
    sharing.grant(store, patient, person.id, practice.id)
    note = "PRAXISNOTIZ-" + "z" * 20
    sharing.adjust(
        store, Actor("clinician", doctor.id, "web"), practice.id, person.id, PlanChange("note", note=note)
    )
    other_before = store.export_person(other_person.id)
    keys = [throttling.attempt_key("email", email), throttling.attempt_key("totp", account.id)]
    # And the address together with the client, which erasure cannot compute without the client.
    keys.append(throttling.attempt_key("email-client", f"{email}\x00{throttling.client_bucket(CLIENT)}"))
    with store.engine.connect() as conn:  # the secret as the table holds it: sealed
        sealed = conn.exec_driver_sql("SELECT max(totp_secret) FROM accounts").scalar()
    assert isinstance(sealed, str) and secret not in sealed
    needles = [person.id, account.id, email, sealed, intake.id, assessment.id, diary, *keys]
    assert all(any(rows_mentioning(store, needle).values()) for needle in needles)
    covered = store.rows_of_person(person.id)
    assert covered["accounts.person_id"] == 1 and covered["audit_events.person_id"] == 4
    assert covered["course_shares.person_id"] == 1 and covered["plan_adjustments.person_id"] == 1
    assert covered["web_sessions.account_id"] == 2

    data_rights.erase_account(store, patient, person.id)

    for needle in [*needles, "Zelda-Unverwechselbar", "GEHEIM-", "PRAXISNOTIZ-"]:
        left = rows_mentioning(store, needle)
        assert not any(left.values()), (needle, left)
    assert not any(store.rows_of_person(person.id).values())
    assert all(accounts.session(token) is None for token in sessions)
    assert accounts.authenticate(email, PASSWORD, client=CLIENT) is None
    assert store.export_person(other_person.id) == other_before
    assert accounts.account(other.id).email == "otto@example.org"


def test_no_file_belongs_to_a_person(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "Every file" of a person: the program keeps none. The diary chart of a report (the web's chart is
    drawn the same way) goes through a temporary folder that is gone again once the report has it."""
    import tempfile

    from rueckenlotse.services.report_diary import diary_from_store

    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    with Store.open(f"sqlite:///{tmp_path / 'db' / 'rueckenlotse.db'}") as store:
        person = populate(store, "Anna", entries=8)["person"]
        files = sorted(p.name for p in (tmp_path / "db").iterdir())
        diary = diary_from_store(store, person, lang="de")
        assert diary is not None
        assert list(scratch.iterdir()) == []
        assert sorted(p.name for p in (tmp_path / "db").iterdir()) == files
