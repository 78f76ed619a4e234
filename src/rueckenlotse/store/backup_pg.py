"""Backup and restore of a PostgreSQL database: pg_dump's custom archive, signed like every backup.

The restore never executes SQL from the archive, not even as a role without privileges: a table's
definition in an archive is free text, and whatever it ran would run as the application's role, which owns
the live database (and so could alter or drop it). Instead:

1. the HMAC and the manifest are checked on a private copy (``backup_manifest``);
2. the migrations build the schema of the backup's revision in a scratch schema of the same database;
3. the archive's table of contents must name exactly that schema's tables, constraints and indexes: an
   archive with anything else (a function, a view or materialized view, a trigger, an extension, a type …)
   or with something missing is refused;
4. only the table data is read, table by table (``pg_restore --data-only --use-list`` writing to stdout,
   never to a database), and loaded with our own COPY statements into the scratch schema, whose foreign
   keys and checks apply; the columns must be the schema's;
5. the scratch schema's catalog must still be what the migrations made, its rows those of the manifest;
   migrated to the newest revision, every stored document must be valid;
6. one transaction then empties the live tables and copies the rows over (sign-ins excepted), so that other
   sessions see either the old data or the new.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Connection, Engine, create_engine, inspect, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from ..private_files import private_output
from .backup import (
    LISTED,
    no_progress,
    not_a_backup,
    private_workspace,
    require_same_schema,
    require_sound_content,
)
from .backup_manifest import Manifest, new_manifest, require_rows_as_listed, verified_copy, write_manifest
from .engine import libpq_url
from .errors import StoreError, Term
from .migrate import migrate
from .records import ProgressCallback
from .schema import WebSession, metadata
from .schema_compare import Description, describe_postgresql

PG_DUMP_MAGIC = b"PGDMP"
SCRATCH_PREFIX = "rueckenlotse_restore_"
# pg_advisory_lock key of restores (any fixed 64-bit number; "RLrestor" in ASCII).
RESTORE_LOCK_KEY = 0x524C726573746F72


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


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _tool_failed(command: list[str], stderr: str) -> StoreError:
    tail = stderr.strip().splitlines()[-10:]
    details = "\n".join(line for line in tail if "error" in line.lower()) or "\n".join(tail)
    return StoreError("tool_failed", name=Path(command[0]).name, details=details)


# --- backup -------------------------------------------------------------------------------------------


def pg_backup(engine: Engine, target: Path, key: bytes, progress: ProgressCallback = no_progress) -> Manifest:
    """pg_dump in its custom format, in the snapshot in which the manifest's rows are counted: the rows
    listed are exactly the rows in the archive, however many others write meanwhile."""
    tool = _tool("pg_dump")
    conninfo, env = _pg_env(engine)
    target = target.absolute()
    with engine.connect() as conn:
        conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
            rows = _row_counts(conn, inspect(conn).get_table_names())
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            with private_output(target) as part:
                command = [tool, "--format=custom", "--no-owner", "--no-privileges", "--verbose"]
                command += ["--snapshot", snapshot, "--file", str(part), "--dbname", conninfo]
                _dump(command, env, len(rows), progress)
                manifest = new_manifest("postgresql", str(revision), rows, part)
                write_manifest(part, target, key, manifest)
    return manifest


def _row_counts(conn: Connection, tables: list[str]) -> dict[str, int]:
    return {
        name: int(conn.execute(text(f"SELECT count(*) FROM {_quoted(name)}")).scalar_one()) for name in tables
    }


def _dump(command: list[str], env: dict[str, str], tables: int, progress: ProgressCallback) -> None:
    """Run pg_dump, counting the tables it has dumped from its --verbose messages."""
    tail: list[str] = []
    done = 0
    progress(0, tables)
    with subprocess.Popen(
        command,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # The archive is private from its first byte, also when a kill leaves it in its private folder.
        umask=0o077,
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail = [*tail[-19:], line]
            if "dumping contents of table" in line:
                done += 1
                progress(done, max(tables, done))
        code = proc.wait()
    if code != 0:
        raise _tool_failed(command, "".join(tail))
    progress(max(tables, done), max(tables, done))


# --- restore: the archive's table of contents ---------------------------------------------------------

_TOC_LINE = re.compile(r"^\d+; \d+ \d+ (?P<rest>.+)$")
# What a backup of ours holds besides the public schema's entries; longest first where one starts another.
_KINDS = ("TABLE DATA", "FK CONSTRAINT", "CONSTRAINT", "TABLE", "INDEX")
# pg_dump may name the public schema itself (its owner or comment changed); never restored, so harmless.
_HARMLESS = frozenset({"SCHEMA - public", "COMMENT - SCHEMA public"})


@dataclass(frozen=True)
class TocEntry:
    line: str
    kind: str
    namespace: str
    tag: str


def _archive_toc(archive: Archive) -> tuple[list[TocEntry], list[str]]:
    """The archive's entries of the kinds a backup holds, and every other entry (as pg_restore lists it,
    without its owner). Reading the list runs nothing."""
    command = [archive.tool, "--list", str(archive.path)]
    listing = subprocess.run(command, env=archive.env, capture_output=True, text=True, check=False)
    if listing.returncode != 0:
        raise not_a_backup(archive.shown, listing.stderr.strip() or "pg_restore --list")
    entries: list[TocEntry] = []
    others: list[str] = []
    for line in listing.stdout.splitlines():
        match = _TOC_LINE.match(line)
        if match is None:
            continue  # comments (;) and blank lines
        described = match["rest"].rsplit(" ", 1)[0]  # the owner last
        entry = _entry(line, described)
        if entry is not None:
            entries.append(entry)
        elif described not in _HARMLESS:
            others.append(described)
    return entries, others


def _entry(line: str, described: str) -> TocEntry | None:
    for kind in _KINDS:
        if described.startswith(kind + " "):
            namespace, _, tag = described[len(kind) + 1 :].partition(" ")
            return TocEntry(line, kind, namespace, tag)
    return None


def _expected_toc(description: Description) -> set[tuple[str, str]]:
    """The entries pg_dump writes for the schema described (validated checks stay inside the TABLE)."""
    relations = {
        key.removeprefix("relation "): value.split(" ", 1)[0]
        for key, value in description.items()
        if key.startswith("relation ")
    }
    expected = {
        (kind, name)
        for name, relkind in relations.items()
        if relkind == "r"
        for kind in ("TABLE", "TABLE DATA")
    }
    backing: set[str] = set()
    for key, value in description.items():
        if not key.startswith("constraint "):
            continue
        table, _, name = key.removeprefix("constraint ").partition(".")
        if value[0] in "pux":
            expected.add(("CONSTRAINT", f"{table} {name}"))
            backing.add(name)  # the index of a key or unique constraint bears its name
        elif value[0] == "f":
            expected.add(("FK CONSTRAINT", f"{table} {name}"))
    expected |= {
        ("INDEX", name) for name, relkind in relations.items() if relkind == "i" and name not in backing
    }
    return expected


def _require_toc_as_migrated(
    entries: list[TocEntry], others: list[str], description: Description, path: Path, revision: str
) -> dict[str, TocEntry]:
    """Refuse an archive that holds anything beyond the migrations' schema, or misses part of it; return
    the TABLE DATA entry of each table."""
    found = [(entry.kind, entry.tag) for entry in entries]
    namespaces = {entry.namespace for entry in entries}
    expected = _expected_toc(description)
    extra = [f"+ {described}" for described in others]
    if len(namespaces) > 1:
        extra += [
            f"+ {entry.kind} {entry.namespace} {entry.tag}"
            for entry in entries
            if entry.namespace != entries[0].namespace
        ]
    extra += [f"+ {kind} {tag}" for kind, tag in sorted(set(found) - expected)]
    extra += [f"+ {kind} {tag} (2×)" for kind, tag in sorted(set(found)) if found.count((kind, tag)) > 1]
    missing = [f"− {kind} {tag}" for kind, tag in sorted(expected - set(found))]
    if extra or missing:
        listed = extra + missing
        shown = "; ".join(listed[:LISTED]) + ("; …" if len(listed) > LISTED else "")
        raise StoreError("backup_schema_differs", path=str(path), revision=revision, differences=shown)
    return {entry.tag: entry for entry in entries if entry.kind == "TABLE DATA"}


# --- restore: the data, into a scratch schema ---------------------------------------------------------

_IDENT = rb'"(?:[^"]|"")+"|[a-z_][a-z0-9_$]*'
_COPY = re.compile(
    rb"COPY (?P<ns>" + _IDENT + rb")\.(?P<table>" + _IDENT + rb") \((?P<columns>.*)\) FROM stdin;\n"
)
_COLUMNS = re.compile(rb"(?:" + _IDENT + rb")(?:, (?:" + _IDENT + rb"))*")
_ENCODING = re.compile(rb"SET client_encoding = '(?P<name>[A-Za-z0-9_]+)';\n")
# What pg_restore writes around the data: comments, settings, psql's \restrict. Skipped, never executed.
_SKIPPED = re.compile(
    rb"(--[^\n]*|SET [a-z_]+ = [^\n]*;|SELECT pg_catalog\.set_config\('search_path', '', false\);"
    rb"|\\(?:un)?restrict [A-Za-z0-9]+|)\n?"
)
_END_OF_DATA = b"\\.\n"


def _column_names(raw: bytes) -> list[str]:
    """The column list of a COPY statement, each name once; empty when it is no plain list of names."""
    if _COLUMNS.fullmatch(raw) is None:
        return []
    names = [_identifier(name) for name in re.findall(_IDENT, raw)]
    return names if len(set(names)) == len(names) else []


def _identifier(raw: bytes) -> str:
    name = raw.decode("utf-8")
    return name[1:-1].replace('""', '"') if name.startswith('"') else name


@contextmanager
def _scratch_schema(engine: Engine) -> Iterator[tuple[str, Engine]]:
    """A new schema in the live database and an engine whose connections work in it (search_path), dropped
    with everything in it afterwards. In the same database, so that the final copy stays in the server."""
    with _one_restore_at_a_time(engine):
        _drop_left_behind(engine)
        schema = SCRATCH_PREFIX + secrets.token_hex(6)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"CREATE SCHEMA {_quoted(schema)}"))
        except DBAPIError as e:
            raise StoreError("restore_failed", detail=str(e.orig).strip()) from None
        scratch = create_engine(
            engine.url, poolclass=NullPool, connect_args={"options": f"-c search_path={schema}"}
        )
        try:
            yield schema, scratch
        finally:
            scratch.dispose()
            with engine.begin() as conn:
                conn.execute(text(f"DROP SCHEMA IF EXISTS {_quoted(schema)} CASCADE"))


@contextmanager
def _one_restore_at_a_time(engine: Engine) -> Iterator[None]:
    """A session-level advisory lock for the whole restore: a second restore waits. The server releases it
    when the connection ends, so a killed restore never keeps it."""
    with engine.connect() as guard:
        guard.execute(text("SELECT pg_advisory_lock(:key)"), {"key": RESTORE_LOCK_KEY})
        guard.commit()
        try:
            yield
        finally:
            guard.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": RESTORE_LOCK_KEY})
            guard.commit()


def _drop_left_behind(engine: Engine) -> None:
    """Scratch schemas of restores killed before they could drop them: they hold a copy of a backup's
    rows (an erased person's too), so they go before anything else. Safe under the lock: no other restore
    is using one."""
    with engine.begin() as conn:
        names = conn.scalars(
            text("SELECT nspname FROM pg_namespace WHERE starts_with(nspname, :prefix)"),
            {"prefix": SCRATCH_PREFIX},
        ).all()
        for name in names:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {_quoted(name)} CASCADE"))


def _tables(conn: Connection, schema: str) -> dict[str, list[str]]:
    """The scratch schema's tables with their columns, parents before children (foreign keys)."""
    columns: dict[str, list[str]] = {}
    query = """SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
               WHERE c.relnamespace = to_regnamespace(:s) AND c.relkind = 'r' AND a.attnum > 0
                 AND NOT a.attisdropped ORDER BY c.relname, a.attnum"""
    for table, column in conn.execute(text(query), {"s": _quoted(schema)}):
        columns.setdefault(table, []).append(column)
    references = """SELECT c.relname, p.relname FROM pg_constraint k
                    JOIN pg_class c ON c.oid = k.conrelid JOIN pg_class p ON p.oid = k.confrelid
                    WHERE k.contype = 'f' AND k.connamespace = to_regnamespace(:s)"""
    parents: dict[str, set[str]] = {table: set() for table in columns}
    for child, parent in conn.execute(text(references), {"s": _quoted(schema)}):
        if child != parent:
            parents[child].add(parent)
    ordered: list[str] = []
    while parents:
        ready = sorted(table for table, needs in parents.items() if not needs - set(ordered))
        if not ready:
            raise StoreError("restore_failed", detail="cyclic foreign keys: " + ", ".join(sorted(parents)))
        ordered += ready
        for table in ready:
            del parents[table]
    return {table: columns[table] for table in ordered}


def _load(
    archive: Archive,
    data: dict[str, TocEntry],
    scratch: Engine,
    schema: str,
    folder: Path,
    progress: ProgressCallback,
) -> None:
    """Every table's rows from the archive into the scratch schema, parents first, in one transaction.
    A row the schema refuses (a dangling reference, a failed check, a wrong type) refuses the backup."""
    import psycopg

    try:
        with scratch.begin() as conn:
            tables = _tables(conn, schema)
            # The migrations wrote their revision; the archive's own row replaces it (and must match).
            conn.execute(text("DELETE FROM alembic_version"))
            raw: Any = conn.connection.driver_connection
            progress(0, len(tables))
            for done, (table, columns) in enumerate(tables.items(), start=1):
                _load_table(archive, data[table], raw, schema, columns, folder)
                progress(done, len(tables))
    except psycopg.Error as e:
        raise StoreError(
            "backup_content_invalid", path=str(archive.shown), listed=str(e).strip()[:500]
        ) from None


def _load_table(
    archive: Archive, entry: TocEntry, raw: Any, schema: str, columns: list[str], folder: Path
) -> None:
    listing = folder / "use-list"
    listing.write_text(entry.line + "\n", encoding="utf-8")
    command = [archive.tool, "--data-only", "--no-owner", "--no-privileges", f"--use-list={listing}"]
    command += ["--file=-", str(archive.path)]
    # stderr into a file: a pipe nobody reads while stdout is read could fill up and stall the tool.
    with (folder / "pg_restore.err").open("w+", encoding="utf-8", errors="replace") as errors:
        with subprocess.Popen(
            command, env=archive.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errors
        ) as proc:
            assert proc.stdout is not None
            try:
                _copy_table(proc.stdout, raw, schema, entry.tag, columns, archive.shown)
            finally:
                proc.stdout.close()
                code = proc.wait()
        if code != 0:
            errors.seek(0)
            raise _tool_failed(command, errors.read())


def _copy_table(script: IO[bytes], raw: Any, schema: str, table: str, columns: list[str], path: Path) -> None:
    """Read pg_restore's script of one table's data: everything but the one COPY block is skipped (never
    executed), the block's rows go into our own COPY statement. Anything else in the script is refused."""
    copies = 0
    lines = iter(script)
    for line in lines:
        encoding = _ENCODING.fullmatch(line)
        if encoding is not None:
            raw.execute("SELECT set_config('client_encoding', %s, true)", [encoding["name"].decode()])
            continue
        if _SKIPPED.fullmatch(line):
            continue
        copy = _COPY.fullmatch(line)
        if copy is None or copies:
            raise not_a_backup(path, Term("domain.backup_detail.unexpected_statement"))
        named = _column_names(copy["columns"])
        if _identifier(copy["table"]) != table or sorted(named) != sorted(columns):
            raise StoreError(
                "backup_columns_differ",
                path=str(path),
                table=table,
                found=", ".join(named),
                expected=", ".join(columns),
            )
        statement = f"COPY {_quoted(schema)}.{_quoted(table)} ({', '.join(map(_quoted, named))}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as target:
            for row in lines:
                if row == _END_OF_DATA:
                    break
                target.write(row)
            else:
                raise not_a_backup(path, Term("domain.backup_detail.truncated"))
        copies += 1
    if copies != 1:
        raise not_a_backup(path, Term("domain.backup_detail.truncated"))


# --- restore: the whole ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Archive:
    """The private, verified copy of a backup and how to read it."""

    tool: str
    path: Path
    env: dict[str, str]
    shown: Path  # the backup as the user named it, for messages


def pg_restore(
    engine: Engine, source_path: Path, key: bytes, progress: ProgressCallback = no_progress
) -> dict[str, int]:
    """Replace the store's rows by a backup's, once every check has passed (module docstring); returns the
    rows per table restored. A refused backup leaves the database as it was."""
    tool = _tool("pg_restore")
    _, env = _pg_env(engine)
    with private_workspace(None) as folder:
        manifest, copy = verified_copy(source_path, key, folder, "postgresql", progress)
        with copy.open("rb") as f:
            if f.read(len(PG_DUMP_MAGIC)) != PG_DUMP_MAGIC:
                raise not_a_backup(source_path, Term("domain.backup_detail.not_pg_dump"))
        archive = Archive(tool, copy, env, source_path)
        with _scratch_schema(engine) as (schema, scratch):
            _prepare_candidate(archive, manifest, scratch, schema, folder, progress)
            return _swap(engine, schema)


def _prepare_candidate(
    archive: Archive,
    manifest: Manifest,
    scratch: Engine,
    schema: str,
    folder: Path,
    progress: ProgressCallback,
) -> None:
    """Steps 2 to 5 of the module docstring, all in the scratch schema."""
    entries, others = _archive_toc(archive)
    migrate(scratch, manifest.revision)
    with scratch.connect() as conn:
        expected = describe_postgresql(conn, schema)
    data = _require_toc_as_migrated(entries, others, expected, archive.shown, manifest.revision)
    _load(archive, data, scratch, schema, folder, progress)
    with scratch.connect() as conn:
        require_same_schema(expected, describe_postgresql(conn, schema), archive.shown, manifest.revision)
        require_rows_as_listed(manifest, _row_counts(conn, list(_tables(conn, schema))), archive.shown)
        if conn.execute(text("SELECT version_num FROM alembic_version")).scalar() != manifest.revision:
            raise not_a_backup(archive.shown, Term("domain.backup_detail.revision_mismatch"))
    try:
        migrate(scratch)
    except DBAPIError as e:
        raise StoreError(
            "backup_content_invalid", path=str(archive.shown), listed=str(e.orig).strip()
        ) from None
    require_sound_content(scratch, archive.shown)


def _swap(engine: Engine, schema: str) -> dict[str, int]:
    """In one transaction: empty the live tables, copy the scratch schema's rows over (not the sign-ins),
    and check that every table holds what the scratch one does."""
    counts: dict[str, int] = {}
    try:
        with engine.begin() as conn:
            conn.execute(text("TRUNCATE " + ", ".join(_quoted(t.name) for t in metadata.sorted_tables)))
            for table in metadata.sorted_tables:
                if table.name == WebSession.__tablename__:
                    continue  # everyone signs in again
                columns = ", ".join(_quoted(column.name) for column in table.columns)
                source = f"{_quoted(schema)}.{_quoted(table.name)}"
                conn.execute(
                    text(f"INSERT INTO {_quoted(table.name)} ({columns}) SELECT {columns} FROM {source}")
                )
            conn.execute(text(f"DELETE FROM {_quoted(schema)}.{_quoted(WebSession.__tablename__)}"))
            counts = _row_counts(conn, [table.name for table in metadata.sorted_tables])
            scratch_counts = {
                name: int(
                    conn.execute(text(f"SELECT count(*) FROM {_quoted(schema)}.{_quoted(name)}")).scalar_one()
                )
                for name in counts
            }
            if counts != scratch_counts:
                raise StoreError("restore_failed", detail=f"{counts} ≠ {scratch_counts}")
    except DBAPIError as e:
        raise StoreError("restore_failed", detail=str(e.orig).strip()) from None
    return counts
