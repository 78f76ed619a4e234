"""The acceptance point of the packaging: the core install is small and enough for `assess`.

Builds the project from a copy of its source, installs it with no extras into a fresh virtual environment
(from the package index; pip's cache makes a repeat quick), runs `assess` there on a minimal Case and
counts the installed distributions: at most 10 besides pip and setuptools. The `rueckenlotse` command of
that environment, which lacks the `cli` extra, must say so in one line instead of a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from rueckenlotse.extras import EXIT_MISSING_EXTRA, missing_extra_message

from . import needs
from .conftest import ROOT

MAX_DISTRIBUTIONS = 10
NOT_COUNTED = {"pip", "setuptools"}
ASSESS = (
    "from rueckenlotse import assess; "
    'print(assess({"age": 35, "regions": ["low_back"], "duration_weeks": 1}).triage)'
)


def _copy_project(target: Path) -> Path:
    """What a source distribution holds: the metadata, the readme, the licence and the package."""
    target.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, target / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(ROOT / "src", target / "src", ignore=ignore)
    return target


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Nothing of this checkout may leak in: no PYTHONPATH, no active virtual environment.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


def test_the_core_install_assesses_with_at_most_ten_distributions(tmp_path: Path) -> None:
    needs.package_index()
    project = _copy_project(tmp_path / "project")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = str(venv / "bin" / "python")
    install = _run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(project)], tmp_path
    )
    assert install.returncode == 0, install.stderr

    assessed = _run([python, "-c", ASSESS], tmp_path)
    assert assessed.returncode == 0, assessed.stderr
    assert assessed.stdout.strip() == "self_care"

    listed = _run([python, "-m", "pip", "list", "--format", "json", "--disable-pip-version-check"], tmp_path)
    names = sorted(d["name"] for d in json.loads(listed.stdout) if d["name"].lower() not in NOT_COUNTED)
    assert "rueckenlotse" in names
    assert len(names) <= MAX_DISTRIBUTIONS, names

    # The command is installed with the core, its libraries are not: one line names the extra.
    command = _run([str(venv / "bin" / "rueckenlotse"), "--help"], tmp_path)
    assert command.returncode == EXIT_MISSING_EXTRA
    assert command.stderr.strip() == missing_extra_message("typer")
    assert command.stdout == ""
