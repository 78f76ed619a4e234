"""The golden set of assessments: every contract-2 vignette plus seeded generated cases, with results.

The file tests/golden/assessments.jsonl starts with a header line (knowledge and contract version, how
many cases, how to regenerate), then one line per case: ``{"id", "case", "assessment"}`` with the full
Assessment in German. The generated cases come from a fixed seed, so regenerating gives the same cases
and only the assessments (and the header's versions) can change.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from rueckenlotse import assess
from rueckenlotse.core.models import IMAGING_FINDINGS, NeuroplasticAnswers, StartBackAnswers
from rueckenlotse.knowledge import default_knowledge

from ..strategies import BOOLEAN_FIELDS, ORDERED_ENUMS, REGIONS

GOLDEN = Path(__file__).resolve().parent.parent / "golden" / "assessments.jsonl"
# knowledge_version -> digest of its golden assessments: one version, one set of clinical answers.
PINS = GOLDEN.with_name("pins.json")
UPDATE_ENV = "RUECKENLOTSE_GOLDEN_UPDATE"
REGENERATE = f"{UPDATE_ENV}=1 .venv/bin/pytest tests/safety/test_golden.py"
SEED = 20261127
GENERATED = 300
DURATIONS = [0, 0.5, 1, 1.5, 2, 3, 4, 5.9, 6, 8, 12, 12.1, 13, 26, 52, 104]


def _maybe(rng: random.Random, p: float) -> bool:
    return rng.random() < p


def generated_case(rng: random.Random) -> dict[str, Any]:
    """One valid Case; warning signs are rare (as in practice) so every triage level is represented."""
    case: dict[str, Any] = {
        "age": rng.choice([rng.randint(2, 15), rng.randint(16, 69), rng.randint(70, 99)]),
        "regions": rng.sample(REGIONS, rng.randint(1, len(REGIONS))),
        "duration_weeks": rng.choice(DURATIONS),
    }
    for field in BOOLEAN_FIELDS:
        if _maybe(rng, 0.1):
            case[field] = _maybe(rng, 0.6)
    for field, values in ORDERED_ENUMS.items():
        if _maybe(rng, 0.3):
            case[field] = rng.choice(values)
    if _maybe(rng, 0.5):
        case["pain_intensity"] = rng.randint(0, 10)
    if _maybe(rng, 0.3):
        answers: dict[str, Any] = {k: _maybe(rng, 0.4) for k in StartBackAnswers.model_fields}
        answers["bothersomeness"] = rng.randint(0, 4)
        case["startback"] = answers
    if _maybe(rng, 0.2):
        case["neuroplastic"] = {k: _maybe(rng, 0.5) for k in NeuroplasticAnswers.model_fields}
    if _maybe(rng, 0.2):
        case["physiotherapy_weeks"] = rng.randint(0, 20)
        case["physiotherapy_helped"] = rng.choice(["yes", "partly", "no"])
    if _maybe(rng, 0.15):
        case["imaging_findings"] = rng.sample(sorted(IMAGING_FINDINGS), rng.randint(1, 3))
    return case


def golden_cases(vignettes: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted(vignettes.glob("*.json")):
        yield path.stem, json.loads(path.read_text(encoding="utf-8"))["case"]
    rng = random.Random(SEED)
    for n in range(GENERATED):
        yield f"gen-{n:03d}", generated_case(rng)


def _lines(records: list[dict[str, Any]]) -> list[str]:
    return [json.dumps(r, ensure_ascii=False) for r in records]


def digest(records: list[dict[str, Any]]) -> str:
    return hashlib.sha256("\n".join(_lines(records)).encode()).hexdigest()


def header(records: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "knowledge_version": default_knowledge().version,
        "contract_version": records[0]["assessment"]["contract_version"] if records else None,
        "cases": len(records),
        "sha256": digest(records),
        "regenerate": REGENERATE,
    }


def build(vignettes: Path) -> list[dict[str, Any]]:
    return [
        {"id": ident, "case": case, "assessment": assess(case, lang="de").model_dump(mode="json")}
        for ident, case in golden_cases(vignettes)
    ]


def dump(records: list[dict[str, Any]]) -> str:
    return "\n".join([json.dumps(header(records), ensure_ascii=False), *_lines(records)]) + "\n"


def load(path: Path = GOLDEN) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    first, *rest = path.read_text(encoding="utf-8").splitlines()
    return json.loads(first), [json.loads(line) for line in rest]


def load_pins() -> dict[str, str]:
    pins: dict[str, str] = json.loads(PINS.read_text(encoding="utf-8")) if PINS.is_file() else {}
    return pins


def update(records: list[dict[str, Any]]) -> str | None:
    """Write the golden file and pin its digest; refuse (saying why) when the version has another digest."""
    version, new = default_knowledge().version, digest(records)
    pins = load_pins()
    if pins.get(version, new) != new:
        return (
            f"the golden assessments changed but knowledge_version is still {version}: set a new "
            "knowledge_version in manifest.yaml, pin its hash, add its CHANGELOG.md entry, then regenerate"
        )
    GOLDEN.write_text(dump(records), encoding="utf-8")
    PINS.write_text(json.dumps({**pins, version: new}, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return None
