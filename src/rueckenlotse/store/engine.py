"""Engines from a URL: SQLite (default, tuned for durability) or PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError

from .errors import StoreError

# Wait this long for another process's write lock instead of failing at once with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
BEGIN_OPTION = "rueckenlotse_sqlite_begin"


def parse_url(url: str | URL) -> URL:
    """The URL with the driver we use: ``postgresql://`` and ``postgres://`` become psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"Ungültige Datenbank-URL: {url!s}", f"Invalid database URL: {url!s}") from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.get_driver_name() in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    raise StoreError(
        f"Nicht unterstützte Datenbank „{parsed.drivername}“: nur SQLite und PostgreSQL.",
        f"Unsupported database '{parsed.drivername}': only SQLite and PostgreSQL.",
    )


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    name = url.database or ""
    if name in ("", ":memory:") or name.startswith("file:"):
        return None
    return Path(name)


def make_engine(url: str | URL) -> Engine:
    """A new engine for the URL; the caller owns it and must ``dispose()`` it."""
    parsed = parse_url(url)
    if not is_sqlite(parsed):
        # pre_ping: a backend killed or restarted between uses must not surface as a user-visible error.
        return create_engine(parsed, pool_pre_ping=True)
    path = sqlite_file(parsed)
    if path is not None:
        _private_file(path)
    engine = create_engine(parsed)
    event.listen(engine, "connect", _sqlite_on_connect)
    event.listen(engine, "begin", _sqlite_on_begin)
    return engine


def _private_file(path: Path) -> None:
    """Health data: a new database file (and a new folder for it) is readable by its owner only.
    SQLite gives its -wal and -shm files the database file's permissions."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand BEGIN to SQLAlchemy (see _sqlite_on_begin): pysqlite's legacy mode would autocommit DDL and
    # never begin a transaction for SELECT, which breaks transactional migrations.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # WAL: readers never block the writer. FULL: a commit survives power loss, not just a crash.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # Erased data must not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Migrations ask for BEGIN IMMEDIATE so two processes opening a new database cannot both migrate it.
    conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


def libpq_url(url: URL) -> tuple[str, str | None]:
    """A libpq connection string for pg_dump/pg_restore and the password kept apart (for PGPASSWORD),
    so that it never appears in a process list."""
    plain = url.set(drivername="postgresql", password=None)
    password = url.password
    return plain.render_as_string(hide_password=False), (str(password) if password is not None else None)
