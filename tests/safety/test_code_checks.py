"""Code checks of the safety case: bandit finds no high-severity issue in src; warnings fail the tests."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT


def bandit_high(target: Path) -> list[dict[str, Any]]:
    """High-severity findings of bandit (with the project's [tool.bandit] settings) under target."""
    done = subprocess.run(
        [sys.executable, "-m", "bandit", "-c", str(ROOT / "pyproject.toml"), "-r", str(target)]
        + ["-lll", "-q", "-f", "json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode in (0, 1), done.stderr  # 1 = findings; anything else = bandit itself failed
    report = json.loads(done.stdout)
    assert not report["errors"], report["errors"]
    return [r for r in report["results"] if r["issue_severity"] == "HIGH"]


@pytest.mark.safety("SR-SUP-1")
def test_bandit_finds_no_high_severity_issue_in_src() -> None:
    found = bandit_high(ROOT / "src")
    assert not found, [f"{r['filename']}:{r['line_number']} {r['test_id']} {r['issue_text']}" for r in found]


@pytest.mark.safety("SR-SUP-1")
def test_bandit_sees_a_planted_high_severity_issue(tmp_path: Path) -> None:
    (tmp_path / "planted.py").write_text(
        "import subprocess\n\n\ndef run(cmd: str) -> None:\n    subprocess.Popen(cmd, shell=True)\n"
    )
    assert [r["test_id"] for r in bandit_high(tmp_path)] == ["B602"]


@pytest.mark.safety("SR-SUP-1")
def test_a_warning_fails_the_test() -> None:
    # pyproject.toml sets filterwarnings = ["error"]: a deprecation in a dependency cannot slip by.
    with pytest.raises(DeprecationWarning):
        warnings.warn("planted", DeprecationWarning, stacklevel=1)
