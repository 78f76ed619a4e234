"""The SQL compiler: nothing in the knowledge base is left out, unknown constructs fail loudly, and the
constructs the current KB does not use (lookup, only, at_least, arithmetic, truthiness of numbers and
strings) give in DuckDB exactly what core.conditions gives in Python."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

from rueckenlotse.batch.generate import generate_case
from rueckenlotse.batch.pipeline import run_batch
from rueckenlotse.core.conditions import BOOL_OPS, COMPARATORS, VALUE_OPS, Compiler
from rueckenlotse.core.engine import case_env, evaluate
from rueckenlotse.core.flat_case import FLAT_FIELDS, flatten_case
from rueckenlotse.core.kb import case_input_names
from rueckenlotse.core.models import Case
from rueckenlotse.core.sql_compile import (
    DIALECTS,
    DUCKDB,
    MASK_BITS,
    ExprCompiler,
    MaskedList,
    QueryBuilder,
    SqlCompileError,
    compile_assessment,
    masked_lists,
)
from rueckenlotse.knowledge.loader import default_knowledge

from .conftest import with_copies_of_first_recommendation


def test_every_operator_of_the_condition_language_has_a_sql_rendering() -> None:
    for op in BOOL_OPS:
        assert op in COMPARATORS or hasattr(ExprCompiler, f"_bool_{op}"), op
    for op in VALUE_OPS:
        assert op == "case" or hasattr(ExprCompiler, f"_value_{op}"), op


@pytest.mark.parametrize("dialect", sorted(DIALECTS))
def test_the_whole_knowledge_base_compiles_with_nothing_left_out(dialect: str) -> None:
    kb = default_knowledge()
    sql = compile_assessment(kb, dialect)
    q = DIALECTS[dialect].ident
    for derived in (*kb.spec.derived, *kb.spec.policy.outcome):
        assert f"AS {q('v_' + derived.name)}" in sql, derived.name
    for i, rule in enumerate(kb.spec.rules):
        assert f"AS {q(f'r_{i}')}" in sql, rule.id
        for j, _ in enumerate(rule.escalate):
            assert f"AS {q(f'r_{i}_{j}')}" in sql, rule.id
        if rule.suspect is not None:  # sets a bit of the suspected conditions' (and red flags') masks
            assert f"WHEN {q(f'r_{i}')}" in sql, rule.id
    for i, rec in enumerate(kb.spec.recommendations):
        assert f"AS {q(f'rec_{i}')}" in sql, rec.id
        assert f"WHEN {q(f'rec_{i}')} THEN {1 << i % MASK_BITS} ELSE 0 END" in sql, rec.id
    # Only this dialect's quoting.
    other = "`" if dialect != "spark" else '"'
    assert other not in re.sub(r"'[^']*'", "", sql)


def test_the_ranked_outcome_is_the_highest_rank_of_the_rules_that_fired() -> None:
    """Triage and imaging ranks: every TRUE/FALSE/NULL state of four rules (two share a rank, one has
    rank 0), against the highest rank computed in Python; NULL counts as not fired, none fired is 0."""
    builder = QueryBuilder(default_knowledge(), DUCKDB)
    pairs = [("a", 2), ("b", 4), ("c", 2), ("d", 0)]
    states: list[tuple[bool | None, ...]] = [()]
    for _ in pairs:
        states = [(*s, v) for s in states for v in (True, False, None)]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (a BOOLEAN, b BOOLEAN, c BOOLEAN, d BOOLEAN)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", states)
    rows = con.execute(f"SELECT a, b, c, d, {builder._ranked(pairs)} FROM t").fetchall()
    assert len(rows) == 81
    for *state, rank in rows:
        assert rank == max([r for (_, r), fired in zip(pairs, state, strict=True) if fired] + [0]), state
    assert builder._ranked([("d", 0)]) == "0"
    assert con.execute(f"SELECT {builder._ranked([])}").fetchone() == (0,)


@pytest.mark.parametrize(
    "expr",
    [
        {"unknown_op": ["age", 1]},
        {"eq": ["age", "young"]},
        {"lt": ["sex", 3]},
        {"eq": ["age", None]},
        {"has": ["age", 1]},
        {"sum": ["sex"]},
        {"eq": ["sex", "it's"]},
        "no_such_field",
    ],
)
def test_a_construct_without_sql_fails_loudly(expr: object) -> None:
    with pytest.raises(SqlCompileError):
        ExprCompiler(DUCKDB, {}).bool_(expr)


TABLES = {
    "grid": {"neck": {"20": 1.5, "30": 2.5}, "low_back": {"20": 3.0}, "40": {"1": 7.0}, "female": {"3": 1.0}}
}
BOOL_EXPRESSIONS: list[Any] = [
    "age",
    "pain_intensity",
    "sex",
    "startback",
    "neuroplastic.both_sides",
    "imaging_findings",
    {"only": ["regions", ["neck", "thoracic"]]},
    {"only": ["imaging_findings", ["disc_bulge"]]},
    {"at_least": [2, ["fever", "night_pain", {"has": ["regions", "neck"]}, {"gt": ["pain_intensity", 5]}]]},
    {"not": {"ne": ["startback.bothersomeness", 2]}},
    {"in": ["pain_intensity", [1, 3, 5]]},
    {"in": ["home_exercise", ["never"]]},
    {"eq": ["neuroplastic.both_sides", False]},
    {"ne": ["fever", True]},
    {"is_set": "physiotherapy_weeks"},
    {"is_set": "sex"},
    {"ge": [{"sub": ["pain_intensity", {"div": ["age", 7]}]}, 1.5]},
    {"lt": [{"div": ["physiotherapy_weeks", 3]}, 2]},
    {"ge": [{"sum": ["fever", "pain_intensity", {"sub": ["age", 60]}, 2]}, 4]},
    {"eq": [{"lookup": ["grid", {"case": [[{"has": ["regions", "neck"]}, "neck"]], "else": "low_back"},
                         {"case": [[{"lt": ["age", 50]}, "20"]], "else": "30"}]}, 1.5]},
    {"gt": [{"lookup": ["grid", "sex", "pain_intensity"]}, 0]},
    {"eq": [{"lookup": ["grid", {"case": [[{"ge": ["age", 40]}, "40"]], "else": "x"}, "pain_intensity"]},
            7.0]},
    {"eq": [{"case": [["fever", 1], [{"gt": ["age", 50]}, 2.5]], "else": None}, 2.5]},
]  # fmt: skip


def test_expressions_beyond_the_current_kb_agree_with_python() -> None:
    rng = random.Random(7)
    cases = [Case.model_validate(generate_case(rng), strict=True) for _ in range(3000)]
    names = case_input_names()
    python = Compiler(names, TABLES)
    sql = ExprCompiler(DUCKDB, TABLES)
    select = ", ".join(f"{sql.bool_(e)} AS c{i}" for i, e in enumerate(BOOL_EXPRESSIONS))
    con = duckdb.connect()
    con.register("cases", pa.Table.from_pylist([flatten_case(c) for c in cases]))
    rows = con.execute(f"SELECT {select} FROM cases").fetchall()
    for case, row in zip(cases, rows, strict=True):
        env = case_env(case)
        for expr, got in zip(BOOL_EXPRESSIONS, row, strict=True):
            assert got == python.compile_bool(expr)(env), (expr, case)
    # Every expression is true for some cases and false for others, so the comparison means something.
    for i, expr in enumerate(BOOL_EXPRESSIONS):
        assert {r[i] for r in rows} == {True, False}, expr


def test_flat_layout_names_every_case_field() -> None:
    names = {f.name for f in FLAT_FIELDS}
    assert names == set(case_input_names())


def test_masked_lists_read_bits_in_order_across_columns() -> None:
    m = MaskedList("x", tuple(f"item{i}" for i in range(70)))
    assert m.columns == ["x_0", "x_1"]
    assert m.decode([0b101, 1 << 3]) == ["item0", "item2", f"item{MASK_BITS + 3}"]
    assert MaskedList("empty", ()).columns == ["empty_0"]


@pytest.mark.safety("SR-BAT-1")
def test_a_knowledge_base_past_62_recommendations_gets_more_mask_columns_and_the_same_results(
    tmp_path: Path,
) -> None:
    kb = default_knowledge()
    # Copies of the first recommendation under new ids: they apply exactly when it does.
    many = with_copies_of_first_recommendation(kb, [{"id": f"extra_{k}"} for k in range(70)])
    assert len(masked_lists(many)[2].columns) == 2
    rng = random.Random(5)
    cases = [generate_case(rng) for _ in range(400)]
    source = tmp_path / "cases.jsonl"
    source.write_text("".join(json.dumps(c) + "\n" for c in cases), encoding="utf-8")
    run_batch(many, source, tmp_path / "out.jsonl")
    written = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    expected = [evaluate(many, Case.model_validate(c, strict=True)) for c in cases]
    assert [w["recommendation_ids"] for w in written] == [[r.id for r in a.recommendations] for a in expected]
    assert any(f"extra_{69}" in w["recommendation_ids"] for w in written)
