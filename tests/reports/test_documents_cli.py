"""`rueckenlotse report` through the real console script: from a Case file and from a stored person."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store

from ..conftest import CLI, SHARED

INTAKE_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)


def case_file(tmp_path: Path, name: str = "p01-ces-classic") -> Path:
    data = json.loads((SHARED / "cases" / "public" / f"{name}.json").read_text("utf-8"))
    path = tmp_path / "fall.json"
    path.write_text(json.dumps(data["case"]), encoding="utf-8")
    return path


def test_html_from_a_case_file(tmp_path: Path) -> None:
    out = tmp_path / "bericht.html"
    done = run("report", case_file(tmp_path), "--kind", "clinician", "--format", "html", "-o", out)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    html = out.read_text(encoding="utf-8")
    assert "Aufnahmebericht für die Praxis" in html and 'class="emergency-call"' in html
    assert {p.name for p in tmp_path.iterdir()} == {"fall.json", "bericht.html"}  # no temporary file left


@pytest.mark.usefixtures("poppler")
def test_pdf_in_english_by_file_name(tmp_path: Path) -> None:
    out = tmp_path / "summary.pdf"
    done = run("report", case_file(tmp_path, "p11-sciatica"), "--lang", "en", "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "Your summary" in text and "When to get help" in text


@pytest.mark.safety("SR-IN-1")
def test_an_invalid_case_exits_2_with_german_field_messages_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"age": "vierzig", "regions": []}', encoding="utf-8")
    out = tmp_path / "bericht.pdf"
    done = run("report", bad, "--kind", "patient", "-o", out)
    assert done.returncode == 2
    assert "age:" in done.stderr and "duration_weeks: Diese Angabe fehlt." in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not out.exists()
    assert [p.name for p in tmp_path.iterdir()] == ["bad.json"]  # no temporary file left behind


@pytest.mark.parametrize(
    "args",
    [
        ("-o", "x.html"),  # neither a case file nor --person
        ("CASE", "--person", "abc", "-o", "x.html"),  # both
        ("CASE", "--db", "sqlite:///x.db", "-o", "x.html"),  # --db without --person
        ("missing.json", "-o", "x.html"),
    ],
)
def test_wrong_use_exits_2_without_traceback(tmp_path: Path, args: tuple[str, ...]) -> None:
    path = case_file(tmp_path)
    done = run("report", *(str(path) if a == "CASE" else a for a in args))
    assert done.returncode == 2
    assert "Fehler" in done.stderr and "Traceback" not in done.stderr


def test_an_existing_file_is_replaced_whole(tmp_path: Path) -> None:
    out = tmp_path / "bericht.html"
    out.write_text("alt", encoding="utf-8")
    done = run("report", case_file(tmp_path, "p02-acute-lifting"), "-o", out)
    assert done.returncode == 0, done.stderr
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert {p.name for p in tmp_path.iterdir()} == {"fall.json", "bericht.html"}


@pytest.fixture
def stored_person(tmp_path: Path) -> tuple[str, str]:
    db = f"sqlite:///{tmp_path / 'rl.db'}"
    case = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1})
    with Store.open(db) as store:
        person = store.create_person("<b>Anna</b>").id
        record_intake(store, person, case, assessed_at=INTAKE_AT)
        for offset in range(0, 30, 3):
            moment = INTAKE_AT + dt.timedelta(days=offset)
            add_entry(store, person, {"recorded_at": moment, "pain": {"low_back": 6}, "note": "Notiz"})
    return db, person


def test_clinician_report_of_a_stored_person_is_pseudonymous_with_diary(
    tmp_path: Path, stored_person: tuple[str, str]
) -> None:
    db, person = stored_person
    out = tmp_path / "praxis.html"
    done = run("report", "--person", person, "--db", db, "--kind", "clinician", "-o", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert person in html and "Anna" not in html
    assert "data:image/svg+xml;base64," in html and "Woche 4" in html


def test_patient_summary_of_a_stored_person_names_them_escaped(
    tmp_path: Path, stored_person: tuple[str, str]
) -> None:
    db, person = stored_person
    out = tmp_path / "zusammenfassung.html"
    done = run("report", "--person", person, "--db", db, "--lang", "en", "-o", out)
    assert done.returncode == 0, done.stderr
    html = out.read_text(encoding="utf-8")
    assert "&lt;b&gt;Anna&lt;/b&gt;" in html and "<b>Anna" not in html
    assert "Your summary" in html


def test_an_unknown_person_exits_2(tmp_path: Path, stored_person: tuple[str, str]) -> None:
    db, _person = stored_person
    done = run("report", "--person", "nobody", "--db", db, "-o", tmp_path / "x.html")
    assert done.returncode == 2
    assert "„nobody“ nicht gefunden" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "x.html").exists()


def test_the_cli_loads_neither_weasyprint_nor_matplotlib_at_start() -> None:
    python = CLI.parent / "python"
    code = "import sys, rueckenlotse.cli; print(sorted({'weasyprint', 'matplotlib'} & set(sys.modules)))"
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
