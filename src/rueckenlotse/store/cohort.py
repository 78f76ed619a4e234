"""The cohort figures of one practice, as SQL on the store, and synthetic courses written into the store.

``practice_cohort`` runs the cohort statement (``core.cohort``) over four common table expressions that
give the store's tables the statement's input shape (``core.cohort.INPUTS``), for the persons who share
their course with the practice now (``course_shares.revoked_at IS NULL``):

* a course is the person's latest intake (``assessments.source = 'intake'``, as ``services.followup``
  reads the diary against it); its day 0 is the intake's UTC date, its rank the intake's triage;
* measure answers and diary entries are placed by the UTC date of ``recorded_at``; the order of answers
  is ``recorded_at, created_at, id`` (the diary's order);
* an escalation is a stored re-screen of the diary (``source = 'diary_rescreen'``) made at or after the
  intake; the statement counts those whose triage ranks above the intake's (re-screens at the same or a
  lower rank are kept too, for a sign that stands or a doctor's examination: they are no escalation).

The day arithmetic is the one part written per engine (SQLite: Julian days of the date; PostgreSQL: date
minus date). Each person's rows are read from the practice's intakes on through the person indexes
(``CROSS JOIN`` keeps SQLite from scanning a whole table of every practice instead; PostgreSQL reads it as a
plain join). Only counts leave the database: the statement aggregates, no id or date comes back.

``load_courses`` writes courses of the batch file shape (``batch.courses``) with bulk inserts, for the test
that compares both paths and for benchmarks; it is no import of real data.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from ..core.cohort import TRIAGE_RANK, CohortParams, CohortRow, cohort_sql
from ..core.measures import ChangeRule
from .repository import Store


def _rank(column: str) -> str:
    cases = " ".join(f"WHEN '{name}' THEN {rank}" for name, rank in TRIAGE_RANK.items())
    return f"(CASE {column} {cases} END)"


def _day(dialect: str, column: str) -> str:
    """The UTC date of a stored moment as a day number (only differences of two are used)."""
    if dialect == "sqlite":
        return f"CAST(julianday(date({column})) AS INTEGER)"
    return f"(CAST({column} AT TIME ZONE 'UTC' AS DATE) - DATE '2000-01-01')"


def _as_of(dialect: str) -> str:
    if dialect == "sqlite":
        return "CAST(julianday(:as_of) AS INTEGER)"
    return "(CAST(:as_of AS DATE) - DATE '2000-01-01')"


def input_ctes(dialect: str) -> list[str]:
    """The statement's inputs over the store's tables, for one practice (``:practice_id``) on one
    reporting date (``:as_of``, ISO date); nothing dated after the reporting date."""
    start, as_of = _day(dialect, "i.created_at"), _as_of(dialect)

    def dated(column: str) -> tuple[str, str]:
        """The day of the course of a moment, and the condition that it is not after the reporting date."""
        return f"{_day(dialect, column)} - {start}", f"{_day(dialect, column)} <= {as_of}"

    measure_day, measure_known = dated("r.recorded_at")
    diary_day, diary_known = dated("d.recorded_at")
    rescreen_day, rescreen_known = dated("e.created_at")
    return [
        "cohort_intake AS (SELECT person_id, id, created_at, triage FROM ("
        "SELECT a.person_id, a.id, a.created_at, a.triage, ROW_NUMBER() OVER ("
        "PARTITION BY a.person_id ORDER BY a.created_at DESC, a.id DESC) AS newest "
        "FROM course_shares s CROSS JOIN assessments a WHERE a.person_id = s.person_id "
        "AND s.practice_id = :practice_id AND s.revoked_at IS NULL AND a.source = 'intake'"
        ") latest WHERE newest = 1)",
        f"cohort_courses AS (SELECT i.person_id AS course_id, {as_of} - {start} AS age_days, "
        f"{_rank('i.triage')} AS intake_rank FROM cohort_intake i)",
        f"cohort_measures AS (SELECT r.person_id AS course_id, r.measure_id, r.week, {measure_day} AS day, "
        "ROW_NUMBER() OVER (PARTITION BY r.person_id ORDER BY r.recorded_at, r.created_at, r.id) AS seq, "
        "r.score FROM cohort_intake i CROSS JOIN measure_responses r "
        f"WHERE r.person_id = i.person_id AND {measure_known})",
        f"cohort_diary AS (SELECT d.person_id AS course_id, {diary_day} AS day, d.max_pain "
        f"FROM cohort_intake i CROSS JOIN diary_entries d WHERE d.person_id = i.person_id AND {diary_known})",
        f"cohort_escalations AS (SELECT e.person_id AS course_id, {rescreen_day} AS day, "
        f"{_rank('e.triage')} AS triage_rank FROM cohort_intake i CROSS JOIN assessments e "
        "WHERE e.person_id = i.person_id AND e.source = 'diary_rescreen' AND e.created_at >= i.created_at "
        f"AND {rescreen_known})",
    ]


def practice_cohort(
    store: Store, practice_id: str, as_of: date, params: CohortParams, rules: Mapping[str, ChangeRule]
) -> list[CohortRow]:
    """The cohort rows over the practice's shared courses on ``as_of`` (raw counts, not yet suppressed)."""
    dialect = "sqlite" if store.is_sqlite else "postgresql"
    statement = text(cohort_sql(params, rules, input_ctes(dialect)))
    values = {"practice_id": practice_id, "as_of": as_of.isoformat()}
    with store.transaction(write=False) as session:
        return [CohortRow.of(tuple(row)) for row in session.execute(statement, values)]


# ---- synthetic courses ----------------------------------------------------------------------------------
_CHUNK = 2000


def load_courses(
    store: Store, practice_id: str, courses: Iterable[Mapping[str, Any]], *, knowledge_version: str
) -> int:
    """Write courses of the batch file shape (``batch.courses``) as persons sharing their course with the
    practice: each an intake (at 07:00 UTC of its start), diary entries, measure answers and re-screens
    (from 08:00 of their day on, a list's order kept as the order of the seconds), inserted in bulk.
    Returns the number of courses written."""
    written = 0
    batch: list[Mapping[str, Any]] = []
    for course in courses:
        batch.append(course)
        if len(batch) >= _CHUNK:
            written += _write(store, practice_id, batch, knowledge_version)
            batch = []
    if batch:
        written += _write(store, practice_id, batch, knowledge_version)
    return written


class _Stamps:
    """Moments as the driver takes them: SQLite keeps UTC text (as ``schema.UTCDateTime`` writes it),
    psycopg takes aware datetimes. Built by hand: hundreds of thousands of rows."""

    def __init__(self, sqlite: bool) -> None:
        self.sqlite = sqlite
        self.days: dict[tuple[date, int], date] = {}

    def at(self, start: date, day: int, hour: int, second: int = 0) -> Any:
        on = self.days.get((start, day))
        if on is None:
            on = self.days[(start, day)] = start + timedelta(days=day)
        if self.sqlite:
            return f"{on.isoformat()} {hour:02d}:{second // 60:02d}:{second % 60:02d}.000000"
        return datetime.combine(on, time(hour, second // 60, second % 60), tzinfo=UTC)


def _write(store: Store, practice_id: str, courses: list[Mapping[str, Any]], version: str) -> int:
    stamps = _Stamps(store.is_sqlite)
    now = stamps.at(datetime.now(UTC).date(), 0, 0)
    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in _COLUMNS}
    for course in courses:
        person = _synthetic_id()
        start = date.fromisoformat(str(course["start"]))
        intake_at = stamps.at(start, 0, 7)
        rows["persons"].append((person, intake_at))
        rows["course_shares"].append((person, practice_id, intake_at))
        rows["assessments"].append(_assessment(person, intake_at, "intake", course["intake_triage"], version))
        for k, e in enumerate(course.get("escalations") or ()):
            at = stamps.at(start, e["day"], 8, k)
            rows["assessments"].append(_assessment(person, at, "diary_rescreen", e["triage"], version))
        for k, entry in enumerate(course.get("diary") or ()):
            day, pain = entry["day"], entry["max_pain"]
            on = start + timedelta(days=day)
            document = (
                f'{{"recorded_at": "{on.isoformat()}T08:00:00+00:00", "pain": {{"low_back": {int(pain)}}}}}'
            )
            rows["diary_entries"].append(
                (_synthetic_id(), person, stamps.at(start, day, 8, k), now, document, pain)
            )
        for k, m in enumerate(course.get("measures") or ()):
            at = stamps.at(start, m["day"], 8, k)
            rows["measure_responses"].append(
                (_synthetic_id(), person, m["measure"], at, m["week"], "{}", m["score"], version, now)
            )
    with store.transaction() as session:
        connection = session.connection()
        for table, columns in _COLUMNS.items():
            if rows[table]:
                _bulk_insert(connection, table, columns, rows[table])
    return len(courses)


# The columns written, per table (every other column has a default or may be NULL); documents are JSON text.
_COLUMNS: dict[str, tuple[str, ...]] = {
    "persons": ("id", "created_at"),
    "course_shares": ("person_id", "practice_id", "granted_at"),
    "assessments": (
        "id", "person_id", "created_at", "source", "knowledge_version", "case_json", "assessment_json",
        "triage",
    ),
    "diary_entries": ("id", "person_id", "recorded_at", "created_at", "entry_json", "max_pain"),
    "measure_responses": (
        "id", "person_id", "measure_id", "recorded_at", "week", "answers_json", "score", "knowledge_version",
        "created_at",
    ),
}  # fmt: skip
_IDS = random.Random()  # synthetic rows only: ids as random as uuid4's, made faster


def _synthetic_id() -> str:
    return f"{_IDS.getrandbits(128):032x}"


def _bulk_insert(connection: Any, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Rows straight to the driver, past SQLAlchemy's per-value processing (a hundred thousand rows take
    seconds, not a minute): on SQLite one executemany, on PostgreSQL a COPY."""
    names = ", ".join(columns)
    if connection.dialect.name == "sqlite":
        marks = ", ".join("?" * len(columns))
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})", rows)
        return
    driver = connection.connection.driver_connection
    with driver.cursor() as cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _assessment(person: str, at: Any, source: str, triage: str, version: str) -> tuple[Any, ...]:
    # synthetic: no answers behind it
    return (_synthetic_id(), person, at, source, version, "{}", f'{{"triage": "{triage}"}}', triage)
