"""The compiled path equals the per-case engine, field by field, on 100,000 generated cases per engine.

The cases come from a seeded generator covering every Case field (rueckenlotse.batch.generate) and are
assessed twice: once per case by core.engine.evaluate, once as a whole file through `run_batch` on each
engine. Every compiled contract field must match for every line; the contract-2 vignettes are added in
front. The sample is only worth as much as it covers: a test asserts that every rule of rules.yaml
(escalations included) fires in it and that every contract-2 field and value occurs.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rueckenlotse.batch.generate import arrow_schema, edge_values, generate_cases, thresholds
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.flat_case import FLAT_FIELDS
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge.loader import default_knowledge

from .. import needs
from .conftest import PG_ENV, expected_row, read_output, write_jsonl

N_GENERATED = 100_000
SEED = 20261127


@dataclass(frozen=True)
class Sample:
    source: Path
    cases: list[dict[str, Any]]
    expected: list[dict[str, Any]]
    fired: Counter[str]  # how often each rule or escalation id fired (from the engine's trace)
    vignettes: int


@pytest.fixture(scope="module")
def differential_input(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Sample:
    kb = default_knowledge()
    paths = sorted((shared_dir / "cases" / "v2").glob("*.json"))
    vignettes = [json.loads(p.read_text(encoding="utf-8"))["case"] for p in paths]
    cases = vignettes + list(generate_cases(N_GENERATED, SEED))
    folder = tmp_path_factory.mktemp("differential")
    source = write_jsonl(folder / "cases.jsonl", cases)
    pq.write_table(pa.Table.from_pylist(cases, schema=arrow_schema()), folder / "cases.parquet")
    expected = []
    fired: Counter[str] = Counter()
    for line, case in enumerate(cases, start=1):
        assessment = evaluate(kb, Case.model_validate(case, strict=True))
        expected.append(expected_row(line, assessment))
        fired.update(t.rule for t in assessment.trace)
    return Sample(source, cases, expected, fired, len(vignettes))


def _assert_same(output: Path, expected: list[dict[str, Any]], engine: str) -> None:
    rows = read_output(output)
    assert len(rows) == len(expected)
    mismatches = [(e, r) for e, r in zip(expected, rows, strict=True) if e != r]
    if mismatches:
        want, got = mismatches[0]
        diff = {k: (want.get(k), got.get(k)) for k in want.keys() | got.keys() if want.get(k) != got.get(k)}
        pytest.fail(
            f"{engine}: {len(mismatches)} of {len(rows)} lines differ; first, line {want['line']}: {diff}"
        )


# The coverage checks run as one test: under pytest-xdist every worker that runs a test of this module
# builds the 100,000-case sample again (minutes), so the sample has two users, this test and the comparison.
@pytest.mark.safety("SR-BAT-1")
def test_the_sample_covers_every_rule_field_and_outcome(differential_input: Sample) -> None:
    _assert_vignettes_included(differential_input)
    _assert_outcomes_covered(differential_input.expected)
    _assert_every_rule_fires(differential_input.fired)
    _assert_every_field_value_and_edge_occurs(differential_input.cases)
    _assert_contract_2_withholding_occurs(differential_input)


def _assert_vignettes_included(sample: Sample) -> None:
    assert sample.vignettes > 0
    # The new fields are there from the vignettes alone (p25 onwards use them).
    used = {k for case in sample.cases[: sample.vignettes] for k in case}
    assert {"cannot_walk", "band_like_rash_or_burning", "pregnancy_warning_signs", "sepsis_signs"} <= used


def _assert_outcomes_covered(expected: list[dict[str, Any]]) -> None:
    kb = default_knowledge()
    assert {r["triage"] for r in expected} == {"self_care", "routine", "soon", "urgent", "emergency"}
    seen = {c for r in expected for c in r["suspected_conditions"]}
    assert seen == {c.id for c in kb.spec.conditions}
    fired = {f["id"] for r in expected for f in r["red_flag_rules"]}
    assert fired == {r.id for r in kb.spec.rules if r.suspect in kb.red_flag_conditions}
    recs = {rec for r in expected for rec in r["recommendation_ids"]}
    assert recs == {r.id for r in kb.spec.recommendations}


def _assert_every_rule_fires(fired: Counter[str]) -> None:
    # A rule that never fires in the sample is a rule whose SQL the differential test never checked.
    kb = default_knowledge()
    rule_ids = [r.id for r in kb.spec.rules] + [e.id for r in kb.spec.rules for e in r.escalate]
    never = [rule for rule in rule_ids if fired[rule] == 0]
    assert never == [], f"rules that never fire in the differential sample: {never}"
    rare = {rule: fired[rule] for rule in rule_ids if fired[rule] < 20}
    assert rare == {}, f"rules that fire fewer than 20 times (too few to test their edges): {rare}"


def _assert_every_field_value_and_edge_occurs(cases: list[dict[str, Any]]) -> None:
    assert thresholds()["pregnancy_week"] and thresholds()["age"]  # the edges come from the knowledge base
    for f in FLAT_FIELDS:
        owners = [c if f.parent is None else c.get(f.parent) for c in cases]
        values = [o[f.path[-1]] for o in owners if isinstance(o, dict) and f.path[-1] in o]
        if f.kind == "bool":
            assert {True, False} <= set(values), f.name
        elif f.kind == "enum":
            assert set(values) == set(f.values), f.name
        elif f.kind == "list":
            assert {v for items in values for v in items} == set(f.values), f.name
        elif f.kind in ("int", "float"):
            assert set(edge_values(f.name)) <= set(values), f.name


def _assert_contract_2_withholding_occurs(sample: Sample) -> None:
    # The compiled SQL must reproduce each way contract 2 withholds a result; each must be in the sample.
    pairs = list(zip(sample.cases, sample.expected, strict=True))
    neck_only_answers = [r for c, r in pairs if c["regions"] == ["neck"] and "startback" in c]
    assert neck_only_answers and all(r["startback"] is None for r in neck_only_answers)
    assert all(r["chronification_risk"] == "unknown" for r in neck_only_answers)
    with_answers = [r for c, r in pairs if "neuroplastic" in c]
    no_flag = [r for r in with_answers if not r["red_flag_rules"]]
    withheld = {"red_flag": [r for r in with_answers if r["red_flag_rules"]]} | {
        reason: [r for r in no_flag if r["suspected_conditions"] == [reason]]
        for reason in ("radiculopathy", "axial_spondyloarthritis")
    }
    for reason, rows in withheld.items():
        assert rows and all(r["neuroplastic_indicators"] is None for r in rows), reason
    shown = [r for r in with_answers if not r["suspected_conditions"]]
    assert shown and all(r["neuroplastic_indicators"] is not None for r in shown)


def _engines() -> list[tuple[str, str | None]]:
    """DuckDB always; PostgreSQL where TEST_DATABASE_URL is set (CI); Spark where pyspark is installed."""
    engines: list[tuple[str, str | None]] = [("duckdb", None)]
    if os.environ.get(PG_ENV):
        engines.append(("postgres", os.environ[PG_ENV]))
    if needs.spark_ready():
        engines.append(("spark", None))
    return engines


@pytest.mark.safety("SR-BAT-1")
def test_compiled_path_equals_per_case_engine_on_every_engine(
    differential_input: Sample, tmp_path: Path
) -> None:
    # One test for all engines: the expected side (100,000 per-case assessments) is computed once.
    source, expected = differential_input.source, differential_input.expected
    for engine, url in _engines():
        output = tmp_path / f"{engine}.parquet"
        summary = run_batch(default_knowledge(), source, output, engine=engine, database_url=url)
        assert (summary.errors, summary.python_validated) == (0, 0), engine
        _assert_same(output, expected, engine)
    # Parquet input goes through the typed validation instead of the JSON one: the same results.
    output = tmp_path / "from-parquet.jsonl"
    summary = run_batch(default_knowledge(), source.with_suffix(".parquet"), output)
    assert (summary.errors, summary.python_validated) == (0, 0)
    _assert_same(output, expected, "duckdb, Parquet in")


def test_postgres_is_compared_in_ci(pg_url: str) -> None:
    # Makes a local run without TEST_DATABASE_URL show a skip instead of silently comparing DuckDB only.
    assert ("postgres", pg_url) in _engines()


def test_spark_is_compared() -> None:
    # Spark is the engine for files that outgrow one machine: a run without it says so (a counted skip, or a
    # failure where scripts/test provisioned everything) instead of silently comparing fewer engines.
    needs.pyspark()
    assert ("spark", None) in _engines()
