"""`rueckenlotse batch courses` and `rueckenlotse batch cohort`: a generated file, and its table as text, JSON
and CSV with the same numbers as the results page; `batch INPUT -o OUTPUT` still assesses Cases."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from rueckenlotse.batch.courses import cohort_of_file
from rueckenlotse.cli import full_app
from rueckenlotse.knowledge.loader import packaged_knowledge
from rueckenlotse.services.cohort import csv_text, json_of, table_of

from .support import AS_OF, RULES

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(full_app(), ["batch", *args], env={"COLUMNS": "200"})
    return result.exit_code, result.stdout, result.stderr


def test_generate_then_count(tmp_path: Path) -> None:
    path = tmp_path / "verlaeufe.jsonl"
    code, _, err = run(
        "courses", "--count", "300", "--out", str(path), "--seed", "3", "--as-of", "2026-12-01"
    )
    assert code == 0, err
    assert "300 Verläufe geschrieben" in err
    assert len(path.read_text(encoding="utf-8").splitlines()) == 300
    courses, rows = cohort_of_file(path, AS_OF, packaged_knowledge().cohort.params(), RULES)
    table = table_of(rows, RULES, AS_OF, "en")

    code, out, err = run("cohort", str(path), "--as-of", "2026-12-01", "--format", "json")
    assert code == 0, err
    assert json.loads(out) == json_of(table, courses_in_file=courses)
    code, out, _ = run("cohort", str(path), "--as-of", "2026-12-01", "--format", "csv", "--lang", "en")
    assert out == csv_text(table, "en")
    code, out, _ = run("cohort", str(path), "--as-of", "2026-12-01", "--lang", "en")
    assert code == 0 and "PEG-3" in out and "week 12" in out and "Urgency rose" in out


def test_parquet_as_well(tmp_path: Path) -> None:
    path = tmp_path / "verlaeufe.parquet"
    assert run("courses", "--count", "50", "--out", str(path), "--as-of", "2026-12-01")[0] == 0
    code, out, _ = run("cohort", str(path), "--as-of", "2026-12-01", "--format", "json")
    assert code == 0 and json.loads(out)["courses_in_file"] == 50


def test_mistakes_are_named(tmp_path: Path) -> None:
    code, _, err = run("cohort", str(tmp_path / "fehlt.jsonl"))
    assert code == 2 and "nicht gefunden" in err
    code, _, err = run("cohort", str(tmp_path / "x.jsonl"), "--as-of", "1.12.2026")
    assert code == 2 and "--as-of" in err
    code, _, err = run("courses", "--count", "5", "--out", str(tmp_path / "x.csv"))
    assert code == 2 and "jsonl" in err


def test_a_file_of_cases_is_still_assessed(tmp_path: Path) -> None:
    source = tmp_path / "faelle.jsonl"
    source.write_text('{"age": 40, "regions": ["low_back"], "duration_weeks": 2}\n', encoding="utf-8")
    code, _, err = run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert code == 0, err
    assert (tmp_path / "out.jsonl").read_text(encoding="utf-8").count("\n") == 1
    assert run("cases", str(source), "-o", str(tmp_path / "out2.jsonl"))[0] == 0
