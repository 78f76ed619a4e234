"""A file of courses: generated, written, and counted as cohort figures in DuckDB.

The file (JSON Lines, or Parquet with the same nesting) holds one course a line, pseudonymous and with one
date only, the start; everything else is a day of the course (day 0 = the intake's day)::

    {"course": "c0000001", "start": "2026-09-01", "intake_triage": "routine",
     "diary": [{"day": 0, "max_pain": 6}, ...],
     "measures": [{"measure": "peg", "week": 0, "day": 0, "score": 6.33}, ...],
     "escalations": [{"day": 17, "triage": "soon"}]}

``escalations`` are the stored re-screens of the diary (``assessments.source = 'diary_rescreen'``): the
cohort counts those above the intake's triage. Within a day, a list's order is the time order (the answer
given last counts when a measure was answered twice for one week).

``cohort_of_file`` loads the file into DuckDB tables of the statement's input shape (``core.cohort.INPUTS``)
and runs the same statement text as the web runs on the store (``store.cohort``). ``generate_courses``
makes plausible courses with a seed: diaries over up to 12 weeks that some give up, measure answers at
weeks 0, 2, 4, 6 and 12 with gaps (and now and then one answered twice), some escalations.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from ..core.cohort import TRIAGE_RANK, CohortParams, CohortRow, cohort_sql
from ..core.measures import ChangeRule

MEASURE_WEEKS = (0, 2, 4, 6, 12)
FORMATS = ("jsonl", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_CHUNK = 20_000
# What DuckDB reads: the file's columns and their types (anything else in a line is ignored).
_COLUMNS = {
    "course": "VARCHAR",
    "start": "DATE",
    "intake_triage": "VARCHAR",
    "diary": "STRUCT(day INTEGER, max_pain INTEGER)[]",
    "measures": "STRUCT(measure VARCHAR, week INTEGER, day INTEGER, score DOUBLE)[]",
    "escalations": "STRUCT(day INTEGER, triage VARCHAR)[]",
}
MAX_DAY = 10_000  # a day of a course beyond this is an error in the file, not a long course


class CourseFileError(ValueError):
    """The file cannot be read as courses; the message names the first problem (and its course)."""


def format_of(path: Path, given: str | None = None) -> str:
    fmt = given or _SUFFIXES.get(path.suffix.lower())
    if fmt not in FORMATS:
        raise CourseFileError(
            f"{path.name}: Format unbekannt (.jsonl oder .parquet) / unknown format (.jsonl or .parquet)"
        )
    return fmt


# ---- generating -------------------------------------------------------------------------------------------
_TRIAGES = (("self_care", 0.55), ("routine", 0.30), ("soon", 0.10), ("urgent", 0.04), ("emergency", 0.01))


def _pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    names, weights = zip(*weighted, strict=True)
    return str(rng.choices(names, weights)[0])


def _clamp(value: float, low: float, high: float) -> float:
    return max(low, min(high, value))


def generate_course(rng: random.Random, number: int, as_of: date) -> dict[str, Any]:
    """One plausible course, started between 200 days before and 14 days after ``as_of``."""
    start = as_of - timedelta(days=rng.randint(-14, 200))
    triage = _pick(rng, _TRIAGES)
    baseline = rng.randint(3, 9)
    # Pain points by week 12: most improve, some stay, a few get worse.
    drop = rng.choice((-3, -1, 0, 0, 1, 2, 2, 3, 3, 4, 4, 5, 6))
    noise = rng.choice((0.5, 1.0, 1.5))

    def pain(day: int) -> float:
        return _clamp(baseline - drop * min(day, 84) / 84 + rng.gauss(0, noise), 0, 10)

    diary: list[dict[str, int]] = []
    if rng.random() > 0.05:
        stop = rng.randint(0, 84) if rng.random() < 0.35 else 120
        every = rng.uniform(0.2, 0.9)
        for day in range(0, min(stop, 100) + 1):
            for _ in range(2 if rng.random() < 0.08 else 1):
                if rng.random() < every:
                    diary.append({"day": day, "max_pain": round(pain(day))})
    measures: list[dict[str, Any]] = []
    for week in MEASURE_WEEKS:
        if rng.random() > (0.85 if week == 0 else 0.7):
            continue
        day = 0 if week == 0 else max(0, 7 * week + rng.randint(-2, 3))
        level = pain(day)
        answers = [("peg", round(_clamp(level + rng.gauss(0, 1), 0, 10), 1 if rng.random() < 0.5 else 2))]
        answers.append(("psfs", round(_clamp(10 - level + rng.gauss(0, 1.2), 0, 10), rng.choice((0, 1, 2)))))
        if week:
            change = (baseline - level) / max(baseline, 1)
            answers.append(("pgic", float(int(_clamp(4 - round(change * 6 + rng.gauss(0, 1)), 1, 7)))))
        if week in (0, 12):
            answers.append(("startback", float(rng.randint(0, 9))))
        for measure, score in answers:
            entry: dict[str, Any] = {"measure": measure, "week": week, "day": day, "score": score}
            if rng.random() < 0.01:
                entry["score"] = None  # begun, not scored
            measures.append(entry)
            if rng.random() < 0.03:  # answered again a day later: that answer counts
                again = dict(
                    entry, day=day + 1, score=round(_clamp(float(score) + rng.choice((-2, 2)), 0, 10), 2)
                )
                measures.append(again)
    rng.shuffle(measures)
    measures.sort(key=lambda m: m["day"])  # the order within a day stays random
    escalations = []
    rank = TRIAGE_RANK[triage]
    roll = rng.random()
    if roll < 0.08 and rank < TRIAGE_RANK["emergency"]:
        higher = [t for t, r in TRIAGE_RANK.items() if r > rank]
        escalations.append({"day": rng.randint(0, 100), "triage": rng.choice(higher)})
    elif roll < 0.12:
        same_or_lower = [t for t, r in TRIAGE_RANK.items() if r <= rank]
        escalations.append({"day": rng.randint(0, 100), "triage": rng.choice(same_or_lower)})
    return {
        "course": f"c{number:07d}",
        "start": start.isoformat(),
        "intake_triage": triage,
        "diary": diary,
        "measures": measures,
        "escalations": escalations,
    }


def generate_courses(n: int, *, seed: int = 0, as_of: date) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for number in range(1, n + 1):
        yield generate_course(rng, number, as_of)


def arrow_schema() -> Any:
    import pyarrow as pa

    return pa.schema(
        [
            ("course", pa.string()),
            ("start", pa.date32()),
            ("intake_triage", pa.string()),
            ("diary", pa.list_(pa.struct([("day", pa.int32()), ("max_pain", pa.int32())]))),
            (
                "measures",
                pa.list_(
                    pa.struct(
                        [
                            ("measure", pa.string()),
                            ("week", pa.int32()),
                            ("day", pa.int32()),
                            ("score", pa.float64()),
                        ]
                    )
                ),
            ),
            ("escalations", pa.list_(pa.struct([("day", pa.int32()), ("triage", pa.string())]))),
        ]
    )


def write_courses(
    path: Path,
    courses: Iterable[Mapping[str, Any]],
    *,
    fmt: str | None = None,
    advance: Callable[[int], None] = lambda n: None,
) -> int:
    """Write courses as JSON Lines or Parquet (by the suffix unless ``fmt``); returns how many."""
    fmt = format_of(path, fmt)
    written = 0
    chunk: list[Mapping[str, Any]] = []
    if fmt == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for course in courses:
                out.write(json.dumps(course, separators=(",", ":")) + "\n")
                written += 1
                if written % 1000 == 0:
                    advance(1000)
        advance(written % 1000)
        return written
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = arrow_schema()

    def rows(batch: list[Mapping[str, Any]]) -> Any:
        return pa.Table.from_pylist(
            [dict(c, start=date.fromisoformat(str(c["start"]))) for c in batch], schema=schema
        )

    with pq.ParquetWriter(path, schema) as writer:
        for course in courses:
            chunk.append(course)
            if len(chunk) >= _CHUNK:
                writer.write_table(rows(chunk))
                written += len(chunk)
                advance(len(chunk))
                chunk = []
        if chunk:
            writer.write_table(rows(chunk))
            written += len(chunk)
            advance(len(chunk))
    return written


# ---- counting -----------------------------------------------------------------------------------------
def _q(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def load_courses(con: Any, path: Path, as_of: date, *, fmt: str | None = None) -> int:
    """Read the file into DuckDB as the statement's inputs (``core.cohort.INPUTS``) on reporting date
    ``as_of``; check it first. Returns the number of courses."""
    import duckdb

    fmt = format_of(path, fmt)
    if not path.is_file():
        raise CourseFileError(f"{path}: Datei nicht gefunden / file not found")
    columns = "{" + ", ".join(f"{_q(k)}: {_q(v)}" for k, v in _COLUMNS.items()) + "}"
    if fmt == "jsonl":
        source = f"read_json({_q(str(path))}, format='newline_delimited', columns={columns})"
    else:
        casts = ", ".join(f"CAST({k} AS {v}) AS {k}" for k, v in _COLUMNS.items())
        source = f"(SELECT {casts} FROM read_parquet({_q(str(path))}))"
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE course_file AS SELECT * FROM {source}")
    except duckdb.Error as e:
        raise CourseFileError(f"{path.name}: nicht lesbar / not readable: {e}") from None
    _check(con)
    ranks = " ".join(f"WHEN {_q(t)} THEN {r}" for t, r in TRIAGE_RANK.items())
    # The course's age on the reporting date beside each course; nothing dated later is kept (INPUTS).
    con.execute(
        "CREATE OR REPLACE TEMP TABLE course_age AS SELECT course, "
        f"date_diff('day', start, DATE {_q(as_of.isoformat())}) AS age_days, "
        f"CASE intake_triage {ranks} END AS intake_rank FROM course_file"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort_courses AS "
        "SELECT course AS course_id, age_days, intake_rank FROM course_age"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort_diary AS SELECT f.course AS course_id, e.day AS day, "
        "e.max_pain AS max_pain FROM (SELECT course, UNNEST(diary) AS e FROM course_file) f "
        "JOIN course_age a ON a.course = f.course WHERE e.day <= a.age_days"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort_measures AS "
        "SELECT f.course AS course_id, m.measure AS measure_id, "
        "m.week AS week, m.day AS day, ROW_NUMBER() OVER (PARTITION BY f.course ORDER BY m.day, k) AS seq, "
        "m.score AS score FROM (SELECT course, UNNEST(measures) AS m, "
        "UNNEST(range(len(measures))) AS k FROM course_file) f "
        "JOIN course_age a ON a.course = f.course WHERE m.day <= a.age_days"
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE cohort_escalations AS SELECT f.course AS course_id, e.day AS day, "
        f"CASE e.triage {ranks} END AS triage_rank "
        "FROM (SELECT course, UNNEST(escalations) AS e FROM course_file) f "
        "JOIN course_age a ON a.course = f.course WHERE e.day <= a.age_days"
    )
    return int(con.execute("SELECT count(*) FROM course_file").fetchone()[0])


# (what is wrong, SQL condition on a course that is true when it is wrong)
_CHECKS = (
    ("course fehlt / missing", "course IS NULL OR course = ''"),
    ("start fehlt / missing", "start IS NULL"),
    (
        "intake_triage unbekannt / unknown",
        f"intake_triage IS NULL OR intake_triage NOT IN ({', '.join(map(_q, TRIAGE_RANK))})",
    ),
    (
        "Tagebuch: day oder max_pain (0-10) ungültig / diary: day or max_pain (0-10) invalid",
        f"len(list_filter(diary, lambda e: e.day IS NULL OR abs(e.day) > {MAX_DAY} OR e.max_pain IS NULL "
        "OR e.max_pain < 0 OR e.max_pain > 10)) > 0",
    ),
    (
        "measures: measure, day, week (0-104) oder score ungültig / "
        "measure, day, week (0-104) or score invalid",
        f"len(list_filter(measures, lambda m: m.measure IS NULL OR m.day IS NULL OR abs(m.day) > {MAX_DAY} "
        "OR m.week < 0 OR m.week > 104 OR isnan(m.score) OR isinf(m.score))) > 0",
    ),
    (
        "escalations: day oder triage ungültig / day or triage invalid",
        f"len(list_filter(escalations, lambda e: e.day IS NULL OR abs(e.day) > {MAX_DAY} OR e.triage IS NULL "
        f"OR e.triage NOT IN ({', '.join(map(_q, TRIAGE_RANK))}))) > 0",
    ),
)


def _check(con: Any) -> None:
    for problem, condition in _CHECKS:
        found = con.execute(f"SELECT course FROM course_file WHERE {condition} LIMIT 1").fetchone()
        if found is not None:
            raise CourseFileError(f"{problem} (course {found[0]!r})")
    twice = con.execute(
        "SELECT course FROM course_file GROUP BY course HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if twice is not None:
        raise CourseFileError(f"course {twice[0]!r}: doppelt / listed twice")


def cohort_of_file(
    path: Path,
    as_of: date,
    params: CohortParams,
    rules: Mapping[str, ChangeRule],
    *,
    fmt: str | None = None,
    stage: Callable[[str], None] = lambda name: None,
) -> tuple[int, list[CohortRow]]:
    """The number of courses in the file and the cohort rows (raw counts) on ``as_of``."""
    from .pipeline import connect

    con = connect()
    try:
        stage("read")
        courses = load_courses(con, path, as_of, fmt=fmt)
        stage("count")
        rows = [CohortRow.of(row) for row in con.execute(cohort_sql(params, rules)).fetchall()]
    finally:
        con.close()
    return courses, rows
