"""scripts/trace_matrix.py: an unverified or unknown requirement fails the step; the hazard log is in sync."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

import pytest

from ..conftest import ROOT


@pytest.fixture(scope="module")
def trace() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trace_matrix", ROOT / "scripts" / "trace_matrix.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _run(
    trace: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tests: Mapping[str, object]
) -> int:
    log = tmp_path / "hazard-log.md"
    log.write_text(f"# Log\n\n### SR-A-1\nOne.\n\n### SR-B-2\nTwo.\n\n{trace.BEGIN}\n{trace.END}\n")
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"exitstatus": 0, "tests": tests}))
    monkeypatch.setattr(trace, "HAZARD_LOG", log)
    monkeypatch.setattr(trace, "RESULTS", results)
    monkeypatch.setattr(trace, "MATRIX", tmp_path / "trace-matrix.md")
    code: int = trace.main([])
    return code


def test_every_requirement_with_a_passing_test_is_green_and_listed(
    trace: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tests = {
        "t.py::test_a[x]": {"safety": ["SR-A-1"], "outcome": "passed"},
        "t.py::test_a[y]": {"safety": ["SR-A-1"], "outcome": "passed"},
        "t.py::test_b": {"safety": ["SR-A-1", "SR-B-2"], "outcome": "passed"},
    }
    assert _run(trace, tmp_path, monkeypatch, tests) == 0
    log = (tmp_path / "hazard-log.md").read_text()
    assert "- **SR-A-1**: `t.py::test_a`, `t.py::test_b`" in log and "- **SR-B-2**: `t.py::test_b`" in log
    assert "| SR-B-2 | 1 | 0 | `t.py::test_b` |" in (tmp_path / "trace-matrix.md").read_text()


@pytest.mark.parametrize(
    "tests",
    [
        {"t.py::test_a": {"safety": ["SR-A-1"], "outcome": "passed"}},  # SR-B-2 has no test
        {  # SR-B-2's only test failed, skipped or xfailed
            "t.py::test_a": {"safety": ["SR-A-1"], "outcome": "passed"},
            "t.py::test_b": {"safety": ["SR-B-2"], "outcome": "failed"},
            "t.py::test_c": {"safety": ["SR-B-2"], "outcome": "skipped"},
            "t.py::test_d": {"safety": ["SR-B-2"], "outcome": "xfailed"},
        },
        {"t.py::test_a": {"safety": ["SR-A-1", "SR-B-2", "SR-C-3"], "outcome": "passed"}},  # unknown SR
    ],
)
def test_a_requirement_without_a_passing_test_or_an_unknown_one_fails(
    trace: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tests: Mapping[str, object]
) -> None:
    assert _run(trace, tmp_path, monkeypatch, tests) == 1
    assert "- **SR-A-1**" not in (tmp_path / "hazard-log.md").read_text()  # a failing run writes no list


def test_the_hazard_log_defines_each_requirement_once_with_the_fixed_ids(trace: ModuleType) -> None:
    srs = trace.requirements(trace.HAZARD_LOG.read_text(encoding="utf-8"))
    assert {"SR-AUD-1", "SR-AUD-2", "SR-DR-1", "SR-DR-2", "SR-DR-3", "SR-SEC-1"} <= set(srs)
    assert len(srs) == len(set(srs))
