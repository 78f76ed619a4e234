"""The compiled path equals the per-case engine, field by field, on 100,000 generated cases per engine.

The cases come from a seeded generator covering every Case field (rueckenlotse.batch.generate) and are
assessed twice: once per case by core.engine.evaluate, once as a whole file through `run_batch` on each
engine. Every compiled contract field must match for every line; the public vignettes are added in front.
"""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rueckenlotse.batch.generate import arrow_schema, generate_cases
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge.loader import default_knowledge

from ..conftest import SHARED
from .conftest import PG_ENV, expected_row, read_output, write_jsonl

N_GENERATED = 100_000
SEED = 20261127
VIGNETTES = sorted((SHARED / "cases" / "public").glob("*.json"))


@pytest.fixture(scope="module")
def differential_input(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    kb = default_knowledge()
    vignettes = [json.loads(p.read_text(encoding="utf-8"))["case"] for p in VIGNETTES]
    cases = vignettes + list(generate_cases(N_GENERATED, SEED))
    folder = tmp_path_factory.mktemp("differential")
    source = write_jsonl(folder / "cases.jsonl", cases)
    pq.write_table(pa.Table.from_pylist(cases, schema=arrow_schema()), folder / "cases.parquet")
    expected = [
        expected_row(line, evaluate(kb, Case.model_validate(case, strict=True)))
        for line, case in enumerate(cases, start=1)
    ]
    return source, expected


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


def test_generated_cases_cover_every_triage_level_and_condition(
    differential_input: tuple[Path, list[dict[str, Any]]],
) -> None:
    _, expected = differential_input
    kb = default_knowledge()
    assert {r["triage"] for r in expected} == {"self_care", "routine", "soon", "urgent", "emergency"}
    seen = {c for r in expected for c in r["suspected_conditions"]}
    assert seen == {c.id for c in kb.spec.conditions}
    fired = {f["id"] for r in expected for f in r["red_flag_rules"]}
    assert fired == {r.id for r in kb.spec.rules if r.suspect in kb.red_flag_conditions}
    recs = {rec for r in expected for rec in r["recommendation_ids"]}
    assert recs == {r.id for r in kb.spec.recommendations}


def _engines() -> list[tuple[str, str | None]]:
    """DuckDB always; PostgreSQL where TEST_DATABASE_URL is set (CI); Spark where pyspark is installed."""
    engines: list[tuple[str, str | None]] = [("duckdb", None)]
    if os.environ.get(PG_ENV):
        engines.append(("postgres", os.environ[PG_ENV]))
    if importlib.util.find_spec("pyspark") is not None:
        engines.append(("spark", None))
    return engines


@pytest.mark.safety("SR-BAT-1")
def test_compiled_path_equals_per_case_engine_on_every_engine(
    differential_input: tuple[Path, list[dict[str, Any]]], tmp_path: Path
) -> None:
    # One test for all engines: the expected side (100,000 per-case assessments) is computed once.
    source, expected = differential_input
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
