"""Running the Alembic migrations in-process: no alembic.ini and no working directory needed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

from .engine import BEGIN_OPTION
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
    return StoreError(
        f"Die Datenbank hat Version {revision}, die dieses Programm nicht kennt – bitte Rückenlotse "
        "aktualisieren.",
        f"The database is at revision {revision}, which this program does not know – please update "
        "Rückenlotse.",
    )


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade (or downgrade, with a revision below the current one) in one transaction."""
    with engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            _migrate_sqlite(connection, revision)
        else:
            _migrate_postgresql(connection, revision)


def _run(connection: Connection, revision: str) -> None:
    config = alembic_config(connection)
    script = ScriptDirectory.from_config(config)
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None and current not in {s.revision for s in script.walk_revisions()}:
        raise newer_program_needed(current)
    target = script.get_current_head() if revision == "head" else revision
    if current == target:
        return
    if revision == "head" or _is_ancestor(script, current, revision):
        command.upgrade(config, revision)
    else:
        command.downgrade(config, revision)


def _is_ancestor(script: ScriptDirectory, current: str | None, target: str) -> bool:
    """True when target lies above current (so reaching it is an upgrade)."""
    if current is None:
        return True
    return any(rev.revision == current for rev in script.iterate_revisions(target, "base"))


def _migrate_postgresql(connection: Connection, revision: str) -> None:
    with connection.begin():
        # Two processes opening a new database at once: the second waits, then finds it up to date.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK})
        _run(connection, revision)


def _migrate_sqlite(connection: Connection, revision: str) -> None:
    # Batch migrations recreate tables; with foreign keys on, dropping a parent would cascade-delete
    # its children. SQLite's own recipe: keys off outside the transaction, check them before commit.
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        connection.execution_options(**{BEGIN_OPTION: "BEGIN IMMEDIATE"})
        with connection.begin():
            _run(connection, revision)
            problems = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise StoreError(
                    f"Migration abgebrochen: verwaiste Verweise {problems[:5]}",
                    f"Migration aborted: dangling references {problems[:5]}",
                )
    finally:
        connection.execution_options(**{BEGIN_OPTION: "BEGIN"})
        raw.execute("PRAGMA foreign_keys=ON")
