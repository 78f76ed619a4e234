"""`rueckenlotse batch`: every input and output format, the error file, the summary, clear failures."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from rueckenlotse.batch.generate import generate_case
from rueckenlotse.cli.batch import register
from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge.loader import default_knowledge

from ..conftest import SHARED
from .conftest import expected_row, read_output, write_jsonl

app = typer.Typer()
register(app)
app.command("noop", hidden=True)(lambda: None)  # a second command keeps `batch` a named subcommand
runner = CliRunner()


def _cases(n: int, seed: int = 1) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    return [generate_case(rng) for _ in range(n)]


def _expected(cases: list[dict[str, Any]], lines: list[int]) -> list[dict[str, Any]]:
    kb = default_knowledge()
    return [
        expected_row(line, evaluate(kb, Case.model_validate(c, strict=True)))
        for line, c in zip(lines, cases, strict=True)
    ]


def _run(*args: str) -> Any:
    return runner.invoke(app, ["batch", *args])


def test_jsonl_in_and_out_with_summary_and_contract_shapes(tmp_path: Path) -> None:
    import jsonschema  # imported here: it takes a second to load, collection stays fast

    cases = _cases(300)
    source = write_jsonl(tmp_path / "faelle.jsonl", cases)
    result = _run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    assert "Zusammenfassung" in result.stdout and "300" in result.stdout
    rows = read_output(tmp_path / "out.jsonl")
    assert rows == _expected(cases, list(range(1, 301)))
    schema = json.loads((SHARED / "contract" / "v2" / "assessment.schema.json").read_text(encoding="utf-8"))
    properties = schema["properties"]
    # red_flag_rules are the contract's red_flags without the per-record evidence.
    red_flag = {**properties["red_flags"]["items"], "required": ["id", "condition"]}
    red_flag["properties"] = {k: v for k, v in red_flag["properties"].items() if k != "evidence"}
    for row in rows:
        assert row["contract_version"] == "2"
        assert set(row) - set(properties) == {"line", "red_flag_rules", "recommendation_ids"}
        for name, value in row.items():
            if name in properties:
                jsonschema.validate(value, properties[name])
        jsonschema.validate(row["red_flag_rules"], {"type": "array", "items": red_flag})


def _csv_cell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ";".join(value)
    return str(value)


def _write_csv(path: Path, cases: list[dict[str, Any]]) -> None:
    flat = [
        {f"{k}.{ck}" if isinstance(v, dict) else k: _csv_cell(cv) for k, v in c.items()
         for ck, cv in (v.items() if isinstance(v, dict) else [(None, v)])}
        for c in cases
    ]  # fmt: skip
    columns = sorted({k for row in flat for k in row})
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(flat)


def test_csv_in_and_out(tmp_path: Path) -> None:
    cases = _cases(200, seed=2)
    _write_csv(tmp_path / "faelle.csv", cases)
    result = _run(str(tmp_path / "faelle.csv"), "-o", str(tmp_path / "out.csv"), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "Summary" in result.stdout
    with (tmp_path / "out.csv").open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    expected = _expected(cases, list(range(2, 202)))  # line 1 is the header
    assert [int(r["line"]) for r in rows] == [e["line"] for e in expected]
    assert [r["triage"] for r in rows] == [e["triage"] for e in expected]
    assert [r["recommendation_ids"] for r in rows] == ["|".join(e["recommendation_ids"]) for e in expected]
    assert {r["contract_version"] for r in rows} == {"2"}


def test_parquet_in_and_out(tmp_path: Path) -> None:
    cases = _cases(200, seed=3)
    # pa.array infers the struct type from all rows (from_pylist would take the first row's keys only).
    pq.write_table(pa.Table.from_struct_array(pa.array(cases)), tmp_path / "faelle.parquet")
    result = _run(str(tmp_path / "faelle.parquet"), "-o", str(tmp_path / "out.parquet"))
    assert result.exit_code == 0, result.output
    assert read_output(tmp_path / "out.parquet") == _expected(cases, list(range(1, 201)))


def test_invalid_rows_reported_with_line_numbers_in_the_chosen_error_file(tmp_path: Path) -> None:
    good = [json.dumps(c) for c in _cases(3, seed=4)]
    source = tmp_path / "faelle.txt"
    source.write_text("\n".join([good[0], '{"age": 200}', good[1], "nonsense", good[2]]) + "\n")
    errors = tmp_path / "fehler.jsonl"
    result = _run(
        str(source), "-o", str(tmp_path / "out.parquet"), "--input-format", "jsonl", "--errors", str(errors)
    )
    assert result.exit_code == 0, result.output
    reported = [json.loads(line) for line in errors.read_text(encoding="utf-8").splitlines()]
    assert [r["line"] for r in reported] == [2, 4]
    assert {e["field"] for e in reported[0]["errors"]} == {"age", "regions", "duration_weeks"}
    assert [r["line"] for r in read_output(tmp_path / "out.parquet")] == [1, 3, 5]


def test_csv_cells_that_are_not_numbers_are_reported_as_such(tmp_path: Path) -> None:
    source = tmp_path / "faelle.csv"
    source.write_text("age,regions,duration_weeks,fever\nabc,neck,2,true\n40,neck;hip,2,yes\n40,neck,2,\n")
    result = _run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], sorted(x["field"] for x in e["errors"])) for e in errors] == [
        (2, ["age"]),
        (3, ["fever", "regions[1]"]),
    ]
    assert [r["line"] for r in read_output(tmp_path / "out.jsonl")] == [4]


@pytest.mark.safety("SR-BAT-1")
@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_contract_2_vignettes_read_from_every_format(tmp_path: Path, shared_dir: Path, suffix: str) -> None:
    # The vignettes of contract 2 use every new field (trauma 'strain', pregnancy_week ...).
    paths = sorted((shared_dir / "cases" / "v2").glob("*.json"))
    cases = [json.loads(p.read_text(encoding="utf-8"))["case"] for p in paths]
    source = tmp_path / f"faelle{suffix}"
    if suffix == ".jsonl":
        write_jsonl(source, cases)
    elif suffix == ".csv":
        _write_csv(source, cases)
    else:
        pq.write_table(pa.Table.from_struct_array(pa.array(cases)), source)
    result = _run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    first = 2 if suffix == ".csv" else 1
    assert read_output(tmp_path / "out.jsonl") == _expected(cases, list(range(first, first + len(cases))))
    assert (tmp_path / "out.jsonl.errors.jsonl").read_text(encoding="utf-8") == ""


@pytest.mark.safety("SR-BAT-2")
def test_csv_cells_of_the_new_fields_are_validated_as_the_case_model_does(tmp_path: Path) -> None:
    source = tmp_path / "faelle.csv"
    source.write_text(
        "age,regions,duration_weeks,trauma,pregnant,pregnancy_week,cannot_walk,sepsis_signs\n"
        "30,low_back,2,strain,true,20,false,\n"  # valid: an empty cell is an absent field
        "30,low_back,2,Strain,true,20.5,ja,1\n"
        "30,low_back,2,none,true,43,,\n"
        "30,low_back,2,,,-1,true,true\n"
        "30,low_back,2,minor,true,,true,false\n",  # valid
        encoding="utf-8",
    )
    result = _run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [(e["line"], sorted(x["field"] for x in e["errors"])) for e in errors] == [
        (3, ["cannot_walk", "pregnancy_week", "sepsis_signs", "trauma"]),
        (4, ["pregnancy_week"]),
        (5, ["pregnancy_week"]),
    ]
    assert [r["line"] for r in read_output(tmp_path / "out.jsonl")] == [2, 6]


@pytest.mark.safety("SR-BAT-2")
def test_csv_line_numbers_count_blank_lines_and_cells_that_span_lines(tmp_path: Path) -> None:
    # DuckDB's CSV reader skips blank lines and lets a quoted cell span lines: lines are the file's.
    source = tmp_path / "faelle.csv"
    source.write_text(
        'age,regions,duration_weeks\n40,low_back,3\n\n41,neck,2\n"4\n2",neck,2\n43,neck,1\n',
        encoding="utf-8",
    )
    result = _run(str(source), "-o", str(tmp_path / "out.jsonl"))
    assert result.exit_code == 0, result.output
    assert [r["line"] for r in read_output(tmp_path / "out.jsonl")] == [2, 4, 7]
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [5]
    # Without blank lines or spanning cells the lines are the rows' positions (no Python pass).
    source.write_text("age,regions,duration_weeks\n40,low_back,3\nabc,neck,2\n", encoding="utf-8")
    assert _run(str(source), "-o", str(tmp_path / "out2.jsonl")).exit_code == 0
    assert [r["line"] for r in read_output(tmp_path / "out2.jsonl")] == [2]
    errors = [json.loads(line) for line in (tmp_path / "out2.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [3]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.jsonl", "-o", "out.jsonl"], "cannot be read"),
        (["in.jsonl", "-o", "out.xyz"], "cannot tell the format"),
        (["in.jsonl", "-o", "out.jsonl", "--engine", "postgres"], "--database-url"),
        (["in.jsonl", "-o", "no/such/dir/out.jsonl"], "cannot be written"),
        (
            [
                "in.jsonl",
                "-o",
                "out.jsonl",
                "--engine",
                "postgres",
                "--database-url",
                "postgresql://x@127.0.0.1:1/x",
            ],
            "not reachable",
        ),
    ],
)
def test_clear_failures_without_traceback(tmp_path: Path, args: list[str], message: str) -> None:
    write_jsonl(tmp_path / "in.jsonl", _cases(2))
    result = _run(*[str(tmp_path / a) if a.endswith((".jsonl", ".xyz")) else a for a in args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_installed_command_line_has_batch(tmp_path: Path) -> None:
    from rueckenlotse.cli import app as real_app

    source = write_jsonl(tmp_path / "in.jsonl", _cases(20, seed=8))
    result = runner.invoke(real_app, ["batch", str(source), "-o", str(tmp_path / "out.csv"), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Summary" in result.stdout
    assert len((tmp_path / "out.csv").read_text().splitlines()) == 21
