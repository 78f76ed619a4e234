"""Shared fixtures: the packaged knowledge base and the paths to ../shared."""

from __future__ import annotations

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
