"""A PostgreSQL restore killed outright leaves its scratch schema (a copy of a backup's rows); the next
restore drops every such leftover before it starts, under the restores' advisory lock."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from rueckenlotse.store import Store
from rueckenlotse.store.backup_pg import SCRATCH_PREFIX

from .conftest import BACKUP_KEY, populate


def _scratch_schemas(store: Store) -> list[str]:
    with store.engine.connect() as conn:
        query = text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :prefix) ORDER BY 1")
        return list(conn.scalars(query, {"prefix": SCRATCH_PREFIX}))


def test_the_next_restore_drops_what_a_killed_one_left(postgres_store: Store, tmp_path: Path) -> None:
    populate(postgres_store, "Anna")
    backup = tmp_path / "backup.dump"
    postgres_store.backup(backup, BACKUP_KEY)
    left = SCRATCH_PREFIX + "0123456789ab"
    with postgres_store.engine.begin() as conn:  # as a restore killed half-way leaves it
        conn.execute(text(f'CREATE SCHEMA "{left}"'))
        conn.execute(text(f'CREATE TABLE "{left}".persons (id text, display_name text)'))
        conn.execute(text(f"INSERT INTO \"{left}\".persons VALUES ('x', 'Anna aus einer alten Sicherung')"))
    assert _scratch_schemas(postgres_store) == [left]
    counts = postgres_store.restore(backup, BACKUP_KEY)
    assert counts["persons"] == 1
    assert _scratch_schemas(postgres_store) == []
