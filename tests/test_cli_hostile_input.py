"""Hostile files for every reader of the command line: bounded work, one clear message, exit code 2, never a
traceback (issue #15, steps 4 and 5).

Each reader gets a file over the size limit, JSON nested 100,000 levels deep, UTF-16, binary data and an
empty file, through the installed console script in a subprocess. ``assess`` on a 50 MB file must be
refused with little memory: the peak resident size of the process (``resource.getrusage(RUSAGE_CHILDREN)``)
is measured, not guessed from a timing. Before the limits it read the whole file and peaked at 1.6 GB.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rueckenlotse.input_limits import MAX_FILE_BYTES

from .conftest import CLI

CASE = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6}
PERSON = "0" * 32  # never reached: every file is refused before the database is opened

# name -> (what to write, a word of the German message)
BAD: dict[str, tuple[Callable[[Path], None], str]] = {
    "oversize": (lambda p: _sparse(p, MAX_FILE_BYTES + 1), "größer als 10 MiB"),
    "deep": (lambda p: p.write_text("[" * 100_000, encoding="utf-8"), "zu tief verschachtelt"),
    "utf16": (lambda p: p.write_text(json.dumps(CASE), encoding="utf-16"), "kein UTF-8-Text"),
    "binary": (lambda p: p.write_bytes(bytes(range(256)) * 16), "kein UTF-8-Text"),
    "empty": (lambda p: p.write_bytes(b""), "ist leer"),
    "many_items": (
        lambda p: p.write_text(json.dumps({**CASE, "regions": ["neck"] * 500_000}), encoding="utf-8"),
        "zu viele Einträge",
    ),
}

# name -> the command line, given the file (and a folder for outputs and the database)
READERS: dict[str, Callable[[Path, Path], list[str | Path]]] = {
    "assess json": lambda f, d: ["assess", f],
    "assess jsonl": lambda f, d: ["assess", f],
    "person intake": lambda f, d: ["person", "intake", PERSON, f, "--db", f"sqlite:///{d / 'rl.db'}"],
    "diary import": lambda f, d: ["diary", "import", PERSON, f, "--db", f"sqlite:///{d / 'rl.db'}"],
    "fhir export": lambda f, d: ["fhir", "export", f, "-o", d / "out.json"],
    "fhir import": lambda f, d: ["fhir", "import", f],
    "report": lambda f, d: ["report", f, "-o", d / "out.html"],
    "plan preview": lambda f, d: ["plan", "preview", f],
}


def _sparse(path: Path, size: int) -> None:
    with path.open("wb") as f:
        f.truncate(size)  # nothing to read: only the size can refuse it


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)


def assert_refused(proc: subprocess.CompletedProcess[str], word: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert word in proc.stderr, proc.stderr


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize("bad", list(BAD))
@pytest.mark.parametrize("reader", list(READERS))
def test_every_reader_refuses_hostile_files_cleanly(tmp_path: Path, reader: str, bad: str) -> None:
    write, word = BAD[bad]
    file = tmp_path / ("input.jsonl" if reader in ("assess jsonl", "diary import") else "input.json")
    write(file)
    proc = run(*READERS[reader](file, tmp_path))
    assert_refused(proc, word)
    assert sorted(p.name for p in tmp_path.iterdir()) == [file.name]  # nothing written, no database


# Run by a small Python of its own: a child's peak resident size includes what it inherited at the fork,
# and a child forked from the test process (hundreds of MB with DuckDB and PyArrow loaded) would report
# that. Forked from this small process, the number is the command's own.
_MEASURE = """
import resource, subprocess, sys
done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
sys.stderr.buffer.write(done.stderr)
print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def peak_rss_mib(*args: str | Path) -> tuple[int, float, str]:
    """(exit code, peak resident size in MiB, stderr) of one run of the command line."""
    command = [sys.executable, "-c", _MEASURE, str(CLI), *map(str, args)]
    measured = subprocess.run(command, capture_output=True, text=True, timeout=300)
    code, kib = measured.stdout.split()
    return int(code), int(kib) / 1024, measured.stderr  # ru_maxrss: KiB on Linux


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize("suffix", [".jsonl", ".json"])
def test_assess_refuses_a_50_mb_file_in_little_memory(tmp_path: Path, suffix: str) -> None:
    line = json.dumps(CASE) + "\n"
    file = tmp_path / f"gross{suffix}"
    file.write_text(line * (50 * 1024 * 1024 // len(line)), encoding="utf-8")
    code, peak, stderr = peak_rss_mib("assess", file)
    assert code == 2 and "größer als 10 MiB" in stderr and "rueckenlotse batch" in stderr, stderr
    assert peak < 200, f"peak {peak:.0f} MiB"


@pytest.mark.safety("SR-IN-1")
def test_assess_refuses_too_many_lines_and_items_in_little_memory(tmp_path: Path) -> None:
    lines = tmp_path / "kurz.jsonl"
    lines.write_text("{}\n" * 1_000_000, encoding="utf-8")  # 3 MB, a million invalid cases
    code, peak, stderr = peak_rss_mib("assess", lines)
    assert code == 2 and "mehr als 10000 Zeilen" in stderr, stderr
    assert peak < 200, f"peak {peak:.0f} MiB"
    items = tmp_path / "liste.json"  # 9 MB: once three million errors, 6 GB
    items.write_text(json.dumps({**CASE, "regions": [1] * 3_000_000}), encoding="utf-8")
    code, peak, stderr = peak_rss_mib("assess", items)
    assert code == 2 and "zu viele Einträge" in stderr, stderr
    assert peak < 200, f"peak {peak:.0f} MiB"


def test_a_utf8_file_with_a_byte_order_mark_is_read(tmp_path: Path) -> None:
    file = tmp_path / "fall.json"
    file.write_bytes(b"\xef\xbb\xbf" + json.dumps(CASE).encode())
    proc = run("assess", file, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["triage"]


# ---- batch: files too large to read whole, streamed; whole-file problems end the run, line problems not --


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("name", "content", "word"),
    [
        ("leer.jsonl", b"", "ist leer"),
        ("leer.csv", b"", "ist leer"),
        ("utf16.jsonl", (json.dumps(CASE) + "\n").encode("utf-16"), "kein UTF-8-Text"),
        ("utf16.csv", "age,regions\n40,low_back\n".encode("utf-16"), "kein UTF-8-Text"),
        ("binaer.jsonl", bytes(range(256)) * 16, "kein UTF-8-Text"),
        ("leer.parquet", b"", "keine lesbare Parquet-Datei"),
        ("binaer.parquet", bytes(range(256)) * 16, "keine lesbare Parquet-Datei"),
        ("breit.csv", (",".join(f"c{i}" for i in range(5000)) + "\n1\n").encode(), "5000 Spalten"),
    ],
)
def test_batch_refuses_whole_files_it_cannot_read(
    tmp_path: Path, name: str, content: bytes, word: str
) -> None:
    source = tmp_path / name
    source.write_bytes(content)
    assert_refused(run("batch", source, "-o", tmp_path / "out.jsonl"), word)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


@pytest.mark.safety("SR-IN-1")
def test_batch_refuses_a_parquet_file_claiming_more_rows_than_it_can_hold(tmp_path: Path) -> None:
    """Ten million rows run-length encoded into a few hundred bytes: refused from the metadata, before
    DuckDB reads a row."""
    source = tmp_path / "nullen.parquet"
    rows = 10_000_000
    pq.write_table(
        pa.table({"age": pa.nulls(rows)}),
        source,
        row_group_size=rows,
        max_rows_per_page=rows,
        write_batch_size=rows,
        data_page_size=1 << 30,
        compression="zstd",
        write_statistics=False,
    )
    assert source.stat().st_size < 1000
    code, peak, stderr = peak_rss_mib("batch", source, "-o", tmp_path / "out.jsonl")
    assert code == 2 and "10000000 Zeilen" in stderr and "Traceback" not in stderr, stderr
    assert peak < 400, f"peak {peak:.0f} MiB"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nullen.parquet"]


def test_batch_keeps_a_deeply_nested_line_as_a_row_of_the_error_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps(CASE) + "\n" + "[" * 100_000 + "\n", encoding="utf-8")
    proc = run("batch", source, "-o", tmp_path / "out.jsonl")
    assert proc.returncode == 0, proc.stderr
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2]
    assert "64" in errors[0]["errors"][0]["de"]
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 1
