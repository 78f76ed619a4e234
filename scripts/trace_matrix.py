"""Trace matrix: every safety requirement of the hazard log with the tests that verified it in the last run.

Reads the requirements (``### SR-…`` headings) from docs/safety/hazard-log.md and the outcome and
``@pytest.mark.safety`` ids of each test from artifacts/trace/results.json (written by the plugin in
tests/conftest.py during the real pytest run). Writes artifacts/trace/trace-matrix.md and rewrites the
"Verifying tests" section of the hazard log (only after a run in which every requirement passed), so the
log cannot drift from the markers.

Exit status 1 (with the reasons, German and English) when a requirement has no passing test or a test
names a requirement that the hazard log does not define; 2 when an input file is missing.

Usage: .venv/bin/python scripts/trace_matrix.py [--check]
  --check  leave the hazard log alone and fail when its "Verifying tests" section is out of date.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
HAZARD_LOG = ROOT / "docs" / "safety" / "hazard-log.md"
RESULTS = ROOT / "artifacts" / "trace" / "results.json"
MATRIX = ROOT / "artifacts" / "trace" / "trace-matrix.md"
BEGIN = "<!-- BEGIN trace: written by scripts/trace_matrix.py from the last pytest run; do not edit -->"
END = "<!-- END trace -->"
SR_HEADING = re.compile(r"^### (SR-[A-Z]+-\d+)\s*$", re.MULTILINE)
# A parametrised test counts once in the hazard log: its cases share the marker and the name.
PARAMS = re.compile(r"\[.*\]$")


def requirements(text: str) -> list[str]:
    found = SR_HEADING.findall(text)
    duplicates = sorted({sr for sr in found if found.count(sr) > 1})
    if duplicates:
        twice = ", ".join(duplicates)
        raise SystemExit(f"Doppelt definierte Anforderung / requirement defined twice: {twice}")
    return found


def tests_by_requirement(tests: Mapping[str, Mapping[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """SR id → outcome → test node ids (sorted)."""
    out: dict[str, dict[str, list[str]]] = {}
    for nodeid, entry in sorted(tests.items()):
        for sr in entry["safety"]:
            out.setdefault(sr, {}).setdefault(str(entry["outcome"]), []).append(nodeid)
    return out


def problems(srs: list[str], traced: Mapping[str, Mapping[str, list[str]]]) -> list[str]:
    out = []
    for sr in srs:
        if not traced.get(sr, {}).get("passed"):
            out.append(f"{sr}: kein bestandener Test / no passing test")
    for sr in sorted(set(traced) - set(srs)):
        tests = [t for ts in traced[sr].values() for t in ts]
        out.append(f"{sr}: nicht im Gefahrenprotokoll / not in the hazard log (marked on {tests[0]})")
    return out


def matrix(srs: list[str], traced: Mapping[str, Mapping[str, list[str]]], exitstatus: int) -> str:
    lines = [
        "# Trace matrix",
        "",
        f"From the last pytest run (exit status {exitstatus}); requirements from docs/safety/hazard-log.md.",
        "",
        "| requirement | passed | not passed | verifying tests (passed) |",
        "| --- | ---: | ---: | --- |",
    ]
    for sr in srs:
        by = traced.get(sr, {})
        passed = by.get("passed", [])
        other = [f"{t} ({o})" for o, ts in sorted(by.items()) if o != "passed" for t in ts]
        cell = "<br>".join(f"`{t}`" for t in passed) or "**none**"
        lines.append(f"| {sr} | {len(passed)} | {len(other)} | {cell} |")
        lines.extend(f"|  |  |  | not passed: `{t}` |" for t in other)
    return "\n".join(lines) + "\n"


def doc_section(srs: list[str], traced: Mapping[str, Mapping[str, list[str]]]) -> str:
    lines = [BEGIN, ""]
    for sr in srs:
        names = sorted({PARAMS.sub("", t) for ts in traced.get(sr, {}).values() for t in ts})
        lines.append(f"- **{sr}**: " + (", ".join(f"`{n}`" for n in names) if names else "*(none)*"))
    lines += ["", END]
    return "\n".join(lines)


def with_section(text: str, section: str) -> str:
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    return text[:start] + section + text[stop:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when the hazard log is out of date")
    args = parser.parse_args(argv)
    if not RESULTS.is_file():
        print(f"{RESULTS} fehlt: erst pytest laufen lassen / missing: run pytest first", file=sys.stderr)
        return 2
    text = HAZARD_LOG.read_text(encoding="utf-8")
    if BEGIN not in text or END not in text:
        print(f"{HAZARD_LOG}: Abschnittsmarken fehlen / trace section markers missing", file=sys.stderr)
        return 2
    srs = requirements(text)
    run = json.loads(RESULTS.read_text(encoding="utf-8"))
    traced = tests_by_requirement(run["tests"])
    MATRIX.parent.mkdir(parents=True, exist_ok=True)
    MATRIX.write_text(matrix(srs, traced, int(run["exitstatus"])), encoding="utf-8")
    updated = with_section(text, doc_section(srs, traced))
    found = problems(srs, traced)
    stale = f"{HAZARD_LOG.name}: Testliste veraltet / test list out of date (run without --check)"
    if updated != text:
        if args.check:
            found.append(stale)
        elif not found:  # a partial or failing run must not shrink the hazard log's list
            HAZARD_LOG.write_text(updated, encoding="utf-8")
    passed = sum(1 for sr in srs if traced.get(sr, {}).get("passed"))
    print(f"trace matrix: {passed} of {len(srs)} safety requirements have passing tests -> {MATRIX}")
    for problem in found:
        print(f"  FEHLER / ERROR {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
