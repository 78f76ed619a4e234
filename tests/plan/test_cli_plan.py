"""`rueckenlotse ask` and `rueckenlotse plan preview` through the real console script."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ..conftest import CLI

PLAIN: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5}
CES: dict[str, Any] = {"age": 45, "regions": ["low_back"], "duration_weeks": 1, "saddle_numbness": True}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *map(str, args)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env={**os.environ, "COLUMNS": "120", "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture
def case_file(tmp_path: Path) -> Path:
    path = tmp_path / "fall.json"
    path.write_text(json.dumps(PLAIN), encoding="utf-8")
    return path


def test_help_lists_ask_and_plan() -> None:
    result = run("--help")
    assert result.returncode == 0
    assert "ask" in result.stdout and "plan" in result.stdout


def test_ask_prints_the_best_passages_with_sources() -> None:
    result = run("ask", "Brauche ich ein MRT?")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Was ein MRT-Befund in Ihrem Alter bedeutet" in out
    assert "Brauche ich ein MRT? Ohne Warnzeichen meist nicht." in out
    assert "Quellen" in out and "Brinjikji" in out
    assert out.count("Was ein MRT-Befund") >= 1


def test_ask_names_the_reading_page_of_each_answer() -> None:
    result = run("ask", "Brauche ich ein MRT?", "-k", "2")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert out.count("Mehr lesen: /lesen/") == 2
    assert "Mehr lesen: /lesen/mri_findings?lang=de" in out
    english = run("ask", "Does bed rest help?", "--lang", "en", "-k", "1")
    assert "Read more: /lesen/movement_and_bed_rest?lang=en" in " ".join(english.stdout.split())


def test_ask_links_are_absolute_with_the_public_address() -> None:
    env = {**os.environ, "COLUMNS": "200", "RUECKENLOTSE_PUBLIC_URL": "https://rueckenlotse.example.org/"}
    result = subprocess.run(
        [str(CLI), "ask", "Brauche ich ein MRT?", "-k", "1"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Mehr lesen: https://rueckenlotse.example.org/lesen/mri_findings?lang=de" in out


def test_ask_in_english_with_k() -> None:
    result = run("ask", "Does bed rest help?", "--lang", "en", "-k", "1")
    assert result.returncode == 0, result.stderr
    assert "Why movement helps and bed rest does not" in result.stdout
    assert "Sources" in result.stdout and result.stdout.count("Why movement helps") == 1


def test_ask_without_a_match_says_so() -> None:
    result = run("ask", "xyzzy quux")
    assert result.returncode == 0
    assert "keine passende Stelle" in result.stdout


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize("question", ["", "   "])
def test_blank_question_exits_2_with_a_german_message(question: str) -> None:
    result = run("ask", question)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Bitte stellen Sie eine Frage" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(
    ("question", "lang", "first"),
    [
        ("Ich kann nicht mehr pinkeln, ist das normal?", "de", "Rufen Sie jetzt den Notruf 112 an."),
        ("Druck auf der Brust und Rückenschmerzen", "de", "Rufen Sie jetzt den Notruf 112 an."),
        ("numb between my legs, is it normal?", "en", "Call 112 now."),
        ("Fieber nach der Spritze in den Rücken", "de", "Rufen Sie jetzt den Notruf 112 an."),
        ("Ich habe Schüttelfrost, hilft Wärme?", "de", "Gehen Sie heute noch zu einem Arzt."),
    ],
)
def test_ask_prints_the_seek_care_text_and_the_assessment_before_any_passage(
    question: str, lang: str, first: str
) -> None:
    result = run("ask", question, "--lang", lang)
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())  # Rich wraps lines and draws borders
    heading = "Answers to:" if lang == "en" else "Antworten auf:"
    assert first in out and heading in out
    assert out.index(first) < out.index("rueckenlotse interview") < out.index(heading)
    if "Mehr lesen:" in out or "Read more:" in out:  # the links belong to the passages, after the screen
        assert out.index(heading) < out.index("Mehr lesen:" if lang == "de" else "Read more:")
    for reassuring in ("ist normal.", "is normal.", "harmlos", "harmless"):
        assert reassuring not in out[: out.index(heading)]


@pytest.mark.safety("SR-ASK-1")
def test_ask_words_a_denied_sign_as_a_condition() -> None:
    result = run("ask", "Ich habe kein Fieber, hilft Wärme?")
    out = " ".join(result.stdout.split())
    assert result.returncode == 0, result.stderr
    assert out.index("Falls Sie Fieber haben:") < out.index("Antworten auf:")


@pytest.mark.safety("SR-ASK-1")
def test_ask_after_a_stated_emergency_shows_no_reassuring_passage() -> None:
    # The clinical review's case: BM25 alone answered "Etwas Schmerz bei Bewegung ist normal".
    result = run("ask", "Ich kann nicht mehr pinkeln, ist Bewegung normal?", "-k", "5")
    assert result.returncode == 0, result.stderr
    out = " ".join(result.stdout.split())
    assert "Etwas Schmerz bei Bewegung ist normal" not in out
    assert "Die meisten Rückenschmerzen sind harmlos" not in out


def test_ask_without_a_warning_sign_prints_no_screen() -> None:
    result = run("ask", "Brauche ich ein MRT für die Brustwirbelsäule?")
    assert result.returncode == 0, result.stderr
    assert "Bitte zuerst lesen" not in result.stdout and "rueckenlotse interview" not in result.stdout
    assert result.stdout.lstrip().startswith("Antworten auf:")


def test_bad_k_exits_2() -> None:
    result = run("ask", "MRT", "-k", "0")
    assert result.returncode == 2 and result.stdout == ""
    assert "zwischen 1 und 20" in result.stderr


def test_plan_preview_shows_the_plan(case_file: Path) -> None:
    result = run("plan", "preview", case_file, "--start", "2025-03-03")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for expected in (
        "Ihr Plan für die nächsten 12 Wochen",
        "Beginn: 03.03.2025",
        "Gehen: 10 Minuten am Tag",
        "Stufe 1: sanft",
        "Becken kippen",
        "Wann aufhören",
        "Wochen im Überblick",
        "Wärmflasche",
        "Warum Bewegung hilft und Bettruhe nicht",
        "31.03.2025",
    ):
        assert expected in out, expected


def test_plan_preview_with_an_exclusion_names_the_replacement(case_file: Path) -> None:
    result = run("plan", "preview", case_file, "--start", "2025-03-03", "--exclude", "pelvic_tilt")
    assert result.returncode == 0, result.stderr
    assert "statt Becken kippen" in result.stdout
    assert "Knie sanft zur Seite legen" in result.stdout


def test_plan_preview_in_english(case_file: Path) -> None:
    result = run("plan", "preview", case_file, "--lang", "en", "--start", "2025-03-03")
    assert result.returncode == 0, result.stderr
    assert "Your plan for the next 12 weeks" in result.stdout and "Pelvic tilt" in result.stdout


@pytest.mark.safety("SR-TRI-3")
def test_plan_preview_with_a_red_flag_has_no_exercises(tmp_path: Path) -> None:
    path = tmp_path / "ces.json"
    path.write_text(json.dumps(CES), encoding="utf-8")
    result = run("plan", "preview", path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "keine Übungen" in out and "112" in out
    assert "Ihre Übungen" not in out and "Wochen im Überblick" not in out and "Wärmflasche" not in out


def test_plan_preview_unknown_exercise_exits_2(case_file: Path) -> None:
    result = run("plan", "preview", case_file, "-x", "no_such_exercise")
    assert result.returncode == 2 and result.stdout == ""
    assert "no_such_exercise" in result.stderr


@pytest.mark.safety("SR-IN-1")
def test_plan_preview_invalid_case_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"age": "40", "regions": ["low_back"]}), encoding="utf-8")
    result = run("plan", "preview", path)
    assert result.returncode == 2 and result.stdout == ""
    assert "age" in result.stderr and "duration_weeks" in result.stderr
    assert "Traceback" not in result.stderr


def test_plan_preview_bad_start_date_exits_2(case_file: Path) -> None:
    result = run("plan", "preview", case_file, "--start", "03.03.2025")
    assert result.returncode == 2 and result.stdout == ""
    assert "Datum" in result.stderr
