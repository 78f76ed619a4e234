"""A whole file assessed at once: read, validate, run the compiled knowledge base, write.

Steps (all in one in-memory DuckDB connection):
1.-2. the input is read and validated strictly in SQL into `checked` (batch.readers, validate_sql for
   JSON text, validate_typed for Parquet columns); its valid rows become the flat table `cases`;
3. only the rows SQL rejected go through Python's validation: those with errors go to the error file
   (line, field, German and English reason); a row Python accepts after all is assessed per case;
4. the compiled query runs on the chosen engine (batch.engines) and fills `results`;
5. the output is written from `results` in line order (batch.output).
An invalid row never stops the run; only an unreadable file or an unreachable engine does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.engine import evaluate
from ..core.errors import InvalidCase
from ..core.flat_case import flat_columns
from ..core.kb import KnowledgeBase
from ..core.models import Case
from ..validation import parse_case_json
from . import engines, output, readers
from .reference import flat_result

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


class BatchError(RuntimeError):
    """The run cannot start or finish (unreadable file, unknown format, engine missing)."""


@dataclass
class Summary:
    rows: int = 0
    assessed: int = 0
    errors: int = 0
    triage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    per_case_fallback: int = 0
    output: Path | None = None
    errors_path: Path | None = None


@dataclass
class Callbacks:
    """How the run reports progress: a stage starts (with its row total), rows are done."""

    stage: Callable[[str, int], None] = lambda name, total: None
    advance: Callable[[int], None] = lambda n: None


def format_of(path: Path, given: str | None) -> str:
    if given:
        return given
    fmt = _SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        raise BatchError(
            f"{path}: Format nicht erkennbar, bitte angeben / cannot tell the format, "
            f"give it explicitly ({', '.join(FORMATS)})"
        )
    return fmt


def connect(memory_limit: str | None = None) -> Any:
    import duckdb

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # it would print over the CLI's own progress bar
    # Row order is carried by the line column (outputs are sorted by it), so DuckDB need not keep it:
    # that lets large loads stream instead of buffering.
    con.execute("SET preserve_insertion_order = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    return con


def _error_record(kb: KnowledgeBase, line: int, text: str) -> dict[str, Any] | None:
    """The reasons in both languages, or None when the strict per-case validation accepts the row."""
    try:
        parse_case_json(text, kb, "de")
    except InvalidCase as de:
        en = InvalidCase([])
        try:
            parse_case_json(text, kb, "en")
        except InvalidCase as e:
            en = e
        errors = [
            {"field": d.field, "type": d.type, "de": d.message, "en": e.message}
            for d, e in zip(de.errors, en.errors, strict=False)
        ]
        return {"line": line, "errors": errors}
    return None


def _split_rejected(
    con: Any, kb: KnowledgeBase, errors_file: Any, cb: Callbacks
) -> tuple[int, list[tuple[int, Case]]]:
    rejected = con.execute("SELECT line, j FROM checked WHERE NOT ok ORDER BY line").fetchall()
    cb.stage("check", len(rejected))
    count, accepted = 0, []
    for line, text in rejected:
        record = _error_record(kb, int(line), text or "")
        if record is None:
            accepted.append((int(line), Case.model_validate_json(text, strict=True)))
        else:
            errors_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        cb.advance(1)
    return count, accepted


def _insert_per_case(con: Any, kb: KnowledgeBase, accepted: list[tuple[int, Case]]) -> None:
    if not accepted:
        return
    import pyarrow as pa

    rows = [flat_result(line, evaluate(kb, case)) for line, case in accepted]
    table = pa.Table.from_pylist(rows)
    con.register("per_case", table)
    con.execute("INSERT INTO results SELECT * FROM per_case")
    con.unregister("per_case")


def run_batch(
    kb: KnowledgeBase,
    source: Path,
    target: Path,
    *,
    input_format: str | None = None,
    output_format: str | None = None,
    engine: str = "duckdb",
    database_url: str | None = None,
    errors_path: Path | None = None,
    callbacks: Callbacks | None = None,
) -> Summary:
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    fmt_in, fmt_out = format_of(source, input_format), format_of(target, output_format)
    if engine not in engines.ENGINES:
        raise BatchError(f"engine {engine!r}: one of {', '.join(engines.ENGINES)}")
    if engine == "postgres" and not database_url:
        raise engines.EngineError("--database-url fehlt / is missing (postgresql://user@host/db)")
    summary = Summary(
        output=target, errors_path=errors_path or target.with_name(target.name + ".errors.jsonl")
    )
    con = connect()
    try:
        _read(con, source, fmt_in, cb)
        summary.rows = int(con.execute("SELECT count(*) FROM checked").fetchone()[0])
        summary.errors, accepted = _report_rejected(con, kb, summary.errors_path, cb)
        _assess(con, kb, engine, database_url, accepted, cb)
        summary.per_case_fallback = len(accepted)
        cb.stage("write", 0)
        _step(f"{target}: nicht schreibbar / cannot be written", output.write, con, kb, target, fmt_out)
        counts = con.execute("SELECT triage, count(*) FROM results GROUP BY triage").fetchall()
    finally:
        con.close()
    summary.triage = {str(k): int(v) for k, v in counts}
    summary.assessed = sum(summary.triage.values())
    summary.seconds = time.perf_counter() - started
    return summary


def _step(what: str, fn: Callable[..., None], *args: Any) -> None:
    """Runs one stage; a failure of DuckDB, the engine or the file system becomes one clear line."""
    try:
        fn(*args)
    except (BatchError, engines.EngineError):
        raise
    except Exception as e:  # DuckDB, psycopg and pyspark raise many classes; each means this stage failed
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BatchError(f"{what}: {first}") from None


def _read(con: Any, source: Path, fmt: str, cb: Callbacks) -> None:
    cb.stage("validate", 0)
    _step(f"{source}: nicht lesbar / cannot be read", readers.LOADERS[fmt], con, source)


def _report_rejected(
    con: Any, kb: KnowledgeBase, errors_path: Path | None, cb: Callbacks
) -> tuple[int, list[tuple[int, Case]]]:
    assert errors_path is not None
    try:
        with errors_path.open("w", encoding="utf-8") as errors_file:
            count, accepted = _split_rejected(con, kb, errors_file, cb)
    except OSError as e:
        raise BatchError(f"{errors_path}: nicht schreibbar / cannot be written: {e.strerror}") from None
    columns = ", ".join(f'"{c}"' for c, _ in flat_columns())
    con.execute(f"CREATE OR REPLACE TEMP TABLE cases AS SELECT line, {columns} FROM checked WHERE ok")
    con.execute("DROP TABLE checked")
    return count, accepted


def _assess(
    con: Any,
    kb: KnowledgeBase,
    engine: str,
    database_url: str | None,
    accepted: list[tuple[int, Case]],
    cb: Callbacks,
) -> None:
    valid = int(con.execute("SELECT count(*) FROM cases").fetchone()[0])
    cb.stage("assess", valid + len(accepted))
    what = f"{engine}: Bewertung fehlgeschlagen / assessment failed"
    if engine == "duckdb":
        _step(what, engines.run_duckdb, con, kb, cb.advance)
    elif engine == "postgres":
        _step(what, engines.run_postgres, con, kb, cb.advance, database_url)
    else:
        _step(what, engines.run_spark, con, kb, cb.advance)
    _insert_per_case(con, kb, accepted)
    cb.advance(len(accepted))
