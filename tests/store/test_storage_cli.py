"""The command line on a full or read-only data folder: a clear message naming the cause (kein
Speicherplatz / schreibgeschützt), exit code 2, no traceback, never "beschädigt" for an intact database;
and nothing is lost: once the disk takes writes again, every entry written before is there and the
database passes its integrity check.

A real tmpfs of 2 MiB, filled to the last byte or remounted read-only (``tests/disks``; needs root to
mount, skips with the reason otherwise).
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from ..conftest import CLI
from ..disks import fill, remount, tmpfs

CASE = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6}
ENTRY = {"recorded_at": "2026-03-03T09:00:00+01:00", "pain": {"low_back": 3}, "note": "importiert"}
CAUSE = {
    "full": {"de": "Kein Speicherplatz mehr", "en": "No space left"},
    "ro": {"de": "Schreibgeschützt", "en": "Read-only"},
}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "data", "2m") as folder:
        yield folder


@pytest.fixture
def person(disk: Path, tmp_path: Path) -> str:
    """A person with an intake and two diary entries ("eins", "zwei") in the tmpfs's database."""
    db = f"sqlite:///{disk / 'rl.db'}"
    created = run("person", "new", "--db", db)
    assert created.returncode == 0, created.stderr
    person_id = created.stdout.strip()
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(CASE), encoding="utf-8")
    assert run("person", "intake", person_id, case_file, "--db", db).returncode == 0
    for note in ("eins", "zwei"):
        added = run("diary", "add", person_id, "--pain", "low_back=4", "--note", note, "--db", db)
        assert added.returncode == 0, added.stderr
    return person_id


def writes(person: str, disk: Path, tmp_path: Path) -> list[list[str | Path]]:
    """Every command that writes the database or a file into the data folder."""
    case_file, entries = tmp_path / "case.json", tmp_path / "entries.jsonl"
    entries.write_text(json.dumps(ENTRY) + "\n", encoding="utf-8")
    return [
        ["diary", "add", person, "--pain", "low_back=5", "--note", "drei"],
        ["diary", "import", person, entries],
        ["person", "intake", person, case_file],
        ["person", "new"],
        ["export", person, "-o", disk / "export.json"],
        ["report", "--person", person, "-o", disk / "bericht.html"],
    ]


def assert_says(proc: subprocess.CompletedProcess[str], cause: str, lang: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert CAUSE[cause][lang] in proc.stderr, proc.stderr
    assert "beschädigt" not in proc.stderr and "damaged" not in proc.stderr


def assert_nothing_lost(disk: Path, person: str, tmp_path: Path) -> None:
    exported = run("export", person, "-o", tmp_path / "export.json", "--db", f"sqlite:///{disk / 'rl.db'}")
    assert exported.returncode == 0, exported.stderr
    data = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))
    assert sorted(item["entry"]["note"] for item in data["diary"]) == ["eins", "zwei"]
    assert len(data["assessments"]) == 1
    with closing(sqlite3.connect(disk / "rl.db")) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not list(disk.glob(".*.part")) and not (disk / "export.json").exists()


@pytest.mark.safety("SR-DIA-1")
@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_full_disk_is_named_and_loses_nothing(disk: Path, person: str, tmp_path: Path, lang: str) -> None:
    db = f"sqlite:///{disk / 'rl.db'}"
    filler = fill(disk)
    for command in writes(person, disk, tmp_path):
        assert_says(run(*command, "--db", db, "--lang", lang), "full", lang)
    filler.unlink()
    assert_nothing_lost(disk, person, tmp_path)


@pytest.mark.safety("SR-DIA-1")
@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_read_only_disk_is_named_and_loses_nothing(
    disk: Path, person: str, tmp_path: Path, lang: str
) -> None:
    db = f"sqlite:///{disk / 'rl.db'}"
    remount(disk, "ro")
    try:
        for command in writes(person, disk, tmp_path):
            assert_says(run(*command, "--db", db, "--lang", lang), "ro", lang)
    finally:
        remount(disk, "rw")
    assert_nothing_lost(disk, person, tmp_path)


def test_a_file_written_to_a_full_disk_names_the_file(disk: Path, tmp_path: Path) -> None:
    """The database elsewhere, only the output on the full disk: the message names where."""
    db = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    person = run("person", "new", "--db", db).stdout.strip()
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(CASE), encoding="utf-8")
    assert run("person", "intake", person, case_file, "--db", db).returncode == 0
    fill(disk)
    for command in (
        ["export", person, "-o", disk / "export.json", "--db", db],
        ["report", "--person", person, "-o", disk / "bericht.pdf", "--db", db],
        ["fhir", "export", case_file, "-o", disk / "fall.fhir.json"],
    ):
        proc = run(*command)
        assert_says(proc, "full", "de")
        assert str(command[command.index("-o") + 1]) in proc.stderr
    assert sorted(p.name for p in disk.iterdir()) == ["filler"]
