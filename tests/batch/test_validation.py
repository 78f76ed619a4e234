"""Strict validation in SQL agrees with the per-case validation (validation.parse_case_json).

Rows come from valid generated cases, each broken in one way (or deliberately still valid). A row SQL
accepts must be valid for Python, and here, where every kind of break is known, SQL must also reject
exactly what Python rejects. The error file names the line and both languages' reasons.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rueckenlotse.batch import readers
from rueckenlotse.batch.generate import arrow_schema, generate_case
from rueckenlotse.batch.ordered import create_in_order
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.batch.validate_sql import validation_sql
from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.errors import InvalidCase
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.validation import parse_case_json

from .conftest import with_copies_of_first_recommendation

BASE = '{"age": 40, "regions": ["low_back"], "duration_weeks": 3'
BY_HAND = [
    BASE + "}",
    BASE + ', "age": 41}',  # duplicate key
    BASE + ', "startback": {"leg_pain_recent": true, "leg_pain_recent": false}}',
    BASE + ', "fever": NaN}',
    BASE + ', "pain_intensity": 1e999}',
    BASE + ', "physiotherapy_weeks": 1e999}',
    BASE + ', "physiotherapy_weeks": 100000000000000000000000}',  # a huge int is a valid float
    BASE + ', "physiotherapy_weeks": -0.0}',
    BASE + ', "pain_intensity": -0}',
    BASE + ', "pain_intensity": 5.0}',
    BASE + ', "pain_intensity": 5e0}',
    BASE + ', "sex": "m\\u0061le"}',  # an escaped letter is still "male"
    BASE + ', "sex": "MALE"}',
    BASE + ', "neuroplastic": {}}',
    BASE + ', "neuroplastic": []}',
    BASE + ', "startback": null}',
    BASE + ', "imaging_findings": []}',
    BASE + ', "imaging_findings": [null]}',
    BASE + ', "imaging_findings": [["disc_bulge"]]}',
    BASE + ', "regions": ["low_back"]}',
    BASE + ",}",  # trailing commas: DuckDB's JSON reader forgives them, strict JSON does not
    BASE + ', "imaging_findings": ["disc_bulge",]}',
    BASE + ', "startback": {"leg_pain_recent": true,}}',
    BASE + ', "neuroplastic": {"both_sides": true,}}',
    BASE + ', "neuroplastic": {"both_sides": true}, "neuroplastic": {}}',
    BASE + ', "neuroplastic": {"both_sides": true, "x": 1}}',
    BASE + ', "neuroplastic": {"both_sides": null}}',
    BASE + ', "neuroplastic": 5}',
    BASE + ', "neuroplastic": "{}"}',
    BASE + ', "sex": "male:"}',
    BASE + ', "sex": "male,"}',
    BASE + ' , "sex" : "male" }',
    '{"age": 40, "regions": "neck", "duration_weeks": 3}',
    '{"age": 40, "regions": ["neck", 1], "duration_weeks": 3}',
    '{"age": "40", "regions": ["neck"], "duration_weeks": 3}',
    '{"age": true, "regions": ["neck"], "duration_weeks": 3}',
    '{"age": 40, "regions": ["neck"], "duration_weeks": "3"}',
    '{"age": 40, "regions": ["neck"], "duration_weeks": true}',
    '{"age": 40, "regions": ["neck"]}',
    "[1, 2]",
    '"a string"',
    "42",
    "{not json",
    "   {}   ",
    '{"age": 40, "regions": ["neck"], "duration_weeks": 3} trailing',
    # contract 2: the new fields, valid and broken
    BASE + ', "trauma": "strain"}',
    BASE + ', "trauma": "Strain"}',
    BASE + ', "trauma": "lifting"}',
    BASE + ', "pregnant": true, "pregnancy_week": 20, "pregnancy_warning_signs": true}',
    BASE + ', "pregnancy_week": 0}',
    BASE + ', "pregnancy_week": 42}',
    BASE + ', "pregnancy_week": 43}',
    BASE + ', "pregnancy_week": -1}',
    BASE + ', "pregnancy_week": null}',
    BASE + ', "pregnancy_week": 20.0}',
    BASE + ', "pregnancy_week": 2e1}',
    BASE + ', "pregnancy_week": 20.5}',
    BASE + ', "pregnancy_week": "20"}',
    BASE + ', "pregnancy_week": true}',
    BASE + ', "pregnancy_week": [20]}',
    BASE + ', "neuro_bilateral_legs": true, "neuro_bilateral_arms": false, "cannot_walk": true}',
    BASE + ', "cannot_walk": "true"}',
    BASE + ', "sepsis_signs": 1}',
    BASE + ', "rigors": null}',
    BASE + ', "diabetes": true, "diabetes": false}',
    BASE + ', "gave_birth_recently": true, "band_like_rash_or_burning": True}',  # True is not JSON
]
# contract 2 fields a mutation aims at (besides any key of the case), with values that break them or not
NEW_BOOLEANS = [
    "neuro_bilateral_legs", "neuro_bilateral_arms", "cannot_walk", "pain_worse_lying_or_straining",
    "pain_progressive", "cancer_active", "recent_spinal_procedure", "rigors", "diabetes",
    "band_like_rash_or_burning", "pain_with_exertion_sweating_or_nausea", "pregnancy_warning_signs",
    "sepsis_signs", "gave_birth_recently",
]  # fmt: skip


def _mutate(rng: random.Random, case: dict[str, Any]) -> dict[str, Any]:
    case = json.loads(json.dumps(case))
    key = rng.choice(sorted(case))
    roll = rng.randrange(12)
    if roll == 0:
        del case[key]
    elif roll == 1:
        case[key] = None
    elif roll == 2:
        case[key] = rng.choice(["yes", 1, 1.5, True, [], {}, "none", -1, 121, 1e300])
    elif roll == 3:
        case["unknown_field"] = True
    elif roll == 4:
        case["regions"] = rng.choice([[], ["neck", "neck"], ["hip"], ["neck", None]])
    elif roll == 5:
        case["startback"] = {"leg_pain_recent": True}  # required answers missing
    elif roll == 6:
        case["neuroplastic"] = {
            "both_sides": rng.choice([True, 1, None, "x"]),
            **rng.choice([{}, {"new": 1}]),
        }
    elif roll == 7:
        case["startback"] = dict.fromkeys(
            [
                "leg_pain_recent", "neck_or_shoulder_pain_recent", "walks_short_distances_only",
                "dresses_more_slowly", "unsafe_to_be_active", "worrying_thoughts",
                "pain_terrible_never_better", "not_enjoying_things",
            ],
            False,
        ) | {"bothersomeness": rng.choice([0, 4, 5, -1, 2.0, "2", None])}  # fmt: skip
    elif roll == 8:
        case["duration_weeks"] = rng.choice([0, 0.0, -0.5, 1e308, 10**20, "1", None])
    elif roll == 9:
        case["pregnancy_week"] = rng.choice([0, 20, 42, 43, -1, 20.0, 20.5, "20", True, None, [20]])
    elif roll == 10:
        case[rng.choice(NEW_BOOLEANS)] = rng.choice([True, False, "true", 1, 0, None, "yes"])
    else:
        case["trauma"] = rng.choice(["none", "strain", "minor", "major", "Strain", "lifting", None, True])
    return case


def _python_accepts(text: str) -> bool:
    try:
        parse_case_json(text, default_knowledge())
    except InvalidCase:
        return False
    return True


@pytest.mark.safety("SR-BAT-2")
def test_sql_validation_agrees_with_python() -> None:
    rng = random.Random(11)
    texts = BY_HAND + [json.dumps(_mutate(rng, generate_case(rng))) for _ in range(4000)]
    con = duckdb.connect()
    con.register("source", pa.table({"j": texts}))
    create_in_order(con, "checked", validation_sql("source"))
    ok = [row[0] for row in con.execute("SELECT ok FROM checked ORDER BY rowid").fetchall()]
    python = [_python_accepts(t) for t in texts]
    unsound = [t for t, s, p in zip(texts, ok, python, strict=True) if s and not p]
    assert unsound == [], "SQL accepted rows that the strict Case model rejects"
    stricter = [t for t, s, p in zip(texts, ok, python, strict=True) if p and not s]
    assert stricter == [], "SQL rejected valid rows (they would need Python's validation)"
    assert 0 < sum(python) < len(texts)


@pytest.mark.safety("SR-BAT-2", "SR-IN-1")
def test_invalid_lines_go_to_the_error_file_and_the_run_goes_on(tmp_path: Path) -> None:
    rng = random.Random(3)
    good = [json.dumps(generate_case(rng)) for _ in range(5)]
    lines = [
        good[0],
        "{broken",
        good[1],
        "",
        good[2],
        '{"age": -1, "regions": [], "duration_weeks": 1}',
        good[3],
    ]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
    assert (summary.rows, summary.assessed, summary.errors) == (6, 4, 2)
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [r["line"] for r in written] == [1, 3, 5, 7]
    errors = [json.loads(line) for line in (tmp_path / "out.jsonl.errors.jsonl").read_text().splitlines()]
    assert [e["line"] for e in errors] == [2, 6]
    assert errors[0]["errors"][0]["type"] == "json_invalid"
    fields = {e["field"] for e in errors[1]["errors"]}
    assert fields == {"age", "regions"}
    for e in errors[1]["errors"]:
        assert e["de"] and e["en"] and e["de"] != e["en"]


def test_a_row_only_python_accepts_is_still_assessed(tmp_path: Path, monkeypatch: Any) -> None:
    # The SQL check may be stricter than Python, never looser: such a row still gets its result.
    # Here SQL is made to refuse decimals starting with 9, so line 2 is for Python alone to accept.
    from rueckenlotse.batch import validate_sql as module

    monkeypatch.setattr(module, "NUMBER_START", "^-?[0-8]")
    lines = [BASE + "}", BASE.replace('"duration_weeks": 3', '"duration_weeks": 9.5') + "}", BASE + "}"]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_batch(default_knowledge(), source, tmp_path / "out.jsonl")
    assert (summary.assessed, summary.errors, summary.python_validated) == (3, 0, 1)
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert [(r["line"], r["phase"]) for r in written] == [(1, "acute"), (2, "subacute"), (3, "acute")]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


def _typed_ok(path: Path) -> list[bool]:
    con = duckdb.connect()
    create_in_order(con, "checked", readers.load_parquet(con, path).select)
    return [bool(r[0]) for r in con.execute("SELECT ok FROM checked ORDER BY rowid").fetchall()]


def _python_ok(path: Path) -> list[bool]:
    return [_python_accepts(json.dumps(_without_nulls(r))) for r in pq.read_table(path).to_pylist()]


@pytest.mark.safety("SR-BAT-2")
def test_typed_parquet_validation_agrees_with_python(tmp_path: Path) -> None:
    rng = random.Random(9)
    good = [generate_case(rng) for _ in range(300)]
    broken: list[dict[str, Any]] = [
        {**good[0], "age": 121},
        {**good[1], "pain_intensity": -1},
        {**good[2], "duration_weeks": float("nan")},
        {**good[3], "duration_weeks": float("inf")},
        {**good[4], "regions": []},
        {**good[5], "regions": ["neck", "neck"]},
        {**good[6], "regions": ["neck", None]},
        {**good[7], "imaging_findings": ["hip"]},
        {**good[8], "sex": "MALE"},
        {**good[9], "startback": {"leg_pain_recent": True}},
        {**good[10], "startback": {**dict.fromkeys(STARTBACK, True), "bothersomeness": 5}},
        {**good[11], "neuroplastic": {}},
        {**good[12], "trauma": None, "regions": None},
        # contract 2
        {**good[13], "pregnancy_week": 43},
        {**good[14], "pregnancy_week": -1},
        {**good[15], "trauma": "Strain"},
        {**good[16], "trauma": "lifting"},
    ]
    valid_v2: list[dict[str, Any]] = [
        {**good[17], "trauma": "strain"},
        {**good[18], "pregnant": True, "pregnancy_week": 0, "pregnancy_warning_signs": True},
        {**good[19], "pregnancy_week": 42, "sepsis_signs": None},  # null means absent in Parquet
    ]
    schema = arrow_schema()
    typed = tmp_path / "typed.parquet"
    pq.write_table(pa.Table.from_pylist(good + broken + valid_v2, schema=schema), typed)
    assert _typed_ok(typed) == _python_ok(typed)
    assert _typed_ok(typed).count(False) == len(broken) - 1  # an empty neuroplastic object is valid

    odd = tmp_path / "odd.parquet"
    rows = [
        {"age": 40.0, "regions": ["neck"], "duration_weeks": 2, "fever": "yes", "extra": None},
        {"age": None, "regions": ["neck"], "duration_weeks": 2, "fever": None, "extra": 1},
        {"age": 40.0, "regions": ["neck"], "duration_weeks": 2, "fever": None, "extra": None},
        {"age": None, "regions": ["neck"], "duration_weeks": 2, "fever": None, "extra": None},
        {"age": None, "regions": ["neck"], "duration_weeks": 2, "fever": None, "extra": None,
         "neuroplastic": {"both_sides": True, "unknown": False}},
        {"age": None, "regions": ["neck"], "duration_weeks": 2, "fever": None, "extra": None,
         "neuroplastic": {"both_sides": True, "unknown": None}},
    ]  # fmt: skip
    pq.write_table(pa.Table.from_struct_array(pa.array(rows)), odd)
    assert _typed_ok(odd) == _python_ok(odd) == [False, False, False, False, False, False]
    valid_age = [{**r, "age": 40} for r in rows[3:]]
    pq.write_table(pa.Table.from_struct_array(pa.array(valid_age)), odd)
    assert _typed_ok(odd) == _python_ok(odd) == [True, False, True]


@pytest.mark.safety("SR-BAT-2")
@pytest.mark.parametrize(
    ("column", "values", "ok"),
    [
        # Whole weeks only: a decimal column is refused even where it holds a whole number.
        ("pregnancy_week", [20.0, None], [False, True]),
        ("pregnancy_week", [20, 43], [True, False]),
        ("cannot_walk", ["yes", None], [False, True]),
        ("sepsis_signs", [1, 0], [False, False]),
        ("trauma", ["strain", "STRAIN"], [True, False]),
    ],
)
def test_typed_parquet_columns_of_the_new_fields(
    tmp_path: Path, column: str, values: list[Any], ok: list[bool]
) -> None:
    path = tmp_path / "new.parquet"
    base: dict[str, Any] = {"age": 40, "regions": ["neck"], "duration_weeks": 2}
    rows = [{**base, column: v} for v in values]
    pq.write_table(pa.Table.from_struct_array(pa.array(rows)), path)
    assert _typed_ok(path) == _python_ok(path) == ok


STARTBACK = [
    "leg_pain_recent", "neck_or_shoulder_pain_recent", "walks_short_distances_only", "dresses_more_slowly",
    "unsafe_to_be_active", "worrying_thoughts", "pain_terrible_never_better", "not_enjoying_things",
]  # fmt: skip


@pytest.mark.safety("SR-BAT-2")
def test_line_numbers_hold_in_a_large_file_read_in_parallel(tmp_path: Path) -> None:
    # Lines are row positions (no numbering while reading): invalid and blank lines spread over a file
    # large enough for DuckDB to read it on several threads must keep every line's own number.
    rng = random.Random(3)
    kb = default_knowledge()
    lines: list[str] = []
    invalid: list[int] = []
    valid: dict[int, dict[str, Any]] = {}
    for n in range(1, 150_001):
        roll = rng.random()
        if roll < 0.001:
            lines.append("")
        elif roll < 0.002:
            lines.append(BASE + ",}")
            invalid.append(n)
        else:
            valid[n] = generate_case(rng)
            lines.append(json.dumps(valid[n]))
    source = tmp_path / "large.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_batch(kb, source, tmp_path / "out.parquet")
    assert (summary.assessed, summary.errors, summary.python_validated) == (len(valid), len(invalid), 0)
    error_file = (tmp_path / "out.parquet.errors.jsonl").read_text(encoding="utf-8")
    errors = [json.loads(line)["line"] for line in error_file.splitlines()]
    assert errors == invalid
    written = pq.read_table(tmp_path / "out.parquet", columns=["line", "triage", "recommendation_ids"])
    assert written.column("line").to_pylist() == sorted(valid)
    for row in rng.sample(written.to_pylist(), 2_000):
        expected = evaluate(kb, Case.model_validate(valid[row["line"]], strict=True))
        assert row["triage"] == expected.triage.value
        assert row["recommendation_ids"] == [r.id for r in expected.recommendations]


@pytest.mark.safety("SR-BAT-2")
def test_a_wild_value_in_an_invalid_row_never_stops_the_run(tmp_path: Path) -> None:
    # Validation and assessment run in one pass: an invalid row's values must never reach the compiled
    # arithmetic (here an age far outside BIGINT's room for "age + age"), or one bad row would end the run.
    kb = default_knowledge()
    twice_the_age = {"sum": [{"sub": ["age", 0]}, {"sub": ["age", 0]}]}  # values, not truthiness
    older = {"id": "extra_older", "when": {"gt": [twice_the_age, 130]}}
    variant = with_copies_of_first_recommendation(kb, [older])
    valid = json.loads(BASE.replace('"age": 40', '"age": 70') + "}")
    lines = [json.dumps(valid), BASE.replace('"age": 40', '"age": -9223372036854775800') + "}"]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    summary = run_batch(variant, source, tmp_path / "out.jsonl")
    assert (summary.assessed, summary.errors) == (1, 1)
    written = json.loads((tmp_path / "out.jsonl").read_text(encoding="utf-8"))
    expected = evaluate(variant, Case.model_validate(valid, strict=True))
    assert written["recommendation_ids"] == [r.id for r in expected.recommendations]
    assert "extra_older" in written["recommendation_ids"]
