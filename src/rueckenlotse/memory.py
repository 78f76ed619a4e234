"""A long-running server's resident memory, kept bounded on glibc (Linux); nothing elsewhere.

Python hands freed memory back to the C allocator, and glibc's malloc keeps it in arenas: one per thread
that met contention, up to eight per core, each growing to the highest working set a thread ever had there
and giving memory back to the system only from the top of its heap. A web server that runs synchronous
work in a pool of up to 40 threads (FastAPI's) and an SQLite page cache per connection thus keeps the
high-water mark of every arena: in the load benchmark the Python heap stayed flat (the same number of
objects and allocated blocks throughout) while the process grew by 1–4 MB a minute. Two remedies, both
standard for Python servers on glibc: fewer arenas (what ``MALLOC_ARENA_MAX`` does, set here before the
server starts its threads) and ``malloc_trim`` now and then, which returns the free pages of every arena.

Both are optional tuning, never needed for correctness: on another C library (musl, macOS) the functions
report that they did nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

# mallopt's parameter number for the arena limit (glibc's malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8


@cache
def _glibc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim", "gnu_get_libc_version")):
        return None  # not glibc
    return libc


def available() -> bool:
    """This process runs on glibc, where both functions below act."""
    return _glibc() is not None


def limit_arenas(count: int) -> bool:
    """Let malloc make at most ``count`` arenas (0: leave glibc's default). Call before threads start:
    arenas made already stay. True when the limit was set."""
    libc = _glibc()
    if count <= 0 or libc is None:
        return False
    return bool(libc.mallopt(ctypes.c_int(_M_ARENA_MAX), ctypes.c_int(count)))


def trim() -> bool:
    """Return the free memory of every malloc arena to the system. Takes milliseconds and holds no Python
    lock (ctypes releases the GIL), but blocks its thread: call it off the event loop. True when memory
    was returned."""
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.malloc_trim(ctypes.c_size_t(0)))
