"""Batch throughput: the compiled DuckDB path vs the per-case engine in a loop (issue #6, benchmark b).

    .venv/bin/python benchmarks/batch_throughput.py [--rows 1000000] [--sample 20000] [--repeat 3]

Generates --rows valid cases (seeded, every field) as JSONL and Parquet in a temporary folder, then runs
each measurement in a fresh Python process so that its peak memory (max RSS) is its own:
- `run_batch` JSONL -> Parquet and Parquet -> Parquet through DuckDB (read, strict validation, every
  compiled field, write), --repeat times each (a fresh process each time): the median is the result,
  the fastest and slowest run beside it (a shared machine varies from run to run);
- the per-case loop (parse_case_json + evaluate per line) on the first --sample lines, extrapolated
  to --rows (the loop is linear; the full million would take many minutes).
Prints one table; nothing is asserted (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

CHUNK = 100_000

# Peak memory: VmHWM of the measuring process itself. (getrusage's ru_maxrss would also count what the
# parent held when it started the process: Linux carries that high-water mark over fork and exec.)
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"

RUN_BATCH = """
import sys, time
from pathlib import Path
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.knowledge.loader import default_knowledge
kb = default_knowledge()
start = time.perf_counter()
s = run_batch(kb, Path(sys.argv[1]), Path(sys.argv[2]))
seconds = time.perf_counter() - start
print(seconds, s.assessed, s.errors, PEAK)
""".replace("PEAK", PEAK)

PER_CASE = """
import sys, time
from itertools import islice
from rueckenlotse.core.engine import evaluate
from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.validation import parse_case_json
kb = default_knowledge()
with open(sys.argv[1], encoding="utf-8") as f:
    lines = list(islice(f, int(sys.argv[2])))
start = time.perf_counter()
for line in lines:
    evaluate(kb, parse_case_json(line, kb))
seconds = time.perf_counter() - start
print(seconds, len(lines), 0, PEAK)
""".replace("PEAK", PEAK)


def generate(folder: Path, rows: int) -> tuple[Path, Path]:
    """JSONL and Parquet with the same cases, written in chunks (a million dicts at once is gigabytes)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from rueckenlotse.batch.generate import arrow_schema, generate_cases

    jsonl, parquet = folder / "cases.jsonl", folder / "cases.parquet"
    schema = arrow_schema()
    cases = generate_cases(rows, seed=6)
    with jsonl.open("w", encoding="utf-8") as out, pq.ParquetWriter(parquet, schema) as writer:
        for start in range(0, rows, CHUNK):
            chunk = [next(cases) for _ in range(min(CHUNK, rows - start))]
            out.write("".join(json.dumps(c) + "\n" for c in chunk))
            writer.write_table(pa.Table.from_pylist(chunk, schema=schema))
    return jsonl, parquet


def measure(script: str, *args: str) -> tuple[float, int, int, float]:
    """seconds, rows, errors, peak RSS in MB of one fresh process."""
    out = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout.split()
    seconds, rows, errors, peak_kb = float(out[0]), int(out[1]), int(out[2]), int(out[3])
    return seconds, rows, errors, peak_kb / 1024


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=20_000, help="lines for the per-case loop")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each compiled path (median)")
    args = parser.parse_args()
    repeat = max(args.repeat, 1)
    with tempfile.TemporaryDirectory(prefix="rl-bench-batch-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        jsonl, parquet = generate(folder, args.rows)
        sizes = f"JSONL {jsonl.stat().st_size / 1e6:.0f} MB, Parquet {parquet.stat().st_size / 1e6:.0f} MB"
        out(f"generated {args.rows:,} cases in {time.perf_counter() - started:.1f} s ({sizes})")
        sample = min(args.sample, args.rows)
        loop_s, loop_rows, _, loop_mb = measure(PER_CASE, str(jsonl), str(sample))
        loop_total = loop_s / loop_rows * args.rows
        results = [
            ("per-case loop (JSONL, extrapolated)", [loop_total], args.rows, loop_mb),
        ]
        for label, source in (("compiled DuckDB, JSONL in", jsonl), ("compiled DuckDB, Parquet in", parquet)):
            runs, peak = [], 0.0
            for _ in range(repeat):
                seconds, rows, errors, mb = measure(RUN_BATCH, str(source), str(folder / "out.parquet"))
                if rows != args.rows or errors:
                    raise SystemExit(f"{label}: {rows} assessed, {errors} errors (expected {args.rows}, 0)")
                runs.append(seconds)
                peak = max(peak, mb)
            results.append((label, runs, args.rows, peak))
    head = f"{'path':38} {'rows':>10} {'time s':>9} {'fastest–slowest':>16} {'rows/s':>11} {'vs loop':>8}"
    out(f"\n{head} {'peak MB':>8}")
    for label, runs, rows, mb in results:
        seconds = statistics.median(runs)
        spread = f"{min(runs):.2f}–{max(runs):.2f}" if len(runs) > 1 else "-"
        ratio = loop_total / seconds
        out(
            f"{label:38} {rows:>10,} {seconds:>9.2f} {spread:>16} {rows / seconds:>11,.0f} "
            f"{ratio:>7.1f}x {mb:>8.0f}"
        )
    out(
        f"\nper-case loop measured on {loop_rows:,} lines: {loop_s:.2f} s; compiled paths: median of "
        f"{repeat} runs, peak = the highest; output Parquet; 2 cores shared."
    )


if __name__ == "__main__":
    main()
