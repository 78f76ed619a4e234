"""`rueckenlotse serve` in a subprocess on a free port of 127.0.0.1, for tests that talk to it over HTTP."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def cli_command(*args: str) -> list[str]:
    """`rueckenlotse ARGS` run by this interpreter (the console script of the test's own environment)."""
    return [sys.executable, "-c", "from rueckenlotse.cli import main; main()", *args]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                return False
            try:
                if client.get(url + "/healthz").status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.1)
    return False


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def served(data_dir: Path, log: Path, env: Mapping[str, str], db_url: str | None = None) -> Iterator[str]:
    """The server's base URL while it runs on ``db_url`` (default: ``data_dir``'s SQLite file); its output
    goes to ``log``."""
    database = db_url or f"sqlite:///{data_dir / 'web.db'}"
    for _ in range(3):  # a port found free can be taken before the server binds it: try another
        port = free_port()
        command = cli_command("serve", "--host", "127.0.0.1", "--port", str(port), "--db", database)
        url = f"http://127.0.0.1:{port}"
        # A server that sends mail needs its public address for the links: the one it listens on here.
        own = {"RUECKENLOTSE_PUBLIC_URL": url} if "RUECKENLOTSE_SMTP_HOST" in env else {}
        with log.open("ab") as out:
            process = subprocess.Popen(
                command, stdout=out, stderr=subprocess.STDOUT, env={**env, **own}, cwd=ROOT
            )
        if wait_until_up(url, process):
            break
        stop_process(process)
    else:
        pytest.fail(f"the web server did not start:\n{log.read_text(errors='replace')}")
    try:
        yield url
    finally:
        stop_process(process)
