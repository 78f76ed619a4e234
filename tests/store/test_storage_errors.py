"""The store names a full or read-only disk as such (rueckenlotse.storage.StorageUnavailable), never as
an unreachable or damaged database, and ``write_problem`` (the health check's question) sees it before a
write fails. Real disks: a tmpfs filled or remounted read-only (SQLite), and a PostgreSQL database set to
read-only (with TEST_DATABASE_URL).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import make_url

from rueckenlotse.storage import FULL, READ_ONLY, StorageUnavailable
from rueckenlotse.store import Store

from .. import needs
from ..disks import fill, remount, tmpfs
from .conftest import fresh_postgres_database, populate, sample_entry


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "data", "4m") as folder:
        yield folder


def test_a_healthy_database_has_no_write_problem(db_url: str) -> None:
    with Store.open(db_url) as store:
        assert store.write_problem() is None


def test_a_full_disk_under_an_open_store_is_named_and_loses_nothing(disk: Path) -> None:
    database = disk / "rl.db"
    with Store.open(f"sqlite:///{database}") as store:
        person = populate(store, entries=3)["person"]
        with closing(sqlite3.connect(database)) as other:  # the log emptied: a write must grow it
            other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(disk)

        problem = store.write_problem()
        assert problem is not None and problem.code == FULL
        with pytest.raises(StorageUnavailable) as caught:
            store.add_diary_entry(person, sample_entry(99, note="zu viel"))
        assert caught.value.code == FULL and str(disk) in caught.value.message("de")
        assert len(store.list_diary(person)) == 3  # reading goes on

        filler.unlink()
        assert store.write_problem() is None
        store.add_diary_entry(person, sample_entry(100, note="wieder Platz"))
        assert len(store.list_diary(person)) == 4
    with closing(sqlite3.connect(database)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_opening_on_a_read_only_disk_is_named_not_damaged(disk: Path) -> None:
    url = f"sqlite:///{disk / 'rl.db'}"
    with Store.open(url) as store:
        person = populate(store, entries=2)["person"]
    remount(disk, "ro")
    try:
        with pytest.raises(StorageUnavailable) as caught:
            Store.open(url)
        assert caught.value.code == READ_ONLY
        assert "beschädigt" not in caught.value.message("de")
    finally:
        remount(disk, "rw")
    with Store.open(url) as store:
        assert len(store.list_diary(person)) == 2


def _set_read_only(url: str, on: bool) -> None:
    admin = make_url(url).set(drivername="postgresql", database="postgres")
    name = make_url(url).database
    with psycopg.connect(admin.render_as_string(hide_password=False), autocommit=True) as connection:
        connection.execute(
            f'ALTER DATABASE "{name}" SET default_transaction_read_only = {"on" if on else "off"}'
        )


def test_a_read_only_postgres_database_is_named_and_reads_go_on() -> None:
    needs.postgres_url()
    with fresh_postgres_database() as url:
        with Store.open(url) as store:
            person = populate(store, entries=2)["person"]
        _set_read_only(url, True)
        try:
            with Store.open(url) as store:
                problem = store.write_problem()
                assert problem is not None and problem.code == READ_ONLY
                with pytest.raises(StorageUnavailable) as caught:
                    store.add_diary_entry(person, sample_entry(7))
                assert caught.value.code == READ_ONLY
                assert len(store.list_diary(person)) == 2
        finally:
            _set_read_only(url, False)
        with Store.open(url) as store:
            assert store.write_problem() is None
            store.add_diary_entry(person, sample_entry(8))
            assert len(store.list_diary(person)) == 3
