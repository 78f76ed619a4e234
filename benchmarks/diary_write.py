"""Benchmark: the cost of one diary entry as the diary grows, continued from the checkpoint or replayed.

Run from the repository: ``.venv/bin/python benchmarks/diary_write.py [--lengths 10,100,400]
[--rounds 5] [--database-url URL]``.
For each diary length, a person with an intake and that many entries (one every 12 hours, every tenth with
a warning sign and the next with "a doctor examined me") gets ``--rounds`` more entries through the service
(``services.followup.add_entry``): once as it runs (continuing from the checkpoint after the latest entry),
once with the checkpoint deleted before each entry (the whole diary replayed: how every entry was
re-screened before revision 0007). Prints the median time and the peak of Python memory (tracemalloc,
measured in a separate round so it does not slow the timed ones) per entry. SQLite in a temporary folder
by default, or a fresh database given by ``--database-url``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from sqlalchemy import delete

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assess_latency import machine_lines  # noqa: E402

from rueckenlotse.core.models import Case  # noqa: E402
from rueckenlotse.plan.models import DiaryEntry  # noqa: E402
from rueckenlotse.services.followup import add_entry, record_intake  # noqa: E402
from rueckenlotse.store import Store  # noqa: E402
from rueckenlotse.store.schema import DiaryCheckpoint  # noqa: E402

START = dt.datetime(2024, 1, 1, 8, 0, tzinfo=dt.UTC)
CASE = {"age": 50, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 5}


def entry(number: int) -> DiaryEntry:
    signs = ["night_pain"] if number % 10 == 9 else []
    return DiaryEntry(
        recorded_at=START + dt.timedelta(hours=12 * number),
        pain={"low_back": 2 + number % 5},
        warning_signs=signs,
        examined_by_doctor=number % 10 == 0 and number > 0,
    )


def diary_of_length(store: Store, length: int) -> str:
    person = store.create_person().id
    record_intake(store, person, Case.model_validate(CASE), assessed_at=START - dt.timedelta(hours=1))
    with store.atomic():  # one transaction: the preparation is no part of the measurement
        for number in range(length):
            add_entry(store, person, entry(number))
    return person


def drop_checkpoint(store: Store, person: str) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(DiaryCheckpoint).where(DiaryCheckpoint.person_id == person))


def measure(store: Store, length: int, rounds: int, replay: bool) -> tuple[float, float]:
    """Median seconds and peak MB of Python memory of one more entry."""
    person = diary_of_length(store, length)
    times = []
    for n in range(rounds):
        if replay:
            drop_checkpoint(store, person)
        started = time.perf_counter()
        add_entry(store, person, entry(length + n))
        times.append(time.perf_counter() - started)
    if replay:
        drop_checkpoint(store, person)
    tracemalloc.start()
    add_entry(store, person, entry(length + rounds))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="10,100,400", help="diary lengths (entries)")
    parser.add_argument("--rounds", type=int, default=5, help="entries timed per length and way")
    parser.add_argument("--database-url", default="", help="a fresh database instead of SQLite")
    args = parser.parse_args()
    lengths = [int(n) for n in args.lengths.split(",")]
    with tempfile.TemporaryDirectory(prefix="rl-diary-") as folder:
        url = args.database_url or f"sqlite:///{Path(folder) / 'diary.db'}"
        rows = []
        with Store.open(url) as store:
            for length in lengths:
                continued = measure(store, length, args.rounds, replay=False)
                replayed = measure(store, length, args.rounds, replay=True)
                rows.append((length, continued, replayed))
                print(f"  {length} entries done", file=sys.stderr, flush=True)
    backend = "PostgreSQL" if url.startswith("postgresql") else "SQLite"
    print("### One more diary entry as the diary grows (`benchmarks/diary_write.py`)\n")
    print("\n".join(machine_lines()))
    print(f"- {backend}; {args.rounds} entries timed per row (median), Python memory peak from one more\n")
    print(
        "| entries before | continued: ms | continued: peak MB | replayed: ms | replayed: peak MB |"
        " replayed / continued |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    for length, (c_time, c_peak), (r_time, r_peak) in rows:
        print(
            f"| {length:,} | {c_time * 1000:.1f} | {c_peak:.2f} | {r_time * 1000:.1f} | {r_peak:.2f} |"
            f" {r_time / c_time:.1f}× |"
        )


if __name__ == "__main__":
    main()
