"""The server's memory on glibc: the arena limit and malloc_trim do what memory.py says, measured in fresh
processes (both act process-wide and for good), and the web app trims while it runs."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rueckenlotse import memory
from rueckenlotse.settings import Settings
from rueckenlotse.web.app import create_app

pytestmark = pytest.mark.skipif(not memory.available(), reason="glibc only; elsewhere both do nothing")

# Eight threads alive together, each allocating through malloc (bytes objects over 512 bytes bypass
# Python's own allocator), then the number of arenas as glibc's malloc_info reports them (one <heap> each).
ARENAS = """
import ctypes, os, tempfile, threading
from rueckenlotse import memory
limited = memory.limit_arenas({limit})
gate = threading.Barrier(8)
def work():
    keep = [bytes(2048) for _ in range(2000)]
    gate.wait()  # all eight alive at once: an exited thread's arena would be handed to the next one
    del keep
threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads: t.start()
for t in threads: t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
path = os.path.join(tempfile.mkdtemp(), "info.xml")
handle = libc.fopen(path.encode(), b"w")
libc.malloc_info(0, ctypes.c_void_p(handle))
libc.fclose(ctypes.c_void_p(handle))
print(limited, open(path).read().count("<heap nr="))
"""

# 60 MB in 1 KB blocks, one small block allocated after them (so free() cannot give the memory back from
# the top of the heap), the 60 MB freed: resident memory before and after memory.trim().
TRIM = """
import json
from rueckenlotse import memory
def rss():
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith("VmRSS")) / 1024
blocks = [bytes(1024) for _ in range(60_000)]
pin = bytes(1024)
del blocks
before = rss()
trimmed = memory.trim()
print(json.dumps({"before": before, "after": rss(), "trimmed": trimmed}))
"""


def run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.strip()


def test_the_arena_limit_caps_the_arenas_threads_make() -> None:
    limited, arenas = run(ARENAS.replace("{limit}", "2")).split()
    assert limited == "True" and int(arenas) <= 2
    # Without the limit the same threads make more: the check above can fail.
    limited, arenas = run(ARENAS.replace("{limit}", "0")).split()
    assert limited == "False" and int(arenas) > 2


def test_trim_returns_freed_memory_held_below_the_top_of_the_heap() -> None:
    figures = json.loads(run(TRIM))
    assert figures["trimmed"] is True
    assert figures["before"] - figures["after"] > 30, figures


def test_the_web_app_trims_while_it_runs_and_stops_with_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(memory, "trim", lambda: calls.append(True) or True)
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", memory_trim_seconds=0.05
    )
    app = create_app(settings)

    async def run_app() -> tuple[int, int]:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.5)
        stopped = len(calls)
        await asyncio.sleep(0.2)
        return stopped, len(calls)

    stopped, later = asyncio.run(run_app())
    assert stopped >= 3 and later == stopped


def test_no_trimming_when_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[bool] = []
    monkeypatch.setattr(memory, "trim", lambda: calls.append(True) or True)
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", memory_trim_seconds=0
    )
    app = create_app(settings)

    async def run_app() -> None:
        async with app.router.lifespan_context(app):
            await asyncio.sleep(0.2)

    asyncio.run(run_app())
    assert calls == []


@pytest.mark.parametrize(
    ("name", "value"), [("RUECKENLOTSE_MALLOC_ARENAS", "-1"), ("RUECKENLOTSE_MEMORY_TRIM_SECONDS", "-5")]
)
def test_a_negative_setting_is_refused_by_name(
    name: str, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValueError, match=name):
        Settings()
