"""The extras: every library the package imports is core or belongs to an extra that declares it, and a
command whose extra is missing says in one line which extra to install, never with a traceback.

The missing libraries are simulated in a fresh interpreter: an import hook refuses the named modules
before the command runs, as if their extra had never been installed.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import tomllib
from importlib import metadata
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from rueckenlotse.extras import CORE_MODULES, EXIT_MISSING_EXTRA, LIBRARIES, missing_extra_message

from .conftest import ROOT

PACKAGE = ROOT / "src" / "rueckenlotse"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
EXTRAS: dict[str, list[str]] = PYPROJECT["project"]["optional-dependencies"]
OPTIONAL = tuple(LIBRARIES)


def imported_libraries(package: Path) -> dict[str, set[str]]:
    """Top-level third-party modules imported anywhere in the package (in functions too) -> the files."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in {"rueckenlotse", "__future__"}:
                    found.setdefault(top, set()).add(str(path.relative_to(package)))
    return found


def declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(r).name) for r in requirements}


def expanded(extra: str) -> set[str]:
    """The extras an extra brings along through `rueckenlotse[...]`, itself included."""
    seen = {extra}
    for text in EXTRAS[extra]:
        requirement = Requirement(text)
        if requirement.name == "rueckenlotse":
            for inner in requirement.extras:
                seen |= expanded(inner)
    return seen


def test_every_library_the_package_imports_is_core_or_has_an_extra() -> None:
    imported = imported_libraries(PACKAGE)
    unknown = {
        name: sorted(files) for name, files in imported.items() if name not in CORE_MODULES | set(LIBRARIES)
    }
    assert unknown == {}, "add each to rueckenlotse/extras.py and to its extra in pyproject.toml"
    # The mapping lists nothing the code has stopped importing.
    assert set(LIBRARIES) <= set(imported)


def test_the_walk_sees_an_import_hidden_in_a_function(tmp_path: Path) -> None:
    (tmp_path / "module.py").write_text("def f():\n    import leftpad.core\n", encoding="utf-8")
    assert imported_libraries(tmp_path) == {"leftpad": {"module.py"}}


def test_each_library_is_declared_by_the_extra_named_for_it() -> None:
    providers = packages_distributions()
    for module, (distribution, extra) in LIBRARIES.items():
        assert canonicalize_name(distribution) in declared(EXTRAS[extra]), (module, extra)
        provided_by = {canonicalize_name(name) for name in providers.get(module, [])}
        assert canonicalize_name(distribution) in provided_by, (module, distribution)


def test_the_core_declares_only_what_the_assess_path_imports() -> None:
    core = declared(PYPROJECT["project"]["dependencies"])
    # pydantic_core is pydantic's own (pydantic pins its exact version); the others are declared.
    assert core == {"pydantic", "pyyaml", "babel"}
    providers = packages_distributions()
    for module in CORE_MODULES - {"pydantic_core"}:
        assert {canonicalize_name(d) for d in providers[module]} & core, module


def test_all_is_every_extra_but_spark_and_web_brings_its_command_and_what_its_pages_use() -> None:
    assert expanded("all") == set(EXTRAS) - {"spark"}
    assert expanded("web") == {"web", "cli", "store", "pdf", "plot", "ask"}
    assert expanded("postgres") == {"postgres", "store"}


# Runs the `rueckenlotse` entry point with some modules refused, as if their extras were not installed.
RUN_WITHOUT = r"""
import json, sys
blocked, args = json.loads(sys.argv[1]), json.loads(sys.argv[2])

class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Refuse())
sys.argv = ["rueckenlotse", *args]
from rueckenlotse.__main__ import main
main()
"""


def run_without(blocked: tuple[str, ...], args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_WITHOUT, json.dumps(list(blocked)), json.dumps(args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def installed_with(*extras: str) -> set[str]:
    """The distributions an install of the core and these extras holds: their requirements, followed
    through this environment's metadata (Alembic brings MarkupSafe through Mako, for one)."""
    wanted = set().union(*(expanded(extra) for extra in extras)) if extras else set()
    todo = [Requirement(r) for r in PYPROJECT["project"]["dependencies"]]
    todo += [Requirement(r) for extra in wanted for r in EXTRAS[extra]]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name == "rueckenlotse" or name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            inner = Requirement(text)
            chosen = requirement.extras or {""}
            if inner.marker is None or any(inner.marker.evaluate({"extra": extra}) for extra in chosen):
                todo.append(inner)
    return seen


def everything_but(*extras: str) -> tuple[str, ...]:
    """The optional libraries an install of the core and these extras lacks."""
    present = installed_with(*extras)
    return tuple(module for module, (name, _) in LIBRARIES.items() if canonicalize_name(name) not in present)


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "fall.json"
    path.write_text(json.dumps({"age": 35, "regions": ["low_back"], "duration_weeks": 1}), encoding="utf-8")
    return path


def with_files(args: list[str], case_file: Path) -> list[str]:
    """The arguments with CASE (the Case file) and CASES (it as a one-line JSONL file) filled in."""
    cases = case_file.with_suffix(".jsonl")
    cases.write_text(case_file.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    return [{"CASE": str(case_file), "CASES": str(cases)}.get(arg, arg) for arg in args]


@pytest.mark.parametrize(
    ("args", "installed", "needed"),
    [
        (["--help"], (), "typer"),
        (["person", "new", "--db", "sqlite:///x.db"], ("cli",), "sqlalchemy"),
        (["serve"], ("cli",), "uvicorn"),
        (["report", "CASE", "-o", "bericht.pdf"], ("cli",), "jinja2"),
        (["ask", "Brauche ich ein MRT?"], ("cli",), "bm25s"),
        (["fhir", "export", "CASE"], ("cli",), "fhir"),
        (["batch", "CASES", "-o", "out.jsonl"], ("cli",), "duckdb"),
        (["person", "new", "--db", "postgresql://nobody@127.0.0.1:9/none"], ("cli", "store"), "psycopg"),
    ],
    ids=["cli", "store", "web", "pdf", "ask", "fhir", "batch", "postgres"],
)
def test_a_command_without_its_extra_names_it_in_one_line(
    args: list[str], installed: tuple[str, ...], needed: str, case_file: Path
) -> None:
    result = run_without(everything_but(*installed), with_files(args, case_file), case_file.parent)
    assert "Traceback" not in result.stderr
    assert result.stderr.strip() == missing_extra_message(needed)
    assert result.returncode == EXIT_MISSING_EXTRA
    assert f"pip install 'rueckenlotse[{LIBRARIES[needed][1]}]'" in result.stderr


def test_the_spark_engine_without_its_extra_names_it(case_file: Path) -> None:
    args = with_files(["batch", "CASES", "-o", "out.jsonl", "--engine", "spark"], case_file)
    result = run_without(("pyspark",), args, case_file.parent)
    assert "Traceback" not in result.stderr
    # The batch command words it as its own engine error (one line, exit code 2 as every missing extra).
    assert result.stderr.strip().splitlines()[-1] == missing_extra_message("pyspark")
    assert result.returncode == EXIT_MISSING_EXTRA


def test_a_missing_module_of_no_extra_keeps_its_traceback(case_file: Path) -> None:
    # The core's own libraries missing is a broken install, not a feature left out: it stays visible.
    result = run_without(("yaml",), ["assess", str(case_file)], case_file.parent)
    assert "Traceback" in result.stderr
    assert "No module named 'yaml'" in result.stderr
    assert "rueckenlotse[" not in result.stderr


@pytest.mark.parametrize(
    ("args", "installed"),
    [
        (["assess", "CASE"], ("cli",)),
        (["report", "CASE", "-o", "bericht.html"], ("cli", "pdf")),
        (["report", "CASE", "-o", "bericht.pdf"], ("cli", "pdf")),
        (["fhir", "export", "CASE"], ("cli", "fhir")),
        (["batch", "CASES", "-o", "out.jsonl"], ("cli", "batch")),
        (["ask", "Brauche ich ein MRT?"], ("cli", "ask")),
        (["person", "new", "--db", "sqlite:///personen.db"], ("cli", "store")),
    ],
    ids=["assess", "report-html", "report-pdf", "fhir", "batch", "ask", "store"],
)
def test_a_command_runs_with_only_its_extras(
    args: list[str], installed: tuple[str, ...], case_file: Path
) -> None:
    result = run_without(everything_but(*installed), with_files(args, case_file), case_file.parent)
    assert result.returncode == 0, result.stderr
    assert "rueckenlotse[" not in result.stderr
