"""The MIC judgement in SQL (core.cohort.judge_sql) gives the verdict of core.measures.judge_change for every
score, on SQLite and DuckDB (PostgreSQL too when TEST_DATABASE_URL is set): random rules and scores, with
scores drawn on and beside every threshold (where a < against a <=, a decimal literal or a rounding would
differ), and PGIC's halves (Python rounds half to even)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import duckdb
import psycopg
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy.engine import make_url

from rueckenlotse.core.cohort import CohortSqlError, exact_double, judge_sql
from rueckenlotse.core.measures import TOLERANCE, ChangeRule, judge_change

from .. import needs
from .support import RULES

Pair = tuple[float | None, float]
Runner = Callable[[ChangeRule, list[Pair]], list[str | None]]


def _sqlite(rule: ChangeRule, pairs: list[Pair]) -> list[str | None]:
    con = sqlite3.connect(":memory:")
    con.execute("CREATE TABLE t (i INTEGER, base REAL, cur REAL)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [(i, b, c) for i, (b, c) in enumerate(pairs)])
    rows = con.execute(f"SELECT {judge_sql(rule, 'base', 'cur')} FROM t ORDER BY i").fetchall()
    con.close()
    return [r[0] for r in rows]


def _duckdb(rule: ChangeRule, pairs: list[Pair]) -> list[str | None]:
    con = duckdb.connect()
    con.execute("CREATE TABLE t (i INTEGER, base DOUBLE, cur DOUBLE)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?)", [[i, b, c] for i, (b, c) in enumerate(pairs)])
    rows = con.execute(f"SELECT {judge_sql(rule, 'base', 'cur')} FROM t ORDER BY i").fetchall()
    con.close()
    return [r[0] for r in rows]


@pytest.fixture(scope="module")
def postgres() -> Iterator[Any]:
    url = make_url(needs.postgres_url()).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def _postgres(conn: Any) -> Runner:
    def run(rule: ChangeRule, pairs: list[Pair]) -> list[str | None]:
        with conn.cursor() as cur:
            cur.execute(
                "CREATE TEMP TABLE IF NOT EXISTS t (i INTEGER, base DOUBLE PRECISION, cur DOUBLE PRECISION)"
            )
            cur.execute("TRUNCATE t")
            cur.executemany(
                "INSERT INTO t VALUES (%s, %s, %s)", [(i, b, c) for i, (b, c) in enumerate(pairs)]
            )
            cur.execute(f"SELECT {judge_sql(rule, 'base', 'cur')} FROM t ORDER BY i")
            return [r[0] for r in cur.fetchall()]

    return run


# ---- strategies -------------------------------------------------------------------------------------------
plain = st.floats(min_value=-20, max_value=30, allow_nan=False, allow_infinity=False)
cents = st.integers(min_value=-1000, max_value=3000).map(lambda i: i / 100)
tenths = st.integers(min_value=-100, max_value=300).map(lambda i: i / 10)
halves = st.integers(min_value=-4, max_value=20).map(lambda i: i / 2)
score = st.one_of(plain, cents, tenths, halves)


@st.composite
def difference_rules(draw: st.DrawFn) -> ChangeRule:
    points = draw(st.one_of(st.none(), st.sampled_from([0.5, 1.0, 2.0, 3.5, 10.0]), st.floats(0.01, 12)))
    fraction = draw(st.one_of(st.none(), st.sampled_from([0.1, 0.2, 0.3, 0.5]), st.floats(0.01, 1)))
    if points is None and fraction is None:
        points = 2.0
    direction = draw(st.sampled_from(["lower_better", "higher_better"]))
    return ChangeRule(kind="difference", direction=direction, mic_points=points, mic_fraction=fraction)


@st.composite
def category_rules(draw: st.DrawFn) -> ChangeRule:
    values = draw(st.lists(st.integers(-2, 9), min_size=1, max_size=6, unique=True))
    cut = draw(st.integers(1, len(values)))
    return ChangeRule(kind="category", better=frozenset(values[:cut]), worse=frozenset(values[cut:]))


@st.composite
def pairs_for(draw: st.DrawFn, rule: ChangeRule) -> list[Pair]:
    """Scores at random, and on and beside the rule's thresholds."""
    found: list[Pair] = []
    for _ in range(draw(st.integers(1, 25))):
        base = draw(st.one_of(st.none(), score))
        current = draw(score)
        if base is not None and draw(st.booleans()):
            steps = [rule.mic_points or 0.0, (rule.mic_fraction or 0.0) * base]
            step = draw(st.sampled_from(steps))
            nudge = draw(st.sampled_from([0.0, TOLERANCE, -TOLERANCE, 2 * TOLERANCE, 5e-324, 1e-12, -1e-12]))
            sign = draw(st.sampled_from([1, -1]))
            current = base + sign * step + nudge
            if draw(st.booleans()):
                current = math.nextafter(current, draw(st.sampled_from([math.inf, -math.inf])))
        found.append((base, current))
    return found


def rule_and_pairs() -> st.SearchStrategy[tuple[ChangeRule, list[Pair]]]:
    rules = st.one_of(st.sampled_from(list(RULES.values())), difference_rules(), category_rules())
    return rules.flatmap(lambda rule: st.tuples(st.just(rule), pairs_for(rule)))


def _check(run: Runner, rule: ChangeRule, pairs: list[Pair]) -> None:
    expected = [judge_change(rule, base, current) for base, current in pairs]
    assert run(rule, pairs) == expected, (rule, pairs)


PEG_EDGES = [(7.0, 4.9), (7.0, 5.0), (5.0, 6.5), (0.0, 3.0), (None, 4.0), (10.0, 7.0), (3.3, 2.31)]
PGIC_EDGES = [(None, v / 2) for v in range(0, 17)]


@pytest.mark.parametrize("run", [_sqlite, _duckdb], ids=["sqlite", "duckdb"])
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=rule_and_pairs())
@example(case=(RULES["peg"], PEG_EDGES))
@example(case=(RULES["psfs"], [(3.0, 5.0), (3.0, 4.9), (6.0, 4.0), (1.1, 3.1), (5.1, 3.1), (None, 1.0)]))
@example(case=(RULES["pgic"], PGIC_EDGES))
def test_sql_judges_as_python(run: Runner, case: tuple[ChangeRule, list[Pair]]) -> None:
    _check(run, *case)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=rule_and_pairs())
@example(case=(RULES["peg"], PEG_EDGES))
@example(case=(RULES["pgic"], PGIC_EDGES))
def test_sql_judges_as_python_on_postgres(postgres: Any, case: tuple[ChangeRule, list[Pair]]) -> None:
    _check(_postgres(postgres), *case)


@given(
    value=st.one_of(
        plain, cents, st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.just(TOLERANCE)
    )
)
@settings(max_examples=300, deadline=None)
def test_exact_double_is_exact_on_every_engine(value: float) -> None:
    sql = f"SELECT {exact_double(value)}"
    assert sqlite3.connect(":memory:").execute(sql).fetchone()[0] == value
    assert duckdb.connect().execute(sql).fetchone()[0] == value


def test_exact_double_refuses_what_it_cannot_write() -> None:
    for value in (math.inf, math.nan, 2.0**60):
        with pytest.raises(CohortSqlError):
            exact_double(value)
