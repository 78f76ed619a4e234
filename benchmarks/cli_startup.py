"""Benchmark (d): start-up of `rueckenlotse --help` against a bare two-command Typer app and `python -c pass`.

Run from the repository: ``.venv/bin/python benchmarks/cli_startup.py [--runs N]``. Uses hyperfine when
installed (``apt-get install hyperfine``), otherwise times N runs of each command itself, interleaved.
Prints a Markdown table with the date and the machine, and which heavy libraries `--help` imported
(there should be none). Target (issue #6): `rueckenlotse --help` no slower than the bare Typer app.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from assess_latency import machine_lines  # noqa: E402

HEAVY = (
    "rich",
    "fastapi",
    "uvicorn",
    "sqlalchemy",
    "matplotlib",
    "weasyprint",
    "duckdb",
    "pyarrow",
    "fhir",
    "pydantic",
)


def commands() -> list[tuple[str, list[str]]]:
    script = Path(sys.executable).with_name("rueckenlotse")
    cli = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from rueckenlotse.cli import main; main()"]
    )
    return [
        ("`rueckenlotse --help`", [*cli, "--help"]),
        ("bare two-command Typer app `--help`", [sys.executable, str(HERE / "bare_typer_app.py"), "--help"]),
        ("`python -c pass`", [sys.executable, "-c", "pass"]),
    ]


def with_hyperfine(cmds: list[list[str]], runs: int) -> list[list[float]]:
    """Every run's wall time in ms, per command, measured by hyperfine (no shell in between)."""
    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "times.json"
        quoted = [" ".join(_quote(part) for part in cmd) for cmd in cmds]
        subprocess.run(
            ["hyperfine", "-N", "--warmup", "3", "--runs", str(runs), "--export-json", str(export), *quoted],
            check=True,
            capture_output=True,
        )
        results = json.loads(export.read_text(encoding="utf-8"))["results"]
    return [[t * 1000 for t in r["times"]] for r in results]


def _quote(part: str) -> str:
    return f"'{part}'" if " " in part or ";" in part else part


def with_subprocess(cmds: list[list[str]], runs: int) -> list[list[float]]:
    """Wall time in ms of ``runs`` runs per command, interleaved so that load changes hit all alike."""
    times: list[list[float]] = [[] for _ in cmds]
    for round_number in range(runs + 3):
        for index, cmd in enumerate(cmds):
            start = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
            if round_number >= 3:  # the first three rounds warm the file cache
                times[index].append((time.perf_counter() - start) * 1000)
    return times


def heavy_imports() -> list[str]:
    probe = (
        "import sys; sys.argv = ['rueckenlotse', '--help']\n"
        "from rueckenlotse.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        f"sys.stderr.write(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return [m for m in done.stderr.strip().split(",") if m]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs per command")
    args = parser.parse_args()

    named = commands()
    tool = "hyperfine" if shutil.which("hyperfine") else "subprocess timing"
    measure = with_hyperfine if tool == "hyperfine" else with_subprocess
    times = measure([cmd for _, cmd in named], args.runs)
    baseline = statistics.median(times[2])

    lines = ["### CLI start-up", "", *machine_lines()]
    lines += [f"- {tool}, {args.runs} runs per command after 3 warm-up runs; wall time", ""]
    lines += [
        "| command | mean ms | median ms | min ms | median − `python -c pass` |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for (name, _), runs in zip(named, times, strict=True):
        median = statistics.median(runs)
        numbers = (statistics.fmean(runs), median, min(runs), median - baseline)
        lines.append(f"| {name} | {' | '.join(f'{n:.1f}' for n in numbers)} |")
    heavy = heavy_imports()
    lines += [
        "",
        f"Heavy libraries imported by `rueckenlotse --help`: {', '.join(heavy) if heavy else 'none'}.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
