"""The core is pure: no module under rueckenlotse.core loads I/O, a database, the web, rendering or a terminal
UI, and none reaches into another layer of Rückenlotse (knowledge, store, services, web, cli, ...).

Every module is found with pkgutil.walk_packages (a new module is checked without being listed here) and
imported alone in a fresh interpreter, so that neither the lazy ``rueckenlotse.core`` package nor another
test's imports can hide what the module itself pulls in. The companion test plants an impure module in a
throwaway package and sees the check report it.
"""

from __future__ import annotations

import json
import os
import pkgutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

import pytest

import rueckenlotse.core

# Third-party packages for files, databases, the web, documents, plots, search and the terminal (YAML is
# parsed by rueckenlotse.knowledge, never by the core); stdlib modules that do process, network or
# database I/O. Pydantic itself loads socket, tempfile and the like, so those cannot be listed.
FORBIDDEN = frozenset(
    {
        "alembic", "argon2", "bm25s", "click", "duckdb", "fastapi", "fhir", "httpx", "itsdangerous",
        "jinja2", "matplotlib", "multipart", "platformdirs", "psycopg", "psycopg2", "pyarrow",
        "pydantic_settings", "pyotp", "pyspark", "requests", "rich", "sqlalchemy", "starlette",
        "Stemmer", "typer", "uvicorn", "weasyprint", "yaml",
        "asyncio", "http.client", "http.server", "sqlite3", "ssl", "subprocess", "urllib.request",
    }
)  # fmt: skip
APP = "rueckenlotse"

_PROBE = """
import importlib, json, sys
before = set(sys.modules)
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def _cannot_walk(name: str) -> None:
    # walk_packages imports each subpackage to look inside; by default it skips one that fails to import,
    # and with it every module below.
    raise ImportError(f"cannot look inside {name}")


def modules_of(package: str, path: Sequence[str]) -> list[str]:
    """The package and every module below it, found on disk (not from a hand-kept list)."""
    found = pkgutil.walk_packages(list(path), prefix=f"{package}.", onerror=_cannot_walk)
    return [package, *sorted(m.name for m in found)]


def offending(package: str, loaded: Sequence[str], app: str = APP) -> list[str]:
    """Modules among `loaded` that break the package's purity: a forbidden library, or a module of the
    application outside the package (another layer). The bare application package is allowed: it is
    the parent every import of the package goes through."""
    bad = []
    for name in loaded:
        parts = name.split(".")
        library = any(".".join(parts[:i]) in FORBIDDEN for i in range(1, len(parts) + 1))
        other_layer = parts[0] == app and name != app and not (name + ".").startswith(package + ".")
        if library or other_layer:
            bad.append(name)
    return bad


def impure_modules(
    package: str, path: Sequence[str], extra_pythonpath: Sequence[str] = ()
) -> dict[str, list[str]]:
    """Each module of the package, imported alone in a fresh interpreter -> what it loads that it must not."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*extra_pythonpath, env.get("PYTHONPATH", "")]).strip(os.pathsep)
    probes = {
        module: subprocess.Popen(
            [sys.executable, "-c", _PROBE, module], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
        )
        for module in modules_of(package, path)
    }
    found: dict[str, list[str]] = {}
    for module, probe in probes.items():
        out, err = probe.communicate()
        assert probe.returncode == 0, f"{module} does not import on its own:\n{err.decode()}"
        bad = offending(package, json.loads(out))
        if bad:
            found[module] = bad
    return found


def test_no_core_module_loads_io_libraries_or_another_layer() -> None:
    modules = modules_of("rueckenlotse.core", rueckenlotse.core.__path__)
    assert {"rueckenlotse.core.engine", "rueckenlotse.core.kb", "rueckenlotse.core.models"} <= set(modules)
    assert impure_modules("rueckenlotse.core", rueckenlotse.core.__path__) == {}


def test_the_check_finds_a_planted_impure_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    package = tmp_path / "plantedcore"
    (package / "inner").mkdir(parents=True)
    (package / "__init__.py").write_text('"""Lazy, like the real core: imports nothing."""\n')
    (package / "clean.py").write_text("import dataclasses\n")
    (package / "inner" / "__init__.py").write_text("")
    # Two levels down, so that only walking the whole tree finds it.
    (package / "inner" / "db.py").write_text("import sqlite3\n")
    (package / "layers.py").write_text("import rueckenlotse.knowledge\n")
    monkeypatch.syspath_prepend(str(tmp_path))  # walk_packages imports subpackages to look inside
    found = impure_modules("plantedcore", [str(package)], extra_pythonpath=[str(tmp_path)])
    assert set(found) == {"plantedcore.inner.db", "plantedcore.layers"}
    assert "sqlite3" in found["plantedcore.inner.db"]
    assert "rueckenlotse.knowledge" in found["plantedcore.layers"]
    assert "yaml" in found["plantedcore.layers"]  # the knowledge layer parses YAML


def test_the_check_tells_the_core_apart_from_other_layers() -> None:
    loaded = ["rueckenlotse", "rueckenlotse.core.models", "pydantic", "rueckenlotse.store", "sqlalchemy.orm"]
    assert offending("rueckenlotse.core", loaded) == ["rueckenlotse.store", "sqlalchemy.orm"]
