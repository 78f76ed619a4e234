"""Bounded work for hostile input: how much every reader takes, checked before the work is done.

A file of gigabytes, JSON nested a hundred thousand levels deep, UTF-16 or binary data, or a Parquet file
whose few kilobytes claim billions of rows must end with one clear message, quickly and in little memory,
never with a traceback or a process that eats the machine. The limits are constants, not settings: they
are far above any real input (a Case is a few kilobytes, a diary entry a few hundred bytes), so no one
needs to raise them, and a limit an attacker can reach through configuration is no limit.

Who uses what:
* ``read_text_file`` (MAX_FILE_BYTES): every command that reads one JSON document or a small JSON Lines
  file whole — ``assess``, ``person intake``, ``diary import``, ``fhir export``/``import``,
  ``report FILE``, ``plan preview``. A file is refused by its size before it is read.
* ``jsonl_lines`` (MAX_JSONL_LINES): the JSON Lines files among them (``assess``, ``diary import``).
* ``check_json`` (MAX_NESTING_DEPTH, MAX_JSON_ITEMS): every JSON text before ``json.loads`` builds its
  tree (``validation``, the FHIR import), on the command line, in ``batch`` and in the web API alike.
* MAX_LINE_BYTES: one line of a ``batch`` input (``batch.screen`` sends longer lines to the error file);
  ``check_text_start``: a ``batch`` JSON Lines or CSV input that is empty, UTF-16 or binary as a whole.
* ``check_parquet_file`` and ``check_parquet_shape``: a ``batch`` Parquet input, from its footer and
  metadata before any row is read; ``check_columns`` (MAX_BATCH_COLUMNS): a CSV or Parquet input.
The web API and the web forms have their own body limit (64 KiB, ``web.api.body``, ``web.render``).

Pure standard library (the errors are the package's DomainError): importable by the core install.
"""

from __future__ import annotations

import codecs
import itertools
import operator
import os
import re
import struct
from pathlib import Path

from .i18n.errors import DomainError

MIB = 1024 * 1024

# One JSON document or a small JSON Lines file, read whole into memory. A Case is a few kilobytes and a
# diary entry a few hundred bytes: 10 MiB holds thousands of cases or decades of daily entries, and
# parsing it stays within a few hundred MB of memory. Larger sets of cases belong to `batch`, which
# streams them.
MAX_FILE_BYTES = 10 * MIB

# Lines of a JSON Lines file read whole (`assess`, `diary import`): each becomes a model in memory and
# each invalid one a message, so a file of short lines must not hold millions of them. Ten thousand cases
# take seconds to assess; ten thousand diary entries are decades of daily entries.
MAX_JSONL_LINES = 10_000

# Levels of arrays and objects in one JSON text. A Case nests three levels deep, a FHIR
# QuestionnaireResponse about ten; 64 leaves room for any honest document, and the check runs before
# the parser builds a tree (Python's parser recurses once per level, pydantic's has its own limit).
MAX_NESTING_DEPTH = 64
# Items of arrays and members of objects in one JSON text, all levels together (counted as its commas).
# A Case has a few dozen, a FHIR QuestionnaireResponse a few hundred. Without a bound, 9 MB of
# `"regions": [1, 1, ...]` made the validation report three million errors (6 GB of memory, 80 s).
MAX_JSON_ITEMS = 10_000

# One line of a `batch` input (JSON Lines or CSV). A Case is a few kilobytes as one JSON line; DuckDB's
# own limit is 2 MiB. Longer lines become rows of the error file (batch.screen); the run goes on.
MAX_LINE_BYTES = 1 * MIB

# A Parquet file's footer (its metadata), read whole by every Parquet reader. Real footers of a few
# hundred row groups are some hundred kilobytes.
MAX_PARQUET_FOOTER_BYTES = 16 * MIB
# Columns of a `batch` input (CSV, or a Parquet file's leaf columns): a Case has a few dozen fields, the
# output of another tool maybe some hundreds more; every column becomes SQL text (and in Parquet a reader
# per row group), so a header of a million columns must not reach the query builder.
MAX_BATCH_COLUMNS = 1_000
# Row groups: each is scheduled and its metadata read on its own; real files have one per 100k–1M rows.
MAX_PARQUET_ROW_GROUPS = 100_000
# Rows of one `batch` input: a billion cases is more than any population screening.
MAX_BATCH_ROWS = 1_000_000_000
# Rows a Parquet file may claim per byte of its size. The same row repeated a million times compresses to
# some ten rows per byte (tests/batch/test_output_files.py); a file claiming a thousand times more is a
# forged row count (a run-length encoding of billions of nulls), which would keep DuckDB busy for hours.
MAX_PARQUET_ROWS_PER_BYTE = 10_000

_PARQUET_MAGIC = b"PAR1"
_PARQUET_TAIL = struct.Struct("<I4s")  # the footer's length, then the magic again


class InputRejected(DomainError, ValueError):
    """Input over one of the limits, or not readable as what it claims to be (worded at the edge)."""


def _mib(limit: int) -> str:
    return f"{limit / MIB:g}"


# ---- whole text files ------------------------------------------------------------------------------------


def read_text_file(path: Path, *, limit: int = MAX_FILE_BYTES) -> str:
    """The text of a small UTF-8 file (a leading UTF-8 byte order mark dropped).

    InputRejected when it is larger than ``limit`` (told by its size before anything is read; a pipe or
    device is read only up to the limit), empty, or not UTF-8 text (UTF-16, binary). OSError when it
    cannot be opened (missing, a folder, no permission): the caller words that as a file error.
    """
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > limit:
            raise _too_large(path, limit)
        data = file.read(limit + 1)
    if len(data) > limit:
        raise _too_large(path, limit)
    return decode_text(data, path)


def _too_large(path: Path, limit: int) -> InputRejected:
    return InputRejected("input_too_large", path=str(path), limit_mib=_mib(limit))


def check_text_start(path: Path, *, probe: int = 4096) -> None:
    """For a text file too large to read whole (a `batch` input): InputRejected when it is empty, or its
    first bytes show UTF-16 or binary data. A stray bad line further on is the reader's business."""
    with path.open("rb") as file:
        head = file.read(probe)
    if not head:
        raise InputRejected("input_empty", path=str(path))
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise InputRejected("input_not_utf8", path=str(path))


def decode_text(data: bytes, path: Path) -> str:
    """``data`` as UTF-8 text; InputRejected when it is UTF-16 or binary (a NUL byte, which no JSON text
    holds unescaped) or has nothing but white space."""
    if data.startswith(codecs.BOM_UTF8):  # what Windows editors write; harmless, so accepted
        data = data[len(codecs.BOM_UTF8) :]
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in data:
        raise InputRejected("input_not_utf8", path=str(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise InputRejected("input_not_utf8", path=str(path)) from None
    if not text.strip():
        raise InputRejected("input_empty", path=str(path))
    return text


def jsonl_lines(text: str, path: Path, *, limit: int = MAX_JSONL_LINES) -> list[str]:
    """The lines of a JSON Lines text (split at line feeds only: a JSON string may hold U+2028, which
    ``str.splitlines`` would split at; a carriage return before the feed is dropped).
    InputRejected when there are more than ``limit``, counted before the lines are built."""
    count = text.count("\n") + (0 if text.endswith("\n") else 1)
    if count > limit:
        raise InputRejected("input_too_many_lines", path=str(path), limit=limit)
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    return [line.removesuffix("\r") for line in lines]


# ---- the shape of JSON text ------------------------------------------------------------------------------

# A JSON string (its escapes included), and everything that is neither a bracket nor a comma.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_STRUCTURE = re.compile(r"[^\[\]{},]+")
# An opening bracket counts 2, a comma 1, a closing bracket 0: less one per sign, the running sum is the
# depth.
_STEPS = bytes.maketrans(b"[{,]}", b"\x02\x02\x01\x00\x00")


def json_shape(text: str) -> tuple[int, int]:
    """(the deepest level of arrays and objects, the number of commas) of a JSON text, without parsing it.

    Brackets and commas inside strings do not count. In C-speed steps (regular expressions,
    bytes.translate and a running sum), so a 10 MiB text takes well under a second. An unterminated
    string or unbalanced brackets give some numbers; the parser rejects such text anyway.
    """
    signs = _NOT_STRUCTURE.sub("", _JSON_STRING.sub("", text)).encode("ascii")
    commas = signs.count(b",")
    if len(signs) == commas:
        return 0, commas
    depth = max(map(operator.sub, itertools.accumulate(signs.translate(_STEPS)), itertools.count(1)))
    return max(0, depth), commas


def check_json(text: str) -> None:
    """InputRejected when a JSON text nests deeper than MAX_NESTING_DEPTH or has more than MAX_JSON_ITEMS
    items and members: before the parser recurses into it, and before a model's validation reports an
    error per item."""
    depth, commas = json_shape(text)
    if depth > MAX_NESTING_DEPTH:
        raise InputRejected("input_too_deep", limit=MAX_NESTING_DEPTH)
    if commas >= MAX_JSON_ITEMS:
        raise InputRejected("input_too_many_items", limit=MAX_JSON_ITEMS)


# ---- Parquet ---------------------------------------------------------------------------------------------


def check_parquet_file(path: Path) -> int:
    """The size of a Parquet file whose frame is sound: the magic at both ends and a footer that fits the
    file and MAX_PARQUET_FOOTER_BYTES. Read from its first and last bytes only, before any reader parses
    the footer. InputRejected otherwise; OSError when it cannot be opened."""
    with path.open("rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size < len(_PARQUET_MAGIC) + _PARQUET_TAIL.size:
            raise InputRejected("parquet_not_parquet", path=str(path))
        head = file.read(len(_PARQUET_MAGIC))
        file.seek(size - _PARQUET_TAIL.size)
        footer, magic = _PARQUET_TAIL.unpack(file.read(_PARQUET_TAIL.size))
    if head != _PARQUET_MAGIC or magic != _PARQUET_MAGIC or footer > size - 12:
        raise InputRejected("parquet_not_parquet", path=str(path))
    if footer > MAX_PARQUET_FOOTER_BYTES:
        raise InputRejected(
            "parquet_too_large_metadata", path=str(path), limit_mib=_mib(MAX_PARQUET_FOOTER_BYTES)
        )
    return size


def check_parquet_shape(path: Path, *, size: int, rows: int, row_groups: int, columns: int) -> None:
    """InputRejected when a Parquet file's metadata claims more rows or row groups than any real input
    has, more rows than its size can honestly hold, or too many columns."""
    limits = (
        ("rows", rows, min(MAX_BATCH_ROWS, max(1, size) * MAX_PARQUET_ROWS_PER_BYTE)),
        ("row_groups", row_groups, MAX_PARQUET_ROW_GROUPS),
    )
    for what, count, limit in limits:
        if count < 0 or count > limit:
            raise InputRejected(f"parquet_implausible.{what}", path=str(path), count=count, limit=limit)
    check_columns(path, columns)


def check_columns(path: Path, count: int) -> None:
    """InputRejected when a `batch` input has more than MAX_BATCH_COLUMNS columns."""
    if count > MAX_BATCH_COLUMNS:
        raise InputRejected("batch_too_many_columns", path=str(path), count=count, limit=MAX_BATCH_COLUMNS)
