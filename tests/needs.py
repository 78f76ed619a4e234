"""What a test needs from the machine, in one place: PostgreSQL, Chromium, axe-core, poppler, pyspark, PyPI.

`scripts/test` provisions all of it (as root on Debian) and then sets RUECKENLOTSE_REQUIRE_ALL=1: from then
on a missing piece is a failure, never a quiet skip. Without that variable (a developer's machine that cannot
install system packages) a test that lacks something is skipped with the reason and the remedy; pytest counts
the skips in its summary line and lists them (-ra). CI is strict as well.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

ROOT = Path(__file__).resolve().parent.parent
REQUIRE_ALL_ENV = "RUECKENLOTSE_REQUIRE_ALL"
PG_ENV = "TEST_DATABASE_URL"
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"


def strict() -> bool:
    """True when nothing may be missing: after scripts/test provisioned the machine, and in CI."""
    return bool(os.environ.get(REQUIRE_ALL_ENV) or os.environ.get("CI"))


def missing(what: str, remedy: str) -> NoReturn:
    """Skip (or, when strict, fail) a test for a missing piece, naming it and how to get it."""
    if strict():
        pytest.fail(
            f"{what} is missing although this run must have everything ({REQUIRE_ALL_ENV}/CI): {remedy}"
        )
    pytest.skip(f"{what} is missing: {remedy}")


def postgres_url() -> str:
    url = os.environ.get(PG_ENV)
    if not url:
        missing(f"PostgreSQL ({PG_ENV})", "scripts/test starts a server and sets it")
    return url


def tool(name: str, package: str) -> str:
    """A command-line program from a Debian package (pdftotext from poppler-utils, …)."""
    path = shutil.which(name)
    if path is None:
        missing(f"`{name}`", f"scripts/test installs Debian's {package} (apt-get install {package})")
    return path


def chromium() -> Path:
    if not CHROMIUM.is_file():
        missing(str(CHROMIUM), "scripts/test installs Debian's chromium package")
    return CHROMIUM


def axe() -> Path:
    if not AXE.is_file():
        missing(str(AXE.relative_to(ROOT)), "scripts/test runs `npm ci` in the repository root")
    return AXE


def spark_ready() -> bool:
    """Spark needs the Python package and a Java runtime."""
    return importlib.util.find_spec("pyspark") is not None and shutil.which("java") is not None


def pyspark() -> None:
    """Spark needs the Python package and a Java runtime (spark_ready), each named when missing."""
    if importlib.util.find_spec("pyspark") is None:
        missing("pyspark", "scripts/setup --test installs it from the lock (the extra: rueckenlotse[spark])")
    if shutil.which("java") is None:
        missing("Java (for Spark)", "scripts/test installs Debian's default-jre-headless")


def package_index() -> None:
    """The package index pip uses (PyPI) is reachable: installing into a fresh environment needs it."""
    try:
        probe = subprocess.run(
            [sys.executable, "-m", "pip", "index", "versions", "babel", "--disable-pip-version-check"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        missing("the package index (PyPI)", "pip timed out reaching it: connect the machine to the network")
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["no answer"])[-1]
        missing(
            "the package index (PyPI)", f"pip cannot reach it ({last}): connect the machine to the network"
        )
