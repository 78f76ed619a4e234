"""Backup and restore of a SQLite database (the online backup API); PostgreSQL is in ``backup_pg``.

A backup is the database file and its signed manifest (``backup_manifest``). A restore changes nothing until
the backup has passed every check, in a private copy: its HMAC and manifest, SQLite's own integrity and
foreign-key checks, its schema against the one the migrations make at its revision (a scratch database built
for the comparison), its row counts against the manifest, and, migrated to the newest revision, every stored
document. Only then does the copy replace the live database, in one step of the backup API.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from ..private_files import private_output
from . import integrity
from .backup_manifest import Manifest, new_manifest, require_rows_as_listed, verified_copy, write_manifest
from .engine import make_engine, sqlite_file
from .errors import StoreError, Term
from .migrate import migrate
from .records import ProgressCallback
from .schema import WebSession, metadata
from .schema_compare import describe_sqlite, differences

# Pages copied per step: small enough for a smooth progress bar, large enough to stay fast.
SQLITE_STEP_PAGES = 256
SQLITE_MAGIC = b"SQLite format 3\x00"
# How many problems an error message lists (the rest would only bury the first).
LISTED = 8


def no_progress(done: int, total: int) -> None:
    """Default callback: progress is optional."""


def not_a_backup(path: Path, detail: str) -> StoreError:
    return StoreError("not_a_backup", path=str(path), detail=detail)


@contextmanager
def private_workspace(near: Path | None) -> Iterator[Path]:
    """A folder only we can read (0700), removed afterwards: for the copy of a backup being checked and
    the scratch database. Beside ``near`` (the live database's folder, which has room for a copy of it),
    else in the system's temporary folder."""
    folder = Path(tempfile.mkdtemp(prefix=".rueckenlotse-restore-", dir=near))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def require_same_schema(expected: dict[str, str], actual: dict[str, str], path: Path, revision: str) -> None:
    found = differences(expected, actual)
    if found:
        listed = "; ".join(found[:LISTED]) + ("; …" if len(found) > LISTED else "")
        raise StoreError("backup_schema_differs", path=str(path), revision=revision, differences=listed)


def require_sound_content(candidate: Engine, path: Path) -> None:
    """The checks of ``Store.integrity_check`` on the candidate (migrated to the newest revision)."""
    with Session(candidate) as session:
        connection = session.connection()
        problems = integrity.sqlite_checks(connection) if candidate.dialect.name == "sqlite" else []
        problems += integrity.orphan_checks(connection)
        problems += integrity.document_checks(session)
    if problems:
        raise StoreError("backup_content_invalid", path=str(path), listed="; ".join(problems[:LISTED]))


def end_sessions_and_count(candidate: Engine) -> dict[str, int]:
    """A backup holds the sign-ins live when it was made; none may come back (everyone signs in again).
    Returns the rows per table that the restore brings."""
    with Session(candidate) as session, session.begin():
        session.execute(delete(WebSession))
        return {
            table.name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for table in metadata.sorted_tables
        }


# --- backup -------------------------------------------------------------------------------------------


def _require_other_file(engine: Engine, path: Path) -> None:
    """Backing up onto (or restoring from) the live database file itself would destroy it."""
    live = sqlite_file(engine.url)
    if live is None:
        return
    live = live.resolve()
    if path.resolve() in {live, live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")}:
        raise StoreError("backup_is_database", path=str(path))


def _sqlite_progress(progress: ProgressCallback) -> Callable[[int, int, int], None]:
    def step(_status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    return step


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _row_counts(db: sqlite3.Connection) -> dict[str, int]:
    tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    return {name: int(db.execute(f"SELECT count(*) FROM {_quoted(name)}").fetchone()[0]) for name in tables}


def _stored_revision(db: sqlite3.Connection, path: Path) -> str:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in tables or "persons" not in tables:
        raise not_a_backup(path, Term("domain.backup_detail.tables_missing"))
    row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    if row is None or not isinstance(row[0], str):
        raise not_a_backup(path, Term("domain.backup_detail.no_revision"))
    return row[0]


def sqlite_backup(
    engine: Engine, target: Path, key: bytes, progress: ProgressCallback = no_progress
) -> Manifest:
    """Copy the live database page by page while others may keep writing (the API restarts if needed),
    then sign the copy: its manifest lists the revision and the rows of every table in it."""
    _require_other_file(engine, target)
    target = target.absolute()
    try:
        # Private and whole: written beside the target, moved over it only when sound (private_files).
        with private_output(target) as part:
            with engine.connect() as conn, closing(sqlite3.connect(part)) as copy:
                source = conn.connection.driver_connection
                assert isinstance(source, sqlite3.Connection)
                source.backup(copy, pages=SQLITE_STEP_PAGES, progress=_sqlite_progress(progress))
                # A backup is one self-contained file: no WAL beside it.
                copy.execute("PRAGMA journal_mode=DELETE")
                _require_sound(copy, target)
                rows, revision = _row_counts(copy), _stored_revision(copy, target)
            # Signed once the copy is closed, so that every byte is final.
            manifest = new_manifest("sqlite", revision, rows, part)
            write_manifest(part, target, key, manifest)
    except sqlite3.Error as e:
        raise StoreError("backup_failed", detail=str(e)) from None
    return manifest


def _require_sound(db: sqlite3.Connection, path: Path) -> None:
    result = db.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        raise not_a_backup(path, "; ".join(str(row[0]) for row in result[:5]))


# --- restore ------------------------------------------------------------------------------------------


def sqlite_restore(
    engine: Engine, source_path: Path, key: bytes, progress: ProgressCallback = no_progress
) -> dict[str, int]:
    """Replace the whole database by a backup once a private copy of it has passed every check (module
    docstring); returns the rows per table restored. A refused backup leaves the database as it was."""
    _require_other_file(engine, source_path)
    live = sqlite_file(engine.url)
    with private_workspace(live.parent if live is not None else None) as folder:
        manifest, copy = verified_copy(source_path, key, folder, "sqlite", progress)
        counts = _prepare_candidate(copy, manifest, folder, source_path)
        _replace_live_database(engine, copy, progress)
    return counts


def _prepare_candidate(copy: Path, manifest: Manifest, folder: Path, path: Path) -> dict[str, int]:
    with copy.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise not_a_backup(path, Term("domain.backup_detail.not_sqlite"))
    try:
        _check_as_backed_up(copy, manifest, folder, path)
    except sqlite3.Error as e:
        raise not_a_backup(path, str(e)) from None
    candidate = make_engine(f"sqlite:///{copy}")
    try:
        migrate(candidate)
        require_sound_content(candidate, path)
        return end_sessions_and_count(candidate)
    except DBAPIError as e:
        raise StoreError("backup_content_invalid", path=str(path), listed=str(e.orig)) from None
    finally:
        candidate.dispose()


def _check_as_backed_up(copy: Path, manifest: Manifest, folder: Path, path: Path) -> None:
    """The copy at its own revision: sound, of the migrations' schema, references intact, rows as listed.
    Nothing of it runs: no statement here fires a trigger or reads a view, and the schema is compared
    before the migrations (our code) touch the copy."""
    with closing(sqlite3.connect(copy)) as db:
        db.execute("PRAGMA trusted_schema=OFF")
        _require_sound(db, path)
        revision = _stored_revision(db, path)
        if revision != manifest.revision:
            raise not_a_backup(path, Term("domain.backup_detail.revision_mismatch"))
        require_same_schema(_migrated_schema(revision, folder), describe_sqlite(db), path, revision)
        dangling = db.execute("PRAGMA foreign_key_check").fetchall()
        if dangling:
            listed = "; ".join(f"{table} rowid {rowid} → {parent}" for table, rowid, parent, _ in dangling)
            raise StoreError("backup_content_invalid", path=str(path), listed=listed[:500])
        require_rows_as_listed(manifest, _row_counts(db), path)


def _migrated_schema(revision: str, folder: Path) -> dict[str, str]:
    """The schema the migrations make at ``revision``, read from a scratch database built for it."""
    scratch = folder / "expected" / "schema.db"
    engine = make_engine(f"sqlite:///{scratch}")
    try:
        migrate(engine, revision)
    finally:
        engine.dispose()
    with closing(sqlite3.connect(scratch)) as db:
        return describe_sqlite(db)


def _replace_live_database(engine: Engine, copy: Path, progress: ProgressCallback) -> None:
    """One step of the backup API: it holds the live database's write lock until every page is copied,
    and a crash midway rolls back to the previous content."""
    try:
        with closing(sqlite3.connect(copy)) as source:
            # Pooled connections would keep their old view open during the copy; start afresh.
            engine.dispose()
            with engine.connect() as conn:
                target = conn.connection.driver_connection
                assert isinstance(target, sqlite3.Connection)
                source.backup(target, pages=SQLITE_STEP_PAGES, progress=_sqlite_progress(progress))
    except sqlite3.Error as e:
        raise StoreError("restore_failed", detail=str(e)) from None
    finally:
        engine.dispose()
