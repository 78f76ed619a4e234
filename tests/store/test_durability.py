"""Durability: a writer killed with SIGKILL at random moments never loses an acknowledged diary entry.

The child acknowledges an entry (prints its id) only after add_diary_entry returned, i.e. after COMMIT. After
every kill the test reopens the database, runs the integrity check and finds every acknowledged entry,
complete and equal to what was written.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from rueckenlotse.store import Store

from .durability_writer import expected_entry

ROOT = Path(__file__).resolve().parents[2]
KILLS = 20
SEED = 20240501
STARTUP_TIMEOUT = 60.0
RUN_NUMBERS = 1_000_000


def run_and_kill(url: str, person_id: str, first: int, delay: float, mid_stream: bool) -> dict[str, int]:
    """Start a writer and SIGKILL it `delay` seconds after it is ready (or, mid_stream, after its first
    acknowledgement); return what it acknowledged as {entry id: number}."""
    command = [sys.executable, "-m", "tests.store.durability_writer", url, person_id, str(first)]
    acknowledged: dict[str, int] = {}
    ready = threading.Event()
    first_ack = threading.Event()
    with subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None

        def read() -> None:
            assert proc.stdout is not None
            try:
                for line in proc.stdout:
                    if not line.endswith("\n"):
                        break  # cut off by the kill: not acknowledged
                    if line == "ready\n":
                        ready.set()
                        continue
                    number, entry_id = line.split()
                    acknowledged[entry_id] = int(number)
                    first_ack.set()
            finally:  # a writer that died on its own must not keep the test waiting
                ready.set()
                first_ack.set()

        reader = threading.Thread(target=read)
        reader.start()
        (first_ack if mid_stream else ready).wait(STARTUP_TIMEOUT)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        reader.join()
        stderr = proc.stderr.read() if proc.stderr else ""
    assert proc.returncode == -signal.SIGKILL, f"the writer stopped by itself: {stderr}"
    return acknowledged


@pytest.mark.safety("SR-DIA-1")
def test_acknowledged_entries_survive_sigkill(db_url: str) -> None:
    rng = random.Random(SEED)
    with Store.open(db_url) as store:
        person_id = store.create_person().id
    acknowledged: dict[str, int] = {}
    runs_with_acks = 0
    for run in range(KILLS):
        # Mostly mid-stream; one run in four right at the start, before or during the first commit.
        mid_stream = rng.random() >= 0.25
        delay = rng.uniform(0.0, 0.25) if mid_stream else rng.uniform(0.0, 0.01)
        # Each run numbers its entries from its own range, so an entry's number says what it must contain.
        acked = run_and_kill(db_url, person_id, run * RUN_NUMBERS, delay, mid_stream)
        acknowledged |= acked
        runs_with_acks += bool(acked)
        with Store.open(db_url) as store:
            assert store.integrity_check() == []
            stored = {record.id: record.entry for record in store.list_diary(person_id)}
        missing = sorted(set(acknowledged) - set(stored))
        assert not missing, f"acknowledged but lost after SIGKILL: {missing}"
        for entry_id, number in acknowledged.items():
            assert stored[entry_id] == expected_entry(number), f"entry {number} is incomplete or changed"
    assert runs_with_acks >= KILLS // 2, "most kills must land while entries are being written"
