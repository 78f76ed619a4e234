"""What the fault-injection tests share: servers and commands that are killed with SIGKILL, and the report.

A write counts as acknowledged only when its sender saw success (HTTP 201, or a command's exit code 0 and
its output); after the kills the test opens the database and looks for every acknowledged write.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..serving import ROOT, cli_command, free_port, stop_process, wait_until_up

STARTUP_TIMEOUT = 60.0
# Where the suite's figures go (scripts/test sets it; README "Faults" quotes them).
REPORT_ENV = "RUECKENLOTSE_FAULT_REPORT"


def base_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RUECKENLOTSE_SECRET_KEY")}
    env["RUECKENLOTSE_DATA_DIR"] = str(data_dir)
    return env


class Server:
    """One `rueckenlotse serve` process that can be killed and started again on a new port."""

    def __init__(self, db_url: str, env: Mapping[str, str], log: Path) -> None:
        self.db_url = db_url
        self.env = dict(env)
        self.log = log
        self.url = ""
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        for _ in range(3):  # a port found free can be taken before the server binds it
            port = free_port()
            command = cli_command("serve", "--host", "127.0.0.1", "--port", str(port), "--db", self.db_url)
            with self.log.open("ab") as out:
                self.process = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT
                )
            url = f"http://127.0.0.1:{port}"
            if wait_until_up(url, self.process, STARTUP_TIMEOUT):
                self.url = url
                return
            self.kill()
        raise AssertionError(f"the server did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as when the machine loses power or the OOM killer strikes."""
        if self.process is not None and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


@dataclass(frozen=True)
class Run:
    """A command run to its end or killed: its exit code (negative: the signal), and its output."""

    code: int
    out: str
    err: str
    killed: bool


def run_maybe_killed(
    command: Sequence[str], env: Mapping[str, str], *, kill_after: float | None, timeout: float = 300.0
) -> Run:
    """Run a command; with ``kill_after`` send SIGKILL that many seconds after it started (if still alive)."""
    with subprocess.Popen(
        list(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(env), cwd=ROOT
    ) as proc:
        if kill_after is not None:
            try:
                proc.wait(timeout=kill_after)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=timeout)
    code = proc.returncode
    return Run(code, out.decode(errors="replace"), err.decode(errors="replace"), code == -signal.SIGKILL)


@dataclass
class Figures:
    """One scenario's figures, for the assertions and for the README's table."""

    scenario: str
    engine: str
    kills: int = 0
    attempts: int = 0
    acknowledged: int = 0
    lost: int = 0
    duplicates: int = 0
    integrity_problems: int = 0
    server_errors: int = 0
    busy: int = 0
    notes: dict[str, int] = field(default_factory=dict)

    def write(self) -> None:
        folder = os.environ.get(REPORT_ENV)
        if not folder:
            return
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        target = path / f"{self.scenario}-{self.engine}.json"
        target.write_text(json.dumps(asdict(self), indent=2) + "\n", encoding="utf-8")


def kill_delays(rng: random.Random, typical: float, count: int) -> list[float]:
    """Moments to kill at, spread over a run's usual length (start-up included: a kill can come anytime)."""
    return [rng.uniform(0.05, typical * 1.1) for _ in range(count)]


def timed(command: Sequence[str], env: Mapping[str, str]) -> tuple[float, Run]:
    start = time.monotonic()
    run = run_maybe_killed(command, env, kill_after=None)
    return time.monotonic() - start, run
