"""Benchmark (a): latency of one ``assess()`` call, beside the per-case cost of parsing and validating input.

Run from the repository: ``.venv/bin/python benchmarks/assess_latency.py [--generated N] [--rounds R]``.
Prints a Markdown table (median and p99 per case, in µs) with the date and the machine.

Inputs: the public vignettes (``$SHARED_DIR/cases/public``, default ``../shared``) and N generated cases
(seeded, so every run times the same cases). For scale it also times a minimal pure-Python triage function
(a dozen warning signs and a STarT Back score, no explanations, no output model): the floor of any triage
written in Python. Targets (issue #6): ``assess()`` median under 100 µs, p99 under 300 µs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


# ---- the machine, shared by the other benchmark scripts ----------------------------------------------
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_lines() -> list[str]:
    """Date, CPU, cores, Python and load: the lines above every benchmark table."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    return [
        f"- date: {dt.datetime.now(dt.UTC).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {cpu_model()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}",
        f"- Python {platform.python_version()} ({platform.python_implementation()}); load average {load}",
    ]


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """The value below which ``fraction`` of the (sorted) values lie (nearest rank)."""
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


# ---- inputs ---------------------------------------------------------------------------------------------
def shared_dir() -> Path:
    return Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared"))


def vignette_cases() -> list[dict[str, Any]]:
    folder = shared_dir() / "cases" / "public"
    files = sorted(folder.glob("*.json"))
    if not files:
        raise SystemExit(f"no vignettes in {folder} (set SHARED_DIR)")
    return [json.loads(f.read_text(encoding="utf-8"))["case"] for f in files]


def generated_cases(n: int, seed: int = 6) -> list[dict[str, Any]]:
    """Valid Cases of contract v1 with every field in play; each yes/no answer given in one case of ten."""
    from rueckenlotse.core.models import IMAGING_FINDINGS, Case, NeuroplasticAnswers, StartBackAnswers

    rng = random.Random(seed)
    booleans = [name for name, info in Case.model_fields.items() if info.annotation is bool]
    choices = {
        "sex": ["female", "male", "diverse"],
        "trauma": ["none", "minor", "major"],
        "leg_pain": ["none", "above_knee", "below_knee"],
        "weakness": ["none", "mild_stable", "severe_or_progressive"],
        "physiotherapy_helped": ["yes", "partly", "no"],
        "home_exercise": ["regularly", "sometimes", "never"],
    }
    cases = []
    for _ in range(n):
        case: dict[str, Any] = {
            "age": rng.randint(0, 120),
            "regions": rng.sample(["neck", "thoracic", "low_back"], rng.randint(1, 3)),
            "duration_weeks": rng.choice([0, 0.5, 1, 2, 4, 6, 12, 13, 52, round(rng.uniform(0, 300), 1)]),
        }
        for name in booleans:
            if rng.random() < 0.1:
                case[name] = rng.random() < 0.8
        for name, values in choices.items():
            if rng.random() < 0.4:
                case[name] = rng.choice(values)
        if rng.random() < 0.6:
            case["pain_intensity"] = rng.randint(0, 10)
        if rng.random() < 0.5:
            startback: dict[str, Any] = {
                k: rng.random() < 0.4 for k in StartBackAnswers.model_fields if k != "bothersomeness"
            }
            case["startback"] = startback | {"bothersomeness": rng.randint(0, 4)}
        if rng.random() < 0.4:
            case["neuroplastic"] = {k: rng.random() < 0.5 for k in NeuroplasticAnswers.model_fields}
        if rng.random() < 0.3:
            case["physiotherapy_weeks"] = rng.choice([0, 3, 6, 12.5])
        if rng.random() < 0.3:
            case["imaging_findings"] = rng.sample(list(IMAGING_FINDINGS), rng.randint(1, 4))
        cases.append(case)
    return cases


# ---- the floor: a minimal triage function in plain Python ---------------------------------------------
PSYCHOSOCIAL = (
    "unsafe_to_be_active",
    "worrying_thoughts",
    "pain_terrible_never_better",
    "not_enjoying_things",
)


def minimal_triage(case: dict[str, Any]) -> dict[str, Any]:
    """A dozen warning signs, the phase and a STarT Back group: about the least a triage can do."""
    g = case.get
    cauda_equina = g("saddle_numbness") or g("bladder_dysfunction") or g("bowel_incontinence")
    infection_risk = g("iv_drug_use") or g("immunosuppression") or g("recent_infection_or_spinal_procedure")
    if cauda_equina and g("leg_pain") != "none":
        triage = "emergency"
    elif g("weakness") == "severe_or_progressive" or g("trauma") == "major":
        triage = "emergency"
    elif g("chest_pain_or_breathlessness") or (g("fever") and infection_risk):
        triage = "urgent"
    elif g("cancer_history") and (g("unexplained_weight_loss") or g("night_pain")):
        triage = "urgent"
    elif g("osteoporosis") and g("trauma") == "minor":
        triage = "soon"
    elif g("morning_stiffness_over_30min") and g("better_with_movement_not_rest"):
        triage = "routine"
    else:
        triage = "self_care"
    weeks = case["duration_weeks"]
    phase = "acute" if weeks < 6 else "subacute" if weeks <= 12 else "chronic"
    risk = "unknown"
    startback = g("startback")
    if startback:
        psycho = sum(bool(startback[k]) for k in PSYCHOSOCIAL) + (startback["bothersomeness"] >= 3)
        total = (
            psycho
            + sum(
                bool(startback[k])
                for k in ("leg_pain_recent", "neck_or_shoulder_pain_recent", "walks_short_distances_only")
            )
            + bool(startback["dresses_more_slowly"])
        )
        risk = "high" if psycho >= 4 else "medium" if total >= 4 else "low"
    return {"triage": triage, "phase": phase, "chronification_risk": risk}


# ---- timing -------------------------------------------------------------------------------------------
def time_each(
    fn: Callable[[Any], object], inputs: Sequence[Any], rounds: int
) -> tuple[list[float], list[float]]:
    """Per-call timings in µs over ``rounds`` passes (after a warm-up pass): wall clock, and CPU time.

    The CPU time of the thread leaves out the time the process waited for a core, which on a shared
    machine is what makes the wall-clock p99 jump; both are reported.
    """
    for item in inputs:
        fn(item)
    return _timings(fn, inputs, rounds, time.perf_counter_ns), _timings(
        fn, inputs, rounds, time.thread_time_ns
    )


def _timings(
    fn: Callable[[Any], object], inputs: Sequence[Any], rounds: int, clock: Callable[[], int]
) -> list[float]:
    timings: list[float] = []
    for _ in range(rounds):
        for item in inputs:
            start = clock()
            fn(item)
            timings.append((clock() - start) / 1000)
    timings.sort()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generated", type=int, default=2000, help="number of generated cases")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the inputs")
    args = parser.parse_args()

    from rueckenlotse import assess
    from rueckenlotse.core.engine import evaluate
    from rueckenlotse.knowledge.loader import default_knowledge
    from rueckenlotse.validation import parse_case_json, validate_case

    kb = default_knowledge()
    vignettes = vignette_cases()
    generated = generated_cases(args.generated)
    texts = [json.dumps(c) for c in generated]
    validated = [validate_case(c, kb) for c in generated]
    rounds_vignettes = max(args.rounds, args.rounds * len(generated) // len(vignettes) // 4)

    rows: list[tuple[str, str, tuple[list[float], list[float]]]] = [
        ("`assess(mapping)` (validation + engine + output)", f"{len(vignettes)} vignettes",
         time_each(assess, vignettes, rounds_vignettes)),
        ("`assess(mapping)` (validation + engine + output)", f"{len(generated)} generated",
         time_each(assess, generated, args.rounds)),
        ("engine only: `evaluate(kb, Case)`", f"{len(generated)} generated",
         time_each(lambda c: evaluate(kb, c, "de"), validated, args.rounds)),
        ("input: JSON text → Case (`parse_case_json`)", f"{len(generated)} generated",
         time_each(lambda t: parse_case_json(t, kb), texts, args.rounds)),
        ("input: mapping → Case (`validate_case`)", f"{len(generated)} generated",
         time_each(lambda c: validate_case(c, kb), generated, args.rounds)),
        ("floor: minimal pure-Python triage function", f"{len(generated)} generated",
         time_each(minimal_triage, generated, args.rounds)),
    ]  # fmt: skip

    lines = ["### `assess()` latency per case", "", *machine_lines()]
    lines += [f"- garbage collector on (as in use); {args.rounds} passes over the generated cases", ""]
    lines += [
        "| what | cases | median µs | p99 µs | median µs (CPU) | p99 µs (CPU) | calls |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for what, cases, (wall, cpu) in rows:
        numbers = [
            statistics.median(wall),
            percentile(wall, 0.99),
            statistics.median(cpu),
            percentile(cpu, 0.99),
        ]
        lines.append(f"| {what} | {cases} | {' | '.join(f'{n:.1f}' for n in numbers)} | {len(wall)} |")
    lines += [
        "",
        "µs: wall clock per call; (CPU): the thread's CPU time per call, without the time spent waiting",
        "for a core. Targets: `assess()` median < 100 µs and p99 < 300 µs.",
    ]
    sys.stdout.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
