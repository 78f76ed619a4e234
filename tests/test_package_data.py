"""Every data file of the package is declared as package data, so an installed wheel has it.

The tests run from an editable install, where a file missing from `[tool.setuptools.package-data]` is
still found in the source tree: only an installed wheel would miss it (a stylesheet, a template, a
knowledge file) and fail at run time. This guard reads the patterns from pyproject.toml.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from .conftest import ROOT

PACKAGE = ROOT / "src" / "rueckenlotse"


def declared_patterns() -> list[str]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns: list[str] = config["tool"]["setuptools"]["package-data"]["rueckenlotse"]
    return patterns


def data_files(package: Path) -> set[Path]:
    """Files of the package that are not Python source (nor caches)."""
    return {
        path
        for path in package.rglob("*")
        if path.is_file() and path.suffix not in (".py", ".pyc") and "__pycache__" not in path.parts
    }


def undeclared(package: Path, patterns: list[str]) -> list[str]:
    """Data files no pattern takes; setuptools globs each pattern (with "**") in the package folder."""
    taken = {path for pattern in patterns for path in package.glob(pattern)}
    return sorted(path.relative_to(package).as_posix() for path in data_files(package) - taken)


def test_every_data_file_of_the_package_is_declared() -> None:
    assert any(f.suffix == ".css" for f in data_files(PACKAGE))  # the report stylesheets are among them
    assert undeclared(PACKAGE, declared_patterns()) == []


def test_the_guard_sees_a_data_file_nobody_declared(tmp_path: Path) -> None:
    (tmp_path / "reports" / "templates").mkdir(parents=True)
    for name in ("report.html", "report.css"):
        (tmp_path / "reports" / "templates" / name).write_text("x", encoding="utf-8")
    (tmp_path / "reports" / "module.py").write_text("", encoding="utf-8")
    assert undeclared(tmp_path, ["reports/templates/*.html"]) == ["reports/templates/report.css"]
