"""A restore brings back only what the migrations made, and only from a backup signed with our key.

Each crafted backup here is signed with the right key, as a backup made by `rueckenlotse backup` of a
database someone had tampered with would be: the HMAC proves where a backup comes from, not that its
content is harmless. So the restore compares the backup's schema with the one the migrations make, checks
its rows and documents in a private copy, and refuses anything else, leaving the live database as it was.
"""

from __future__ import annotations

import json
import sqlite3
import stat
import subprocess
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from rueckenlotse.settings import BACKUP_KEY_FILE, Settings
from rueckenlotse.store import Store, StoreError
from rueckenlotse.store.backup_manifest import manifest_path
from rueckenlotse.store.migrate import head_revision, migrate
from rueckenlotse.store.schema import metadata
from rueckenlotse.store.schema_compare import describe_postgresql, describe_sqlite

from .. import needs
from .conftest import BACKUP_KEY, fresh_postgres_database, populate, snapshot
from .test_migrations import revisions

State = tuple[dict[str, list[tuple[Any, ...]]], dict[str, str]]


def backup_path(tmp_path: Path, store: Store) -> Path:
    return tmp_path / ("backup.db" if store.is_sqlite else "backup.dump")


def state(store: Store) -> State:
    """Every row and every schema object of the live database (for PostgreSQL also the other schemas, so
    that a scratch schema left behind shows)."""
    with store.engine.connect() as conn:
        if store.is_sqlite:
            raw = conn.connection.driver_connection
            assert isinstance(raw, sqlite3.Connection)
            schema = describe_sqlite(raw)
        else:
            schema = describe_postgresql(conn, "public")
    return snapshot(store.engine), schema


def execute(store: Store, *statements: str) -> None:
    with store.engine.begin() as conn:
        for statement in statements:
            conn.exec_driver_sql(statement)


def refused(store: Store, path: Path, code: str | set[str]) -> StoreError:
    """Restore ``path`` into ``store``, expect the refusal ``code``, and check that nothing changed and
    the store still works."""
    before = state(store)
    with pytest.raises(StoreError) as caught:
        store.restore(path, BACKUP_KEY)
    assert caught.value.code in ({code} if isinstance(code, str) else code), caught.value.message("en")
    assert state(store) == before
    assert "Nichts wurde verändert" in caught.value.message("de") or caught.value.code == "database_newer"
    store.get_person(store.create_person("Nach dem Fehler").id)  # still works
    return caught.value


@pytest.fixture
def target(new_db_url: Callable[[], str]) -> Iterator[Store]:
    """A second database with its own rows: the one the crafted backups are restored into."""
    with Store.open(new_db_url()) as other:
        populate(other, "Ben", entries=3)
        yield other


# --- the schema: only what the migrations make ----------------------------------------------------------

# Planted in the source database before it is backed up: per kind, the statements for SQLite and for
# PostgreSQL. The trigger is the reviewer's case: every new intake of one practice copied elsewhere.
PLANTED: dict[str, tuple[list[str], list[str]]] = {
    "trigger": (
        [
            "CREATE TRIGGER copy_intakes AFTER INSERT ON practice_intakes BEGIN "
            "INSERT INTO practice_intakes (id, practice_id, person_id, assessment_id, submitted_at, triage, "
            "triage_rank) SELECT lower(hex(randomblob(16))), 'other', NEW.person_id, NEW.assessment_id, "
            "NEW.submitted_at, NEW.triage, NEW.triage_rank WHERE NEW.practice_id <> 'other'; END"
        ],
        [
            "CREATE FUNCTION copy_intakes() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.practice_id <> 'other' THEN INSERT INTO practice_intakes (id, practice_id, person_id, "
            "assessment_id, submitted_at, triage, triage_rank) VALUES (md5(random()::text), 'other', "
            "NEW.person_id, NEW.assessment_id, NEW.submitted_at, NEW.triage, NEW.triage_rank); END IF; "
            "RETURN NEW; END $$",
            "CREATE TRIGGER copy_intakes AFTER INSERT ON practice_intakes "
            "FOR EACH ROW EXECUTE FUNCTION copy_intakes()",
        ],
    ),
    "view": (["CREATE VIEW everyone AS SELECT * FROM persons"],) * 2,
    "table": (["CREATE TABLE notes (x INTEGER)"],) * 2,
    "column": (["ALTER TABLE persons ADD COLUMN secret TEXT"],) * 2,
    "missing index": (["DROP INDEX ix_assessments_triage"],) * 2,
    "weaker check": (
        [
            # SQLite cannot drop a check; the table made anew without it, rows and all.
            "ALTER TABLE diary_entries RENAME TO old_entries",
            "CREATE TABLE diary_entries (id VARCHAR(32) NOT NULL, person_id VARCHAR(32) NOT NULL, "
            "recorded_at DATETIME NOT NULL, created_at DATETIME NOT NULL, entry_json JSON NOT NULL, "
            "max_pain INTEGER NOT NULL, idempotency_key VARCHAR(64), "
            "CONSTRAINT pk_diary_entries PRIMARY KEY (id), "
            "CONSTRAINT fk_diary_entries_person_id_persons FOREIGN KEY(person_id) REFERENCES persons (id) "
            "ON DELETE CASCADE)",
            "INSERT INTO diary_entries SELECT * FROM old_entries",
            "DROP TABLE old_entries",
            "CREATE INDEX ix_diary_entries_person_id_recorded_at ON diary_entries (person_id, recorded_at)",
            "CREATE UNIQUE INDEX ix_diary_entries_person_id_idempotency_key "
            "ON diary_entries (person_id, idempotency_key)",
        ],
        ["ALTER TABLE diary_entries DROP CONSTRAINT ck_diary_entries_ck_diary_entries_max_pain"],
    ),
}


@pytest.mark.parametrize("kind", sorted(PLANTED))
def test_a_backup_with_a_schema_of_its_own_is_refused_and_nothing_changes(
    store: Store, target: Store, tmp_path: Path, kind: str
) -> None:
    populate(store, "Anna")
    sqlite_sql, pg_sql = PLANTED[kind]
    execute(store, *(sqlite_sql if store.is_sqlite else pg_sql))
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)  # signed with the right key: the check is the schema's, not the HMAC's
    if kind == "weaker check" and not store.is_sqlite:
        # pg_dump keeps a validated check inside the table's definition, which the restore never runs:
        # the rows go into the migrations' own table, with its check.
        schema_before = state(target)[1]
        target.restore(path, BACKUP_KEY)
        assert state(target)[1] == schema_before
        return
    error = refused(target, path, {"backup_schema_differs", "backup_columns_differ"})
    if kind == "trigger":
        assert "copy_intakes" in error.message("en")


def test_the_schema_is_compared_at_the_backups_own_revision(
    store: Store, new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    """A backup of an older revision is compared with what the migrations make at that revision (not at
    the newest), restored, and migrated to the newest."""
    populate(store, "Anna")
    older = revisions()[revisions().index("0005") - 1]  # before the audit trail's table came
    migrate(store.engine, older)  # as if made by the previous version of the program
    path = backup_path(tmp_path, store)
    manifest = store.backup(path, BACKUP_KEY)
    assert manifest.revision == older and "audit_events" not in manifest.rows
    with Store.open(new_db_url()) as other:
        counts = other.restore(path, BACKUP_KEY)
        assert counts["persons"] == manifest.rows["persons"] > 0
        assert other.integrity_check() == []
        with other.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT version_num FROM alembic_version").scalar() == head_revision()


def test_sqlite_planner_statistics_do_not_count_as_schema(sqlite_store: Store, tmp_path: Path) -> None:
    """ANALYZE (or PRAGMA optimize), which an operator may run, adds sqlite_stat1: it changes no result."""
    populate(sqlite_store, "Anna")
    execute(sqlite_store, "ANALYZE")
    path = backup_path(tmp_path, sqlite_store)
    assert "sqlite_stat1" in sqlite_store.backup(path, BACKUP_KEY).rows
    with Store.open(f"sqlite:///{tmp_path / 'other' / 'db.sqlite'}") as other:
        assert other.restore(path, BACKUP_KEY)["persons"] == 1


# --- PostgreSQL: nothing of the archive runs -----------------------------------------------------------


@pytest.fixture
def app_role_url() -> Iterator[str]:
    """A database owned by a role of its own that may log in and nothing else (not a superuser, cannot
    create databases or roles): how the application should connect."""
    server = make_url(needs.postgres_url())
    role = f"rl_app_{uuid.uuid4().hex[:12]}"
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE ROLE "{role}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE')
        conn.execute(f'CREATE DATABASE "{role}" OWNER "{role}"')
    try:
        yield server.set(username=role, password=None, database=role).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{role}" WITH (FORCE)')
            conn.execute(f'DROP ROLE IF EXISTS "{role}"')


def payload(source_db: str, marker_file: Path) -> list[str]:
    """A function that, anywhere but in the database it was planted in, creates a table and (run by a
    superuser) a file through a shell command; a materialized view whose refresh runs it."""
    return [
        f"""CREATE FUNCTION rl_payload() RETURNS int LANGUAGE plpgsql AS $$
        BEGIN
          IF current_database() <> '{source_db}' THEN
            CREATE TABLE public.rl_marker (x int);
            IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
              COPY (SELECT 1) TO PROGRAM 'touch {marker_file}';
            END IF;
          END IF;
          RETURN 1;
        END $$""",
        "CREATE MATERIALIZED VIEW rl_view AS SELECT rl_payload() AS x",
    ]


def marker_tables(url: str) -> list[str]:
    with psycopg.connect(make_url(url).set(drivername="postgresql").render_as_string(False)) as conn:
        return [row[0] for row in conn.execute("SELECT relname FROM pg_class WHERE relname = 'rl_marker'")]


@pytest.mark.parametrize("connect_as", ["app_role", "superuser"])
def test_a_crafted_archive_is_refused_and_its_function_never_runs(
    postgres_store: Store, app_role_url: str, tmp_path: Path, connect_as: str
) -> None:
    source = postgres_store
    populate(source, "Anna")
    source_db = source.engine.url.database
    assert source_db is not None
    # Where the server's own user (postgres) may write, should the function ever run.
    marker_file = Path("/tmp") / f"rl-the-function-ran-{uuid.uuid4().hex}"
    execute(source, *payload(source_db, marker_file))
    path = tmp_path / "crafted.dump"
    source.backup(path, BACKUP_KEY)

    # The archive is armed: restored the plain way (as the old code did, as a superuser), it runs.
    with fresh_postgres_database() as plain:
        tool = subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--dbname",
                make_url(plain).render_as_string(False),
            ]
            + [str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert tool.returncode == 0, tool.stderr
        assert marker_tables(plain) == ["rl_marker"] and marker_file.exists()
    marker_file.unlink()

    try:
        with fresh_postgres_database() as superuser_url:
            url = app_role_url if connect_as == "app_role" else superuser_url
            with Store.open(url) as target:
                populate(target, "Ben")
                error = refused(target, path, "backup_schema_differs")
            message = error.message("en")
            assert "FUNCTION public rl_payload()" in message and "MATERIALIZED VIEW public rl_view" in message
            assert not marker_file.exists()
            assert marker_tables(url) == []
    finally:
        marker_file.unlink(missing_ok=True)


def test_the_application_role_restores_a_good_backup(
    postgres_store: Store, app_role_url: str, tmp_path: Path
) -> None:
    """Without superuser rights nor CREATEDB: the role needs to own its database (a scratch schema in it)."""
    populate(postgres_store, "Anna", entries=7)
    expected = snapshot(postgres_store.engine)
    path = tmp_path / "good.dump"
    postgres_store.backup(path, BACKUP_KEY)
    with Store.open(app_role_url) as target:
        populate(target, "Ben")
        assert target.restore(path, BACKUP_KEY)["diary_entries"] == 7
        assert snapshot(target.engine) == expected
        with target.engine.connect() as conn:
            schemas = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'rueckenlotse%'")
            )
            assert schemas.all() == []


# --- the content: checked completely before anything is replaced ---------------------------------------


def plant_dangling_reference(store: Store) -> None:
    """A diary entry of a person who does not exist (foreign keys switched off to plant it)."""
    copy = (
        "INSERT INTO diary_entries (id, person_id, recorded_at, created_at, entry_json, max_pain) "
        "SELECT 'dangling000000000000000000000000', 'nobody', recorded_at, created_at, entry_json, "
        "max_pain FROM diary_entries LIMIT 1"
    )
    if store.is_sqlite:
        database = store.engine.url.database
        assert database is not None
        with closing(sqlite3.connect(database)) as db:  # foreign keys are off by default
            db.execute(copy)
            db.commit()
    else:  # a superuser may switch the foreign-key triggers off
        execute(store, "ALTER TABLE diary_entries DISABLE TRIGGER ALL", copy)
        execute(store, "ALTER TABLE diary_entries ENABLE TRIGGER ALL")


def test_a_dangling_reference_is_refused_the_store_keeps_working_and_a_good_backup_restores(
    store: Store, target: Store, tmp_path: Path
) -> None:
    populate(store, "Anna")
    good = tmp_path / ("good-" + backup_path(tmp_path, store).name)
    store.backup(good, BACKUP_KEY)
    plant_dangling_reference(store)
    bad = backup_path(tmp_path, store)
    store.backup(bad, BACKUP_KEY)
    error = refused(target, bad, "backup_content_invalid")
    assert "diary_entries" in error.message("en")
    counts = target.restore(good, BACKUP_KEY)
    assert counts["persons"] == 1 and counts["diary_entries"] == 5
    assert target.integrity_check() == []
    assert [p.display_name for p in target.list_persons()] == ["Anna"]


def test_a_document_that_is_no_longer_valid_is_refused(store: Store, target: Store, tmp_path: Path) -> None:
    populate(store, "Anna")
    execute(store, 'UPDATE diary_entries SET entry_json = \'{"pain": "sehr"}\'')
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    error = refused(target, path, "backup_content_invalid")
    assert "invalid entry" in error.message("en")


# --- the signature and the manifest: checked before anything is read --------------------------------------


def flip_a_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def edit(path: Path) -> None:
        document = json.loads(manifest_path(path).read_text(encoding="utf-8"))
        change(document)
        manifest_path(path).write_text(json.dumps(document), encoding="utf-8")

    return edit


TAMPERED: dict[str, tuple[Callable[[Path], None], str]] = {
    "a byte of the backup": (flip_a_byte, "backup_signature_mismatch"),
    "the backup cut short": (lambda p: p.write_bytes(p.read_bytes()[:-100]), "backup_signature_mismatch"),
    "a row count": (edit_manifest(lambda d: d["rows"].update(persons=99)), "backup_signature_mismatch"),
    "the revision": (edit_manifest(lambda d: d.update(revision="0001")), "backup_signature_mismatch"),
    "the HMAC": (edit_manifest(lambda d: d.update(hmac_sha256="0" * 64)), "backup_signature_mismatch"),
    "no HMAC": (edit_manifest(lambda d: d.pop("hmac_sha256")), "backup_manifest_invalid"),
    "an unknown field": (edit_manifest(lambda d: d.update(extra=1)), "backup_manifest_invalid"),
    "a newer format": (edit_manifest(lambda d: d.update(format_version=2)), "backup_format_newer"),
    "the manifest removed": (lambda p: manifest_path(p).unlink(), "backup_manifest_missing"),
    "the manifest not JSON": (lambda p: manifest_path(p).write_text("{"), "backup_manifest_invalid"),
}


@pytest.mark.parametrize("change", sorted(TAMPERED))
def test_a_tampered_backup_is_refused_and_nothing_changes(
    store: Store, target: Store, tmp_path: Path, change: str
) -> None:
    populate(store, "Anna")
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    tamper, code = TAMPERED[change]
    tamper(path)
    refused(target, path, code)


def test_a_backup_made_with_another_key_is_refused(store: Store, target: Store, tmp_path: Path) -> None:
    populate(store, "Anna")
    path = backup_path(tmp_path, store)
    store.backup(path, b"another-key-of-32-characters-xyz")
    error = refused(target, path, "backup_signature_mismatch")
    assert "RUECKENLOTSE_BACKUP_KEY" in error.message("de")


def test_a_backup_of_a_newer_revision_is_refused(store: Store, target: Store, tmp_path: Path) -> None:
    populate(store, "Anna")
    execute(store, "UPDATE alembic_version SET version_num = '9999'")
    path = backup_path(tmp_path, store)
    assert store.backup(path, BACKUP_KEY).revision == "9999"
    error = refused(target, path, "database_newer")
    assert "9999" in error.message("de")


def test_a_backup_of_the_other_database_kind_is_refused(
    sqlite_store: Store, postgres_store: Store, tmp_path: Path
) -> None:
    for source, destination in ((sqlite_store, postgres_store), (postgres_store, sqlite_store)):
        populate(source, "Anna")
        path = backup_path(tmp_path, source)
        source.backup(path, BACKUP_KEY)
        refused(destination, path, "backup_wrong_database")


# --- a good backup ---------------------------------------------------------------------------------------


def test_a_good_backup_round_trip_reports_the_rows_and_keeps_both_files_private(
    store: Store, target: Store, tmp_path: Path
) -> None:
    populate(store, "Anna", entries=4)
    populate(store, "Carla", entries=2)
    expected = snapshot(store.engine)
    path = backup_path(tmp_path, store)
    store.backup(path, BACKUP_KEY)
    for written in (path, manifest_path(path)):
        assert stat.S_IMODE(written.stat().st_mode) == 0o600, written
    document = json.loads(manifest_path(path).read_text(encoding="utf-8"))
    assert document["format_version"] == 1 and document["revision"] == head_revision()
    assert document["database"] == store.engine.dialect.name and len(document["hmac_sha256"]) == 64
    assert document["rows"]["persons"] == 2 and document["rows"]["diary_entries"] == 6
    assert document["file_bytes"] == path.stat().st_size and document["created_at"]

    counts = target.restore(path, BACKUP_KEY)
    assert counts == {table.name: len(expected[table.name]) for table in metadata.sorted_tables}
    assert snapshot(target.engine) == expected
    assert target.integrity_check() == []


# --- the key ----------------------------------------------------------------------------------------------


def test_the_backup_key_is_made_on_first_use_private_and_kept_apart_from_the_secret_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("RUECKENLOTSE_BACKUP_KEY", raising=False)
    monkeypatch.delenv("RUECKENLOTSE_SECRET_KEY", raising=False)
    settings = Settings(data_dir=tmp_path / "daten")
    key = settings.effective_backup_key()
    path = tmp_path / "daten" / BACKUP_KEY_FILE
    assert len(key) >= 32 and path.read_bytes().strip() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings(data_dir=tmp_path / "daten").effective_backup_key() == key
    assert settings.effective_secret_key().encode() != key
    monkeypatch.setenv("RUECKENLOTSE_BACKUP_KEY", "b" * 40)
    assert Settings(data_dir=tmp_path / "daten").effective_backup_key() == b"b" * 40
    assert "bbbb" not in repr(Settings(data_dir=tmp_path / "daten"))
    monkeypatch.setenv("RUECKENLOTSE_BACKUP_KEY", "geheim")
    with pytest.raises(ValueError, match="at least 32"):
        Settings(data_dir=tmp_path / "daten").effective_backup_key()
