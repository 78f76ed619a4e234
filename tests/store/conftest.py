"""Store fixtures: every test gets its own fresh database, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.

PostgreSQL tests create a uniquely named database on the server of TEST_DATABASE_URL and drop it afterwards,
so tests running in parallel (pytest-xdist) never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import Engine, MetaData, select
from sqlalchemy.engine import make_url

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.plan.rescreen import replay
from rueckenlotse.store import Store
from rueckenlotse.store.backup_manifest import new_manifest, write_manifest
from rueckenlotse.store.migrate import head_revision

from .. import needs

PG_ENV = needs.PG_ENV
ENGINES = ["sqlite", "postgresql"]
# The key backups are signed with in these tests (the command line's tests set it as RUECKENLOTSE_BACKUP_KEY).
BACKUP_KEY = b"test-backup-key-0123456789abcdef"


def pg_server_url() -> str | None:
    return os.environ.get(PG_ENV) or None


@contextmanager
def fresh_postgres_database() -> Iterator[str]:
    server = pg_server_url()
    assert server is not None
    name = f"rl_test_{uuid.uuid4().hex[:16]}"
    admin = make_url(server).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(server).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            # FORCE: a writer killed mid-transaction may leave its backend alive for a moment.
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=ENGINES)
def engine_kind(request: pytest.FixtureRequest) -> str:
    kind: str = request.param
    if kind == "postgresql":
        needs.postgres_url()
    return kind


@pytest.fixture
def new_db_url(engine_kind: str, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases of the test's engine (for restores into another database)."""
    with ExitStack() as stack:
        counter = iter(range(1_000_000))

        def make() -> str:
            if engine_kind == "sqlite":
                return f"sqlite:///{tmp_path / f'store-{next(counter)}' / 'rueckenlotse.db'}"
            return stack.enter_context(fresh_postgres_database())

        yield make


@pytest.fixture
def db_url(new_db_url: Callable[[], str]) -> str:
    return new_db_url()


@pytest.fixture
def engine_at(db_url: str) -> Iterator[Callable[[str], Engine]]:
    """Engines on this test's database, each migrated to the given revision; disposed after the test."""
    from .test_migrations import at_revision

    engines: list[Engine] = []

    def make(revision: str) -> Engine:
        engines.append(at_revision(db_url, revision))
        return engines[-1]

    yield make
    for engine in engines:
        engine.dispose()


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    with Store.open(db_url) as opened:
        yield opened


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    """For what only SQLite has (pragmas, its file format)."""
    with Store.open(f"sqlite:///{tmp_path / 'sqlite-only' / 'rueckenlotse.db'}") as opened:
        yield opened


@pytest.fixture
def postgres_store() -> Iterator[Store]:
    """For what only PostgreSQL has (pg_dump and pg_restore)."""
    needs.postgres_url()
    with fresh_postgres_database() as url, Store.open(url) as opened:
        yield opened


# --- sample data --------------------------------------------------------------------------------------

BASE_TIME = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


def sample_case(age: int = 35) -> Case:
    return Case(age=age, regions=["low_back"], duration_weeks=2, pain_intensity=6, trauma="minor")


def sample_entry(n: int, note: str | None = None) -> DiaryEntry:
    """A varied but reproducible diary entry (n picks the values)."""
    # Offsets from -2 to +2 hours: ordering must follow the moment, not the local clock time.
    offset = timezone(timedelta(hours=(n % 5) - 2))
    return DiaryEntry.model_validate(
        {
            "recorded_at": (BASE_TIME + timedelta(hours=n)).astimezone(offset),
            "pain": {"low_back": n % 11, "neck": (n * 7) % 11},
            "pain_reach": ["back_only", "buttock_thigh", "below_knee"][n % 3],
            "function": {"walking": n % 5, "sleeping": (n + 2) % 5},
            "activity_minutes": (n * 13) % 240,
            "exercises": [{"exercise_id": "cat_cow", "felt": "good"}] if n % 2 else [],
            "note": note if note is not None else f"Eintrag {n}: Rücken steif, Spaziergang tat gut.",
            "warning_signs": ["night_pain"] if n % 4 == 0 else [],
        },
        strict=True,
    )


def populate(store: Store, name: str = "Anna", entries: int = 5) -> dict[str, Any]:
    """A person with two assessments, diary entries, a plan and two exclusions; returns their ids."""
    person = store.create_person(name)
    case = sample_case()
    first = store.add_assessment(person.id, case, assess(case))
    diary = [store.add_diary_entry(person.id, sample_entry(n)) for n in range(entries)]
    # The diary's re-screen as services.followup keeps it: a warning sign is never stored without its
    # escalation (the integrity check looks for it).
    episode = replay(
        case, first.assessment, [sample_entry(n) for n in range(entries)], assessed_at=first.created_at
    )
    escalated = [r for r in episode.rescreens if r.escalated]
    second_case = escalated[-1].case if escalated else sample_case(age=52)
    second_result = escalated[-1].assessment if escalated else assess(second_case)
    second = store.add_assessment(person.id, second_case, second_result, source="diary_rescreen")
    plan = store.save_plan(person.id, second.id, {"exercises": ["cat_cow", "bridge"], "weeks": 6})
    store.add_exclusion(person.id, "plank", "Schulter")
    store.add_exclusion(person.id, "bridge")
    return {
        "person": person.id,
        "assessments": [first.id, second.id],
        "diary": diary,
        "plan": plan,
        "exclusions": ["bridge", "plank"],
    }


def sign(path: Path, database: str, revision: str | None = None, rows: dict[str, int] | None = None) -> None:
    """Give any file a valid manifest signed with BACKUP_KEY: for tests of the checks behind the HMAC."""
    kind = "sqlite" if database == "sqlite" else "postgresql"
    manifest = new_manifest(kind, revision or head_revision(), rows or {}, path)
    write_manifest(path, path, BACKUP_KEY, manifest)


def snapshot(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the database (found by reflection), sorted, for exact comparisons."""
    meta = MetaData()
    with engine.connect() as conn:
        meta.reflect(conn)
        return {
            name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
            for name, table in sorted(meta.tables.items())
        }
