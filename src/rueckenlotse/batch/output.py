"""Writing the `results` table: JSONL and Parquet in the Assessment's shape, CSV flat.

JSONL/Parquet rows carry the contract's field names and shapes for every field the compiled path
computes (triage, suspected_conditions, phase, pain_type, chronification_risk, startback, imaging,
neuroplastic_indicators, review_in_days), plus `line` (the input line) and two batch fields:
`red_flag_rules` (id and condition of each warning-sign rule that fired, the contract's red_flags
without the per-record evidence) and `recommendation_ids` (the contract's recommendations without texts).
Texts, evidence, imaging context and the trace are per-record explanations: they are left out, and
`rueckenlotse assess` gives the full document for any single line.
CSV has one column per value (contract_version and knowledge_version included); lists are joined with '|'.
The compiled query gives the lists as masks (core.sql_compile.MaskedList), decoded here by table lookup.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..core.kb import KnowledgeBase
from ..core.models import (
    CONTRACT_VERSION,
    ChronificationRisk,
    Imaging,
    NeuroplasticLevel,
    PainType,
    Phase,
    RiskGroup,
    Triage,
)
from ..core.sql_compile import MASK_BITS, SCALAR_RESULTS, MaskedList, masked_lists
from .ordered import run_in_order

CSV_SEPARATOR = "|"
LOOKUP_BITS = 8  # a mask is read 8 bits at a time: tables of 256 lists


def _enum(con: Any, name: str, values: list[str]) -> str:
    """An ENUM type of the given ids: DuckDB writes lists of them (to Parquet) several times faster
    than lists of free strings; readers see plain strings."""
    if not values:
        return "VARCHAR"
    con.execute(f"DROP TYPE IF EXISTS {name}")
    literals = ", ".join("'" + v.replace("'", "''") + "'" for v in dict.fromkeys(values))
    con.execute(f"CREATE TYPE {name} AS ENUM ({literals})")
    return name


def _types(con: Any, kb: KnowledgeBase) -> tuple[str, str, str]:
    """(condition, red-flag struct, recommendation) item types of the lists."""
    condition = _enum(con, "rl_condition", [c.id for c in kb.spec.conditions])
    rule = _enum(con, "rl_rule", [r.id for r in kb.spec.rules])
    recommendation = _enum(con, "rl_recommendation", [r.id for r in kb.spec.recommendations])
    return condition, f"STRUCT(id {rule}, condition {condition})", recommendation


def _lookup(con: Any, m: MaskedList, item: Callable[[Any], Any], sql_type: str, name: str) -> str:
    """The list a row's masks stand for: per 8 bits, the list for those bits from a table (a DuckDB
    variable: one constant per run, not per row), the pieces concatenated in bit order."""
    parts = []
    for k, column in enumerate(m.columns):
        items = [item(x) for x in m.items[k * MASK_BITS : (k + 1) * MASK_BITS]]
        for start in range(0, len(items), LOOKUP_BITS):
            chunk = items[start : start + LOOKUP_BITS]
            table = [[chunk[b] for b in range(len(chunk)) if v >> b & 1] for v in range(1 << len(chunk))]
            variable = f"rl_{name}_{k}_{start}"
            con.execute(f"SET VARIABLE {variable} = ?::{sql_type}[][]", [table])
            bits = f'(("{column}" >> {start}) & {(1 << len(chunk)) - 1})'
            parts.append(f"getvariable('{variable}')[{bits} + 1]")
    if not parts:
        return f"[]::{sql_type}[]"
    return parts[0] if len(parts) == 1 else f"list_concat({', '.join(parts)})"


_SCALAR_ENUMS = {
    "triage": Triage,
    "imaging": Imaging,
    "phase": Phase,
    "pain_type": PainType,
    "chronification_risk": ChronificationRisk,
    "startback_group": RiskGroup,
    "neuroplastic_level": NeuroplasticLevel,
}


def nested_sql(con: Any, kb: KnowledgeBase, sort: bool) -> str:
    suspected, red_flags, recommendations = masked_lists(kb)
    condition, red_flag, recommendation = _types(con, kb)
    # The scalar answers as ENUMs too (their values are the contract's); an unknown value fails loudly.
    e = {c: f"{c}::{_enum(con, 'rl_' + c, [v.value for v in values])}" for c, values in _SCALAR_ENUMS.items()}
    return f"""
SELECT line, '{CONTRACT_VERSION}' AS contract_version, '{kb.version}' AS knowledge_version,
  {e["triage"]} AS triage,
  {_lookup(con, red_flags, lambda r: {"id": r[0], "condition": r[1]}, red_flag, "red")} AS red_flag_rules,
  {_lookup(con, suspected, str, condition, "suspected")} AS suspected_conditions,
  {e["phase"]} AS phase, {e["pain_type"]} AS pain_type, {e["chronification_risk"]} AS chronification_risk,
  CASE WHEN startback_group IS NULL THEN NULL ELSE {{'total': startback_total::INTEGER,
    'psychosocial': startback_psychosocial::INTEGER, 'group': {e["startback_group"]}}} END AS startback,
  {e["imaging"]} AS imaging,
  CASE WHEN neuroplastic_level IS NULL THEN NULL ELSE {{'count': neuroplastic_count::INTEGER,
    'of': {kb.neuroplastic_items}, 'level': {e["neuroplastic_level"]}}} END AS neuroplastic_indicators,
  review_in_days::INTEGER AS review_in_days,
  {_lookup(con, recommendations, str, recommendation, "recommendations")} AS recommendation_ids
FROM results {"ORDER BY line" if sort else ""}
"""


def flat_sql(con: Any, kb: KnowledgeBase, sort: bool) -> str:
    suspected, red_flags, recommendations = masked_lists(kb)

    def joined(m: MaskedList, item: Callable[[Any], Any], name: str) -> str:
        return f"array_to_string({_lookup(con, m, item, 'VARCHAR', name)}, '{CSV_SEPARATOR}')"

    columns = ", ".join(f'"{c}"' for c in SCALAR_RESULTS)
    return f"""
SELECT {columns},
  {joined(suspected, str, "suspected")} AS suspected_conditions,
  {joined(red_flags, lambda r: r[0], "red_ids")} AS red_flag_ids,
  {joined(red_flags, lambda r: r[1], "red_conditions")} AS red_flag_conditions,
  {joined(recommendations, str, "recommendations")} AS recommendation_ids,
  '{CONTRACT_VERSION}' AS contract_version, '{kb.version}' AS knowledge_version
FROM results {"ORDER BY line" if sort else ""}
"""


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write(con: Any, kb: KnowledgeBase, target: Path, fmt: str, sort: bool) -> None:
    """Writes `results` to target, sorted by line when `sort` (not needed when inserted in line order)."""
    if fmt == "csv":
        run_in_order(con, f"COPY ({flat_sql(con, kb, sort)}) TO {_q(target)} (FORMAT csv, HEADER true)")
    elif fmt == "jsonl":
        run_in_order(con, f"COPY ({nested_sql(con, kb, sort)}) TO {_q(target)} (FORMAT json)")
    else:
        run_in_order(con, f"COPY ({nested_sql(con, kb, sort)}) TO {_q(target)} (FORMAT parquet)")
