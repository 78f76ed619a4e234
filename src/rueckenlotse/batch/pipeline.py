"""A whole file assessed at once: read, validate, run the compiled knowledge base, write.

Steps (all in one in-memory DuckDB connection):
1.-2. the input is read and validated strictly in SQL into `checked` (batch.readers, validate_sql for
   JSON text, validate_typed for Parquet columns), one row per input line in file order; on DuckDB the
   compiled query runs in the same pass, so `checked` holds the results instead of the flat columns;
3. only the rows SQL rejected go through Python's validation: those with errors go to the error file
   (line, field, German and English reason); a row Python accepts after all is flattened in Python
   (core.flat_case) and assessed by the same compiled query;
4. `results`: on DuckDB the valid rows of `checked`, on PostgreSQL or Spark what the compiled query
   gave there for the flat valid rows (batch.engines);
5. the output is written from `results` in line order (batch.output).
An invalid row never stops the run, nor does a line too long or not UTF-8 (batch.screen); only an
unreadable file or an unreachable engine does.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..core.errors import InvalidCase
from ..core.flat_case import flat_columns, flatten_case
from ..core.kb import KnowledgeBase
from ..core.models import Case
from ..core.sql_compile import DUCKDB, compile_assessment
from ..i18n.errors import DomainError
from ..input_limits import MAX_LINE_BYTES, check_text_start
from ..private_files import UnsafeTarget, private_output
from ..validation import parse_case_json
from . import engines, output, readers
from .ordered import create_in_order, tracked
from .screen import screened_copy

T = TypeVar("T")

FORMATS = ("jsonl", "csv", "parquet")
_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


# The output's default ceiling (output_limit): this many times the input, and at least this much.
OUTPUT_RATIO = 200
MIN_OUTPUT_LIMIT = 256 * 1024 * 1024


class BatchError(RuntimeError):
    """The run cannot start or finish (unreadable file, unknown format, engine missing)."""


@dataclass
class Summary:
    rows: int = 0
    assessed: int = 0
    errors: int = 0
    triage: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    python_validated: int = 0  # rows SQL rejected and Python accepted (assessed with the others)
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
    # DuckDB tracks a query's progress (batch.ordered.tracked) but must not print it over the CLI's bar.
    con.execute("SET enable_progress_bar = true")
    con.execute("SET enable_progress_bar_print = false")
    # Line numbers are row positions (batch.readers): the order of insertion must be kept.
    con.execute("SET preserve_insertion_order = true")
    # DuckDB turns a long IN list into a join, which would cost the order (batch.ordered).
    con.execute("SET disabled_optimizers = 'in_clause'")
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


_BLANK = "(j IS NULL OR regexp_full_match(j, '\\s*'))"


def _unreadable_record(kb: KnowledgeBase, line: int, reason: str) -> dict[str, Any]:
    """A line the reader could not take (batch.screen): its reason in both languages."""
    text = kb.spec.texts[f"error.{reason}"]
    values = {"max_kib": MAX_LINE_BYTES // 1024}
    error = {"field": "(line)", "type": reason, "de": text["de"].format(**values)}
    return {"line": line, "errors": [{**error, "en": text["en"].format(**values)}]}


def _split_rejected(
    con: Any, kb: KnowledgeBase, line: str, errors_file: Any, cb: Callbacks, unreadable: dict[int, str]
) -> tuple[int, list[tuple[int, Case]]]:
    rejected = con.execute(
        f"SELECT {line} AS line, j FROM checked WHERE NOT ok AND NOT {_BLANK} ORDER BY line"
    ).fetchall()
    cb.stage("check", len(rejected))
    count, accepted = 0, []
    for line, text in rejected:
        reason = unreadable.get(int(line))
        if reason is not None:
            record: dict[str, Any] | None = _unreadable_record(kb, int(line), reason)
        else:
            record = _error_record(kb, int(line), text or "")
        if record is None:
            accepted.append((int(line), Case.model_validate_json(text, strict=True)))
        else:
            errors_file.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        cb.advance(1)
    return count, accepted


def _register_fallback(con: Any, accepted: list[tuple[int, Case]]) -> None:
    """Rows only Python's validation accepted, flattened in Python, as the table `fallback_cases`."""
    columns = ", ".join(f'"{c}" {DUCKDB.column_type(k)}' for c, k in flat_columns())
    con.execute(f"CREATE OR REPLACE TEMP TABLE fallback_cases (line BIGINT, {columns})")
    if not accepted:
        return
    import pyarrow as pa  # only here: importing it costs a tenth of a second

    rows = [{"line": line, **flatten_case(case)} for line, case in accepted]
    con.register("fallback_rows", pa.Table.from_pylist(rows))
    con.execute("INSERT INTO fallback_cases BY NAME SELECT * FROM fallback_rows")
    con.unregister("fallback_rows")


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
    max_output_bytes: int | None = None,
) -> Summary:
    """Assess every row of ``source`` into ``target`` (and the rejected rows into the error file).

    ``max_output_bytes``: the run stops, writing nothing, when the output grows past it (default:
    ``output_limit``), so a small file that unpacks into millions of rows cannot fill the disk.
    """
    cb = callbacks or Callbacks()
    started = time.perf_counter()
    fmt_in, fmt_out = format_of(source, input_format), format_of(target, output_format)
    if engine not in engines.ENGINES:
        raise BatchError(f"engine {engine!r}: one of {', '.join(engines.ENGINES)}")
    if engine == "postgres" and not database_url:
        raise engines.EngineError("--database-url fehlt / is missing (postgresql://user@host/db)")
    errors_file = errors_path or target.with_name(target.name + ".errors.jsonl")
    summary = Summary(output=target, errors_path=errors_file)
    limit = max_output_bytes if max_output_bytes is not None else output_limit(source)
    con = connect()
    try:
        # The screened input copy and the two private output files live until the run ends; the outputs
        # replace their targets only when it ends without an error (batch.files).
        with ExitStack() as stack:
            errors_out = _private(stack, errors_file)
            target_out = _private(stack, target)
            loaded, skipped = _load_and_check(con, kb, engine, fmt_in, source, cb, stack)
            counted = con.execute(
                f"SELECT count(*), count(*) FILTER (ok OR NOT {_BLANK}) FROM checked"
            ).fetchone()
            summary.rows = int(counted[1])
            line = _step(f"{source}: nicht lesbar / cannot be read", loaded.line, int(counted[0]))
            summary.errors, accepted = _report_rejected(con, kb, line, errors_out, cb, skipped)
            summary.python_validated = len(accepted)
            _register_fallback(con, accepted)
            _assess(con, kb, engine, database_url, line, cb)
            _rows_out_within_rows_in(con, int(counted[0]))
            cb.stage("write", 100)
            # The results are in line order, unless they came back from another engine or rows only
            # Python accepted were assessed after the others.
            sort = engine != "duckdb" or bool(accepted)
            _write(con, lambda: output.write(con, kb, target_out, fmt_out, sort), target_out, limit, cb)
            counts = con.execute("SELECT triage, count(*) FROM results GROUP BY triage").fetchall()
    finally:
        con.close()
    summary.triage = {str(k): int(v) for k, v in counts}
    summary.assessed = sum(summary.triage.values())
    summary.seconds = time.perf_counter() - started
    return summary


def output_limit(source: Path) -> int:
    """The default ceiling of the output: OUTPUT_RATIO times the input, at least MIN_OUTPUT_LIMIT.

    Real files grow by at most some tens of times (a compressed Parquet file of varied answers to JSONL);
    a file of the same row repeated millions of times compresses to almost nothing and would grow by
    thousands of times.
    """
    try:
        size = source.stat().st_size
    except OSError:  # reading it will say what is wrong
        size = 0
    return max(MIN_OUTPUT_LIMIT, OUTPUT_RATIO * size)


def _private(stack: ExitStack, target: Path) -> Path:
    try:
        return stack.enter_context(private_output(target))
    except UnsafeTarget as e:
        raise BatchError(str(e)) from None
    except OSError as e:
        raise BatchError(f"{target}: nicht schreibbar / cannot be written: {e.strerror}") from None


def _rows_out_within_rows_in(con: Any, rows_in: int) -> None:
    """Every result belongs to one input row: more results than rows would be a fault, never output."""
    rows_out = int(con.execute("SELECT count(*) FROM results").fetchone()[0])
    if rows_out > rows_in:
        raise BatchError(
            f"{rows_out} Ergebnisse für {rows_in} Zeilen – abgebrochen, nichts geschrieben / "
            f"{rows_out} results for {rows_in} rows: stopped, nothing written"
        )


def _write(con: Any, statement: Callable[[], None], written: Path, limit: int, cb: Callbacks) -> None:
    """Runs the COPY of the output, watching the file's size: past ``limit`` DuckDB is interrupted, and
    the run fails (the private file is then removed, the target never replaced)."""
    too_big: list[int] = []

    def watch() -> bool:
        size = written.stat().st_size if written.exists() else 0
        if size > limit:
            too_big.append(size)
        return bool(too_big)

    try:
        _step(
            f"{written.name}: nicht schreibbar / cannot be written",
            tracked,
            con,
            statement,
            cb.advance,
            watch,
        )
    except BatchError:
        if not too_big:
            raise
    if watch():  # a COPY quicker than the first look is measured when it ends
        mib = max(1, limit // (1024 * 1024))
        raise BatchError(
            f"Die Ausgabe würde größer als {mib} MiB – abgebrochen, nichts geschrieben (mehr erlaubt "
            f"--max-output-mb) / the output would grow past {mib} MiB: stopped, nothing written (allow more "
            "with --max-output-mb)"
        ) from None


def _step(what: str, fn: Callable[..., T], *args: Any) -> T:
    """Runs one stage; a failure of DuckDB, the engine or the file system becomes one clear line."""
    try:
        return fn(*args)
    except (BatchError, engines.EngineError, DomainError):  # DomainError: input over a limit, worded
        raise
    except Exception as e:  # DuckDB, psycopg and pyspark raise many classes; each means this stage failed
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise BatchError(f"{what}: {first}") from None


def _check(con: Any, kb: KnowledgeBase, engine: str, validation: str, source: Path, cb: Callbacks) -> None:
    """The table `checked` (ok, j, ...), one row per input line: on DuckDB validated and assessed in
    one pass (the compiled result columns), elsewhere validated only (the flat columns)."""
    if engine == "duckdb":
        cb.stage("validate_assess", 100)
        # An invalid row's values are NULL for the compiled query: its result is never used, and a wild
        # value (an age of -9e18) must not make the query fail (integer overflow) for the valid rows.
        values = "CASE WHEN ok THEN COLUMNS(* EXCLUDE (ok, j)) END"
        rows = f"SELECT NULL::BIGINT AS line, {values}, ok, j FROM ({validation})"
        select = compile_assessment(kb, "duckdb", f"({rows})", keep=("ok", "j"))
    else:
        cb.stage("validate", 100)
        select = validation
    _step(
        f"{source}: Prüfung fehlgeschlagen / validation failed",
        tracked,
        con,
        lambda: create_in_order(con, "checked", select),
        cb.advance,
    )


def _load_and_check(
    con: Any, kb: KnowledgeBase, engine: str, fmt: str, source: Path, cb: Callbacks, stack: ExitStack
) -> tuple[readers.Loaded, dict[int, str]]:
    """The table `checked` of the input, and the lines the reader could not take (line -> reason).

    When DuckDB refuses a JSONL or CSV file, its lines are screened (batch.screen) and the readable copy is
    read instead; the copy lives until ``stack`` closes. Without an unreadable line the first error stands.
    """
    unreadable = f"{source}: nicht lesbar / cannot be read"
    if fmt != "parquet":  # a Parquet file's frame is checked by its reader
        _step(unreadable, check_text_start, source)
    try:
        loaded = _step(unreadable, readers.LOADERS[fmt], con, source)
        _check(con, kb, engine, loaded.select, source, cb)
        return loaded, {}
    except BatchError:
        if fmt == "parquet":
            raise
        try:
            screened = stack.enter_context(screened_copy(source))
        except OSError as e:
            raise BatchError(f"{unreadable}: {e.strerror}") from None
        if not screened.unreadable:
            raise
    loaded = _step(unreadable, readers.LOADERS[fmt], con, screened.path)
    _check(con, kb, engine, loaded.select, source, cb)
    return loaded, screened.unreadable


def _report_rejected(
    con: Any,
    kb: KnowledgeBase,
    line: str,
    errors_path: Path,
    cb: Callbacks,
    unreadable: dict[int, str],
) -> tuple[int, list[tuple[int, Case]]]:
    try:
        with errors_path.open("x", encoding="utf-8") as errors_file:
            return _split_rejected(con, kb, line, errors_file, cb, unreadable)
    except OSError as e:
        raise BatchError(f"{errors_path}: nicht schreibbar / cannot be written: {e.strerror}") from None


def _assess(
    con: Any, kb: KnowledgeBase, engine: str, database_url: str | None, line: str, cb: Callbacks
) -> None:
    """The table or view `results` (core.sql_compile.result_columns) of every valid row."""
    what = f"{engine}: Bewertung fehlgeschlagen / assessment failed"
    if engine == "duckdb":
        _step(what, engines.results_duckdb, con, kb, line)
        return
    columns = ", ".join(f'"{c}"' for c, _ in flat_columns())
    every = f"SELECT {line} AS line, {columns} FROM checked WHERE ok"
    con.execute(f"CREATE OR REPLACE TEMP TABLE cases AS {every} UNION ALL SELECT * FROM fallback_cases")
    cb.stage("assess", int(con.execute("SELECT count(*) FROM cases").fetchone()[0]))
    if engine == "postgres":
        _step(what, engines.run_postgres, con, kb, cb.advance, database_url)
    else:
        _step(what, engines.run_spark, con, kb, cb.advance)
