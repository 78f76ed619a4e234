"""Shared fixtures: the packaged knowledge base and the paths to ../shared."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.knowledge import default_knowledge

ROOT = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("SHARED_DIR", ROOT.parent / "shared")).resolve()
CLI = ROOT / ".venv" / "bin" / "rueckenlotse"


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return default_knowledge()


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not (SHARED / "contract").is_dir():
        pytest.fail(f"the shared folder with contract and vignettes is missing: {SHARED} (set SHARED_DIR)")
    return SHARED


# --- Safety trace: each test's outcome and its @pytest.mark.safety ids, for scripts/trace_matrix.py. ---
# The ids travel in item.user_properties so that they reach the controller process under pytest-xdist.

TRACE_RESULTS = ROOT / "artifacts" / "trace" / "results.json"
_trace: dict[str, dict[str, object]] = {}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        ids = [str(i) for mark in item.iter_markers("safety") for i in mark.args]
        if ids:
            item.user_properties.append(("safety", sorted(set(ids))))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    ids = next((v for k, v in report.user_properties if k == "safety"), None)
    if ids is None:
        return
    entry = _trace.setdefault(report.nodeid, {"safety": ids, "outcome": "passed"})
    # A test verifies its requirements only when setup, call and teardown all passed (xfail/skip do not).
    if report.outcome != "passed" or hasattr(report, "wasxfail"):
        if entry["outcome"] == "passed" or report.when == "call":
            entry["outcome"] = "xfailed" if hasattr(report, "wasxfail") else report.outcome


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes the file
        return
    TRACE_RESULTS.parent.mkdir(parents=True, exist_ok=True)
    doc = {"exitstatus": int(exitstatus), "tests": dict(sorted(_trace.items()))}
    TRACE_RESULTS.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


# --- What tests need from the machine (tests/needs.py: skipped with a reason, or failed when strict). ---
@pytest.fixture(scope="session")
def poppler() -> None:
    """pdftotext, pdftoppm and pdfimages (Debian's poppler-utils) read PDFs back as text and pictures."""
    from . import needs

    needs.tool("pdftotext", "poppler-utils")
    needs.tool("pdftoppm", "poppler-utils")
    needs.tool("pdfimages", "poppler-utils")


# Files a test must never leave in the checkout (a key or database made in the working directory by a
# path that was meant to be a data folder).
STRAY_FILES = ("secret_key", "data_key", "backup_key", "rueckenlotse.db")


@pytest.fixture(scope="session", autouse=True)
def nothing_left_in_the_checkout() -> object:
    root = Path(__file__).resolve().parents[1]
    before = {name for name in STRAY_FILES if (root / name).exists()}
    yield None
    left = [name for name in STRAY_FILES if (root / name).exists() and name not in before]
    assert left == [], f"a test left {left} in {root}: a data folder resolved to the working directory"
