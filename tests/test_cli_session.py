"""`rueckenlotse plan session` through the real console script on a real SQLite file: today's exercises
with their dose, recording done and ratings (German aliases too), clear errors with exit code 2."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from .conftest import CLI

CASE = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 4}


def run(db: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    command = [str(CLI), *map(str, args), "--db", db]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=None)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rl.db'}"


def new_person(db: str, tmp_path: Path, case: dict[str, object]) -> str:
    created = run(db, "person", "new")
    assert created.returncode == 0, created.stderr
    person = created.stdout.strip()
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(case), encoding="utf-8")
    intake = run(db, "person", "intake", person, case_file)
    assert intake.returncode == 0, intake.stderr
    return person


def test_session_lists_records_and_shows_next_week(db: str, tmp_path: Path) -> None:
    person = new_person(db, tmp_path, CASE)
    shown = run(db, "plan", "session", "--person", person)
    assert shown.returncode == 0, shown.stderr
    assert "Übungen heute" in shown.stdout and "pelvic_tilt: Becken kippen – 10-mal" in shown.stdout
    saved = run(
        db,
        "plan",
        "session",
        "--person",
        person,
        "--done",
        "pelvic_tilt",
        "--rating",
        "pelvic_tilt=zu_schwer",
    )
    assert saved.returncode == 0, saved.stderr
    assert "Gespeichert: pelvic_tilt (erledigt, zu_schwer)." in saved.stderr
    assert "heute: erledigt, zu_schwer" in saved.stdout
    assert "Nächste Woche" in saved.stdout and "bleibt gleich – zu schwer gefunden" in saved.stdout
    out = tmp_path / "export.json"
    assert run(db, "export", person, "-o", out).returncode == 0
    rows = json.loads(out.read_text(encoding="utf-8"))["exercise_feedback"]
    assert [(r["exercise_id"], r["done"], r["rating"]) for r in rows] == [("pelvic_tilt", True, "too_hard")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--rating", "pelvic_tilt=super"), "Ungültige Angabe bei --rating"),
        (("--rating", "pelvic_tilt"), "Ungültige Angabe bei --rating"),
        (("--done", "no_such_exercise"), "Unbekannte Übung: no_such_exercise"),
        (("--done", "side_plank_knees"), "steht heute nicht in Ihrem Plan"),
        (("--rating", "pelvic_tilt=take_next"), "nächste Stufe ist für diese Übung gerade nicht vorgesehen"),
    ],
)
def test_bad_values_get_a_german_error_and_exit_code_2(
    db: str, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    person = new_person(db, tmp_path, CASE)
    proc = run(db, "plan", "session", "--person", person, *args)
    assert proc.returncode == 2 and message in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr


def test_no_exercises_under_a_red_flag(db: str, tmp_path: Path) -> None:
    person = new_person(db, tmp_path, {**CASE, "saddle_numbness": True})
    shown = run(db, "plan", "session", "--person", person)
    assert shown.returncode == 0 and "keine Übungen" in shown.stdout and "pelvic_tilt" not in shown.stdout
    refused = run(db, "plan", "session", "--person", person, "--done", "pelvic_tilt")
    assert refused.returncode == 2 and "steht heute nicht in Ihrem Plan" in refused.stderr
