"""Password hashing (Argon2) off the event loop, a few at a time.

Argon2 is slow and memory-hungry on purpose (about a third of a second and 64 MiB per hash with
argon2-cffi's defaults, on four lanes). On the event loop it would stall every request; in the thread pool
without a bound, eight registrations at once would take every core (and 512 MiB), and the health check
with them. So at most one hash per core but one runs at a time (at least one); the others wait here, as
coroutines, holding neither a thread of the pool nor memory.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from starlette.concurrency import run_in_threadpool

P = ParamSpec("P")
T = TypeVar("T")

SLOTS = max(1, (os.cpu_count() or 2) - 1)
_slots: dict[int, asyncio.Semaphore] = {}


def _semaphore() -> asyncio.Semaphore:
    # One per event loop (a semaphore belongs to the loop it first waits on; tests may run several).
    loop = id(asyncio.get_running_loop())
    if loop not in _slots:
        _slots[loop] = asyncio.Semaphore(SLOTS)
    return _slots[loop]


async def run_hashing(func: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """``func(*args, **kwargs)`` in the thread pool, once a hashing slot is free."""
    async with _semaphore():
        return await run_in_threadpool(func, *args, **kwargs)
