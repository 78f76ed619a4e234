"""Benchmark: load that holds — the API and the pages at 1 → 64 connections, the server's memory over time.

Run from the repository: ``.venv/bin/python benchmarks/load.py [--quick] [--database-url URL]``.
Starts the real app (``rueckenlotse serve``: uvicorn, one process) on loopback with its own temporary data
folder (SQLite there, or the database given by ``--database-url``: use a fresh, empty one), makes patient
accounts, each with a saved assessment and a session (as the sign-in form starts one), and walks the
interview once through the real pages for the result page's answers. Then every connection is one
visitor (its own keep-alive connection and cookies) sending a fixed mix in turn: assessments over the
API, the start page, the first question, an answer, the result page, a patient's own page, diary entries
written and read over the API (writes: the database's write lock is exercised), and ``/healthz``. The
connections step 1 → 4 → 16 → 64; the last step lasts two minutes by default.

Prints Markdown tables: per step the requests, throughput, p50/p99 latency, errors (any answer other than
the one expected, and failed connections; 5xx counted apart) and 503 "busy" answers with Retry-After
(the database was locked: counted apart, not as errors), the server's resident memory (VmRSS
of the process and its children, sampled every few seconds: at the start and end of each step, the
highest, and the least-squares slope in MB per minute); per request kind for the last step; and the
memory over time. The load comes from an asyncio httpx client in this process (wrk cannot follow the
forms' CSRF tokens and cookies); on a 2-core machine it shares the CPU with the server.
Target (issue #15): 0 errors and flat memory over 2 minutes at 64 connections.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from assess_latency import machine_lines, percentile, vignette_cases  # noqa: E402

PASSWORD = "ein langer Satz als Passwort für die Last"
# A plain, recent low-back pain: the saved intake of every patient (their diary needs one), and the case
# behind the result page (the answers below, given through the real question pages once).
SELF_CARE_CASE: dict[str, Any] = {
    "age": 35,
    "regions": ["low_back"],
    "duration_weeks": 1,
    "pain_intensity": 3,
}
SELF_CARE_ANSWERS: dict[str, list[str] | str] = {
    "regions": ["3"],  # low back
    "age": "35",
    "sex": ["1"],
    "duration_weeks": "1",
    "pain_intensity": "4",
    "trauma": ["1"],
    "leg_pain": ["1"],
    "weakness": ["1"],
    "physiotherapy_weeks": "0",
    "home_exercise": ["2"],
}

# The mix, one visitor's requests in turn (each visitor starts at another place of it): kind → count.
MIX: list[tuple[str, int]] = [
    ("POST /api/v1/assessments", 5),
    ("GET /", 2),
    ("GET /intake", 3),
    ("POST /intake (an answer)", 2),
    ("POST /result", 2),
    ("GET /mein-bereich", 1),
    ("POST /api/v1/persons/{id}/diary", 2),
    ("GET /api/v1/persons/{id}/diary", 1),
    ("GET /healthz", 2),
]
WRITE_DIARY, READ_DIARY = "POST /api/v1/persons/{id}/diary", "GET /api/v1/persons/{id}/diary"
SIGNED_IN = frozenset({"GET /mein-bereich", WRITE_DIARY, READ_DIARY})
# The questionnaire's forms answer with a redirect to the next page (post/redirect/get); the load measures
# the post, which keeps the page as a draft, not the GET a browser makes after it.
REDIRECTED = ("POST /intake (an answer)", "POST /result")
EXPECTED = {kind: (201 if kind == WRITE_DIARY else 303 if kind in REDIRECTED else 200) for kind, _ in MIX}


def without_diary_writes(mix: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """The mix with every diary write made a diary read: the data then stays the same size."""
    merged: dict[str, int] = {}
    for kind, count in mix:
        key = READ_DIARY if kind == WRITE_DIARY else kind
        merged[key] = merged.get(key, 0) + count
    return list(merged.items())


# ---- the server -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Server:
    url: str
    pid: int
    log: Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def serve_command(port: int, database_url: str) -> list[str]:
    script = Path(sys.executable).with_name("rueckenlotse")  # the console script `serve` is run as
    start = (
        [str(script)]
        if script.exists()
        else [sys.executable, "-c", "from rueckenlotse.cli import main; main()"]
    )
    return [*start, "serve", "--host", "127.0.0.1", "--port", str(port), "--db", database_url]


@contextmanager
def running_server(folder: Path, database_url: str, secret: str) -> Iterator[Server]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RUECKENLOTSE_SECRET_KEY")}
    env |= {"RUECKENLOTSE_DATA_DIR": str(folder), "RUECKENLOTSE_SECRET_KEY": secret}
    log = folder / "server.log"  # one line per request: a file, never an unread pipe
    for _ in range(3):  # a port found free can be taken before the server binds it: try another
        port = free_port()
        with log.open("ab") as out:
            process = subprocess.Popen(serve_command(port, database_url), env=env, stdout=out, stderr=out)
        url = f"http://127.0.0.1:{port}"
        if _wait_until_up(url, process):
            break
        _stop(process)
    else:
        raise SystemExit(f"the server did not start:\n{log.read_text(errors='replace')[-3000:]}")
    try:
        yield Server(url, process.pid, log)
    finally:
        _stop(process)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60.0) -> bool:
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
            time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def rss_kb(pid: int) -> int:
    """Resident memory of the process and all its descendants (kB), from /proc."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
        except OSError:
            continue  # ended between the listing and the read
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) if match else 0
    return total


# ---- preparation: patients and their sessions, one walk through the questions ---------------------------
@dataclass(frozen=True)
class Patient:
    person_id: str
    session: str


def seed_patients(database_url: str, count: int) -> list[Patient]:
    """Patient accounts, each with a saved assessment and plan and a session, through the real repositories.

    One Argon2 hash (the app's own parameters) for every account: hashing hundreds of passwords would take
    minutes and is no part of the load. Sessions are started as the sign-in form starts them."""
    from rueckenlotse.core.models import Case
    from rueckenlotse.services.auth import Argon2Passwords
    from rueckenlotse.services.followup import record_intake
    from rueckenlotse.store import Store
    from rueckenlotse.store.accounts import Accounts

    class HashedOnce(Argon2Passwords):
        def hash(self, password: str) -> str:
            if not hasattr(self, "_once"):
                self._once = super().hash(password)
            return self._once

    patients = []
    with Store.open(database_url) as store:
        accounts = Accounts(store, HashedOnce())
        for n in range(count):
            email = f"last-{n}-{secrets.token_hex(4)}@example.org"
            account, person = accounts.register_patient(email, PASSWORD, f"Last {n}")
            record_intake(store, person.id, Case.model_validate(SELF_CARE_CASE))
            patients.append(Patient(person.id, accounts.start_session(account.id)))
    return patients


class _Form(HTMLParser):
    """The hidden fields and the action of the form with the given id."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id, self.inside, self.action = form_id, False, ""
        self.hidden: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("id") == self.form_id:
            self.inside, self.action = True, a.get("action", "")
        elif self.inside and tag == "input" and a.get("type") == "hidden":
            self.hidden[a["name"]] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False


def form_of(html: str, form_id: str) -> _Form:
    parser = _Form(form_id)
    parser.feed(html)
    if not parser.action:
        raise SystemExit(f"no form {form_id!r} on the page: {html[:500]}")
    return parser


@dataclass(frozen=True)
class Walk:
    first_answer: list[str] | str
    finished_state: str  # the signed answers of the whole interview, as the result page posts them


def walk_questions(url: str) -> Walk:
    """The interview once through the real pages: the answer to its first question, the state at its end."""
    from rueckenlotse.questionnaire import load_questionnaire

    questions = load_questionnaire()
    with httpx.Client(base_url=url, timeout=60.0) as client:
        page = client.get("/intake")
        first: str | None = None
        for _ in range(80):
            form = form_of(page.text, "step")
            question_id = form.hidden.get("question", "")
            if form.hidden.get("view") != "question" or not question_id:
                return Walk(SELF_CARE_ANSWERS[first or "regions"], form.hidden["state"])
            first = first or question_id
            kind = questions.get(question_id).kind
            answer = SELF_CARE_ANSWERS.get(question_id, "no" if kind == "bool" else [])
            data = {**form.hidden, "action": "next", "answer": answer}
            page = client.post(form.action, data=data, follow_redirects=True)
            if page.status_code != 200:
                raise SystemExit(f"the interview stopped at {question_id}: {page.status_code}")
    raise SystemExit("the interview did not end after 80 questions")


# ---- the load ------------------------------------------------------------------------------------------
@dataclass
class Record:
    done: float  # seconds since the load began
    kind: str
    ms: float
    outcome: str  # ok | busy (503 with Retry-After) | 5xx | other (another status) | failed (no answer)


@dataclass
class Shared:
    """What every visitor reads: the app, the bodies, the prepared state, and where results go."""

    url: str
    bodies: list[bytes]
    walk: Walk
    patients: list[Patient]
    began: float
    records: list[Record] = field(default_factory=list)
    turn: int = 0  # the patients take turns: each signed-in request is the next one's
    failures: list[str] = field(default_factory=list)  # the first few unexpected answers, for the report


def _cycle() -> list[str]:
    kinds = [kind for kind, count in MIX for _ in range(count)]
    # Interleaved (round-robin over the kinds), so that a short run still has every kind.
    ordered: list[str] = []
    while kinds:
        for kind, _ in MIX:
            if kind in kinds:
                kinds.remove(kind)
                ordered.append(kind)
    return ordered


class Visitor:
    """One connection with its own cookies (the CSRF cookie) and form. Its signed-in requests are made
    for the patients in turn (their session cookie sent with the request), so that the diaries grow as
    many patients' would, not as one patient writing several entries a second."""

    def __init__(self, shared: Shared, number: int, client: httpx.AsyncClient) -> None:
        self.shared, self.number, self.client = shared, number, client
        self.csrf = ""
        self.step_form: dict[str, str] = {}
        self.sent = 0

    def request(self, kind: str) -> tuple[str, str, dict[str, Any]]:
        """Method, path and keyword arguments of one request of this kind."""
        if kind in SIGNED_IN:
            return self._signed_in(kind)
        if kind == "POST /api/v1/assessments":
            body = self.shared.bodies[(self.number + self.sent) % len(self.shared.bodies)]
            return (
                "POST",
                "/api/v1/assessments",
                {"content": body, "headers": {"Content-Type": "application/json"}},
            )
        if kind == "POST /intake (an answer)":
            data = {**self.step_form, "action": "next", "answer": self.shared.walk.first_answer}
            return "POST", "/intake", {"data": data}
        if kind == "POST /result":
            return (
                "POST",
                "/result",
                {"data": {"csrf_token": self.csrf, "state": self.shared.walk.finished_state}},
            )
        return "GET", kind.split()[1], {}

    def _signed_in(self, kind: str) -> tuple[str, str, dict[str, Any]]:
        patient = self.shared.patients[self.shared.turn % len(self.shared.patients)]
        self.shared.turn += 1
        headers = {"Cookie": f"session={patient.session}"}  # a header of its own: the jar is not used
        method, path = kind.split()
        path = path.replace("{id}", patient.person_id)
        if method == "POST":
            return method, path, {"json": _diary_entry(self.number, self.sent), "headers": headers}
        return method, path, {"headers": headers}

    async def send(self, kind: str) -> None:
        method, path, arguments = self.request(kind)
        start = time.perf_counter()
        try:
            answer = await self.client.request(method, path, **arguments)
        except httpx.HTTPError as e:
            self._record(kind, start, "failed", f"{kind}: {type(e).__name__} {e}")
            return
        if kind == "GET /intake" and answer.status_code == 200:
            form = form_of(answer.text, "step")
            self.step_form, self.csrf = form.hidden, form.hidden["csrf_token"]
        self._record(kind, start, *_judge(kind, answer))

    def _record(self, kind: str, start: float, outcome: str, failure: str = "") -> None:
        now = time.perf_counter()
        self.shared.records.append(Record(now - self.shared.began, kind, (now - start) * 1000, outcome))
        self.sent += 1
        if outcome not in ("ok", "busy") and len(self.shared.failures) < 20:
            self.shared.failures.append(failure)


def _judge(kind: str, answer: httpx.Response) -> tuple[str, str]:
    if answer.status_code == EXPECTED[kind]:
        return "ok", ""
    detail = f"{kind}: {answer.status_code} {answer.text[:300]!r}"
    if answer.status_code == 503 and "retry-after" in answer.headers:
        return "busy", detail
    return ("5xx" if answer.status_code >= 500 else "other"), detail


def _diary_entry(number: int, sent: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {
        "recorded_at": now.isoformat(),
        "pain": {"low_back": 2 + (number + sent) % 4},
        "activity_minutes": 20,
    }


async def visit(shared: Shared, number: int, stop: float) -> None:
    cycle = _cycle()
    limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    headers = {"Accept-Language": "de"}
    async with httpx.AsyncClient(base_url=shared.url, limits=limits, timeout=60.0, headers=headers) as client:
        visitor = Visitor(shared, number, client)
        await visitor.send("GET /intake")  # the CSRF cookie and the first question's form
        position = number * 7  # each visitor starts elsewhere in the mix
        while time.perf_counter() < stop:
            await visitor.send(cycle[position % len(cycle)])
            position += 1


@dataclass(frozen=True)
class Step:
    connections: int
    start: float  # seconds since the load began
    end: float


async def sample_memory(pid: int, began: float, every: float, samples: list[tuple[float, int]]) -> None:
    while True:
        samples.append((time.perf_counter() - began, rss_kb(pid)))
        await asyncio.sleep(every - (time.perf_counter() - began) % every)


async def run_load(
    shared: Shared, pid: int, plan: list[tuple[int, float]], every: float
) -> tuple[list[Step], list[tuple[float, int]]]:
    samples: list[tuple[float, int]] = []
    sampler = asyncio.create_task(sample_memory(pid, shared.began, every, samples))
    steps = []
    for connections, seconds in plan:
        start = time.perf_counter() - shared.began
        stop = time.perf_counter() + seconds
        await asyncio.gather(*(visit(shared, n, stop) for n in range(connections)))
        steps.append(Step(connections, start, time.perf_counter() - shared.began))
    samples.append((time.perf_counter() - shared.began, rss_kb(pid)))
    sampler.cancel()
    return steps, samples


# ---- the tables ----------------------------------------------------------------------------------------
def slope_mb_per_minute(points: list[tuple[float, int]]) -> float:
    """Least-squares slope of RSS over time."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t = sum(t for t, _ in points) / n
    mean_m = sum(m for _, m in points) / n
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    if spread == 0:
        return 0.0
    kb_per_second = sum((t - mean_t) * (m - mean_m) for t, m in points) / spread
    return kb_per_second * 60 / 1024


def _mb(kb: float) -> str:
    return f"{kb / 1024:.1f}"


def _latencies(records: list[Record]) -> tuple[float, float]:
    values = sorted(r.ms for r in records)
    return (percentile(values, 0.5), percentile(values, 0.99)) if values else (0.0, 0.0)


def _counts(records: list[Record]) -> tuple[int, int, int]:
    """(errors, of them 5xx, 503 busy)."""
    errors = sum(r.outcome in ("5xx", "other", "failed") for r in records)
    return errors, sum(r.outcome == "5xx" for r in records), sum(r.outcome == "busy" for r in records)


def step_table(steps: list[Step], records: list[Record], samples: list[tuple[float, int]]) -> list[str]:
    lines = [
        "| connections | s | requests | requests/s | p50 ms | p99 ms | errors | of them 5xx | 503 busy "
        "| RSS start MB | RSS max MB | RSS end MB | RSS slope MB/min |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for step in steps:
        mine = [r for r in records if step.start <= r.done <= step.end]
        memory = [(t, m) for t, m in samples if step.start <= t <= step.end] or samples[-1:]
        p50, p99 = _latencies(mine)
        errors, server, busy = _counts(mine)
        seconds = step.end - step.start
        lines.append(
            f"| {step.connections} | {seconds:.0f} | {len(mine):,} | {len(mine) / seconds:,.0f} | {p50:.1f} "
            f"| {p99:.1f} | {errors} | {server} | {busy} | {_mb(memory[0][1])} "
            f"| {_mb(max(m for _, m in memory))} | {_mb(memory[-1][1])} "
            f"| {slope_mb_per_minute(memory):+.2f} |"
        )
    return lines


def kind_table(step: Step, records: list[Record]) -> list[str]:
    mine = [r for r in records if step.start <= r.done <= step.end]
    lines = [
        "| request | share | requests | p50 ms | p99 ms | errors | 503 busy |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for kind, _ in MIX:
        these = [r for r in mine if r.kind == kind]
        p50, p99 = _latencies(these)
        errors, _, busy = _counts(these)
        share = len(these) / len(mine) if mine else 0.0
        lines.append(
            f"| `{kind}` | {share:.0%} | {len(these):,} | {p50:.1f} | {p99:.1f} | {errors} | {busy} |"
        )
    return lines


def memory_table(
    steps: list[Step], records: list[Record], samples: list[tuple[float, int]], every: float
) -> list[str]:
    """One row per interval: the RSS at its end, the step, and the load within it."""
    lines = [
        "| t s | connections | RSS MB | requests/s | p99 ms | errors |",
        "| ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    end = steps[-1].end
    edges = [i * every for i in range(int(end // every) + 1)] + ([end] if end % every > 0.5 else [])
    for low, high in zip(edges, edges[1:], strict=False):
        inside = [r for r in records if low < r.done <= high]
        rss = min(samples, key=lambda s: abs(s[0] - high))[1]
        connections = next(
            (s.connections for s in steps if s.start <= high <= s.end + 0.5), steps[-1].connections
        )
        _, p99 = _latencies(inside)
        errors, _, _ = _counts(inside)
        lines.append(
            f"| {high:.0f} | {connections} | {_mb(rss)} | {len(inside) / (high - low):,.0f} | {p99:.1f} "
            f"| {errors} |"
        )
    return lines


def verdict(steps: list[Step], records: list[Record], samples: list[tuple[float, int]]) -> str:
    last = steps[-1]
    mine = [r for r in records if last.start <= r.done <= last.end]
    memory = [(t, m) for t, m in samples if last.start <= t <= last.end] or samples[-1:]
    half = [(t, m) for t, m in memory if t >= (last.start + last.end) / 2] or memory
    errors, server, busy = _counts(mine)
    return (
        f"Last step ({last.connections} connections, {last.end - last.start:.0f} s): **{errors} errors** "
        f"({server} of them 5xx), {busy} answers 503 busy; memory {_mb(memory[0][1])} → "
        f"{_mb(memory[-1][1])} MB (highest {_mb(max(m for _, m in memory))}), slope "
        f"{slope_mb_per_minute(memory):+.2f} MB/min over the step, {slope_mb_per_minute(half):+.2f} MB/min "
        "over its second half."
    )


# ---- main ----------------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="a short smoke run: 1 and 4 connections, 3 s each"
    )
    parser.add_argument("--steps", default="1,4,16,64", help="connections per step (default 1,4,16,64)")
    parser.add_argument("--step-seconds", type=float, default=15, help="seconds of each step but the last")
    parser.add_argument("--last-seconds", type=float, default=120, help="seconds of the last step")
    parser.add_argument("--sample-seconds", type=float, default=3, help="memory sampled this often")
    parser.add_argument("--table-seconds", type=float, default=15, help="rows of the memory table")
    parser.add_argument("--patients", type=int, default=200, help="signed-in patients, taking turns")
    parser.add_argument(
        "--database-url", default="", help="a fresh database instead of SQLite in a temporary folder"
    )
    parser.add_argument(
        "--no-diary-writes",
        action="store_true",
        help="read diaries instead of writing them: does the memory stay flat when the data does not grow?",
    )
    parser.add_argument("--keep-log", type=Path, help="copy the server's log here when the run ends")
    args = parser.parse_args()
    if args.no_diary_writes:
        MIX[:] = without_diary_writes(MIX)
    if args.quick:
        args.steps, args.step_seconds, args.last_seconds = "1,4", 3.0, 3.0
        args.sample_seconds, args.table_seconds = 1.0, 2.0
    connections = [int(n) for n in args.steps.split(",")]
    plan = [(n, args.step_seconds) for n in connections[:-1]] + [(connections[-1], args.last_seconds)]
    bodies = [json.dumps(case, ensure_ascii=False).encode() for case in vignette_cases()]
    machine = machine_lines()  # the load average before the load; the one after it is added below

    with tempfile.TemporaryDirectory(prefix="rl-load-") as name:
        folder = Path(name)
        database_url = args.database_url or f"sqlite:///{folder / 'load.db'}"
        patients = seed_patients(database_url, 8 if args.quick else args.patients)
        with running_server(folder, database_url, secrets.token_urlsafe(48)) as server:
            walk = walk_questions(server.url)
            shared = Shared(server.url, bodies, walk, patients, time.perf_counter())
            steps, samples = asyncio.run(run_load(shared, server.pid, plan, args.sample_seconds))
            load_after = os.getloadavg()
        problems = _server_problems(server.log)
        if args.keep_log is not None:
            shutil.copyfile(server.log, args.keep_log)

    backend = "PostgreSQL" if database_url.startswith("postgresql") else "SQLite"
    lines = ["### Load: the API and the pages, 1 → 64 connections (`benchmarks/load.py`)", "", *machine]
    lines += [
        f"  before the load; {', '.join(f'{x:.1f}' for x in load_after)} at its end",
        f"- server: `rueckenlotse serve` (uvicorn, 1 process), {backend}; {len(patients)} signed-in patients",
        f"- load: asyncio httpx client in this process, one keep-alive connection per visitor; steps "
        f"{' → '.join(str(n) for n in connections)} connections, {args.step_seconds:.0f} s each, the last "
        f"{args.last_seconds:.0f} s",
        "- mix per visitor, in turn: " + ", ".join(f"{count}× `{kind}`" for kind, count in MIX),
        "",
        *step_table(steps, shared.records, samples),
        "",
        verdict(steps, shared.records, samples),
        "",
        f"Per request, last step ({steps[-1].connections} connections):",
        "",
        *kind_table(steps[-1], shared.records),
        "",
        f"Memory and load over time (RSS sampled every {args.sample_seconds:.0f} s):",
        "",
        *memory_table(steps, shared.records, samples, args.table_seconds),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    if shared.failures or problems:
        sys.stderr.write("Unexpected answers (first 20):\n" + "\n".join(shared.failures) + "\n")
        sys.stderr.write("Server log, errors:\n" + "\n".join(problems) + "\n")


def _server_problems(log: Path, limit: int = 80) -> list[str]:
    """The server log's error lines and tracebacks (the access lines of 5xx answers too)."""
    lines = log.read_text(errors="replace").splitlines()
    wanted = re.compile(r"ERROR|Traceback|Error:|Exception| 5\d\d \d+ms")
    return [line for line in lines if wanted.search(line)][:limit]


if __name__ == "__main__":
    main()
