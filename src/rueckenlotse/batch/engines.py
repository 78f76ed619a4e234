"""Where the compiled query runs: DuckDB (embedded, default), PostgreSQL, or Spark SQL (local mode).

Each engine reads the validated flat table `cases` from the DuckDB working connection and leaves the
compiled result in its table `results` (columns core.sql_compile.RESULT_COLUMNS). The SQL text comes
from core.sql_compile for the engine's dialect; only moving the rows in and out differs.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.flat_case import flat_columns
from ..core.kb import KnowledgeBase
from ..core.sql_compile import RESULT_COLUMNS, compile_assessment

Progress = Callable[[int], None]  # called with the number of rows just assessed

_INT_RESULTS = {"line", "review_in_days", "startback_total", "startback_psychosocial", "neuroplastic_count"}
_LIST_RESULTS = ("suspected_conditions", "red_flag_ids", "red_flag_conditions", "recommendation_ids")


class EngineError(RuntimeError):
    """The engine cannot be reached or is not installed; the message says what to do."""


def result_types() -> dict[str, str]:
    return {c: "BIGINT" if c in _INT_RESULTS else "VARCHAR" for c in RESULT_COLUMNS}


def _create_results(con: Any) -> None:
    cols = ", ".join(f'"{c}" {t}' for c, t in result_types().items())
    con.execute(f"CREATE OR REPLACE TEMP TABLE results ({cols})")


def _bounds(con: Any) -> tuple[int, int, int]:
    count, lo, hi = con.execute("SELECT count(*), min(line), max(line) FROM cases").fetchone()
    return int(count), int(lo or 0), int(hi or 0)


def run_duckdb(con: Any, kb: KnowledgeBase, progress: Progress, chunk_rows: int = 250_000) -> None:
    """Assess in slices of lines so that the progress bar moves; each slice is the same one query."""
    _create_results(con)
    count, lo, hi = _bounds(con)
    if not count:
        return
    step = max(1, (hi - lo + 1) * chunk_rows // count)
    for start in range(lo, hi + 1, step):
        source = f"(SELECT * FROM cases WHERE line >= {start} AND line < {start + step})"
        sql = compile_assessment(kb, "duckdb", source)
        done = con.execute(f"INSERT INTO results {sql}").fetchone()[0]
        progress(int(done))


_PG_TYPES = {"bool": "BOOLEAN", "int": "BIGINT", "float": "DOUBLE PRECISION", "enum": "TEXT"}


def _libpq_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def run_postgres(con: Any, kb: KnowledgeBase, progress: Progress, database_url: str | None) -> None:
    """Copy the flat rows into a temporary table, run the compiled query there, copy the result back."""
    import psycopg

    if not database_url:
        raise EngineError("--database-url fehlt / is missing (postgresql://user@host/db)")
    _create_results(con)
    columns = [("line", "BIGINT")] + [(c, _PG_TYPES[k]) for c, k in flat_columns()]
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
        _load_result_csv(con, results_csv)
    progress(_bounds(con)[0])


def _load_result_csv(con: Any, path: Path) -> None:
    types = ", ".join(f"'{c}': '{t}'" for c, t in result_types().items())
    con.execute(
        f"INSERT INTO results SELECT * FROM read_csv('{path}', columns={{{types}}}, header=false, "
        "auto_detect=false, quote='\"')"
    )
    for column in _LIST_RESULTS:
        con.execute(f'UPDATE results SET "{column}" = \'\' WHERE "{column}" IS NULL')


def run_spark(con: Any, kb: KnowledgeBase, progress: Progress) -> None:
    """Spark SQL in local mode, through Parquet files (pyspark is the optional extra `spark`)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise EngineError(
            "pyspark ist nicht installiert / is not installed: pip install 'rueckenlotse[spark]'"
        ) from None
    _create_results(con)
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
            cols = ", ".join(f'CAST("{c}" AS {t})' for c, t in result_types().items())
            con.execute(f"INSERT INTO results SELECT {cols} FROM read_parquet('{results_pq}/*.parquet')")
    finally:
        if ours:
            spark.stop()
    progress(_bounds(con)[0])


ENGINES = ("duckdb", "postgres", "spark")
