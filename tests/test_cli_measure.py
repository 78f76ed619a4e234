"""`rueckenlotse measure due|record|show` through the real console script on a real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import subprocess
from pathlib import Path

import pytest

from .conftest import CLI

CASE = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6}


def run(db: str, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [str(CLI), *map(str, args), "--db", db]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, input=stdin)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rl.db'}"


@pytest.fixture
def person(db: str, tmp_path: Path) -> str:
    person_id = run(db, "person", "new").stdout.strip()
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(CASE), encoding="utf-8")
    assert run(db, "person", "intake", person_id, case_file).returncode == 0
    return person_id


def test_due_record_and_show(db: str, person: str, tmp_path: Path) -> None:
    due = run(db, "measure", "due", "--person", person)
    assert due.returncode == 0, due.stderr
    assert "Offene Fragebögen" in due.stdout and "(peg)" in due.stdout and "(psfs)" in due.stdout
    assert "activity-1-name" in due.stdout and "pgic" not in due.stdout

    peg = ["--answer", "pain=6", "--answer", "enjoyment=4", "--answer", "activity=5"]
    saved = run(db, "measure", "record", "--person", person, "--measure", "peg", *peg)
    assert saved.returncode == 0, saved.stderr
    assert "Gespeichert: Schmerz und Alltag (PEG, angepasst), Beginn: 5" in saved.stdout
    again = run(db, "measure", "record", "--person", person, "--measure", "peg", *peg)
    assert again.returncode == 2 and "nicht offen" in again.stderr

    bad = ["--answer", "activity-1-value=12", "--answer", "pian=3", "--lang", "en"]
    wrong = run(db, "measure", "record", "--person", person, "--measure", "psfs", *bad)
    assert wrong.returncode == 2
    assert "activity[0].name" in wrong.stderr and "from 0 to 10" in wrong.stderr and "pian" in wrong.stderr
    unknown = run(db, "measure", "record", "--person", person, "--measure", "odi", "--answer", "x=1")
    assert unknown.returncode == 2 and "peg, psfs, pgic, startback" in unknown.stderr
    activity = ["--answer", "activity-1-name=Treppen steigen", "--answer", "activity-1-value=3"]
    assert run(db, "measure", "record", "--person", person, "--measure", "psfs", *activity).returncode == 0

    none = run(db, "measure", "due", "--person", person)
    assert "Zurzeit ist kein Fragebogen offen." in none.stdout and "Der nächste kommt ab" in none.stdout
    shown = run(db, "measure", "show", "--person", person, "--lang", "en")
    assert shown.returncode == 0, shown.stderr
    assert "Pain and daily life (PEG, adapted)" in shown.stdout and "starting point" in shown.stdout
    assert "30 percent" in shown.stdout

    export = tmp_path / "export.json"
    answers = tmp_path / "frageboegen.csv"
    done = run(db, "export", person, "-o", export, "--measures-csv", answers)
    assert done.returncode == 0, done.stderr
    data = json.loads(export.read_text(encoding="utf-8"))
    assert [m["measure_id"] for m in data["measures"]] == ["peg", "psfs"]
    assert "read.measures" in [e["action"] for e in data["access_log"]]
    rows = list(csv.DictReader(io.StringIO(answers.read_text(encoding="utf-8-sig"))))
    assert [r["measure_id"] for r in rows] == ["peg", "psfs"] and rows[1]["answers"] == "Treppen steigen=3"


def test_without_intake_or_answers(db: str) -> None:
    person_id = run(db, "person", "new").stdout.strip()
    assert run(db, "measure", "due", "--person", person_id).returncode == 2
    empty = run(db, "measure", "record", "--person", person_id, "--measure", "peg")
    assert empty.returncode == 2 and "--answer" in empty.stderr


def test_fhir_export_of_the_answers(db: str, person: str, tmp_path: Path) -> None:
    """`measure fhir`: a valid R4B Bundle in a private file; every score read back; an unknown person is
    a message, not a traceback."""
    from fhir.resources.R4B.bundle import Bundle

    from rueckenlotse.reports.fhir.measures_import import parse_measure_bundle

    peg = ["--answer", "pain=7", "--answer", "enjoyment=6", "--answer", "activity=5"]
    assert run(db, "measure", "record", "--person", person, "--measure", "peg", *peg).returncode == 0
    activity = ["--answer", "activity-1-name=Gehen", "--answer", "activity-1-value=4"]
    assert run(db, "measure", "record", "--person", person, "--measure", "psfs", *activity).returncode == 0
    out = tmp_path / "verlauf.fhir.json"
    done = run(db, "measure", "fhir", "--person", person, "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    bundle = json.loads(out.read_text(encoding="utf-8"))
    Bundle.model_validate(bundle)
    read = sorted((r.measure_id, r.week, r.score) for r in parse_measure_bundle(bundle))
    assert read == [("peg", 0, 6.0), ("psfs", 0, 4.0)]
    missing = run(db, "measure", "fhir", "--person", "0" * 32)
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
