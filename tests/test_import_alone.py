"""Every module of the package imports on its own: no import cycle hides behind the order others load in.

A cycle between two modules (a imports b at the top, b takes a name from a) fails only when one of them is
imported first; the test suite, which loads them in some other order, never sees it. Here every module is
imported first once: one fresh interpreter walks the package and, before each module, forgets every
module of the package it has loaded so far (third-party libraries stay loaded, which keeps it quick).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

WALK = r"""
import importlib, json, pkgutil, sys, traceback
package, skip = sys.argv[1], tuple(sys.argv[2:])
root = importlib.import_module(package)
names = [m.name for m in pkgutil.walk_packages(root.__path__, package + ".", onerror=lambda name: None)]
names = [n for n in names if not n.startswith(skip)] if skip else names
failures = {}
for name in [package, *names]:
    for loaded in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except BaseException as error:  # reported with the module's name; the walk goes on
        failures[name] = f"{type(error).__name__}: {error}"
print(json.dumps({"modules": len(names) + 1, "failures": failures}))
"""


# Alembic's migration scripts run only inside Alembic's context (env.py reads alembic.context.config).
NOT_MODULES = ("rueckenlotse.store.migrations.env", "rueckenlotse.store.migrations.versions")


def import_each_alone(package: str, path: Path, skip: tuple[str, ...] = ()) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", WALK, package, *skip],
        capture_output=True,
        text=True,
        check=True,
        cwd=path,
        env={"PYTHONPATH": str(path), "PATH": "/usr/bin:/bin"},
        timeout=600,
    )
    result: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def test_every_module_of_rueckenlotse_imports_alone() -> None:
    result = import_each_alone("rueckenlotse", ROOT / "src", NOT_MODULES)
    assert result["failures"] == {}
    assert isinstance(result["modules"], int) and result["modules"] > 100


def test_the_walk_sees_a_cycle_that_only_one_import_order_shows(tmp_path: Path) -> None:
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    # Imported first, a loads b, which asks a for a name a has not defined yet; b first works.
    (package / "a.py").write_text("from .b import helper\nVALUE = 1\n", encoding="utf-8")
    (package / "b.py").write_text("def helper():\n    return 1\n\nfrom .a import VALUE\n", encoding="utf-8")
    (package / "fine.py").write_text("X = 1\n", encoding="utf-8")
    result = import_each_alone("cyclic", tmp_path)
    failures = result["failures"]
    assert isinstance(failures, dict) and set(failures) == {"cyclic.a"}
    assert "partially initialized" in failures["cyclic.a"]
