"""Revision 0005 (the audit trail): upgrading keeps every row and adds an empty trail, the database itself
refuses an unknown actor kind or channel, and a downgrade drops only the trail."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, insert, inspect

from rueckenlotse.store.migrate import current_revision, migrate

from .test_migration_v0003 import refused, tables_of
from .test_migrations import NOW, rows_by_column


def event(**values: Any) -> dict[str, Any]:
    row = {
        "id": "e" * 32,
        "at": NOW,
        "actor_kind": "clinician",
        "actor_id": "c" * 32,
        "person_id": f"{1:032x}",
        "action": "read.intake",
        "channel": "web",
        "practice_id": f"f{0:031x}",
    }
    return {**row, **values}


def test_upgrade_from_0004_keeps_every_row_and_adds_no_event(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0004")
    before = rows_by_column(engine)
    assert "audit_events" not in before
    migrate(engine, "0005")
    after = rows_by_column(engine)
    assert after.pop("audit_events") == []
    assert after.pop("alembic_version") == [{"version_num": "0005"}]
    before.pop("alembic_version")
    assert after == before


@pytest.mark.safety("SR-AUD-1")
def test_the_database_refuses_unknown_actors_and_channels(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0005")
    t = tables_of(engine)

    def add(**values: Any) -> Callable[[Any], object]:
        return lambda conn: conn.execute(insert(t["audit_events"]).values(event(**values)))

    assert refused(engine, add(id="x" * 32, actor_kind="admin"))
    assert refused(engine, add(id="y" * 32, channel="email"))
    assert not refused(engine, add(id="z" * 32, actor_kind="system", actor_id=None, person_id=None))


def test_downgrade_to_0004_drops_only_the_trail(engine_at: Callable[[str], Engine]) -> None:
    engine = engine_at("0005")
    before = rows_by_column(engine)
    assert before["audit_events"]
    migrate(engine, "0004")
    assert current_revision(engine) == "0004"
    assert "audit_events" not in inspect(engine).get_table_names()
    kept = rows_by_column(engine)
    for rows in (kept, before):
        rows.pop("alembic_version")
    before.pop("audit_events")
    assert kept == before
    migrate(engine, "0005")
    assert current_revision(engine) == "0005"
