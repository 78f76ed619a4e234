"""Every input format becomes one validating SELECT (batch.validate_sql, validate_typed) over a view.

JSONL lines are taken as they are (so duplicate keys, NaN or broken JSON are seen by the validator).
CSV and Parquet rows are turned into the JSON object the row stands for, leaving out empty cells and
nulls (absent = "answered no", as in the contract); that JSON text is then what the strict validation
(SQL and, for rejected rows, Python) checks, so every format is validated by the same rules.

CSV layout: one column per Case field; nested answers as dotted columns (``startback.bothersomeness``);
lists separated by ``;`` (``neck;low_back``); booleans ``true``/``false``. A cell that is neither
a JSON number nor true/false is taken as a string, so ``age = abc`` reports "not an integer".
Parquet layout: the JSON shape (lists as lists, nested answers as structs); null means absent.
Parquet rows whose column types fit are validated as typed columns (no JSON on the way); the JSON text
is built only for rows that fail.
Line numbers: JSONL and CSV count lines of the file (CSV header = line 1), Parquet counts rows from 1.
They are not read along (numbering rows while reading would make DuckDB read on one thread): the table
built from the SELECT keeps the insertion order (batch.ordered), so its rowid is the row's position in
the file, and the loader says how it becomes the line (Loaded.line). A blank JSONL line stays a row
(not ok) so the count holds; DuckDB's CSV reader skips blank lines and lets a quoted cell span lines,
so a CSV file with either gets its record-to-line table from Python's csv module.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.flat_case import FLAT_FIELDS
from ..input_limits import MAX_LINE_BYTES, check_columns, check_parquet_file, check_parquet_shape
from .validate_sql import ident, validation_sql
from .validate_typed import describe, typed_validation_sql

_NUMBER = r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?"


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _key(name: str) -> str:
    """A JSON object key as SQL text literal, e.g. '"age":'."""
    return "'" + '"' + name.replace("'", "''") + '":' + "'"


# Every line of a file as it is, one VARCHAR each: no delimiter, quote or escape can split or alter it.
_RAW_LINES = (
    "columns={'j': 'VARCHAR'}, header=false, delim='\\x1f', quote='', escape='', auto_detect=false, "
    "strict_mode=false"
)


@dataclass(frozen=True)
class Loaded:
    """What a loader gives: the validating SELECT (j, ok, <flat columns>: one row per line or row of
    the input, in its order; j is the row's JSON text where not ok, for Python's reasons), and how the
    position of a row of the table built from it (rowid) becomes its line, given the number of rows."""

    select: str
    line: Callable[[int], str]


def _from_position(first_line: int) -> Callable[[int], str]:
    return lambda rows: f"(rowid + {first_line})"


def load_jsonl(con: Any, path: Path) -> Loaded:
    # A view, so the file's text streams through validation instead of being held in memory as a whole.
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW rows AS
        SELECT j FROM read_csv({_q(path)}, {_RAW_LINES})
    """)
    return Loaded(validation_sql("rows"), _from_position(1))


def _csv_cell(column: str, kind: str) -> str:
    """The JSON text of one CSV cell."""
    cell = ident(column)
    if kind == "list":
        return f"to_json(list_filter(string_split({cell}, ';'), lambda x: x <> ''))"
    return (
        f"(CASE WHEN {cell} IN ('true', 'false') OR regexp_full_match({cell}, '{_NUMBER}') "
        f"THEN {cell} ELSE to_json({cell}) END)"
    )


def _object_text(members: list[tuple[str, str, str]]) -> str:
    """'{' || the members whose value is not NULL || '}'; members are (key, present_sql, json_sql)."""
    parts = [f"(CASE WHEN {present} THEN {_key(key)} || {value} END)" for key, present, value in members]
    return "('{' || concat_ws(',', " + ", ".join(parts) + ") || '}')"


def _check_csv_header(path: Path) -> None:
    """Too many columns in the header line are refused before DuckDB's sniffer and the SQL built per
    column see them (input_limits.check_columns); a header line over MAX_LINE_BYTES is cut there."""
    import csv

    with path.open("rb") as f:
        head = f.readline(MAX_LINE_BYTES).decode("utf-8", errors="replace")
    header = next(csv.reader([head]), [])
    check_columns(path, len(header))


def load_csv(con: Any, path: Path) -> Loaded:
    _check_csv_header(path)
    # One look at the raw lines: DuckDB's parallel CSV reader cannot pad short rows (null_padding) once a
    # quoted cell spans lines, so such a file (a line with an odd number of quotes) is read on one thread;
    # blank lines, which it skips, and spanning cells decide how records find their lines (_csv_lines).
    lines, blank, spanning = con.execute(
        "SELECT count(*), count(*) FILTER (j IS NULL OR regexp_full_match(j, '\\s*')), "
        "count(*) FILTER ((strlen(j) - strlen(replace(j, '\"', ''))) % 2 = 1) "
        f"FROM read_csv({_q(path)}, {_RAW_LINES})"
    ).fetchone()
    con.execute(f"""
        CREATE OR REPLACE TEMP VIEW csv_in AS
        SELECT * FROM read_csv({_q(path)}, header=true, all_varchar=true,
            auto_detect=true, null_padding=true, strict_mode=false{", parallel=false" if spanning else ""})
    """)
    columns = [r[0] for r in con.execute("DESCRIBE csv_in").fetchall()]
    kinds = {f.name: f.kind for f in FLAT_FIELDS}
    members: list[tuple[str, str, str]] = []
    nested: dict[str, list[tuple[str, str, str]]] = {}
    for column in columns:
        cell = ident(column)
        present = f"COALESCE(trim({cell}) <> '', FALSE)"
        parent, _, child = column.partition(".")
        member = (child or parent, present, _csv_cell(column, kinds.get(column, "")))
        if child and kinds.get(parent) == "object":
            nested.setdefault(parent, []).append(member)
        else:
            members.append(member)
    for parent, children in nested.items():
        any_present = " OR ".join(p for _, p, _ in children)
        members.append((parent, any_present, _object_text(children)))
    con.execute(f"CREATE OR REPLACE TEMP VIEW rows AS SELECT {_object_text(members)} AS j FROM csv_in")

    def line(rows: int) -> str:
        if blank == 0 and lines == rows + 1:  # a header line, then one line per record
            return "(rowid + 2)"
        return _csv_lines(con, path, rows)

    return Loaded(validation_sql("rows"), line)


def _check_parquet(path: Path) -> None:
    """The frame, the footer's size and the metadata's counts, before a row is read: a forged row count
    (billions of rows run-length encoded in a few bytes) or a huge footer ends the run at once."""
    import pyarrow.parquet as pq

    size = check_parquet_file(path)
    meta = pq.read_metadata(path)
    groups = [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
    rows = max(int(meta.num_rows), sum(groups))
    check_parquet_shape(path, size=size, rows=rows, row_groups=len(groups), columns=int(meta.num_columns))


def load_parquet(con: Any, path: Path) -> Loaded:
    _check_parquet(path)
    con.execute(f"CREATE OR REPLACE TEMP VIEW parquet_in AS SELECT * FROM read_parquet({_q(path)})")
    columns, children = describe(con, "parquet_in")
    members: list[tuple[str, str, str]] = []
    for column in columns:
        cell = ident(column)
        value = f"to_json({cell})"
        if column in children:
            inner = [
                (c, f"{cell}.{ident(c)} IS NOT NULL", f"to_json({cell}.{ident(c)})") for c in children[column]
            ]
            value = _object_text(inner)
        members.append((column, f"{cell} IS NOT NULL", value))
    validation = typed_validation_sql("parquet_in", columns, children, _object_text(members))
    return Loaded(validation, _from_position(1))


class LineError(ValueError):
    """The file's records cannot be matched to its lines (a CSV that DuckDB and Python read differently)."""


def _csv_lines(con: Any, path: Path, rows: int) -> str:
    """Lines of a CSV file with blank lines or cells that span lines, from Python's csv module."""
    starts = _csv_record_lines(path)
    if len(starts) != rows + 1:
        raise LineError(
            f"{rows} Datensätze, aber {len(starts) - 1} für Pythons csv-Modul – Zeilennummern wären falsch, "
            f"bitte die Anführungszeichen prüfen / {rows} records, but {len(starts) - 1} for Python's csv "
            "module: line numbers would be wrong (check the quoting)"
        )
    con.execute("SET VARIABLE rl_lines = ?::BIGINT[]", [starts])
    return "getvariable('rl_lines')[rowid + 2]"  # element 1 is the header's line


def _csv_record_lines(path: Path) -> list[int]:
    """The first line of every non-empty record of a CSV file (the header first)."""
    import csv

    starts, previous = [], 0
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        for record in reader:
            if record:  # a blank line reads as [] (DuckDB skips it too)
                starts.append(previous + 1)
            previous = reader.line_num
    return starts


LOADERS: dict[str, Callable[[Any, Path], Loaded]] = {
    "jsonl": load_jsonl,
    "csv": load_csv,
    "parquet": load_parquet,
}
