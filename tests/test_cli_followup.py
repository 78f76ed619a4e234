"""The follow-up commands through the real console script on a real SQLite file.

The acceptance scenario of the diary: twelve weeks of entries typed in with `diary add` produce the
4-, 6- and 12-week escalations at the right entries, `diary show` lists them and `plot` draws them.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pexpect
import pytest

from .conftest import CLI

INTAKE_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
CASE = {"age": 40, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6}


def run(db: str, *args: str | Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    command = [str(CLI), *map(str, args), "--db", db]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, input=stdin)


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rl.db'}"


@pytest.fixture
def person(db: str, tmp_path: Path) -> str:
    created = run(db, "person", "new")
    assert created.returncode == 0, created.stderr
    person_id = created.stdout.strip()
    case_file = tmp_path / "case.json"
    case_file.write_text(json.dumps(CASE), encoding="utf-8")
    intake = run(db, "person", "intake", person_id, case_file, "--at", INTAKE_AT.isoformat())
    assert intake.returncode == 0, intake.stderr
    assert "Selbsthilfe" in intake.stdout and "self_care" not in intake.stdout
    return person_id


def diary_entries(db: str, person: str, tmp_path: Path) -> list[dict[str, object]]:
    out = tmp_path / "export.json"
    exported = run(db, "export", person, "-o", out)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(out.read_text(encoding="utf-8"))
    entries: list[dict[str, object]] = data["diary"]
    return entries


@pytest.mark.slow
def test_twelve_weeks_of_diary_escalate_at_weeks_4_6_and_12(db: str, person: str, tmp_path: Path) -> None:
    # The episode began a week before the intake (duration_weeks 1): week N is due on 23.02. + N weeks.
    due = {4: dt.date(2026, 3, 23), 6: dt.date(2026, 4, 6), 12: dt.date(2026, 5, 18)}
    escalated_on: dict[int, dt.date] = {}
    for offset in range(0, 85, 3):
        day = INTAKE_AT + dt.timedelta(days=offset, hours=11)
        added = run(
            db, "diary", "add", person, "--pain", "low_back=6", "--activity", "20", "--at", day.isoformat()
        )
        assert added.returncode == 0, added.stderr
        for week in due:
            if f"Woche {week}\n" in added.stdout or f"– Woche {week} " in added.stdout:
                escalated_on[week] = day.date()
    # Each step appears with the first entry on or after its due day, and only there.
    assert escalated_on == {4: dt.date(2026, 3, 23), 6: dt.date(2026, 4, 7), 12: dt.date(2026, 5, 19)}
    shown = run(db, "diary", "show", person)
    assert shown.returncode == 0, shown.stderr
    for week, day in due.items():
        assert f"Woche {week} (fällig {day.isoformat()}" in shown.stdout
    svg, png = tmp_path / "verlauf.svg", tmp_path / "verlauf.png"
    drawn = run(db, "plot", person, "-o", svg, "--png", png)
    assert drawn.returncode == 0, drawn.stderr
    text = svg.read_text(encoding="utf-8")
    assert all(f"Woche {week}" in text for week in due)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_improving_diary_escalates_nowhere(db: str, person: str) -> None:
    for offset in range(0, 50, 4):
        pain = 7 if offset < 7 else 3
        day = INTAKE_AT + dt.timedelta(days=offset)
        added = run(db, "diary", "add", person, "--pain", f"low_back={pain}", "--at", day.isoformat())
        assert added.returncode == 0, added.stderr
        assert "Nächster Schritt" not in added.stdout
    shown = run(db, "diary", "show", person)
    assert "Bisher ist keine Stufe" in shown.stdout


def test_a_new_warning_sign_escalates_at_once(db: str, person: str) -> None:
    day = INTAKE_AT + dt.timedelta(days=2)
    added = run(
        db,
        "diary",
        "add",
        person,
        "--pain",
        "low_back=7",
        "--warning",
        "saddle_numbness",
        "--at",
        day.isoformat(),
    )
    assert added.returncode == 0, added.stderr
    assert "Notfall" in added.stdout and "112" in added.stdout and "emergency" not in added.stdout
    plan = run(db, "plan", "show", person)
    assert plan.returncode == 0, plan.stderr
    assert "112" in plan.stdout


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--pain", "low_back=11"], "pain.low_back"),
        (["--pain", "low_back=5", "--activity", "-5"], "activity_minutes"),
        (["--pain", "leg=5"], "pain.leg"),
        (["--pain", "low_back=5", "--note", "x" * 100_000], "note"),
        (["--pain", "low_back=5", "--warning", "hiccups"], "warning_signs"),
        (["--pain", "low_back"], "--pain"),
        (["--pain", "low_back=viel"], "--pain"),
        (["--pain", "low_back=5", "--at", "gestern"], "--at"),
    ],
)
def test_bad_diary_input_is_refused_and_nothing_is_written(
    db: str, person: str, tmp_path: Path, args: list[str], field: str
) -> None:
    added = run(db, "diary", "add", person, *args)
    assert added.returncode == 2
    assert field in added.stderr
    assert "Traceback" not in added.stderr
    assert diary_entries(db, person, tmp_path) == []


def test_diary_needs_an_intake_and_a_known_person(db: str) -> None:
    nobody = run(db, "diary", "add", "no-such-person", "--pain", "low_back=3")
    assert nobody.returncode == 2 and "Traceback" not in nobody.stderr
    person_id = run(db, "person", "new").stdout.strip()
    without = run(db, "diary", "add", person_id, "--pain", "low_back=3")
    assert without.returncode == 2 and "person intake" in without.stderr


def test_diary_add_without_values_outside_a_terminal_is_refused(db: str, person: str) -> None:
    added = run(db, "diary", "add", person)
    assert added.returncode == 2 and "--pain" in added.stderr


def test_diary_import_checks_every_line_first(db: str, person: str, tmp_path: Path) -> None:
    good = {"recorded_at": "2026-03-03T08:00:00+01:00", "pain": {"low_back": 5}}
    bad = {"recorded_at": "2026-03-04T08:00:00+01:00", "pain": {"low_back": 12}}
    file = tmp_path / "diary.jsonl"
    file.write_text(json.dumps(good) + "\n\n" + json.dumps(bad) + "\n", encoding="utf-8")
    refused = run(db, "diary", "import", person, file)
    assert refused.returncode == 2 and "Zeile 3" in refused.stderr and "pain.low_back" in refused.stderr
    assert diary_entries(db, person, tmp_path) == []
    huge_note = {**good, "note": "x" * (1 << 20)}  # a 1 MB note
    file.write_text(json.dumps(good) + "\n" + json.dumps(huge_note) + "\n", encoding="utf-8")
    refused = run(db, "diary", "import", person, file)
    assert refused.returncode == 2 and "Zeile 2" in refused.stderr and "note" in refused.stderr
    assert diary_entries(db, person, tmp_path) == []
    file.write_text(json.dumps(good) + "\n", encoding="utf-8")
    imported = run(db, "diary", "import", person, file)
    assert imported.returncode == 0, imported.stderr
    assert len(diary_entries(db, person, tmp_path)) == 1


def test_a_diary_import_that_fails_half_way_keeps_none_of_its_entries(
    db: str, person: str, tmp_path: Path
) -> None:
    """One unit of work: the database refuses the third entry (a trigger, as a full disk would), and the
    two before it are not kept either, so importing the file again neither misses nor duplicates."""
    import sqlite3

    entries = [
        {"recorded_at": f"2026-03-0{d}T08:00:00+01:00", "pain": {"low_back": p}}
        for d, p in ((3, 5), (4, 4), (5, 9))
    ]
    file = tmp_path / "diary.jsonl"
    file.write_text("".join(json.dumps(e) + "\n" for e in entries), encoding="utf-8")
    with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_nine BEFORE INSERT ON diary_entries WHEN NEW.max_pain = 9 "
            "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
        )
    refused = run(db, "diary", "import", person, file)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert diary_entries(db, person, tmp_path) == []
    with sqlite3.connect(db.removeprefix("sqlite:///")) as connection:
        connection.execute("DROP TRIGGER refuse_nine")
    imported = run(db, "diary", "import", person, file)
    assert imported.returncode == 0, imported.stderr
    assert len(diary_entries(db, person, tmp_path)) == 3


@pytest.mark.parametrize("content", ["utf-16", "binary"])
def test_a_file_that_is_not_utf8_is_refused_without_a_traceback(
    db: str, person: str, tmp_path: Path, content: str
) -> None:
    entry = json.dumps({"recorded_at": "2026-03-03T08:00:00+01:00", "pain": {"low_back": 5}})
    data = entry.encode("utf-16") if content == "utf-16" else bytes(range(256))
    file = tmp_path / "diary.jsonl"
    file.write_bytes(data)
    for args in (("diary", "import", person, file), ("person", "intake", person, file)):
        refused = run(db, *args)
        assert refused.returncode == 2, (args, refused.stderr)
        assert "kein UTF-8-Text" in refused.stderr and "Traceback" not in refused.stderr
    assert diary_entries(db, person, tmp_path) == []


def test_plan_show_exclude_and_include(db: str, person: str) -> None:
    shown = run(db, "plan", "show", person, "--today", "2026-03-05")
    assert shown.returncode == 0, shown.stderr
    excluded = run(db, "plan", "exclude", person, "pelvic_tilt", "--reason", "Knie")
    assert excluded.returncode == 0, excluded.stderr
    assert "pelvic_tilt" in excluded.stderr
    included = run(db, "plan", "include", person, "pelvic_tilt")
    assert included.returncode == 0 and "wieder im Plan" in included.stderr
    unknown = run(db, "plan", "exclude", person, "juggling")
    assert unknown.returncode == 2 and "Unbekannte Übung" in unknown.stderr


def test_plot_needs_a_file_and_a_diary(db: str, person: str, tmp_path: Path) -> None:
    assert run(db, "plot", person).returncode == 2
    empty = run(db, "plot", person, "-o", tmp_path / "x.svg")
    assert empty.returncode == 2 and "leer" in empty.stderr


def test_diary_add_asks_in_a_terminal(db: str, person: str, tmp_path: Path) -> None:
    child = pexpect.spawn(
        str(CLI), ["diary", "add", person, "--db", db], encoding="utf-8", timeout=30, dimensions=(50, 120)
    )
    child.expect("Schmerz")
    child.sendline("11")
    child.expect("Bitte noch einmal")
    child.sendline("4")
    child.expect("Wohin zieht")
    child.sendline("2")
    child.expect("Minuten")
    child.sendline("25")
    child.expect("Nummern")
    child.sendline("0")
    child.expect("Notiz")
    child.sendline("Gut geschlafen")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    [entry] = diary_entries(db, person, tmp_path)
    assert entry["entry"] == entry["entry"] | {"pain": {"low_back": 4}, "activity_minutes": 25}  # type: ignore[operator]


def test_diary_show_prints_dates_in_the_chosen_language(db: str, person: str) -> None:
    day = INTAKE_AT + dt.timedelta(days=3)
    added = run(db, "diary", "add", person, "--pain", "low_back=5", "--at", day.isoformat())
    assert added.returncode == 0, added.stderr
    english = run(db, "diary", "show", person, "--lang", "en")
    assert english.returncode == 0, english.stderr
    assert "2026-03-05" in english.stdout and "05.03.2026" not in english.stdout
    german = run(db, "diary", "show", person)
    assert "05.03.2026" in german.stdout
