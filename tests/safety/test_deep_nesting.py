"""Known defect (src, not fixed here): JSON nested deeper than Python's recursion limit is no InvalidCase.

``parse_case_json`` lets json.loads raise RecursionError (the web API guards against it, the library and
the CLI do not), so ``rueckenlotse assess`` prints a traceback instead of a field-level error. These tests
are strict xfails: they turn red as soon as the defect is fixed, so the marker is then removed.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from rueckenlotse.core.errors import InvalidCase
from rueckenlotse.knowledge import default_knowledge
from rueckenlotse.validation import parse_case_json

from ..conftest import CLI

DEEP = ["[" * 100_000, '{"age":' * 5_000 + "1" + "}" * 5_000]
DEFECT = "defect in src: deeply nested JSON raises RecursionError instead of InvalidCase"


@pytest.mark.safety("SR-IN-1")
@pytest.mark.xfail(strict=True, raises=RecursionError, reason=DEFECT)
@pytest.mark.parametrize("text", DEEP, ids=["array", "object"])
def test_deeply_nested_json_is_an_invalid_case(text: str) -> None:
    with pytest.raises(InvalidCase):
        parse_case_json(text, default_knowledge())


@pytest.mark.safety("SR-IN-1")
@pytest.mark.xfail(strict=True, reason=DEFECT)
def test_the_cli_reports_deep_nesting_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text(DEEP[0], encoding="utf-8")
    proc = subprocess.run([str(CLI), "assess", str(path)], capture_output=True, text=True, timeout=60)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2
