"""JSON nested deeper than Python's recursion limit is an invalid case with a field error, in the library
and in the CLI (it once raised RecursionError, and the CLI printed a traceback)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rueckenlotse.core.errors import InvalidCase
from rueckenlotse.knowledge import default_knowledge
from rueckenlotse.validation import parse_case_json

from ..conftest import CLI

DEEP = ["[" * 100_000, '{"age":' * 5_000 + "1" + "}" * 5_000]


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize("text", DEEP, ids=["array", "object"])
def test_deeply_nested_json_is_an_invalid_case(text: str) -> None:
    with pytest.raises(InvalidCase):
        parse_case_json(text, default_knowledge())


@pytest.mark.safety("SR-IN-1")
def test_the_cli_reports_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP[0], encoding="utf-8")
    proc = subprocess.run([str(CLI), "assess", str(path)], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
