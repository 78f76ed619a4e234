"""Child process of test_open_race: opens the store of every URL it is sent, together with its siblings.

Started by multiprocessing with the spawn context, so each child is a fresh interpreter, like a web worker or
a second command started next to the first. For each URL it waits at the shared barrier (all children are then
released together), runs ``Store.open(url).close()`` and reports an Outcome: the error, if any, and how many
migration steps Alembic ran in this process (counted from Alembic's own log, not from our code).

With ``unlocked`` the child replaces the locks of migrate() by no-ops, to show what they prevent. On
PostgreSQL the race then fails in practically every round (test_open_race checks that); on SQLite it fails too
rarely for a test, so there it only serves to measure.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from pathlib import Path

from sqlalchemy import Connection

# Generous: a child waits only for its slowest sibling; it fails (and says so) rather than hang.
BARRIER_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class Outcome:
    worker: int
    error: str | None
    upgrade_steps: int


class _UpgradeSteps(logging.Handler):
    """Counts Alembic's "Running upgrade ..." records: one per migration step this process ran."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0
        self._lock_count = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("Running upgrade"):
            with self._lock_count:
                self.count += 1


@contextlib.contextmanager
def _no_lock(database: Path, *, exclusive: bool, timeout_s: float | None = None) -> Iterator[None]:
    yield


def _no_pg_lock(connection: Connection) -> None:
    pass


def serve(
    worker: int, jobs: Queue[str | None], start: Barrier, outcomes: Queue[Outcome], unlocked: bool
) -> None:
    from rueckenlotse.store import Store

    if unlocked:
        from rueckenlotse.store import migrate

        migrate.sqlite_setup_lock = _no_lock  # type: ignore[assignment]
        migrate._lock_postgresql = _no_pg_lock
    steps = _UpgradeSteps()
    alembic_log = logging.getLogger("alembic.runtime.migration")
    alembic_log.setLevel(logging.INFO)
    alembic_log.addHandler(steps)
    while (url := jobs.get()) is not None:
        steps.count = 0
        try:
            start.wait(BARRIER_TIMEOUT_S)
            Store.open(url).close()
        except Exception as e:  # reported to the test, which fails with it
            outcomes.put(Outcome(worker, f"{type(e).__name__}: {e}", steps.count))
        else:
            outcomes.put(Outcome(worker, None, steps.count))
