"""Running the Alembic migrations in-process: no alembic.ini and no working directory needed.

Several threads or processes may open the same new database at once (web workers starting together): one of
them sets it up under a lock, the others wait for it and then find the database at head.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .engine import BEGIN_OPTION, sqlite_file, sqlite_setup_lock
from .errors import StoreError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# Any constant works; it only has to be the same in every process that migrates this database.
PG_MIGRATION_LOCK = 0x52FC_0001


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the store has no migrations"
    return head


def known_revisions() -> set[str]:
    return {script.revision for script in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def newer_program_needed(revision: str) -> StoreError:
    return StoreError("database_newer", revision=revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> bool:
    """Upgrade (or downgrade, with a revision below the current one) in one transaction; True when this
    call changed the revision, False when the database was there already.

    The check and the migration run under a lock that every opener takes: a file lock beside a SQLite file
    (which also covers switching it to WAL), an advisory lock on PostgreSQL. A database that needs nothing is
    only checked, without the exclusive lock."""
    if engine.dialect.name != "sqlite":
        return _migrate_postgresql(engine, revision)
    database = sqlite_file(engine.url)
    if database is None:
        # In memory (or a file: URI): no path to put a lock file beside; BEGIN IMMEDIATE alone guards it.
        return _set_up_sqlite(engine, revision)
    # Shared: up-to-date openers do not wait for each other, only for one that is setting the file up.
    with sqlite_setup_lock(database, exclusive=False):
        if _sqlite_ready(engine, revision):
            return False
    with sqlite_setup_lock(database, exclusive=True):
        return _set_up_sqlite(engine, revision)


def _target(script: ScriptDirectory, revision: str) -> str | None:
    return script.get_current_head() if revision == "head" else revision


def _is_at(connection: Connection, revision: str) -> bool:
    script = ScriptDirectory.from_config(alembic_config())
    return MigrationContext.configure(connection).get_current_revision() == _target(script, revision)


def _run(connection: Connection, revision: str) -> bool:
    config = alembic_config(connection)
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise newer_program_needed(current)
    if current == _target(script, revision):
        return False
    if revision == "head" or _is_ancestor(script, current, revision):
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)
    return True


def _is_ancestor(script: ScriptDirectory, current: str | None, target: str) -> bool:
    """True when target lies above current (so reaching it is an upgrade)."""
    if current is None:
        return True
    return any(rev.revision == current for rev in script.iterate_revisions(target, "base"))


def _migrate_postgresql(engine: Engine, revision: str) -> bool:
    with engine.connect() as connection:
        if _is_at(connection, revision):
            return False
        connection.rollback()  # end the check's transaction: the migration's begins with the lock
        with connection.begin():
            _lock_postgresql(connection)
            return _run(connection, revision)


def _lock_postgresql(connection: Connection) -> None:
    # Held to the end of the transaction, i.e. over the check in _run and the whole migration: a second
    # opener waits here, then (read committed: each statement sees what was committed before it) finds the
    # migration done and does nothing.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})


def _sqlite_ready(engine: Engine, revision: str) -> bool:
    with engine.connect() as connection:
        wal = connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        return wal and _is_at(connection, revision)


def _set_up_sqlite(engine: Engine, revision: str) -> bool:
    with engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        # WAL: readers never block the writer. Outside any transaction (the mode cannot change inside one);
        # a no-op when the file is in WAL mode already, which it then stays in for every later connection.
        raw.execute("PRAGMA journal_mode=WAL").fetchall()  # consumed: no statement left open
        return _migrate_sqlite(connection, revision)


def _migrate_sqlite(connection: Connection, revision: str) -> bool:
    # Batch migrations recreate tables; with foreign keys on, dropping a parent would cascade-delete
    # its children. SQLite's own recipe: keys off outside the transaction, check them before commit.
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        # IMMEDIATE: the write lock before the revision is read, so that nobody migrates in between.
        connection.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with connection.begin():
            migrated = _run(connection, revision)
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise StoreError("migration_aborted", problems=problems[:5])
        return migrated
    finally:
        connection.execution_options(**{BEGIN_OPTION: "BEGIN"})
        raw.execute("PRAGMA foreign_keys=ON")
