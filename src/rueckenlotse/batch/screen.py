"""Lines DuckDB's reader cannot take (too long, not UTF-8) become bad rows instead of stopping the run.

DuckDB refuses a whole file for one such line. When reading fails, the file is screened line by line in
Python (in bounded chunks, so a line of gigabytes never sits in memory): every unreadable line is replaced
by a placeholder in a private temporary copy, which is then read instead, and the run reports those lines
in the error file with their reason. Screening only happens after a failure, so a clean file costs nothing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..input_limits import MAX_LINE_BYTES

_CHUNK = 64 * 1024
# What an unreadable line becomes: no format's validation accepts it (not a JSON object; in a CSV a
# record without any answer), and the error file gives the line's real reason, not this text's.
PLACEHOLDER = b'"unreadable line"'

LINE_TOO_LONG = "line_too_long"
NOT_UTF8 = "not_utf8"


@dataclass(frozen=True)
class Screened:
    """A readable copy of the input and the reasons of the lines it replaced (line number -> reason)."""

    path: Path
    unreadable: dict[int, str]


def _lines(source: BinaryIO) -> Iterator[tuple[bytes, bool]]:
    """(the line's first MAX_LINE_BYTES + 1 bytes with its ending, whether it was longer) per line;
    the rest of an over-long line is read and dropped chunk by chunk."""
    while True:
        head = source.readline(MAX_LINE_BYTES + 1)
        if not head:
            return
        too_long = False
        if not head.endswith(b"\n") and len(head) > MAX_LINE_BYTES:
            too_long = True
            while (rest := source.readline(_CHUNK)) and not rest.endswith(b"\n"):
                pass
        yield head, too_long or len(head.rstrip(b"\r\n")) > MAX_LINE_BYTES


def _reason(line: bytes, too_long: bool) -> str | None:
    if too_long:
        return LINE_TOO_LONG
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return NOT_UTF8
    return None


def _private_copy(folder: Path, name: str) -> BinaryIO:
    # The copy holds health data: readable by the owner only, never through an existing file or link.
    fd = os.open(folder / name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    return os.fdopen(fd, "wb")


@contextmanager
def screened_copy(source: Path) -> Iterator[Screened]:
    """The screened copy of ``source`` in a private temporary folder, removed afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="rueckenlotse-batch-"))
    try:
        unreadable: dict[int, str] = {}
        with source.open("rb") as src, _private_copy(folder, "input" + source.suffix) as out:
            for number, (line, too_long) in enumerate(_lines(src), start=1):
                reason = _reason(line, too_long)
                if reason is None:
                    out.write(line)
                else:
                    unreadable[number] = reason
                    out.write(PLACEHOLDER + b"\n")
        yield Screened(folder / ("input" + source.suffix), unreadable)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
