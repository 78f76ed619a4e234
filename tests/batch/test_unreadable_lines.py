"""A line too long or not UTF-8 is one bad row in the error file; the run goes on with the others.

DuckDB refuses such a file as a whole; batch.screen replaces the unreadable lines in a private copy.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.batch import screen
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge.loader import default_knowledge

CASES = [
    {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"},
    {"age": 81, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 7, "trauma": "minor"},
    {"age": 30, "regions": ["neck"], "duration_weeks": 20, "pain_intensity": 4, "trauma": "none"},
]
TOO_LONG = b"x" * (screen.MAX_LINE_BYTES + 10)


def _triage(case: dict[str, Any]) -> str:
    return evaluate(default_knowledge(), Case.model_validate(case)).triage.value


def _errors(path: Path) -> dict[int, str]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {row["line"]: row["errors"][0]["type"] for row in rows}


def _output(path: Path) -> list[tuple[int, str]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return [(row["line"], row["triage"]) for row in rows]


def test_jsonl_lines_too_long_or_not_utf8_are_bad_rows(tmp_path: Path) -> None:
    lines = [
        json.dumps(CASES[0]).encode(),
        b'{"age": 50, "note": "' + TOO_LONG + b'"}',
        json.dumps(CASES[1]).encode(),
        b'{"age": 50, "regions": ["neck\xff\xfe"]}',
        json.dumps(CASES[2]).encode(),
    ]
    source = tmp_path / "faelle.jsonl"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
    assert (summary.rows, summary.assessed, summary.errors) == (5, 3, 2)
    assert _output(tmp_path / "out.jsonl") == [
        (1, _triage(CASES[0])),
        (3, _triage(CASES[1])),
        (5, _triage(CASES[2])),
    ]
    assert _errors(tmp_path / "out.jsonl.errors.jsonl") == {2: "line_too_long", 4: "not_utf8"}
    record = json.loads((tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert "1024 KiB" in record["errors"][0]["de"] and "1024 KiB" in record["errors"][0]["en"]


def test_csv_lines_too_long_or_not_utf8_are_bad_rows(tmp_path: Path) -> None:
    def row(case: dict[str, Any]) -> bytes:
        return (
            f"{case['age']},{';'.join(case['regions'])},{case['duration_weeks']},"
            f"{case['pain_intensity']},{case['trauma']}"
        ).encode()

    lines = [
        b"age,regions,duration_weeks,pain_intensity,trauma",
        row(CASES[0]),
        b"50,low_back,2,5,n\xe4hrend",  # Latin-1, not UTF-8
        row(CASES[1]),
        b"50,low_back,2,5," + TOO_LONG,
        row(CASES[2]),
    ]
    source = tmp_path / "faelle.csv"
    source.write_bytes(b"\n".join(lines) + b"\n")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
    assert (summary.assessed, summary.errors) == (3, 2)
    assert _output(tmp_path / "out.jsonl") == [
        (2, _triage(CASES[0])),
        (4, _triage(CASES[1])),
        (6, _triage(CASES[2])),
    ]
    assert _errors(tmp_path / "out.jsonl.errors.jsonl") == {3: "not_utf8", 5: "line_too_long"}


def test_a_clean_file_is_read_as_it_is(tmp_path: Path) -> None:
    """No screening without a failure: the valid rows of a clean file and their line numbers."""
    source = tmp_path / "faelle.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in CASES), encoding="utf-8")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
    assert (summary.assessed, summary.errors) == (3, 0)
    assert (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8") == ""


def test_the_screened_copy_is_private_bounded_and_removed(tmp_path: Path) -> None:
    source = tmp_path / "faelle.jsonl"
    # The last line has no line end and is five times the limit: read in chunks, reported once.
    source.write_bytes(json.dumps(CASES[0]).encode() + b"\n\xff\n" + TOO_LONG * 5)
    with screen.screened_copy(source) as screened:
        assert screened.unreadable == {2: "not_utf8", 3: "line_too_long"}
        assert stat.S_IMODE(os.stat(screened.path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(screened.path.parent).st_mode) == 0o700
        copy = screened.path.read_bytes().splitlines()
        assert copy == [json.dumps(CASES[0]).encode(), screen.PLACEHOLDER, screen.PLACEHOLDER]
        folder = screened.path.parent
    assert not folder.exists()


def test_without_the_screen_duckdb_refuses_the_whole_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Companion: the run stops at the first unreadable line when nothing screens it."""
    from rueckenlotse.batch import pipeline

    source = tmp_path / "faelle.jsonl"
    source.write_bytes(json.dumps(CASES[0]).encode() + b"\n\xff\xfe\n")

    @contextmanager
    def finds_nothing(path: Path) -> Iterator[screen.Screened]:
        yield screen.Screened(path, {})

    monkeypatch.setattr(pipeline, "screened_copy", finds_nothing)
    with pytest.raises(pipeline.BatchError, match="validation failed"):
        run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
