"""scripts/redflag_report.py finds what it is there to find (the real run is a step of scripts/test)."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from ..conftest import ROOT
from ..test_red_flag_combinations import FAMILIES, SIGNS_V1, policy_minimum

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]


@pytest.fixture(scope="module")
def script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("redflag_report", ROOT / "scripts" / "redflag_report.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _answer(level: int) -> SimpleNamespace:
    return SimpleNamespace(triage=SimpleNamespace(value=LEVELS[level]))


def _oracle(case: dict[str, Any]) -> SimpleNamespace:
    return _answer(policy_minimum(case))


@pytest.mark.safety("SR-TRI-1")
def test_an_engine_at_the_policy_minimum_passes_every_combination(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "assess", _oracle)
    result = script.check_base("acute_low_back_adult")
    assert result.combinations == 2 ** len(SIGNS_V1) and result.single_signs == len(SIGNS_V1)
    assert not result.below_minimum and not result.lowered_by_a_sign
    assert "violations: 0" in script.report([result])


@pytest.mark.safety("SR-TRI-1")
def test_a_sign_that_lowers_triage_is_reported(script: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    # A planted defect: saddle numbness together with fever is answered one level lower than fever alone.
    def engine(case: dict[str, Any]) -> SimpleNamespace:
        level = policy_minimum(case)
        return _answer(level - 1 if case.get("saddle_numbness") and case.get("fever") else level)

    monkeypatch.setattr(script, "assess", engine)
    result = script.check_base(next(iter(FAMILIES)))
    assert len(result.below_minimum) == 2 ** (len(SIGNS_V1) - 2)
    assert result.lowered_by_a_sign
    assert "violations: 0" not in script.report([result])


@pytest.mark.safety("SR-TRI-1")
def test_the_report_exits_non_zero_on_a_violation(
    script: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(script, "FAMILIES", {"one": next(iter(FAMILIES.values()))})
    monkeypatch.setattr(script, "check_base", lambda base: script.BaseResult(base, below_minimum=["planted"]))
    monkeypatch.setattr(script, "ProcessPoolExecutor", _InProcess)
    assert script.main(["--workers", "1"]) == 1


class _InProcess:
    """Stands in for the process pool so that the patched functions are the ones called."""

    def __init__(self, max_workers: int) -> None:
        self.max_workers = max_workers

    def __enter__(self) -> _InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def map(self, fn: Any, items: Any) -> Any:
        return map(fn, items)
