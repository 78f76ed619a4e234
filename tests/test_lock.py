"""The lock files agree with pyproject.toml: every requirement is met by exactly one pinned version.

`scripts/setup` installs requirements/run.txt (every extra but Spark) or requirements/test.txt (that, Spark
and the dev group), hash-checked; `scripts/lock` writes both. A requirement added to pyproject.toml
without running `scripts/lock`, or a pin edited by hand, fails here. The lock is universal (every
platform, Python 3.11 and later), so each check runs for several target environments: the markers of the
pins decide which apply.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.markers import Marker, default_environment
from packaging.requirements import Requirement
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version

from .conftest import ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PROJECT = PYPROJECT["project"]
RUN_LOCK = ROOT / "requirements" / "run.txt"
TEST_LOCK = ROOT / "requirements" / "test.txt"

# What each lock installs: extras of the project, dependency groups.
LOCKS = {RUN_LOCK: (("all",), ("build",)), TEST_LOCK: (("all", "spark"), ("build", "dev"))}


def _environment(python: str, platform: str) -> dict[str, str]:
    env = dict(default_environment())
    system = {"linux": "Linux", "darwin": "Darwin", "win32": "Windows"}[platform]
    env.update(
        python_version=python,
        python_full_version=f"{python}.0",
        sys_platform=platform,
        platform_system=system,
        implementation_name="cpython",
        platform_python_implementation="CPython",
    )
    return env


ENVIRONMENTS = {
    f"py{python}-{platform}": _environment(python, platform)
    for python in ("3.11", "3.12", "3.13")
    for platform in ("linux", "darwin", "win32")
}


@dataclass(frozen=True)
class Pin:
    name: NormalizedName
    version: Version
    marker: Marker | None
    hashes: int


def read_lock(path: Path) -> list[Pin]:
    """The pins of a requirements file written by `uv pip compile --generate-hashes`."""
    text = re.sub(r"\\\n\s*", " ", path.read_text(encoding="utf-8"))  # join continued lines
    pins = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        hashes = len(re.findall(r"--hash=sha256:[0-9a-f]{64}", line))
        requirement = Requirement(re.sub(r"\s--hash=\S+", "", line).strip())
        (specifier,) = requirement.specifier  # exactly one "==" per pin
        assert specifier.operator == "==", line
        pins.append(
            Pin(canonicalize_name(requirement.name), Version(specifier.version), requirement.marker, hashes)
        )
    return pins


def applying(pins: list[Pin], env: dict[str, str]) -> list[Pin]:
    return [pin for pin in pins if pin.marker is None or pin.marker.evaluate(env)]


def requirements(extras: tuple[str, ...], groups: tuple[str, ...]) -> list[Requirement]:
    """The project's requirements for these extras and groups, its own extras (`rueckenlotse[...]`) opened."""
    found = [Requirement(r) for r in PROJECT["dependencies"]]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            requirement = Requirement(text)
            if requirement.name == "rueckenlotse":
                todo.extend(requirement.extras)
            else:
                found.append(requirement)
    for group in groups:
        found += [Requirement(r) for r in PYPROJECT["dependency-groups"][group]]
    return found


def disagreements(pins: list[Pin], wanted: list[Requirement], env: dict[str, str]) -> list[str]:
    """What is wrong with the pins for one environment: a name pinned twice, a requirement not met."""
    problems = []
    chosen: dict[NormalizedName, Pin] = {}
    for pin in applying(pins, env):
        if pin.name in chosen:
            problems.append(f"{pin.name} pinned twice ({chosen[pin.name].version} and {pin.version})")
        chosen[pin.name] = pin
    for requirement in wanted:
        if requirement.marker is not None and not requirement.marker.evaluate({**env, "extra": ""}):
            continue
        pin = chosen.get(canonicalize_name(requirement.name))
        if pin is None:
            problems.append(f"{requirement} is not pinned")
        elif not requirement.specifier.contains(pin.version, prereleases=True):
            problems.append(f"{requirement} is not met by the pin {pin.version}")
    return problems


@pytest.mark.parametrize("lock", list(LOCKS), ids=lambda path: path.name)
@pytest.mark.parametrize("env_name", list(ENVIRONMENTS))
def test_the_lock_meets_every_requirement_with_one_pin(lock: Path, env_name: str) -> None:
    extras, groups = LOCKS[lock]
    problems = disagreements(read_lock(lock), requirements(extras, groups), ENVIRONMENTS[env_name])
    assert problems == [], f"run scripts/lock: {problems}"


@pytest.mark.parametrize("lock", list(LOCKS), ids=lambda path: path.name)
def test_every_pin_carries_its_hashes(lock: Path) -> None:
    pins = read_lock(lock)
    assert len(pins) > 20
    assert [pin.name for pin in pins if pin.hashes == 0] == []


def test_the_run_lock_pins_the_same_versions_as_the_test_lock() -> None:
    tested = {(pin.name, pin.version) for pin in read_lock(TEST_LOCK)}
    assert [(p.name, str(p.version)) for p in read_lock(RUN_LOCK) if (p.name, p.version) not in tested] == []


def test_the_build_group_is_the_build_backend() -> None:
    # scripts/setup builds the project with the locked setuptools (--no-build-isolation).
    assert PYPROJECT["dependency-groups"]["build"] == PYPROJECT["build-system"]["requires"]


def test_the_check_sees_a_missing_pin_a_double_pin_and_an_unmet_version() -> None:
    env = ENVIRONMENTS["py3.11-linux"]
    pins = [
        Pin(canonicalize_name("PyYAML"), Version("6.0.2"), None, 2),
        Pin(canonicalize_name("babel"), Version("2.10.0"), None, 1),
        Pin(canonicalize_name("numpy"), Version("2.4.6"), Marker("python_full_version < '3.12'"), 1),
        Pin(canonicalize_name("numpy"), Version("2.5.5"), Marker("python_full_version >= '3.11'"), 1),
    ]
    wanted = [Requirement(r) for r in ("pydantic>=2", "pyyaml>=6.0", "babel>=2.14", "numpy")]
    assert disagreements(pins, wanted, env) == [
        "numpy pinned twice (2.4.6 and 2.5.5)",
        "pydantic>=2 is not pinned",
        "babel>=2.14 is not met by the pin 2.10.0",
    ]
    # Markers that part by Python version are one pin per environment.
    pins[3] = Pin(canonicalize_name("numpy"), Version("2.5.5"), Marker("python_full_version >= '3.12'"), 1)
    assert disagreements(pins, wanted[1:], env) == ["babel>=2.14 is not met by the pin 2.10.0"]
