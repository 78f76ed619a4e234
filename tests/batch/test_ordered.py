"""Tables and files of the batch keep the order in which their query reads the rows (line numbers are
row positions), also when DuckDB's plan would not keep it in parallel; long queries report progress."""

from __future__ import annotations

import json

import duckdb
import pytest

from rueckenlotse.batch.ordered import create_in_order, run_in_order, tracked

N = 400_000
# A long IN list in a projection becomes a join in DuckDB's plan: not order-preserving in parallel.
JOINED = "SELECT n, n % 97 IN (1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 90, 91, 92) AS f FROM base"


def _connect() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET threads = 2")
    create_in_order(con, "base", f"SELECT range AS n FROM range({N})")
    assert con.execute("SELECT count(*) FROM base WHERE n <> rowid").fetchone()[0] == 0
    return con


def _root(con: duckdb.DuckDBPyConnection, statement: str) -> str:
    return str(json.loads(con.execute(f"EXPLAIN (FORMAT json) {statement}").fetchone()[1])[0]["name"])


@pytest.mark.safety("SR-BAT-2")
def test_a_plan_that_loses_the_order_in_parallel_runs_in_order() -> None:
    con = _connect()
    assert _root(con, f"CREATE TABLE probe AS {JOINED}") == "CREATE_TABLE_AS"  # not a batch insert
    create_in_order(con, "t", JOINED)
    numbers = [r[0] for r in con.execute("SELECT n FROM t ORDER BY rowid").fetchall()]
    assert numbers == list(range(N))
    assert con.execute("SELECT current_setting('threads')").fetchone()[0] == 2  # restored


def test_an_order_keeping_plan_runs_in_parallel_and_copies_in_order(tmp_path: object) -> None:
    con = _connect()
    select = "SELECT n, n * 2 AS m FROM base"
    assert _root(con, f"CREATE TABLE probe AS {select}").startswith("BATCH_")
    create_in_order(con, "t", select)
    target = f"{tmp_path}/t.parquet"
    run_in_order(con, f"COPY (SELECT n FROM t) TO '{target}' (FORMAT parquet)")
    numbers = [r[0] for r in con.execute(f"SELECT n FROM '{target}'").fetchall()]
    assert numbers == list(range(N))


def test_a_tracked_statement_reports_up_to_one_hundred_percent() -> None:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    steps: list[int] = []
    tracked(con, lambda: con.execute("SELECT sum(hash(range)) FROM range(30000000)").fetchall(), steps.append)
    assert sum(steps) == 100 and all(s > 0 for s in steps)
