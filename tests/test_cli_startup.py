"""`rueckenlotse --help` stays light: it loads no rich, web, database, PDF, plotting, batch or FHIR library.

A behaviour test, not a timing test: it runs the help in a fresh interpreter and looks at ``sys.modules``.
Every command still appears in the help with its own help text.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer.main
from typer.core import TyperGroup
from typer.testing import CliRunner

from rueckenlotse.cli import LAZY_COMMANDS, app, full_app

# Libraries that cost start-up time and that no command needs just to describe itself.
HEAVY = (
    "rich",
    "fastapi",
    "starlette",
    "uvicorn",
    "httpx",
    "jinja2",
    "sqlalchemy",
    "alembic",
    "psycopg",
    "sqlite3",
    "duckdb",
    "pyarrow",
    "pyspark",
    "pandas",
    "numpy",
    "matplotlib",
    "weasyprint",
    "fhir",
    "yaml",
    "pydantic",
    "pydantic_core",
    "argon2",
    "rueckenlotse.core.models",
    "rueckenlotse.core.engine",
    "rueckenlotse.knowledge",
    "rueckenlotse.store",
    "rueckenlotse.web",
    "rueckenlotse.reports",
    "rueckenlotse.batch",
)

# Runs the console script's entry point with the given arguments, then reports on stderr what got imported.
PROBE = """
import json, sys
sys.argv = ["rueckenlotse", *json.loads(sys.argv[1])]
from rueckenlotse.cli import main
code = None
try:
    main()
except SystemExit as exit:
    code = exit.code
sys.stderr.write("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


@dataclass(frozen=True)
class Run:
    text: str
    code: int | str | None
    modules: list[str]


def _run(*args: str) -> Run:
    # Wide and plain, so that every help line stays on one line and carries no colour codes.
    env = {**os.environ, "COLUMNS": "300", "NO_COLOR": "1", "TERM": "dumb"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    report = json.loads(done.stderr.strip().splitlines()[-1])
    return Run(done.stdout, report["code"], report["modules"])


@pytest.fixture(scope="module")
def help_run() -> Run:
    return _run("--help")


def _loaded(modules: list[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_help_exits_cleanly(help_run: Run) -> None:
    assert help_run.code in (0, None)
    assert "Usage" in help_run.text


@pytest.mark.parametrize("module", HEAVY)
def test_help_imports_no_heavy_module(help_run: Run, module: str) -> None:
    assert not _loaded(help_run.modules, module), f"`rueckenlotse --help` imported {module}"


def test_the_probe_sees_what_a_command_imports(tmp_path: Path) -> None:
    # The same probe on a real command: it must see the models and the knowledge base being loaded.
    case = tmp_path / "fall.json"
    case.write_text(json.dumps({"age": 30, "regions": ["neck"], "duration_weeks": 1}), encoding="utf-8")
    run = _run("assess", str(case), "--format", "json")
    assert run.code in (0, None)
    assert json.loads(run.text)["triage"]
    assert _loaded(run.modules, "pydantic") and _loaded(run.modules, "rueckenlotse.knowledge")


def test_the_listing_is_that_of_the_whole_command_tree() -> None:
    # The lazy listing (LAZY_COMMANDS) must show exactly what registering every group would show.
    runner = CliRunner()
    lazy = runner.invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    whole = runner.invoke(full_app(), ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert lazy.exit_code == whole.exit_code == 0
    assert lazy.output == whole.output
    real = typer.main.get_command(full_app())
    assert isinstance(real, TyperGroup)
    assert set(real.commands) == {"assess", "interview", *LAZY_COMMANDS}


def test_every_command_is_listed_with_its_help(help_run: Run) -> None:
    real = typer.main.get_command(full_app())
    assert isinstance(real, TyperGroup)
    lines = help_run.text.splitlines()
    for name, command in real.commands.items():
        first = (command.help or "").strip().split()
        assert first, f"command {name} has no help text"
        row = next((line for line in lines if line.strip("│ ").split(" ")[0] == name), None)
        assert row is not None, f"{name} is missing from --help"
        assert first[0] in row, f"the help of {name} is missing from --help"


def test_a_lazy_group_runs_its_real_subcommands() -> None:
    result = CliRunner().invoke(app, ["plan", "--help"], env={"COLUMNS": "200", "NO_COLOR": "1"})
    assert result.exit_code == 0
    for sub in ("preview", "show", "exclude", "include"):
        assert sub in result.output
