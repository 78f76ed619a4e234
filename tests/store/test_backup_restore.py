"""Backup → restore reproduces every row; bad backups are refused and leave the database as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from rueckenlotse.store import Store, StoreError

from .conftest import BACKUP_KEY, populate, sign, snapshot


def backup_path(tmp_path: Path, store: Store) -> Path:
    return tmp_path / ("backup.db" if store.is_sqlite else "backup.dump")


def recorder() -> tuple[list[tuple[int, int]], Callable[[int, int], None]]:
    calls: list[tuple[int, int]] = []
    return calls, lambda done, total: calls.append((done, total))


def test_round_trip_into_a_fresh_database_reproduces_every_row(
    store: Store, new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    populate(store, "Anna")
    populate(store, "Ben", entries=40)
    before = snapshot(store.engine)
    path = backup_path(tmp_path, store)
    calls, progress = recorder()
    store.backup(path, BACKUP_KEY, progress=progress)
    assert calls and calls[-1][0] == calls[-1][1] > 0, calls
    with Store.open(new_db_url()) as other:
        other.restore(path, BACKUP_KEY)
        assert snapshot(other.engine) == before
        assert other.integrity_check() == []


def test_restore_replaces_later_changes(store: Store, tmp_path: Path) -> None:
    anna = populate(store, "Anna")
    before = snapshot(store.engine)
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    store.erase_person(anna["person"])
    populate(store, "Carla")
    calls, progress = recorder()
    store.restore(path, BACKUP_KEY, progress=progress)
    assert snapshot(store.engine) == before
    assert calls and calls[-1][0] == calls[-1][1]
    # The store keeps working after the restore.
    store.add_diary_entry(anna["person"], store.list_diary(anna["person"])[0].entry)


def test_backup_replaces_an_older_backup_file(store: Store, tmp_path: Path) -> None:
    path = backup_path(tmp_path, store)
    populate(store, "Anna")
    store.backup(path, BACKUP_KEY)
    populate(store, "Ben")
    store.backup(path, BACKUP_KEY)
    expected = snapshot(store.engine)
    store.restore(path, BACKUP_KEY)
    assert snapshot(store.engine) == expected
    assert not path.with_name(path.name + ".part").exists()


def test_sqlite_backup_is_one_self_contained_file(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    populate(store)
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    assert not Path(f"{path}-wal").exists()
    with closing(sqlite3.connect(path.as_uri() + "?mode=ro", uri=True)) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize(
    "content", [b"", b"hello world\n" * 100, b"PGDMP-but-not-really", b"SQLite format 3\x00junk"]
)
def test_a_file_that_is_no_backup_is_refused_and_nothing_changes(
    store: Store, tmp_path: Path, content: bytes, signed: bool
) -> None:
    """Without a manifest it is refused at once; signed (as if with the key), by the checks behind it."""
    populate(store)
    before = snapshot(store.engine)
    path = tmp_path / "not-a-backup"
    path.write_bytes(content)
    if signed:
        sign(path, store.engine.dialect.name)
    with pytest.raises(StoreError) as caught:
        store.restore(path, BACKUP_KEY)
    assert caught.value.code == ("not_a_backup" if signed else "backup_manifest_missing")
    assert snapshot(store.engine) == before


def test_a_missing_backup_file_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    with pytest.raises(StoreError) as caught:
        store.restore(tmp_path / "nowhere.db", BACKUP_KEY)
    assert "nicht gefunden" in caught.value.message("de")
    assert "not found" in caught.value.message("en")


def test_an_unrelated_sqlite_database_is_refused(sqlite_store: Store, tmp_path: Path) -> None:
    store = sqlite_store
    populate(store)
    before = snapshot(store.engine)
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE t (x)")
        db.commit()
    sign(other, "sqlite")
    with pytest.raises(StoreError) as caught:
        store.restore(other, BACKUP_KEY)
    assert caught.value.code == "not_a_backup"
    assert "Tabellen fehlen" in caught.value.message("de")
    assert snapshot(store.engine) == before


def test_missing_postgresql_tools_give_a_clear_error(
    postgres_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = postgres_store
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(StoreError) as caught:
        store.backup(tmp_path / "b.dump", BACKUP_KEY)
    assert "pg_dump" in caught.value.message("de") and "install" in caught.value.message("en")
    assert not (tmp_path / "b.dump").exists()


def test_a_backup_from_a_newer_program_is_refused_before_anything_is_overwritten(
    store: Store, tmp_path: Path
) -> None:
    populate(store)
    with store.engine.begin() as conn:
        head = conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    with store.engine.begin() as conn:
        conn.exec_driver_sql(f"UPDATE alembic_version SET version_num = '{head}'")
    populate(store, "Ben")
    before = snapshot(store.engine)
    with pytest.raises(StoreError) as caught:
        store.restore(path, BACKUP_KEY)
    assert "9999" in caught.value.message("de")
    assert snapshot(store.engine) == before


def test_the_live_database_file_is_never_a_backup_target(sqlite_store: Store) -> None:
    populate(sqlite_store)
    before = snapshot(sqlite_store.engine)
    live = sqlite_store.engine.url.database
    assert live is not None
    for path in (live, live + "-wal"):
        with pytest.raises(StoreError):
            sqlite_store.backup(path, BACKUP_KEY)
        with pytest.raises(StoreError):
            sqlite_store.restore(path, BACKUP_KEY)
    assert snapshot(sqlite_store.engine) == before
    assert sqlite_store.integrity_check() == []
