"""Revision 0004 (the intake's submission key): upgrading keeps every intake (with no key), the database
itself allows one intake per practice and key, and a downgrade keeps the intakes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, delete, insert, inspect

from rueckenlotse.store.migrate import current_revision, migrate

from .test_migration_v0003 import intake_values, refused, tables_of
from .test_migrations import projected, rows_by_column

KEY = "3" * 64


def intake_columns(engine: Engine) -> set[str]:
    return {column["name"] for column in inspect(engine).get_columns("practice_intakes")}


def test_upgrade_from_0003_keeps_every_intake_without_a_key(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0003")
    before = rows_by_column(engine)["practice_intakes"]
    assert before and "submission_key" not in intake_columns(engine)
    migrate(engine, "0004")
    after = rows_by_column(engine)["practice_intakes"]
    assert projected(after, set(before[0])) == before
    assert [row["submission_key"] for row in after] == [None] * len(before)


def test_one_intake_per_practice_and_key_in_the_database(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0004")
    t = tables_of(engine)
    with engine.begin() as conn:
        conn.execute(delete(t["practice_intakes"]))

    def add(**values: Any) -> Callable[[Any], object]:
        return lambda conn: conn.execute(insert(t["practice_intakes"]).values(intake_values(**values)))

    assert not refused(engine, add(submission_key=KEY))
    # Another assessment sent under the same key to the same practice: refused by the unique index.
    assert refused(
        engine, add(id="m" * 32, person_id=f"{1:032x}", assessment_id=f"a{1:031x}", submission_key=KEY)
    )
    # Intakes without a key never collide.
    assert not refused(engine, add(id="m" * 32, person_id=f"{1:032x}", assessment_id=f"a{1:031x}"))


def test_downgrade_to_0003_keeps_the_intakes(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0004")
    before = rows_by_column(engine)
    assert any(row["submission_key"] for row in before["practice_intakes"])
    migrate(engine, "0003")
    assert current_revision(engine) == "0003"
    assert "submission_key" not in intake_columns(engine)
    kept = rows_by_column(engine)
    columns = intake_columns(engine)
    assert kept["practice_intakes"] == projected(before["practice_intakes"], columns)
    for table in ("persons", "assessments", "accounts", "practices"):
        assert kept[table] == before[table], table
    migrate(engine, "0004")
    assert current_revision(engine) == "0004"
