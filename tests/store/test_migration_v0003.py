"""Revision 0003 (accounts, practices, sessions): upgrading keeps every row of 0002, the old data works
with the new tables, a downgrade keeps 0002's data, and the constraints live in the database itself."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, delete, func, insert, inspect, select
from sqlalchemy.exc import IntegrityError

from rueckenlotse.store import Practices, Store
from rueckenlotse.store.migrate import current_revision, migrate

from .account_support import PASSWORD, T0, make_accounts
from .conftest import snapshot
from .test_migrations import NOW, tables

NEW_TABLES = {"accounts", "practices", "practice_members", "practice_intakes", "web_sessions"}
NEW_TABLES |= {"login_attempts", "api_tokens"}
PERSON, ASSESSMENT = f"{0:032x}", f"a{0:031x}"


def table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def test_upgrade_from_0002_keeps_every_row_and_adds_empty_tables(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0002")
    before = snapshot(engine)
    assert not NEW_TABLES & table_names(engine)
    migrate(engine, "0003")
    after = snapshot(engine)
    for table, rows in before.items():
        if table != "alembic_version":
            assert after[table] == rows, table
    assert {table: after[table] for table in NEW_TABLES} == {table: [] for table in NEW_TABLES}


def test_old_persons_work_with_accounts_and_practices_after_the_upgrade(
    db_url: str, engine_at: Callable[[str], Engine]
) -> None:
    engine_at("0002").dispose()
    with Store.open(db_url) as store:
        accounts, practices = make_accounts(store), Practices(store)
        practice = practices.create_practice("Praxis").id
        # An assessment made before accounts existed can be submitted to a practice.
        submitted = practices.submit_intake(practice, PERSON, ASSESSMENT, now=T0)
        assert [row.intake.id for row in practices.inbox(practice)] == [submitted.id]
        account, _ = accounts.register_patient("anna@example.org", PASSWORD)
        assert accounts.authenticate("anna@example.org", PASSWORD, client="127.0.0.1", now=T0) == account
        # (data_0002 writes SQLite diary times with their offset, which the diary check reports)
        assert not [p for p in store.integrity_check() if not p.startswith("diary_entries")]
        counts = store.erase_person(PERSON)
        assert counts["practice_intakes"] == 1 and counts["diary_entries"] == 3
        assert not any(store.rows_of_person(PERSON).values())


def test_downgrade_to_0002_keeps_its_data_and_drops_the_new_tables(
    engine_at: Callable[[str], Engine],
) -> None:
    engine = engine_at("0003")
    before = snapshot(engine)
    assert all(before[table] for table in NEW_TABLES), "the sample data should fill every new table"
    migrate(engine, "0002")
    assert current_revision(engine) == "0002"
    kept = snapshot(engine)
    assert not NEW_TABLES & set(kept)
    for table in ("persons", "assessments", "diary_entries", "plans", "exclusions"):
        assert kept[table] == before[table], table
    migrate(engine, "0003")
    again = snapshot(engine)
    assert {table: again[table] for table in NEW_TABLES} == {table: [] for table in NEW_TABLES}


# --- the migration's constraints, tested on the migrated database (not on schema.py) ------------------


def account_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "z" * 32,
        "email": "neu@example.org",
        "password_hash": "$argon2id$x",
        "role": "patient",
        "person_id": PERSON,
        "totp_secret": None,
        "totp_confirmed": False,
        "totp_last_step": None,
        "created_at": NOW,
        "disabled": False,
    }
    return values | overrides


def refused(engine: Engine, write: Callable[[Connection], object]) -> bool:
    try:
        with engine.begin() as conn:
            write(conn)
    except IntegrityError:
        return True
    return False


@pytest.mark.parametrize(
    "overrides",
    [
        {"person_id": None},  # a patient owns a person
        {"role": "clinician"},  # a clinician owns none
        {"role": "admin", "person_id": None},
        {"email": "anna@example.org", "person_id": f"{1:032x}"},  # the address is taken
        {"person_id": PERSON},  # the person has an account already
        {"person_id": "0" * 31 + "f"},  # no such person
    ],
)
def test_accounts_constraints(engine_at: Callable[[str], Engine], overrides: dict[str, Any]) -> None:
    engine = engine_at("0003")
    t = tables_of(engine)
    assert refused(
        engine, lambda conn: conn.execute(insert(t["accounts"]).values(account_values(**overrides)))
    )
    ok = account_values(person_id=f"{1:032x}")
    assert not refused(engine, lambda conn: conn.execute(insert(t["accounts"]).values(ok)))


def intake_values(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "n" * 32,
        "practice_id": f"f{0:031x}",
        "person_id": PERSON,
        "assessment_id": ASSESSMENT,
        "submitted_at": NOW,
        "reviewed_at": None,
        "reviewed_by": None,
        "triage": "routine",
        "triage_rank": 1,
    }
    return values | overrides


@pytest.mark.parametrize(
    "overrides",
    [
        {"person_id": f"{1:032x}"},  # another person's assessment
        {"triage_rank": 5},
        {"practice_id": "0" * 32},  # no such practice
        {"reviewed_by": "0" * 32},  # no such account
        {"id": "m" * 32, "duplicate": True},  # the same assessment twice to one practice
    ],
)
def test_intake_constraints(engine_at: Callable[[str], Engine], overrides: dict[str, Any]) -> None:
    engine = engine_at("0003")
    t = tables_of(engine)
    fault = dict(overrides)  # the parameter is shared by both engines' runs: never change it
    duplicate = fault.pop("duplicate", False)
    clear = delete(t["practice_intakes"])
    with engine.begin() as conn:
        conn.execute(clear)
    # Without the fault the row is accepted (and is the original for the duplicate case).
    control = insert(t["practice_intakes"]).values(intake_values())
    assert not refused(engine, lambda conn: conn.execute(control))
    if not duplicate:
        with engine.begin() as conn:
            conn.execute(clear)
    faulty = insert(t["practice_intakes"]).values(intake_values(**fault))
    assert refused(engine, lambda conn: conn.execute(faulty))


def test_deleting_a_person_cascades_to_account_sessions_and_intakes_in_the_database(
    engine_at: Callable[[str], Engine],
) -> None:
    """Even outside this program (a DBA's DELETE), nothing of the person stays behind."""
    engine = engine_at("0003")
    t = tables_of(engine)
    with engine.begin() as conn:
        conn.execute(
            insert(t["web_sessions"]).values(
                id="9" * 64,
                account_id=f"b{0:031x}",
                created_at=NOW,
                last_seen_at=NOW,
                expires_at=NOW,
                revoked_at=None,
                totp_passed=False,
            )
        )
        conn.execute(delete(t["persons"]).where(t["persons"].c.id == PERSON))
    with engine.connect() as conn:
        remaining = {
            name: int(conn.scalar(select(func.count()).select_from(t[name])) or 0)
            for name in ("accounts", "web_sessions", "practice_intakes", "practice_members")
        }
    # The clinician's account and session stay, as does its membership; the patient's are gone.
    assert remaining == {"accounts": 1, "web_sessions": 1, "practice_intakes": 0, "practice_members": 1}


def tables_of(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        return tables(conn)
