"""The contract-2 clinical vignettes (version 1's public ones and the new ones), each collected as its own
test, checked through the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse import assess

from .conftest import SHARED

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
VIGNETTES = sorted((SHARED / "cases" / "v2").glob("*.json"))


def _one_of(expect: dict[str, Any], key: str) -> list[Any] | None:
    if key not in expect:
        return None
    value = expect[key]
    return value if isinstance(value, list) else [value]


def check_expectations(expect: dict[str, Any], a: dict[str, Any]) -> list[str]:
    errors = []
    for key in ("triage", "phase", "pain_type", "imaging", "chronification_risk"):
        allowed = _one_of(expect, key)
        if allowed is not None and a[key] not in allowed:
            errors.append(f"{key}: {a[key]!r} not in {allowed}")
    ids = {r["id"] for r in a["recommendations"]}
    errors += [
        f"missing recommendation {r}" for r in expect.get("recommendations_include", []) if r not in ids
    ]
    errors += [
        f"unexpected recommendation {r}" for r in expect.get("recommendations_exclude", []) if r in ids
    ]
    conditions = set(a["suspected_conditions"])
    errors += [f"missing condition {c}" for c in expect.get("suspected_includes", []) if c not in conditions]
    errors += [f"unexpected condition {c}" for c in expect.get("suspected_excludes", []) if c in conditions]
    if "startback_group" in expect and (a["startback"] or {}).get("group") != expect["startback_group"]:
        errors.append(f"startback group {a['startback']} != {expect['startback_group']}")
    if "neuroplastic_level" in expect:
        got = (a["neuroplastic_indicators"] or {}).get("level")
        if got != expect["neuroplastic_level"]:
            errors.append(f"neuroplastic level {got} != {expect['neuroplastic_level']}")
    rows = {r["finding"]: r["prevalence_pain_free_percent"] for r in a["imaging_context"]}
    for finding, percent in expect.get("imaging_context", {}).items():
        if finding not in rows or abs(rows[finding] - percent) > 1:
            errors.append(f"imaging_context {finding}: {rows.get(finding)} != {percent}")
    return errors


def test_vignettes_are_there() -> None:
    assert len(VIGNETTES) >= 52, f"expected the contract-2 vignettes under {SHARED}/cases/v2"


@pytest.mark.safety("SR-RF-1", "SR-RF-2", "SR-RF-3", "SR-RF-4", "SR-RF-5")
@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_vignette(path: Path) -> None:
    vignette = json.loads(path.read_text(encoding="utf-8"))
    for lang in ("de", "en"):
        a = assess(vignette["case"], lang=lang).model_dump(mode="json")
        assert check_expectations(vignette["expect"], a) == []
        expected = _one_of(vignette["expect"], "triage")
        if expected:
            assert LEVELS.index(a["triage"]) >= min(map(LEVELS.index, expected)), "under-triage"
