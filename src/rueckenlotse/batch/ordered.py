"""Statements whose rows keep the order of their input, and progress of a long statement.

Line numbers are row positions (batch.readers), so every table and file the batch builds must keep
the order in which its query reads the rows.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any


def run_in_order(con: Any, statement: str) -> None:
    """Runs a CREATE TABLE AS, INSERT or COPY so that rows go in the order the query reads them.

    DuckDB keeps that order in parallel only when every step of the plan keeps it (it then inserts or
    writes in batches: BATCH_CREATE_TABLE_AS, BATCH_INSERT, BATCH_COPY_TO_FILE); a join, for example,
    does not. Such a plan runs on one thread, which keeps the order too: slower, never wrong.
    """
    plan = json.loads(con.execute(f"EXPLAIN (FORMAT json) {statement}").fetchone()[1])
    if plan[0]["name"].startswith("BATCH_"):
        con.execute(statement)
        return
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    con.execute("SET threads = 1")
    try:
        con.execute(statement)
    finally:
        con.execute(f"SET threads = {int(threads)}")


def create_in_order(con: Any, table: str, select: str) -> None:
    """The table `table` from `select`, its rowid the position in what `select` reads."""
    run_in_order(con, f"CREATE OR REPLACE TEMP TABLE {table} AS {select}")


def tracked(
    con: Any,
    statement: Callable[[], None],
    advance: Callable[[int], None],
    stop: Callable[[], bool] | None = None,
) -> None:
    """Runs `statement` (which executes on `con`) while a thread reports DuckDB's progress of it in
    percentage points, so that one long query still moves the progress bar. When `stop` (asked at every
    report) says so, the query is interrupted: `statement` then raises DuckDB's InterruptException."""
    done = threading.Event()
    shown = 0

    def poll() -> None:
        nonlocal shown
        while not done.wait(0.2):
            if stop is not None and stop():
                con.interrupt()
                return
            percent = int(con.query_progress())
            if percent > shown:
                advance(percent - shown)
                shown = percent

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        statement()
    finally:
        done.set()
        poller.join()
    advance(100 - shown)
