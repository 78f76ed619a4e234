"""The files a batch run writes: private (0600), whole or not at all, never through a link, bounded.

A killed or failed run leaves the previous results and error file as they were; an output that grows
past its ceiling (a small file unpacking into millions of rows) stops the run with nothing written.
"""

from __future__ import annotations

import json
import os
import random
import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rueckenlotse.batch.generate import generate_case
from rueckenlotse.batch.pipeline import BatchError, _rows_out_within_rows_in, output_limit, run_batch
from rueckenlotse.knowledge.loader import default_knowledge

from .conftest import write_jsonl

ONE = {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"}


def _cases(n: int) -> list[dict[str, object]]:
    rng = random.Random(7)
    return [generate_case(rng) for _ in range(n)]


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_results_and_error_file_are_private(tmp_path: Path, suffix: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [*_cases(20), {"age": "x"}])
    target = tmp_path / f"out{suffix}"
    summary = run_batch(default_knowledge(), source, target)
    assert summary.errors == 1
    assert _mode(target) == 0o600
    assert _mode(tmp_path / f"out{suffix}.errors.jsonl") == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["in.jsonl", target.name, f"{target.name}.errors.jsonl"]
    )


@pytest.mark.parametrize("which", ["output", "errors"])
def test_a_symlink_at_an_output_path_is_refused_and_its_target_untouched(tmp_path: Path, which: str) -> None:
    source = write_jsonl(tmp_path / "in.jsonl", [ONE])
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me", encoding="utf-8")
    target, errors = tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    (target if which == "output" else errors).symlink_to(elsewhere)
    with pytest.raises(BatchError, match="symbolic link"):
        run_batch(default_knowledge(), source, target, errors_path=errors)
    assert elsewhere.read_text(encoding="utf-8") == "keep me"
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_a_failed_run_leaves_the_previous_results_and_error_file(tmp_path: Path) -> None:
    target = tmp_path / "out.jsonl"
    run_batch(default_knowledge(), write_jsonl(tmp_path / "in.jsonl", [ONE, {"age": "x"}]), target)
    before = target.read_bytes(), (tmp_path / "out.jsonl.errors.jsonl").read_bytes()
    # The second run gets as far as the error file, then its output outgrows a ceiling of one byte.
    second = write_jsonl(tmp_path / "in2.jsonl", [*_cases(50), {"age": "y"}])
    with pytest.raises(BatchError, match="--max-output-mb"):
        run_batch(default_knowledge(), second, target, max_output_bytes=1)
    assert (target.read_bytes(), (tmp_path / "out.jsonl.errors.jsonl").read_bytes()) == before
    assert not any(p.name.endswith(".part") for p in tmp_path.iterdir())


def test_a_small_file_that_unpacks_into_a_huge_output_is_stopped(tmp_path: Path) -> None:
    """The same row a million times: a Parquet file of a few kilobytes, an output of hundreds of MB."""
    n = 1_000_000
    table = pa.table({key: pa.array([value] * n) for key, value in ONE.items()})
    source = tmp_path / "repeat.parquet"
    pq.write_table(table, source, compression="zstd")
    assert source.stat().st_size < 100_000
    limit = (
        20 * 1024 * 1024
    )  # well below the ~300 MB this would write, far above what was written when stopped
    with pytest.raises(BatchError, match="20 MiB"):
        run_batch(default_knowledge(), source, tmp_path / "out.jsonl", max_output_bytes=limit)
    assert not (tmp_path / "out.jsonl").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["repeat.parquet"]


def test_the_default_ceiling_grows_with_the_input(tmp_path: Path) -> None:
    small, large = tmp_path / "small.jsonl", tmp_path / "large.jsonl"
    small.write_bytes(b"{}\n")
    large.write_bytes(b" " * (10 * 1024 * 1024))
    assert output_limit(small) == 256 * 1024 * 1024
    assert output_limit(large) == 200 * 10 * 1024 * 1024


def test_more_results_than_rows_is_refused() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE results AS SELECT * FROM range(3)")
    _rows_out_within_rows_in(con, 3)
    with pytest.raises(BatchError, match="3 results for 2 rows"):
        _rows_out_within_rows_in(con, 2)


def test_an_empty_result_still_gets_its_private_file(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"age": "x"}) + "\n", encoding="utf-8")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.csv")
    assert (summary.assessed, summary.errors) == (0, 1)
    assert _mode(tmp_path / "out.csv") == 0o600
