"""Opening a new database from several processes at once: no error, and the migration runs exactly once.

The openers are real OS processes (multiprocessing, spawn: fresh interpreters), released together by a barrier
for each round, each round on a fresh database. They are started once for the module and reused, so that a
round costs an open, not an interpreter start. Which of them migrated is read from Alembic's own log.

That the race test can fail is shown on PostgreSQL: without the advisory lock the same race fails in
practically every round. On SQLite such a companion is deliberately missing, as it would pass or fail by
chance: the old code (WAL switched on at connect, no lock) failed in 2 to 9 rounds of 150, and with the file
lock replaced by a no-op none of 100 measured rounds failed (two processes must be inside the switch to WAL
at the same moment). This test failed the old code in one of four runs. The file lock itself is checked
deterministically below: an opener really waits for it, and gives up with a clear message.
"""

from __future__ import annotations

import multiprocessing
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from multiprocessing.queues import Queue
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from rueckenlotse.store import Store, StoreError
from rueckenlotse.store import engine as engine_module
from rueckenlotse.store.engine import make_engine, setup_lock_path, sqlite_setup_lock
from rueckenlotse.store.migrate import head_revision, migrate
from rueckenlotse.store.schema import metadata

from .. import needs
from .conftest import fresh_postgres_database
from .open_race_worker import Outcome, serve
from .test_migrations import revisions

PROCESSES = 4
ROUNDS = 20
# Without the lock, every one of 40 measured rounds on PostgreSQL failed; five leave no room for chance.
UNLOCKED_ROUNDS = 5
# Only a guard against a hung child: a round normally takes well under a second.
ROUND_TIMEOUT_S = 600.0


@dataclass
class Openers:
    jobs: list[Queue[str | None]]
    outcomes: Queue[Outcome]
    processes: list[BaseProcess]

    def race(self, url: str) -> list[Outcome]:
        """Every process opens the store at url at the same moment; their outcomes, by worker."""
        for job in self.jobs:
            job.put(url)
        outcomes = [self.outcomes.get(timeout=ROUND_TIMEOUT_S) for _ in self.jobs]
        return sorted(outcomes, key=lambda outcome: outcome.worker)


@contextmanager
def started_openers(unlocked: bool) -> Iterator[Openers]:
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(PROCESSES)
    outcomes: Queue[Outcome] = context.Queue()
    jobs: list[Queue[str | None]] = [context.Queue() for _ in range(PROCESSES)]
    processes: list[BaseProcess] = [
        context.Process(target=serve, args=(n, jobs[n], start, outcomes, unlocked), daemon=True)
        for n in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        yield Openers(jobs, outcomes, processes)
    finally:
        for job in jobs:
            job.put(None)
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()


@pytest.fixture(scope="module")
def openers() -> Iterator[Openers]:
    with started_openers(unlocked=False) as started:
        yield started


def assert_at_head_with_the_schema_py_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(head_revision(),)]
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
            assert diff == []
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def race_on_a_new_database(openers: Openers, engine_kind: str, tmp_path: Path, round_: int) -> list[Outcome]:
    if engine_kind == "sqlite":
        url = f"sqlite:///{tmp_path / f'round-{round_}' / 'rueckenlotse.db'}"
        outcomes = openers.race(url)
        assert_at_head_with_the_schema_py_tables(url)
        return outcomes
    with fresh_postgres_database() as url:
        outcomes = openers.race(url)
        assert_at_head_with_the_schema_py_tables(url)
        return outcomes


def test_a_new_database_opened_by_four_processes_at_once_twenty_times_is_migrated_once_each_time(
    openers: Openers, engine_kind: str, tmp_path: Path
) -> None:
    steps = len(revisions())
    for round_ in range(ROUNDS):
        outcomes = race_on_a_new_database(openers, engine_kind, tmp_path, round_)
        assert [o.error for o in outcomes if o.error] == [], f"round {round_}"
        # Exactly one process ran the migrations, every step once; the others waited and found it at head.
        assert sorted(o.upgrade_steps for o in outcomes) == [0] * (PROCESSES - 1) + [steps], f"round {round_}"


def test_without_the_advisory_lock_the_same_race_fails_on_postgresql() -> None:
    """The test above can fail: with migrate()'s locks replaced by no-ops in the openers, two of them
    create the same tables at once and fail, or both migrate. (On SQLite: see the module's docstring.)"""
    needs.postgres_url()
    failed_rounds = 0
    with started_openers(unlocked=True) as unlocked:
        for _ in range(UNLOCKED_ROUNDS):
            with fresh_postgres_database() as url:
                outcomes = unlocked.race(url)
            if any(o.error for o in outcomes) or sum(1 for o in outcomes if o.upgrade_steps) != 1:
                failed_rounds += 1
    assert failed_rounds > 0


# --- the SQLite setup lock ------------------------------------------------------------------------------


@pytest.fixture
def new_sqlite_file(tmp_path: Path) -> Path:
    database = tmp_path / "store" / "rueckenlotse.db"
    database.parent.mkdir()
    return database


def test_an_opener_waits_for_the_setup_lock_and_gives_up_with_a_clear_message(
    new_sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_SETUP_LOCK_TIMEOUT_S", 0.2)
    url = f"sqlite:///{new_sqlite_file}"
    with sqlite_setup_lock(new_sqlite_file, exclusive=True), pytest.raises(StoreError) as caught:
        Store.open(url)
    assert str(new_sqlite_file) in caught.value.message("de")
    assert "anderen Rückenlotse-Prozess" in caught.value.message("de")
    assert "Another Rückenlotse process" in caught.value.message("en")
    # It waited without touching the file: not switched to WAL, no table.
    assert new_sqlite_file.stat().st_size == 0
    with Store.open(url) as store:
        assert store.list_persons() == []
    assert_at_head_with_the_schema_py_tables(url)


def test_a_new_database_is_not_set_up_while_another_opener_checks_it(
    new_sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "SQLITE_SETUP_LOCK_TIMEOUT_S", 0.2)
    with sqlite_setup_lock(new_sqlite_file, exclusive=False), pytest.raises(StoreError):
        Store.open(f"sqlite:///{new_sqlite_file}")
    assert new_sqlite_file.stat().st_size == 0


def test_an_up_to_date_database_is_only_checked_so_openers_do_not_wait_for_each_other(
    new_sqlite_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{new_sqlite_file}"
    Store.open(url).close()
    monkeypatch.setattr(engine_module, "SQLITE_SETUP_LOCK_TIMEOUT_S", 0.2)
    # Another opener in the middle of its check: this one would time out if it wanted the lock exclusively.
    with sqlite_setup_lock(new_sqlite_file, exclusive=False), Store.open(url) as store:
        assert store.list_persons() == []


def test_migrate_says_whether_it_changed_the_revision(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert migrate(engine, revisions()[0]) is True
        assert migrate(engine, revisions()[0]) is False
        assert migrate(engine) is True
        assert migrate(engine) is False
    finally:
        engine.dispose()


def test_the_setup_lock_file_is_private(new_sqlite_file: Path) -> None:
    Store.open(f"sqlite:///{new_sqlite_file}").close()
    mode = setup_lock_path(new_sqlite_file).lstat().st_mode
    assert stat.S_ISREG(mode)
    assert stat.S_IMODE(mode) & 0o077 == 0


@pytest.mark.parametrize("planted", ["symlink", "folder"])
def test_a_symlink_or_folder_in_place_of_the_lock_file_is_refused(
    new_sqlite_file: Path, planted: str
) -> None:
    lock = setup_lock_path(new_sqlite_file)
    elsewhere = new_sqlite_file.parent.parent / "elsewhere"
    if planted == "symlink":
        lock.symlink_to(elsewhere)
    else:
        lock.mkdir()
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{new_sqlite_file}")
    assert str(lock) in caught.value.message("en")
    assert not elsewhere.exists()
    assert new_sqlite_file.stat().st_size == 0


def test_an_in_memory_database_needs_no_lock_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with Store.open("sqlite://") as store:
        assert store.list_persons() == []
    assert os.listdir(tmp_path) == []


def test_the_lock_is_released_when_the_holder_fails(new_sqlite_file: Path) -> None:
    with pytest.raises(RuntimeError), sqlite_setup_lock(new_sqlite_file, exclusive=True):
        raise RuntimeError("a migration that failed")
    with sqlite_setup_lock(new_sqlite_file, exclusive=True, timeout_s=0.0):
        pass
