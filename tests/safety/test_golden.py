"""Clinical change control: the golden assessments change only together with knowledge_version and CHANGELOG.

A change to the knowledge (or the engine) that alters any golden assessment must be acknowledged in the
same commit: regenerate the golden file (the command is in the failure message), review its diff, set a
new knowledge_version and describe the clinical change in CHANGELOG.md.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.knowledge import default_knowledge

from ..conftest import ROOT
from .golden import GOLDEN, REGENERATE, UPDATE_ENV, build, digest, header, load, load_pins, update

CHANGELOG = ROOT / "CHANGELOG.md"
HOW = (
    f"regenerate with `{REGENERATE}`, review the diff of {GOLDEN.name}, and acknowledge the clinical change "
    "in the same commit: a new knowledge_version in manifest.yaml and its entry in CHANGELOG.md"
)


@pytest.fixture(scope="module")
def current(shared_dir: Path) -> list[dict[str, Any]]:
    records = build(shared_dir / "cases" / "v2")
    if os.environ.get(UPDATE_ENV) == "1" and (refused := update(records)):
        pytest.fail(refused)
    return records


def _differences(expected: Any, got: Any, path: str = "") -> list[str]:
    if isinstance(expected, dict) and isinstance(got, dict):
        keys = sorted(set(expected) | set(got))
        return [d for k in keys for d in _differences(expected.get(k), got.get(k), f"{path}.{k}")]
    if expected != got:
        return [f"{path or '.'}: {str(expected)[:80]} -> {str(got)[:80]}"]
    return []


@pytest.mark.safety("SR-KB-1", "SR-KB-2")
def test_golden_header_names_the_current_knowledge_version(current: list[dict[str, Any]]) -> None:
    head, _ = load()
    assert head == header(current), f"golden header {head} != {header(current)}: {HOW}"


@pytest.mark.safety("SR-KB-1", "SR-KB-2")
def test_golden_assessments_are_unchanged(current: list[dict[str, Any]]) -> None:
    _, golden = load()
    assert [g["id"] for g in golden] == [c["id"] for c in current], f"the golden cases changed: {HOW}"
    changed: list[str] = []
    for want, got in zip(golden, current, strict=True):
        assert want["case"] == got["case"], f"{want['id']}: the golden case itself changed: {HOW}"
        diffs = _differences(want["assessment"], got["assessment"])
        changed += [f"{want['id']} {d}" for d in diffs[:3]]
    assert not changed, f"{len(changed)} golden assessment difference(s), e.g. {changed[:10]}: {HOW}"


@pytest.mark.safety("SR-KB-1")
def test_one_knowledge_version_gives_one_set_of_golden_assessments(current: list[dict[str, Any]]) -> None:
    pins = load_pins()
    version = default_knowledge().version
    assert version in pins, f"no golden digest pinned for knowledge_version {version}: {HOW}"
    assert pins[version] == digest(current), (
        f"the assessments differ from those pinned for knowledge_version {version}: {HOW}"
    )


def test_golden_set_covers_every_triage_level_and_both_sources(current: list[dict[str, Any]]) -> None:
    levels = {r["assessment"]["triage"] for r in current}
    assert levels == {"emergency", "urgent", "soon", "routine", "self_care"}
    assert sum(not r["id"].startswith("gen-") for r in current) >= 20
    assert sum(r["id"].startswith("gen-") for r in current) >= 200


@pytest.mark.safety("SR-KB-1")
def test_changelog_has_a_heading_for_the_current_knowledge_version() -> None:
    version = default_knowledge().version
    headings = re.findall(r"^## (\S+)", CHANGELOG.read_text(encoding="utf-8"), re.MULTILINE)
    assert version in headings, (
        f"CHANGELOG.md has no heading '## {version}': describe the clinical change of knowledge_version "
        f"{version} there"
    )
    assert headings[0] == version, f"the newest CHANGELOG.md entry ({headings[0]}) is not {version}"
