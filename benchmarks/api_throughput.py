"""Benchmark (c): ``POST /api/v1/assessments`` against a trivial JSON endpoint of the same app.

Run from the repository: ``.venv/bin/python benchmarks/api_throughput.py [--seconds S] [--connections C]``.
Starts the real app (``rueckenlotse serve``: uvicorn, one process, SQLite in a temporary folder) on
loopback, then puts the same concurrent load on ``GET /api/v1/health`` (trivial JSON) and on
``POST /api/v1/assessments`` (the public vignettes in turn). The load comes from ``wrk`` when installed
(``apt-get install wrk``), otherwise from an asyncio httpx client in a separate process. Prints a Markdown
table (requests per second, median and p99 latency, and the ratio) with the date and the machine.
Target (issue #6): the assessment endpoint keeps ≥ 60 % of the trivial endpoint's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assess_latency import machine_lines, percentile, vignette_cases  # noqa: E402

HEALTH = "/api/v1/health"
ASSESS = "/api/v1/assessments"


@dataclass(frozen=True)
class Result:
    rps: float
    median_ms: float
    p99_ms: float
    requests: int
    errors: int


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running_app(port: int) -> Iterator[str]:
    """The real app under uvicorn, as `rueckenlotse serve` starts it; yields its base URL."""
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "RUECKENLOTSE_DATA_DIR": folder,
            "RUECKENLOTSE_SECRET_KEY": secrets.token_urlsafe(48),
        }
        command = [sys.executable, "-c", "from rueckenlotse.cli import main; main()", "serve"]
        command += ["--host", "127.0.0.1", "--port", str(port), "--db", f"sqlite:///{folder}/bench.db"]
        log_path = Path(folder) / "server.log"  # one line per request: a file, never an unread pipe
        with log_path.open("wb") as log:
            server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_up(base, server, log_path)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_up(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the app did not start: {log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(base + HEALTH, timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the app did not answer within 60 s")


def check_endpoint(base: str, body: bytes) -> None:
    """One real request each: the assessment must come back as an Assessment, not an error."""
    request = urllib.request.Request(
        base + ASSESS, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        if answer.status != 200 or "triage" not in json.loads(answer.read()):
            raise SystemExit(f"POST {ASSESS} did not return an Assessment")


# ---- load with wrk ------------------------------------------------------------------------------------
WRK_SCRIPT = """
local bodies = {%s}
local i = 0
wrk.headers["Content-Type"] = "application/json"
request = function()
  if #bodies == 0 then return wrk.format("GET", "%s") end
  i = i %% #bodies + 1
  return wrk.format("POST", "%s", nil, bodies[i])
end
"""


def _lua_string(text: str) -> str:
    return "[==[" + text + "]==]"


def load_with_wrk(base: str, bodies: list[str], seconds: int, connections: int) -> Result:
    script_text = WRK_SCRIPT % (", ".join(_lua_string(b) for b in bodies), HEALTH, ASSESS)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", script.name, base]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    return _parse_wrk(out)


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def _parse_wrk(out: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    median = _ms(re.search(r"\s50%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", out).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = int(bad.group(1)) if bad else 0
    errors += sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return Result(rps, median, p99, requests, errors)


# ---- load with an asyncio httpx client (when wrk is not installed) ----------------------------------
async def _client_load(base: str, bodies: list[str], seconds: int, connections: int) -> Result:
    import httpx

    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < stop:
            start = time.perf_counter()
            if bodies:
                i = (i + 1) % len(bodies)
                headers = {"Content-Type": "application/json"}
                answer = await client.post(ASSESS, content=bodies[i], headers=headers)
            else:
                answer = await client.get(HEALTH)
            latencies.append((time.perf_counter() - start) * 1000)
            errors += answer.status_code != 200

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client, n) for n in range(connections)))
        elapsed = time.perf_counter() - began
    latencies.sort()
    return Result(len(latencies) / elapsed, percentile(latencies, 0.5), percentile(latencies, 0.99),
                  len(latencies), errors)  # fmt: skip


def load_with_client(base: str, bodies: list[str], seconds: int, connections: int) -> Result:
    # In its own process, so that the client does not share an interpreter (and its GIL) with anything.
    payload = json.dumps({"base": base, "bodies": bodies, "seconds": seconds, "connections": connections})
    out = subprocess.run(
        [sys.executable, __file__, "--client"], input=payload, capture_output=True, text=True, check=True
    ).stdout
    return Result(**json.loads(out))


def _client_main() -> None:
    job = json.loads(sys.stdin.read())
    result = asyncio.run(_client_load(job["base"], job["bodies"], job["seconds"], job["connections"]))
    sys.stdout.write(json.dumps(result.__dict__))


def combine(results: list[Result]) -> Result:
    """All rounds of one endpoint: total requests over total time; the middle round's latencies."""
    middle = sorted(results, key=lambda r: r.p99_ms)[len(results) // 2]
    seconds = sum(r.requests / r.rps for r in results)
    requests = sum(r.requests for r in results)
    median = sorted(r.median_ms for r in results)[len(results) // 2]
    return Result(requests / seconds, median, middle.p99_ms, requests, sum(r.errors for r in results))


# ---- the table ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="load duration per round and endpoint")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per endpoint")
    parser.add_argument("--connections", type=int, default=16, help="concurrent connections")
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        _client_main()
        return

    bodies = [json.dumps(case, ensure_ascii=False) for case in vignette_cases()]
    use_wrk = shutil.which("wrk") is not None
    load = load_with_wrk if use_wrk else load_with_client
    rounds: dict[str, list[Result]] = {"health": [], "assess": []}
    with running_app(free_port()) as base:
        check_endpoint(base, bodies[0].encode())
        load(base, [], 2, args.connections)  # warm-up
        load(base, bodies, 2, args.connections)
        # Alternating rounds, so that a change in the machine's other load hits both endpoints alike.
        for _ in range(args.rounds):
            rounds["health"].append(load(base, [], args.seconds, args.connections))
            rounds["assess"].append(load(base, bodies, args.seconds, args.connections))
    health, assessments = combine(rounds["health"]), combine(rounds["assess"])

    generator = "wrk (1 thread)" if use_wrk else "asyncio httpx client, own process"
    lines = [
        "### REST API throughput: `POST /api/v1/assessments` vs `GET /api/v1/health`",
        "",
        *machine_lines(),
    ]
    lines += [
        f"- load: {generator}, {args.connections} connections, loopback; per endpoint {args.rounds} rounds",
        f"  of {args.seconds} s, alternating (median and p99: the middle round's)",
        "- server: `rueckenlotse serve` (uvicorn, 1 process, SQLite); POST bodies: the vignettes in turn",
        "",
        "| endpoint | requests/s | median ms | p99 ms | requests | errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, r in ((f"`GET {HEALTH}` (trivial JSON)", health), (f"`POST {ASSESS}`", assessments)):
        lines.append(
            f"| {name} | {r.rps:,.0f} | {r.median_ms:.2f} | {r.p99_ms:.2f} | {r.requests:,} | {r.errors} |"
        )
    ratio = assessments.rps / health.rps
    lines += [
        "",
        f"Throughput ratio assessments / health: **{ratio:.0%}** (target ≥ 60 %); "
        f"p99 ratio {assessments.p99_ms / health.p99_ms:.2f}.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
