"""Cohort results of a file of courses (issue #18): `rueckenlotse batch cohort` over generated courses.

    .venv/bin/python benchmarks/cohort_batch.py [--courses 100000] [--repeat 3] [--store 10000]

Generates --courses courses (seeded; diaries over up to 12 weeks, measure answers at weeks 0-12, some
escalations) as JSON Lines and Parquet in a temporary folder, then runs the batch path (DuckDB: read and check
the file, build the four inputs, run the cohort statement) --repeat times per format, each run in a fresh
Python process so that its peak memory (VmHWM) is its own. For scale, the same statement on the store
(SQLite, the web's path) over the first --store courses: loading them (bulk inserts) and the query alone.
Prints one table; nothing is asserted (performance is measured here, never in tests).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

AS_OF = "2026-12-01"
# Peak memory: VmHWM of the measuring process itself (see batch_throughput.py).
PEAK = "int(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])"

RUN_COHORT = """
import sys, time
from datetime import date
from pathlib import Path
from rueckenlotse.batch.courses import cohort_of_file
from rueckenlotse.services.cohort import cohort_spec, measure_rules
params, rules = cohort_spec().params(), measure_rules()
start = time.perf_counter()
courses, rows = cohort_of_file(Path(sys.argv[1]), date.fromisoformat(sys.argv[2]), params, rules)
seconds = time.perf_counter() - start
print(seconds, courses, rows[-1].n, PEAK)
""".replace("PEAK", PEAK)

RUN_STORE = """
import sys, time
from datetime import date
from itertools import islice
from pathlib import Path
import json
from rueckenlotse.services.cohort import cohort_spec, measure_rules
from rueckenlotse.store import Store
from rueckenlotse.store.cohort import load_courses, practice_cohort
from rueckenlotse.store.practices import Practices
params, rules = cohort_spec().params(), measure_rules()
with open(sys.argv[1], encoding="utf-8") as f:
    courses = [json.loads(line) for line in islice(f, int(sys.argv[4]))]
store = Store.open("sqlite:///" + sys.argv[3])
practice = Practices(store).create_practice("Benchmark")
start = time.perf_counter()
load_courses(store, practice.id, courses, knowledge_version="benchmark")
loaded = time.perf_counter() - start
start = time.perf_counter()
rows = practice_cohort(store, practice.id, date.fromisoformat(sys.argv[2]), params, rules)
seconds = time.perf_counter() - start
print(seconds, len(courses), rows[-1].n, PEAK, loaded)
""".replace("PEAK", PEAK)


def measure(script: str, *args: str) -> list[float]:
    """The numbers one fresh process prints: seconds, courses, counted courses, peak KB (, load s)."""
    printed = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    ).stdout.split()
    return [float(value) for value in printed]


def out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--courses", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per format (median)")
    parser.add_argument("--store", type=int, default=10_000, help="courses loaded into SQLite (0: skip)")
    args = parser.parse_args()
    repeat = max(args.repeat, 1)

    from datetime import date

    from rueckenlotse.batch.courses import generate_courses, write_courses

    with tempfile.TemporaryDirectory(prefix="rl-bench-cohort-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        jsonl, parquet = folder / "courses.jsonl", folder / "courses.parquet"
        write_courses(jsonl, generate_courses(args.courses, seed=18, as_of=date.fromisoformat(AS_OF)))
        generated = time.perf_counter() - started
        started = time.perf_counter()
        with jsonl.open(encoding="utf-8") as lines:
            import json

            write_courses(parquet, (json.loads(line) for line in lines))
        sizes = f"JSONL {jsonl.stat().st_size / 1e6:.1f} MB, Parquet {parquet.stat().st_size / 1e6:.1f} MB"
        out(f"generated {args.courses:,} courses in {generated:.1f} s ({sizes}; Parquet written in "
            f"{time.perf_counter() - started:.1f} s)")  # fmt: skip
        results = []
        counted = 0
        for label, source in (
            ("batch cohort, DuckDB, JSONL in", jsonl),
            ("batch cohort, DuckDB, Parquet in", parquet),
        ):
            runs, peak = [], 0.0
            for _ in range(repeat):
                seconds, courses, counted_now, peak_kb = measure(RUN_COHORT, str(source), AS_OF)
                if int(courses) != args.courses:
                    raise SystemExit(f"{label}: {courses} courses read (expected {args.courses})")
                runs.append(seconds)
                peak = max(peak, peak_kb / 1024)
                counted = int(counted_now)
            results.append((label, runs, args.courses, peak))
        store_line = ""
        if args.store:
            n = min(args.store, args.courses)
            runs, peak, loads = [], 0.0, []
            for k in range(repeat):
                db = folder / f"store-{k}.db"
                seconds, _, _, peak_kb, loaded = measure(RUN_STORE, str(jsonl), AS_OF, str(db), str(n))
                runs.append(seconds)
                loads.append(loaded)
                peak = max(peak, peak_kb / 1024)
            results.append(("SQL on the store (SQLite), query only", runs, n, peak))
            store_line = (
                f"; the store's {n:,} courses loaded with bulk inserts in {statistics.median(loads):.1f} s"
            )
    head = f"{'path':40} {'courses':>9} {'time s':>8} {'fastest–slowest':>16} {'courses/s':>11}"
    out(f"\n{head} {'peak MB':>8}")
    for label, runs, courses, mb in results:
        seconds = statistics.median(runs)
        spread = f"{min(runs):.2f}–{max(runs):.2f}" if len(runs) > 1 else "-"
        out(f"{label:40} {courses:>9,} {seconds:>8.2f} {spread:>16} {courses / seconds:>11,.0f} {mb:>8.0f}")
    out(
        f"\nreporting date {AS_OF}: {counted:,} of the courses started by then; median of {repeat} runs, "
        "each "
        f"in a fresh process, peak = the highest{store_line}."
    )


if __name__ == "__main__":
    main()
