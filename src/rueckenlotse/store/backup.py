"""Backup and restore: SQLite's online backup API, or pg_dump / pg_restore for PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from sqlalchemy import Engine, inspect

from ..private_files import private_output
from .engine import libpq_url, sqlite_file
from .errors import StoreError, Term
from .migrate import known_revisions, newer_program_needed
from .records import ProgressCallback

# Pages copied per step: small enough for a smooth progress bar, large enough to stay fast.
SQLITE_STEP_PAGES = 256
PG_DUMP_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


def _no_progress(done: int, total: int) -> None:
    """Default callback: progress is optional."""


def _not_a_backup(path: Path, detail: str) -> StoreError:
    return StoreError("not_a_backup", path=str(path), detail=detail)


# --- SQLite -----------------------------------------------------------------------------------------


def _require_other_file(engine: Engine, path: Path) -> None:
    """Backing up onto (or restoring from) the live database file itself would destroy it."""
    live = sqlite_file(engine.url)
    if live is None:
        return
    live = live.resolve()
    if path.resolve() in {live, live.with_name(live.name + "-wal"), live.with_name(live.name + "-shm")}:
        raise StoreError("backup_is_database", path=str(path))


def _require_known_revision(revision: str | None, path: Path) -> None:
    """Refuse a backup from a newer program before anything is overwritten, not after."""
    if revision is None:
        raise _not_a_backup(path, Term("domain.backup_detail.no_revision"))
    if revision not in known_revisions():
        raise newer_program_needed(revision)


def _sqlite_progress(progress: ProgressCallback) -> Callable[[int, int, int], None]:
    def step(_status: int, remaining: int, total: int) -> None:
        progress(total - remaining, total)

    return step


def sqlite_backup(engine: Engine, target: Path, progress: ProgressCallback = _no_progress) -> None:
    """Copy the live database page by page while others may keep writing (the API restarts if needed)."""
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
    except sqlite3.Error as e:
        raise StoreError("backup_failed", detail=str(e)) from None


def _require_sound(db: sqlite3.Connection, path: Path) -> None:
    result = db.execute("PRAGMA integrity_check").fetchall()
    if result != [("ok",)]:
        raise _not_a_backup(path, "; ".join(str(row[0]) for row in result[:5]))


def _open_sqlite_backup(path: Path) -> sqlite3.Connection:
    if not path.is_file():
        raise StoreError("file_not_found", path=str(path))
    with path.open("rb") as f:
        if f.read(len(SQLITE_MAGIC)) != SQLITE_MAGIC:
            raise _not_a_backup(path, Term("domain.backup_detail.not_sqlite"))
    # Read-only: restoring must never modify the backup itself.
    return sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)


def _require_store_tables(db: sqlite3.Connection, path: Path) -> None:
    tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "alembic_version" not in tables or "persons" not in tables:
        raise _not_a_backup(path, Term("domain.backup_detail.tables_missing"))
    row = db.execute("SELECT version_num FROM alembic_version").fetchone()
    _require_known_revision(row[0] if row else None, path)


def sqlite_restore(engine: Engine, source_path: Path, progress: ProgressCallback = _no_progress) -> None:
    """Replace the whole database with the backup's content, in one step of the backup API."""
    _require_other_file(engine, source_path)
    try:
        with closing(_open_sqlite_backup(source_path)) as source:
            _require_sound(source, source_path)
            _require_store_tables(source, source_path)
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


# --- PostgreSQL -------------------------------------------------------------------------------------


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StoreError("tool_missing", name=name)
    return path


def _pg_env(engine: Engine) -> tuple[str, dict[str, str]]:
    conninfo, password = libpq_url(engine.url)
    # LC_ALL=C: the progress is read from the tools' messages, which libpq would otherwise translate.
    env = {**os.environ, "LC_ALL": "C", "LC_MESSAGES": "C"}
    if password is not None:
        env["PGPASSWORD"] = password
    return conninfo, env


@contextmanager
def _run_tool(command: list[str], env: dict[str, str]) -> Iterator[Iterator[str]]:
    """Run a tool with --verbose, yield its message lines, raise StoreError if it fails."""
    tail: list[str] = []
    with subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as proc:
        assert proc.stderr is not None

        def lines() -> Iterator[str]:
            assert proc.stderr is not None
            for line in proc.stderr:
                tail[:] = [*tail[-9:], line.rstrip()]
                yield line

        yield lines()
        for _ in lines():  # drain what the caller did not read
            pass
        code = proc.wait()
    if code != 0:
        name = Path(command[0]).name
        details = "\n".join(line for line in tail if "error" in line.lower()) or "\n".join(tail)
        raise StoreError("tool_failed", name=name, details=details)


def _count_lines(lines: Iterator[str], pattern: str, total: int, progress: ProgressCallback) -> None:
    done = 0
    progress(0, total)
    for line in lines:
        if re.search(pattern, line):
            done += 1
            progress(done, max(total, done))
    progress(max(total, done), max(total, done))


def pg_backup(engine: Engine, target: Path, progress: ProgressCallback = _no_progress) -> None:
    """pg_dump in its custom format (compressed; pg_restore can pick and reorder what it restores)."""
    tool = _tool("pg_dump")
    conninfo, env = _pg_env(engine)
    tables = len(inspect(engine).get_table_names())
    target = target.absolute()
    with private_output(target) as part:
        command = [tool, "--format=custom", "--no-owner", "--no-privileges", "--verbose", "--file", str(part)]
        with _run_tool([*command, "--dbname", conninfo], env) as lines:
            _count_lines(lines, r"dumping contents of table", tables, progress)


def _archive_output(tool: str, source_path: Path, env: dict[str, str], *options: str) -> str:
    """What pg_restore prints for the archive without touching any database (--list or -f -)."""
    listing = subprocess.run(
        [tool, *options, str(source_path)], env=env, capture_output=True, text=True, check=False
    )
    if listing.returncode != 0:
        raise _not_a_backup(source_path, listing.stderr.strip() or "pg_restore")
    return listing.stdout


def _archive_revision(tool: str, source_path: Path, env: dict[str, str]) -> str | None:
    script = _archive_output(tool, source_path, env, "--data-only", "--table=alembic_version", "--file=-")
    lines = script.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.startswith("COPY ") and "alembic_version" in line and lines[index + 1] != "\\.":
            return lines[index + 1].strip()
    return None


def pg_restore(engine: Engine, source_path: Path, progress: ProgressCallback = _no_progress) -> None:
    """Replace the database's tables by the archive's, all or nothing (one transaction)."""
    if not source_path.is_file():
        raise StoreError("file_not_found", path=str(source_path))
    with source_path.open("rb") as f:
        if f.read(len(PG_DUMP_MAGIC)) != PG_DUMP_MAGIC:
            raise _not_a_backup(source_path, Term("domain.backup_detail.not_pg_dump"))
    tool = _tool("pg_restore")
    conninfo, env = _pg_env(engine)
    listing = _archive_output(tool, source_path, env, "--list")
    tables = sum(1 for line in listing.splitlines() if " TABLE DATA " in line)
    _require_known_revision(_archive_revision(tool, source_path, env), source_path)
    engine.dispose()
    command = [tool, "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction"]
    command += ["--exit-on-error", "--verbose", "--dbname", conninfo, str(source_path)]
    with _run_tool(command, env) as lines:
        _count_lines(lines, r"processing data for table", tables, progress)
