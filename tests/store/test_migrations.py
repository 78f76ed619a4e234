"""Migrations: the head matches the tables in schema.py; every upgrade keeps the data of the revision before.

When you add a migration, add sample data for the revision it starts from to SAMPLE_DATA (the test that
checks the chain tells you which one is missing).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, MetaData, Table, insert, select, update

from rueckenlotse import assess
from rueckenlotse.store import Store
from rueckenlotse.store.engine import make_engine
from rueckenlotse.store.migrate import alembic_config, current_revision, head_revision, migrate
from rueckenlotse.store.schema import metadata

from .conftest import sample_case, sample_entry, snapshot

NOW = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
# Only a guard against a hang: opening takes well under a second.
THREAD_TIMEOUT_S = 300.0


def revisions() -> list[str]:
    """Oldest first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def tables(conn: Connection) -> dict[str, Table]:
    meta = MetaData()
    meta.reflect(conn)
    return dict(meta.tables)


def data_0001(conn: Connection) -> None:
    t = tables(conn)
    for n, name in enumerate(["Anna", None]):
        person = f"{n:032x}"
        conn.execute(insert(t["persons"]).values(id=person, display_name=name, created_at=NOW))
        case = sample_case(30 + n)
        assessment = assess(case)
        conn.execute(
            insert(t["assessments"]).values(
                id=f"a{n:031x}",
                person_id=person,
                created_at=NOW,
                source="intake",
                knowledge_version=assessment.knowledge_version,
                case_json=case.model_dump(mode="json", exclude_none=True),
                assessment_json=assessment.model_dump(mode="json"),
                triage=assessment.triage.value,
            )
        )


def data_0002(conn: Connection) -> None:
    data_0001(conn)
    t = tables(conn)
    person, assessment = f"{0:032x}", f"a{0:031x}"
    for n in range(3):
        entry = sample_entry(n)
        conn.execute(
            insert(t["diary_entries"]).values(
                id=f"d{n:031x}",
                person_id=person,
                recorded_at=entry.recorded_at,
                created_at=NOW,
                entry_json=entry.model_dump(mode="json"),
                max_pain=entry.max_pain,
            )
        )
    conn.execute(
        insert(t["plans"]).values(
            id=f"p{0:031x}",
            person_id=person,
            assessment_id=assessment,
            created_at=NOW,
            plan_json={"weeks": 6},
        )
    )
    conn.execute(
        insert(t["exclusions"]).values(person_id=person, exercise_id="plank", reason=None, created_at=NOW)
    )


def data_0003(conn: Connection) -> None:
    data_0002(conn)
    t = tables(conn)
    person, assessment, clinician, practice = f"{0:032x}", f"a{0:031x}", f"c{0:031x}", f"f{0:031x}"
    accounts = [
        {"id": f"b{0:031x}", "email": "anna@example.org", "role": "patient", "person_id": person},
        {"id": clinician, "email": "dr@example.org", "role": "clinician", "person_id": None},
    ]
    for account in accounts:
        conn.execute(
            insert(t["accounts"]).values(
                **account,
                password_hash="$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA",
                totp_secret=None,
                totp_confirmed=False,
                totp_last_step=None,
                created_at=NOW,
                disabled=False,
            )
        )
    conn.execute(
        insert(t["practices"]).values(id=practice, name="Praxis", intake_code="a" * 20, created_at=NOW)
    )
    conn.execute(insert(t["practice_members"]).values(practice_id=practice, account_id=clinician))
    conn.execute(
        insert(t["practice_intakes"]).values(
            id=f"i{0:031x}",
            practice_id=practice,
            person_id=person,
            assessment_id=assessment,
            submitted_at=NOW,
            reviewed_at=NOW,
            reviewed_by=clinician,
            triage="routine",
            triage_rank=1,
        )
    )
    conn.execute(
        insert(t["web_sessions"]).values(
            id="5" * 64,
            account_id=clinician,
            created_at=NOW,
            last_seen_at=NOW,
            expires_at=NOW,
            revoked_at=None,
            totp_passed=True,
        )
    )
    conn.execute(
        insert(t["login_attempts"]).values(id=f"l{0:031x}", key="6" * 64, attempted_at=NOW, success=False)
    )
    conn.execute(
        insert(t["api_tokens"]).values(
            id=f"t{0:031x}", practice_id=practice, token_hash="7" * 64, name="PVS", created_at=NOW
        )
    )


def data_0004(conn: Connection) -> None:
    data_0003(conn)
    t = tables(conn)
    conn.execute(
        insert(t["practice_intakes"]).values(
            id=f"i{1:031x}",
            practice_id=f"f{0:031x}",
            person_id=f"{1:032x}",
            assessment_id=f"a{1:031x}",
            submitted_at=NOW,
            reviewed_at=None,
            reviewed_by=None,
            triage="routine",
            triage_rank=1,
            submission_key="8" * 64,
        )
    )


def data_0005(conn: Connection) -> None:
    data_0004(conn)
    t = tables(conn)
    event = {"at": NOW, "action": "read.intake", "channel": "web", "practice_id": f"f{0:031x}"}
    conn.execute(
        insert(t["audit_events"]).values(
            id=f"e{0:031x}", actor_kind="clinician", actor_id=f"c{0:031x}", person_id=f"{1:032x}", **event
        )
    )


# A TOTP secret as pyotp makes them (base32, 32 characters), stored in plain text before revision 0006.
PLAIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def data_0006(conn: Connection) -> None:
    """0005's rows, the clinician with a second factor as an upgrade leaves it: the secret still in plain
    text until it is first used or `keys rotate` seals it (a sealed one would refuse the downgrade)."""
    data_0005(conn)
    t = tables(conn)
    conn.execute(
        update(t["accounts"])
        .where(t["accounts"].c.id == f"c{0:031x}")
        .values(totp_secret=PLAIN_TOTP_SECRET, totp_confirmed=True)
    )


def data_0007(conn: Connection) -> None:
    """0006's rows and a diary checkpoint after Anna's latest entry (derived data: a downgrade drops it)."""
    data_0006(conn)
    t = tables(conn)
    conn.execute(
        insert(t["diary_checkpoints"]).values(
            person_id=f"{0:032x}",
            intake_id=f"a{0:031x}",
            entry_id=f"d{2:031x}",
            entry_count=3,
            replay_version="1:sample",
            lang="de",
            state_json={"previous": {}, "standing": [], "examined_at": {}},
            created_at=NOW,
        )
    )


def data_0008(conn: Connection) -> None:
    """0007's rows, Anna's address verified and an unused password-reset link (a downgrade drops both)."""
    data_0007(conn)
    t = tables(conn)
    conn.execute(
        update(t["accounts"]).where(t["accounts"].c.person_id == f"{0:032x}").values(email_verified_at=NOW)
    )
    account_id = conn.scalar(select(t["accounts"].c.id).where(t["accounts"].c.person_id == f"{0:032x}"))
    conn.execute(
        insert(t["account_tokens"]).values(
            id="9" * 64, account_id=account_id, purpose="reset", created_at=NOW, expires_at=NOW, used_at=None
        )
    )


def data_0009(conn: Connection) -> None:
    """0008's rows; the intake has a reference, a receipt digest, sealed contact details (any text: the
    migration never opens it) and a spam mark; and one counted send of the link."""
    data_0008(conn)
    t = tables(conn)
    conn.execute(
        update(t["practice_intakes"])
        .where(t["practice_intakes"].c.id == f"i{1:031x}")
        .values(reference="K7MP-4QXA", receipt_hash="9" * 64, contact_sealed="rl1:0000:sample", spam_at=NOW)
    )
    conn.execute(insert(t["intake_attempts"]).values(id=f"t{0:031x}", key="7" * 64, attempted_at=NOW))


def data_0010(conn: Connection) -> None:
    """0009's rows, a diary entry with an idempotency key and an intake draft (a downgrade drops both)."""
    data_0009(conn)
    t = tables(conn)
    conn.execute(
        update(t["diary_entries"])
        .where(t["diary_entries"].c.id == f"d{2:031x}")
        .values(idempotency_key="k" * 43)
    )
    conn.execute(
        insert(t["form_drafts"]).values(
            id="e" * 64,
            kind="intake",
            person_id=None,
            payload_json={"state": "sample", "steps": [["pain_duration", "question"]]},
            created_at=NOW,
            expires_at=NOW,
        )
    )


def data_0011(conn: Connection) -> None:
    """0010's rows (whose API token the upgrade gave an expiry) and a token made with one."""
    data_0010(conn)
    t = tables(conn)
    conn.execute(
        insert(t["api_tokens"]).values(
            id=f"t{1:031x}",
            practice_id=f"f{0:031x}",
            token_hash="8" * 64,
            name="Abrechnung",
            created_at=NOW,
            expires_at=NOW,
        )
    )


def data_0012(conn: Connection) -> None:
    """0011's rows and a session's feedback: one exercise done and rated, one only done."""
    data_0011(conn)
    t = tables(conn)
    for n, (done, rating) in enumerate(((True, "too_hard"), (True, None))):
        conn.execute(
            insert(t["exercise_feedback"]).values(
                id=f"x{n:031x}",
                person_id=f"{0:032x}",
                recorded_at=NOW,
                exercise_id="pelvic_tilt",
                done=done,
                rating=rating,
                created_at=NOW,
                idempotency_key=f"k{n}",
            )
        )


def data_0013(conn: Connection) -> None:
    """0012's rows and Anna's reminders: her choice, a revoked a live calendar address, a sent reminder."""
    data_0012(conn)
    t = tables(conn)
    person = f"{0:032x}"
    conn.execute(
        insert(t["reminder_settings"]).values(
            person_id=person, times="08:00,18:00", weekdays="12345", email=True, lang="de", updated_at=NOW
        )
    )
    for n, revoked in enumerate([NOW, None]):
        conn.execute(
            insert(t["calendar_feeds"]).values(
                id=f"k{n:031x}",
                person_id=person,
                token_hash=str(n) * 64,
                lang="de",
                created_at=NOW,
                revoked_at=revoked,
            )
        )
    conn.execute(
        insert(t["reminder_sends"]).values(
            id=f"r{0:031x}", person_id=person, kind="session", due_at=NOW, claimed_at=NOW, sent_at=NOW
        )
    )


def data_0014(conn: Connection) -> None:
    """0013's rows and Anna's course: a PEG-3 at intake and week 4, her course shared with the practice (once
    revoked, then granted again), and the clinician's exclusion with a note, one undone."""
    data_0013(conn)
    t = tables(conn)
    person, clinician, practice = f"{0:032x}", f"c{0:031x}", f"f{0:031x}"
    for n, (week, score) in enumerate(((0, 7.0), (4, 4.33))):
        conn.execute(
            insert(t["measure_responses"]).values(
                id=f"m{n:031x}",
                person_id=person,
                measure_id="peg",
                recorded_at=NOW,
                week=week,
                answers_json={"pain": 7, "enjoyment": 7, "activity": 7},
                score=score,
                knowledge_version="2026.12.3",
                created_at=NOW,
                idempotency_key=f"m{n}",
            )
        )
    conn.execute(
        insert(t["course_shares"]).values(
            person_id=person, practice_id=practice, granted_at=NOW, revoked_at=None
        )
    )
    for n, undone in enumerate((None, NOW)):
        conn.execute(
            insert(t["plan_adjustments"]).values(
                id=f"p{n:031x}",
                person_id=person,
                practice_id=practice,
                account_id=clinician,
                kind="exclude",
                exercise_id="pelvic_tilt",
                level=None,
                note="Bitte erst nach dem Termin wieder.",
                created_at=NOW,
                undone_at=undone,
                undone_by=clinician if undone else None,
            )
        )


# Data for a database at each revision, written with that revision's tables (reflected, not schema.py).
SAMPLE_DATA: dict[str, Callable[[Connection], None]] = {
    "0001": data_0001,
    "0002": data_0002,
    "0003": data_0003,
    "0004": data_0004,
    "0005": data_0005,
    "0006": data_0006,
    "0007": data_0007,
    "0008": data_0008,
    "0009": data_0009,
    "0010": data_0010,
    "0011": data_0011,
    "0012": data_0012,
    "0013": data_0013,
    "0014": data_0014,
}


def rows_by_column(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table as column → value, sorted: comparable across a revision that adds columns."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {
            name: sorted((dict(row._mapping) for row in conn.execute(select(table))), key=repr)
            for name, table in sorted(meta.tables.items())
        }


def projected(rows: list[dict[str, Any]], columns: set[str]) -> list[dict[str, Any]]:
    return sorted(({k: v for k, v in row.items() if k in columns} for row in rows), key=repr)


def at_revision(url: str, revision: str) -> Engine:
    engine = make_engine(url)
    migrate(engine, revision)
    assert current_revision(engine) == revision
    with engine.begin() as conn:
        SAMPLE_DATA[revision](conn)
    return engine


def test_there_are_at_least_two_migrations_and_each_revision_has_sample_data() -> None:
    chain = revisions()
    assert len(chain) >= 2
    assert chain[-1] == head_revision()
    missing = [rev for rev in chain if rev not in SAMPLE_DATA]
    assert not missing, f"add sample data for revision(s) {missing} to SAMPLE_DATA"


def test_head_matches_schema_py(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        migrate(engine)
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
        assert diff == [], f"schema.py and the migrations disagree; write a migration: {diff}"
    finally:
        engine.dispose()


@pytest.mark.parametrize(("previous", "following"), list(zip(revisions(), revisions()[1:], strict=False)))
def test_upgrade_keeps_every_row(db_url: str, previous: str, following: str) -> None:
    engine = at_revision(db_url, previous)
    try:
        before = rows_by_column(engine)
        migrate(engine, following)
        after = rows_by_column(engine)
    finally:
        engine.dispose()
    for table, rows in before.items():
        if table != "alembic_version":
            # Columns a revision adds are left out: every value that was there must still be there.
            columns = {column for row in rows for column in row}
            kept = projected(after[table], columns)
            assert kept == rows, f"{table} lost or changed rows in {previous} → {following}"
    assert after["alembic_version"] == [{"version_num": following}]


def test_upgraded_data_reads_back_through_the_store(db_url: str) -> None:
    at_revision(db_url, revisions()[0]).dispose()
    with Store.open(db_url) as store:
        person = store.get_person(f"{0:032x}")
        assert person.display_name == "Anna"
        [record] = store.list_assessments(person.id)
        assert record.case == sample_case(30)
        assert store.integrity_check() == []


def test_downgrade_then_upgrade_round_trip(db_url: str) -> None:
    engine = at_revision(db_url, head_revision())
    try:
        before = snapshot(engine)
        first = revisions()[0]
        migrate(engine, first)
        assert current_revision(engine) == first
        kept = snapshot(engine)
        for table in ("persons", "assessments"):
            assert kept[table] == before[table]
        migrate(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
        after = snapshot(engine)
        assert after["persons"] == before["persons"]
        assert after["assessments"] == before["assessments"]
    finally:
        engine.dispose()


def open_from_threads(url: str, count: int) -> list[BaseException]:
    """`count` threads released together each open the store at url; the errors they met."""
    errors: list[BaseException] = []
    start = threading.Barrier(count)

    def open_store() -> None:
        try:
            start.wait(THREAD_TIMEOUT_S)
            Store.open(url).close()
        except BaseException as e:  # reported to the test's thread
            errors.append(e)

    threads = [threading.Thread(target=open_store) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(THREAD_TIMEOUT_S)
    assert not any(thread.is_alive() for thread in threads), "an opener hangs"
    return errors


def test_opening_a_new_database_from_several_threads_at_once_migrates_it_once(
    new_db_url: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:
    """Threads of one process race like processes do (test_open_race has the processes): each round a new
    database, four threads released together, no error, and one thread ran every migration step once."""
    caplog.set_level(logging.INFO, logger="alembic.runtime.migration")
    for round_ in range(5):
        url = new_db_url()
        caplog.clear()
        assert open_from_threads(url, 4) == [], f"round {round_}"
        upgrades = [r for r in caplog.records if r.getMessage().startswith("Running upgrade")]
        assert len(upgrades) == len(revisions()), f"round {round_}"
        assert len({r.thread for r in upgrades}) == 1, f"round {round_}: more than one thread migrated"
        with Store.open(url) as store:
            assert current_revision(store.engine) == head_revision()


def test_a_database_from_a_newer_program_is_refused(db_url: str) -> None:
    from rueckenlotse.store import StoreError

    with Store.open(db_url) as store, store.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(StoreError) as caught:
        Store.open(db_url)
    assert "9999" in caught.value.message("en")
