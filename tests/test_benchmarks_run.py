"""The benchmark scripts run from the checkout and print their tables (issue #6: they must run from a
clean clone). Small parameters: this checks that each script works end to end, never how fast anything
is (speed is measured by running the scripts themselves, see the README's "Performance")."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# script, small arguments, lines its table must have (regular expressions)
SCRIPTS = [
    (
        "batch_throughput.py",
        ["--rows", "3000", "--sample", "300", "--repeat", "2"],
        [
            r"per-case loop \(JSONL, extrapolated\)\s+3,000 ",
            r"compiled DuckDB, JSONL in\s+3,000\s+[\d.]+\s+[\d.]+–[\d.]+\s+[\d,]+\s+[\d.]+x\s+\d+",
            r"compiled DuckDB, Parquet in\s+3,000\s+[\d.]+\s+[\d.]+–[\d.]+\s+[\d,]+\s+[\d.]+x\s+\d+",
        ],
    ),
    (
        "assess_latency.py",
        ["--generated", "40", "--rounds", "1"],
        [
            r"\| `assess\(mapping\)` \(validation \+ engine \+ output\) \| 40 generated \|",
            r"\| engine only: `evaluate\(kb, Case\)` \| 40 generated \|",
        ],
    ),
    (
        "api_throughput.py",
        ["--seconds", "1", "--rounds", "1", "--connections", "2"],
        [
            r"\| `GET /api/v1/health` \(trivial JSON\) \| [\d,]+ \| [\d.]+ \| [\d.]+ \| [\d,]+ \| 0 \|",
            r"\| `POST /api/v1/assessments` \| [\d,]+ \| [\d.]+ \| [\d.]+ \| [\d,]+ \| 0 \|",
            r"Throughput ratio assessments / health: \*\*\d+%\*\*",
        ],
    ),
    (
        "load.py",
        ["--quick"],
        [
            # the steps at 1 and 4 connections, each without errors (a 503 "busy" is counted apart)
            r"\| 1 \| \d+ \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \| 0 \| 0 \| \d+ \| [\d.]+ \|",
            r"\| 4 \| \d+ \| [\d,]+ \| [\d,]+ \| [\d.]+ \| [\d.]+ \| 0 \| 0 \| \d+ \| [\d.]+ \|",
            r"Last step \(4 connections, \d+ s\): \*\*0 errors\*\*",
            r"\| `POST /api/v1/persons/\{id\}/diary` \| \d+% \| [1-9][\d,]* \|",
            r"\| `POST /result` \| \d+% \| [1-9][\d,]* \|",
            r"\| t s \| connections \| RSS MB \|",
        ],
    ),
    (
        "diary_write.py",
        ["--lengths", "3,12", "--rounds", "2"],
        [
            r"\| 3 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \|",
            r"\| 12 \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \| [\d.]+× \|",
        ],
    ),
    (
        "cli_startup.py",
        ["--runs", "2"],
        [
            r"\| `rueckenlotse --help` \|",
            r"\| bare two-command Typer app `--help` \|",
            r"Heavy libraries imported by `rueckenlotse --help`: none",
        ],
    ),
    (
        "cohort_batch.py",
        ["--courses", "600", "--repeat", "1", "--store", "200"],
        [
            r"batch cohort, DuckDB, JSONL in\s+600\s+[\d.]+\s+-\s+[\d,]+\s+\d+",
            r"batch cohort, DuckDB, Parquet in\s+600\s+[\d.]+\s+-\s+[\d,]+\s+\d+",
            r"SQL on the store \(SQLite\), query only\s+200\s+[\d.]+",
        ],
    ),
    (
        "report_render.py",
        ["--runs", "1"],
        [
            r"\| patient summary \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+x \|",
            r"\| clinician report with diary \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+x \|",
        ],
    ),
]


@pytest.mark.parametrize(("script", "args", "expected"), SCRIPTS, ids=[s[0] for s in SCRIPTS])
def test_the_benchmark_script_runs_and_prints_its_table(
    script: str, args: list[str], expected: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for pattern in expected:
        assert re.search(pattern, done.stdout), (pattern, done.stdout[-3000:])
