"""Where the compiled query runs: DuckDB (embedded, default), PostgreSQL, or Spark SQL (local mode).

DuckDB runs the compiled query in the same pass as the validation (batch.pipeline); here it only
gathers `results`. PostgreSQL and Spark read the flat valid rows (the table `cases` of the DuckDB
working connection) and leave the compiled result in the working connection's table `results`
(columns core.sql_compile.result_columns). The SQL text comes from core.sql_compile for the engine's
dialect; only moving the rows in and out differs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.flat_case import flat_columns
from ..core.kb import KnowledgeBase
from ..core.sql_compile import (
    INTEGER_RESULTS,
    POSTGRES,
    SCALAR_RESULTS,
    compile_assessment,
    result_columns,
)
from ..extras import missing_extra_message

Progress = Callable[[int], None]  # called with the number of rows just assessed


class EngineError(RuntimeError):
    """The engine cannot be reached or is not installed; the message says what to do."""


def result_types(kb: KnowledgeBase) -> dict[str, str]:
    return {
        c: "VARCHAR" if c in SCALAR_RESULTS and c not in INTEGER_RESULTS else "BIGINT"
        for c in result_columns(kb)
    }


def _create_results(con: Any, kb: KnowledgeBase) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in result_types(kb).items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE results ({cols})")


def results_duckdb(con: Any, kb: KnowledgeBase, line: str) -> None:
    """`results` as a view: the valid rows of `checked` (validated and assessed in one pass), then the
    rows only Python's validation accepted (`fallback_cases`), assessed by the same compiled query;
    `line` is the SQL expression of a row's line (batch.readers.Loaded.line)."""
    columns = ", ".join(f'"{c}"' for c in result_columns(kb) if c != "line")
    fallback = compile_assessment(kb, "duckdb", "fallback_cases")
    con.execute(f"CREATE OR REPLACE TEMP TABLE fallback_results AS {fallback}")
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW results AS
        SELECT {line} AS line, {columns} FROM checked WHERE ok
        UNION ALL SELECT * FROM fallback_results
    """)


def _libpq_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_postgres(con: Any, kb: KnowledgeBase, progress: Progress, database_url: str | None) -> None:
    """Copy the flat rows into a temporary table, run the compiled query there, copy the result back."""
    import psycopg

    if not database_url:
        raise EngineError("--database-url fehlt / is missing (postgresql://user@host/db)")
    _create_results(con, kb)
    columns = [("line", "BIGINT")] + [(c, POSTGRES.column_type(k)) for c, k in flat_columns()]
    with tempfile.TemporaryDirectory(prefix="rl-batch-") as tmp:
        cases_csv, results_csv = Path(tmp) / "cases.csv", Path(tmp) / "results.csv"
        con.execute(f"COPY cases TO '{cases_csv}' (FORMAT csv, HEADER false)")
        try:
            conn = psycopg.connect(_libpq_url(database_url))
        except psycopg.Error as e:
            raise EngineError(f"PostgreSQL nicht erreichbar / not reachable: {e}") from None
        with conn, conn.cursor() as cur:
            cols = ", ".join(f'"{c}" {t}' for c, t in columns)
            cur.execute(f"CREATE TEMP TABLE cases ({cols}) ON COMMIT DROP")
            with cur.copy("COPY cases FROM STDIN (FORMAT csv)") as copy, cases_csv.open("rb") as f:
                while block := f.read(1 << 20):
                    copy.write(block)
            sql = compile_assessment(kb, "postgres", "cases")
            with cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy, results_csv.open("wb") as out:
                for chunk in copy:
                    out.write(chunk)
        _load_result_csv(con, kb, results_csv)
    progress(_count(con))


def _count(con: Any) -> int:
    return int(con.execute("SELECT count(*) FROM results").fetchone()[0])


def _load_result_csv(con: Any, kb: KnowledgeBase, path: Path) -> None:
    types = ", ".join(f"'{c}': '{t}'" for c, t in result_types(kb).items())
    con.execute(
        f"INSERT INTO results SELECT * FROM read_csv('{path}', columns={{{types}}}, header=false, "
        "auto_detect=false, quote='\"')"
    )


def run_spark(con: Any, kb: KnowledgeBase, progress: Progress) -> None:
    """Spark SQL in local mode, through Parquet files (pyspark is the optional extra `spark`)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(missing_extra_message("pyspark")) from None
    _create_results(con, kb)
    ours = SparkSession.getActiveSession() is None  # stop only a session this run started (its JVM)
    spark = (
        SparkSession.builder.master("local[*]")
        .appName("rueckenlotse-batch")
        .config("spark.ui.showConsoleProgress", "false")  # the CLI shows its own progress
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    try:
        with tempfile.TemporaryDirectory(prefix="rl-batch-") as tmp:
            cases_pq, results_pq = Path(tmp) / "cases.parquet", Path(tmp) / "results"
            con.execute(f"COPY cases TO '{cases_pq}' (FORMAT parquet)")
            spark.read.parquet(str(cases_pq)).createOrReplaceTempView("cases")
            spark.sql(compile_assessment(kb, "spark", "cases")).write.parquet(str(results_pq))
            cols = ", ".join(f'CAST("{c}" AS {t})' for c, t in result_types(kb).items())
            con.execute(f"INSERT INTO results SELECT {cols} FROM read_parquet('{results_pq}/*.parquet')")
    finally:
        if ours:
            spark.stop()
    progress(_count(con))


ENGINES = ("duckdb", "postgres", "spark")
