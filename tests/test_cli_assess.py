"""`rueckenlotse assess` through the real console script, row by row of the contract's entry-point table."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from .conftest import CLI

PLAIN = {"age": 35, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 6, "trauma": "minor"}
CES = {
    "age": 45,
    "regions": ["low_back"],
    "duration_weeks": 1,
    "saddle_numbness": True,
    "bladder_dysfunction": True,
}


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=60)


def write(tmp_path: Path, name: str, content: str) -> Path:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def schema(shared_dir: Path) -> dict[str, Any]:
    return json.loads((shared_dir / "contract" / "v2" / "assessment.schema.json").read_text(encoding="utf-8"))


def test_one_case_json(tmp_path: Path, schema: dict[str, Any]) -> None:
    import jsonschema  # imported here: it takes a second to load, collection stays fast

    proc = run("assess", write(tmp_path, "c.json", json.dumps(PLAIN)), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assessment = json.loads(proc.stdout)
    jsonschema.validate(assessment, schema)
    assert assessment["triage"] == "self_care"
    assert proc.stderr == ""


def test_many_cases_jsonl_keep_order_and_skip_blank_lines(tmp_path: Path, schema: dict[str, Any]) -> None:
    import jsonschema  # imported here: it takes a second to load, collection stays fast

    content = "\n".join([json.dumps(PLAIN), "", json.dumps(CES), "   ", json.dumps(PLAIN)]) + "\n"
    proc = run("assess", write(tmp_path, "c.jsonl", content), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [json.loads(line)["triage"] for line in lines] == ["self_care", "emergency", "self_care"]
    for line in lines:
        jsonschema.validate(json.loads(line), schema)


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("case", "field"),
    [
        ({**PLAIN, "age": "35"}, "age"),
        ({**PLAIN, "age": 121}, "age"),
        ({**PLAIN, "fever": "yes"}, "fever"),
        ({**PLAIN, "shoe_size": 42}, "shoe_size"),
        ({**PLAIN, "regions": []}, "regions"),
        ({**PLAIN, "trauma": "huge"}, "trauma"),
        ({k: v for k, v in PLAIN.items() if k != "duration_weeks"}, "duration_weeks"),
    ],
)
def test_invalid_case_exits_2_naming_the_field(tmp_path: Path, case: dict[str, Any], field: str) -> None:
    proc = run("assess", write(tmp_path, "bad.json", json.dumps(case)), "--format", "json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert field in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.safety("SR-IN-1")
def test_invalid_line_in_jsonl_names_line_and_field_and_prints_nothing(tmp_path: Path) -> None:
    content = "\n".join([json.dumps(PLAIN), "", json.dumps({**PLAIN, "pain_intensity": 11})]) + "\n"
    proc = run("assess", write(tmp_path, "c.jsonl", content), "--format", "json")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Zeile 3" in proc.stderr and "pain_intensity" in proc.stderr
    assert "Traceback" not in proc.stderr


@pytest.mark.safety("SR-IN-1", "SR-LANG-1")
def test_english_error_messages(tmp_path: Path) -> None:
    proc = run("assess", write(tmp_path, "bad.json", json.dumps({**PLAIN, "age": -1})), "--lang", "en")
    assert proc.returncode == 2 and "age" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize("content", ["{not json", "[1, 2]", "", '{"age": 1, "age": 2}', "NaN"])
def test_broken_json_exits_2(tmp_path: Path, content: str) -> None:
    proc = run("assess", write(tmp_path, "bad.json", content), "--format", "json")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr
    assert proc.stderr.strip()


@pytest.mark.safety("SR-IN-1")
def test_missing_file_exits_2(tmp_path: Path) -> None:
    proc = run("assess", tmp_path / "nowhere.json")
    assert proc.returncode == 2 and proc.stdout == "" and "Traceback" not in proc.stderr


@pytest.mark.safety("SR-RF-1", "SR-TRI-2")
def test_text_report_puts_triage_first_and_the_emergency_banner_on_top(tmp_path: Path) -> None:
    proc = run("assess", write(tmp_path, "c.json", json.dumps(CES)), "--format", "text")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "112" in out
    assert out.index("112") < out.index("Quellen")
    assert "Notfall" in out[:600] and "emergency" not in out[:600]


def test_text_report_in_english(tmp_path: Path) -> None:
    proc = run("assess", write(tmp_path, "c.json", json.dumps(PLAIN)), "--format", "text", "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert "Self-care" in proc.stdout and "self_care" not in proc.stdout and "Sources" in proc.stdout


def test_help_lists_the_commands() -> None:
    proc = run("--help")
    assert proc.returncode == 0
    assert "assess" in proc.stdout and "interview" in proc.stdout
