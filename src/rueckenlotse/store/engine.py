"""Engines from a URL: SQLite (default, tuned for durability) or PostgreSQL through psycopg 3."""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from ..storage import FULL, READ_ONLY, StorageUnavailable, folder_problem, from_os_error
from .errors import StoreError

# Wait this long for another process's write lock instead of failing at once with "database is locked".
SQLITE_BUSY_TIMEOUT_MS = 10_000
BEGIN_OPTION = "rueckenlotse_sqlite_begin"
# How long an opener waits for another process that is setting up or migrating the same SQLite file. Generous:
# a migration that copies the tables of a large database can take minutes, and giving up early helps no one.
SQLITE_SETUP_LOCK_TIMEOUT_S = 600.0
_LOCK_POLL_MAX_S = 0.1


def parse_url(url: str | URL) -> URL:
    """The URL with the driver we use: ``postgresql://`` and ``postgres://`` become psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError("database_url_invalid", url=str(url)) from None
    backend = parsed.get_backend_name()
    if backend in ("postgresql", "postgres"):
        return parsed.set(drivername="postgresql+psycopg")
    if backend == "sqlite" and parsed.get_driver_name() in ("", "pysqlite"):
        return parsed.set(drivername="sqlite")
    raise StoreError("database_unsupported", driver=parsed.drivername)


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
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError as e:
        raise from_os_error(e, path.parent, writing=True) or e from None


def sqlite_companions(path: Path) -> tuple[Path, ...]:
    """The files SQLite writes beside a database in WAL mode (they exist while it is open)."""
    return tuple(path.with_name(path.name + suffix) for suffix in ("-wal", "-shm"))


# PostgreSQL's SQLSTATEs for a full disk (disk_full) and a read-only server (read_only_sql_transaction: a
# standby, or default_transaction_read_only).
_PG_STORAGE = {"53100": FULL, "25006": READ_ONLY}
# SQLite's error names (extended codes) that can stand for a full or read-only disk.
_SQLITE_STORAGE = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")


def storage_problem(error: DBAPIError, url: URL) -> StorageUnavailable | None:
    """The StorageUnavailable a database error stands for (a full disk, a read-only file system or
    server), or None for any other error (a lock, a lost connection, real damage).

    SQLite names a full disk (SQLITE_FULL, "database or disk is full") and a read-only file
    (SQLITE_READONLY_*); when it cannot grow its shared-memory file on a full disk, or open a file, it says
    only SQLITE_IOERR_* or SQLITE_CANTOPEN, and the folder's state tells (storage.folder_problem).
    """
    orig = error.orig
    if not is_sqlite(url):
        code = _PG_STORAGE.get(str(getattr(orig, "sqlstate", "") or ""))
        return StorageUnavailable(code, postgres_where(url)) if code else None
    name = str(getattr(orig, "sqlite_errorname", "") or "")
    path = sqlite_file(url)
    if path is None or not name.startswith(_SQLITE_STORAGE):  # in memory, or a lock, a bug, damage
        return None
    diagnosed = folder_problem(path.parent, path, *sqlite_companions(path))
    if name == "SQLITE_FULL":
        return diagnosed or StorageUnavailable(FULL, str(path.parent))
    if name.startswith("SQLITE_READONLY"):
        return diagnosed or StorageUnavailable(READ_ONLY, str(path))
    return diagnosed  # an I/O error or a file it cannot open: a storage problem only if the folder says so


def postgres_where(url: URL) -> str:
    """How a message names a PostgreSQL server: by its host, never with the URL's user or password."""
    return f"PostgreSQL {url.host or ''}".strip()


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Hand BEGIN to SQLAlchemy (see _sqlite_on_begin): pysqlite's legacy mode would autocommit DDL and
    # never begin a transaction for SELECT, which breaks transactional migrations.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        # First, so that every later statement waits for another process's lock instead of failing.
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        # FULL: a commit survives power loss, not just a crash. (WAL is switched on by migrate(), under the
        # setup lock: switching a new file to WAL fails at once with "database is locked" when another
        # process does the same, without waiting for the busy timeout. Once set, WAL stays in the file.)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        # Erased data must not linger in free pages of the file.
        cursor.execute("PRAGMA secure_delete=ON")
    finally:
        cursor.close()


def _sqlite_on_begin(conn: Connection) -> None:
    # Migrations (and other read-then-write work) ask for BEGIN IMMEDIATE: the write lock comes first, so
    # what they read cannot change before they write, and waiting for it honours the busy timeout.
    conn.exec_driver_sql(conn.get_execution_options().get(BEGIN_OPTION, "BEGIN"))


def setup_lock_path(database: Path) -> Path:
    """The sidecar file locked while a SQLite database is switched to WAL and migrated. It is never
    deleted: removing a lock file while another process waits on it would let two processes in at once."""
    return database.with_name(database.name + "-setup.lock")


@contextlib.contextmanager
def sqlite_setup_lock(database: Path, *, exclusive: bool, timeout_s: float | None = None) -> Iterator[None]:
    """Hold the setup lock of a SQLite file: exclusive to set it up or migrate it, shared to check that it
    needs nothing. An OS lock (flock) on its own open file, so threads of one process exclude each other
    too, and a crashed holder releases it with its last file descriptor."""
    fd = _open_lock_file(setup_lock_path(database))
    try:
        wait = SQLITE_SETUP_LOCK_TIMEOUT_S if timeout_s is None else timeout_s
        _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, wait, database)
        yield
    finally:
        os.close(fd)  # releases the lock


def _open_lock_file(path: Path) -> int:
    # O_NOFOLLOW: a symlink planted in the folder must not make us create or lock a file elsewhere.
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as e:
        storage = from_os_error(e, path.parent, writing=True)  # a full or read-only data folder
        raise storage or StoreError("lock_file_cannot_open", path=str(path), reason=str(e.strerror)) from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise StoreError("lock_file_not_regular", path=str(path))
    return fd


def _acquire(fd: int, mode: int, timeout_s: float, database: Path) -> None:
    # flock has no timeout of its own: poll, with short sleeps first (setting up a new file is quick).
    deadline = time.monotonic() + timeout_s
    pause = 0.002
    while True:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise _setup_lock_timeout(database, timeout_s) from None
            time.sleep(pause)
            pause = min(pause * 2, _LOCK_POLL_MAX_S)


def _setup_lock_timeout(database: Path, timeout_s: float) -> StoreError:
    return StoreError("setup_lock_timeout", database=str(database), timeout_s=timeout_s)


def libpq_url(url: URL) -> tuple[str, str | None]:
    """A libpq connection string for pg_dump/pg_restore and the password kept apart (for PGPASSWORD),
    so that it never appears in a process list."""
    plain = url.set(drivername="postgresql", password=None)
    password = url.password
    return plain.render_as_string(hide_password=False), (str(password) if password is not None else None)
