"""`rueckenlotse fhir export` and `rueckenlotse fhir import` through the real console script."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Case

from ..conftest import CLI, SHARED

AT = "2026-11-27T10:30:00+01:00"


def run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120)


def vignette(tmp_path: Path, name: str) -> tuple[Path, dict[str, Any]]:
    case = json.loads((SHARED / "cases" / "public" / f"{name}.json").read_text(encoding="utf-8"))["case"]
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(case), encoding="utf-8")
    return path, case


def response_of(bundle: dict[str, Any]) -> dict[str, Any]:
    return next(
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "QuestionnaireResponse"
    )


def assert_user_error(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr


def test_export_prints_a_valid_bundle_at_the_given_time(tmp_path: Path) -> None:
    path, _ = vignette(tmp_path, "p01-ces-classic")
    result = run("fhir", "export", path, "--at", AT, "--lang", "en")
    assert result.returncode == 0, result.stderr
    bundle = json.loads(result.stdout)
    Bundle.model_validate(bundle)
    assert bundle["timestamp"] == AT
    assert response_of(bundle)["language"] == "en"


def test_export_to_a_file_writes_what_stdout_would_show(tmp_path: Path) -> None:
    path, _ = vignette(tmp_path, "p09-chronic-high-risk")
    out = tmp_path / "bundle.json"
    written = run("fhir", "export", path, "--at", AT, "-o", out)
    printed = run("fhir", "export", path, "--at", AT)
    assert written.returncode == 0 and written.stdout == ""
    assert out.read_text(encoding="utf-8") == printed.stdout


def test_export_without_at_uses_a_time_with_zone(tmp_path: Path) -> None:
    path, _ = vignette(tmp_path, "p02-acute-lifting")
    result = run("fhir", "export", path)
    assert result.returncode == 0, result.stderr
    timestamp = json.loads(result.stdout)["timestamp"]
    assert timestamp.endswith("Z") or timestamp[-6] in "+-"


def test_export_then_import_gives_the_case_back(tmp_path: Path, kb: KnowledgeBase) -> None:
    path, case = vignette(tmp_path, "p11-sciatica")
    bundle = json.loads(run("fhir", "export", path, "--at", AT).stdout)
    qr = tmp_path / "qr.json"
    qr.write_text(json.dumps(response_of(bundle)), encoding="utf-8")
    result = run("fhir", "import", qr)
    assert result.returncode == 0, result.stderr
    imported = Case.model_validate(json.loads(result.stdout), strict=True)
    original = Case.model_validate(case, strict=True)
    assert imported == original
    assert evaluate(kb, imported, "de") == evaluate(kb, original, "de")


def test_export_of_an_invalid_case_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"age": "vierzig", "regions": ["low_back"], "duration_weeks": 1}), "utf-8")
    assert_user_error(run("fhir", "export", path), "age")


def test_export_with_a_bad_time_is_a_clear_error(tmp_path: Path) -> None:
    path, _ = vignette(tmp_path, "p02-acute-lifting")
    assert_user_error(run("fhir", "export", path, "--at", "gestern"), "--at", "ISO 8601", "'gestern'")


def test_import_of_a_response_to_another_questionnaire_fails_in_the_chosen_language(tmp_path: Path) -> None:
    path, _ = vignette(tmp_path, "p02-acute-lifting")
    response = response_of(json.loads(run("fhir", "export", path, "--at", AT).stdout))
    response["questionnaire"] = "https://example.org/Questionnaire/other"
    response["item"].append({"linkId": "\u202e<b>x</b>", "answer": [{"valueBoolean": True}]})
    qr = tmp_path / "qr.json"
    qr.write_text(json.dumps(response), encoding="utf-8")
    assert_user_error(run("fhir", "import", qr), "Ungültige Eingabe", "questionnaire", "\\u202e")
    assert_user_error(run("fhir", "import", qr, "--lang", "en"), "Invalid input", "Unknown question")


def test_import_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    assert_user_error(run("fhir", "import", tmp_path / "nope.json"), "nope.json")
    broken = tmp_path / "broken.json"
    broken.write_bytes(b"\xff\xfe{")
    assert_user_error(run("fhir", "import", broken))
    broken.write_text("{", encoding="utf-8")
    assert_user_error(run("fhir", "import", broken, "--lang", "en"), "Not valid JSON")


def test_the_cli_loads_fhir_resources_only_for_the_fhir_commands() -> None:
    code = "import sys, rueckenlotse.cli; print(any(m.startswith('fhir.resources') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "False", result.stderr
