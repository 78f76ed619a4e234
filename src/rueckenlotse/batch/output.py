"""Writing the `results` table: JSONL and Parquet in the Assessment's shape, CSV flat.

JSONL/Parquet rows carry the contract's field names and shapes for every field the compiled path
computes (triage, suspected_conditions, phase, pain_type, chronification_risk, startback, imaging,
neuroplastic_indicators, review_in_days), plus `line` (the input line) and two batch fields:
`red_flag_rules` (id and condition of each warning-sign rule that fired, the contract's red_flags
without the per-record evidence) and `recommendation_ids` (the contract's recommendations without texts).
Texts, evidence, imaging context and the trace are per-record explanations: they are left out, and
`rueckenlotse assess` gives the full document for any single line.
CSV has one column per value; lists are joined with '|'.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..core.engine import NEUROPLASTIC_ITEMS
from ..core.kb import KnowledgeBase
from ..core.models import CONTRACT_VERSION
from ..core.sql_compile import LIST_SEPARATOR


def _list(column: str) -> str:
    split = f"string_split(\"{column}\", '{LIST_SEPARATOR}')"
    return f"(CASE WHEN \"{column}\" = '' THEN []::VARCHAR[] ELSE {split} END)"


def nested_sql(kb: KnowledgeBase) -> str:
    return f"""
SELECT line, '{CONTRACT_VERSION}' AS contract_version, '{kb.version}' AS knowledge_version, triage,
  list_transform(list_zip(ids, conditions), lambda z: {{'id': z[1], 'condition': z[2]}}) AS red_flag_rules,
  {_list("suspected_conditions")} AS suspected_conditions,
  phase, pain_type, chronification_risk,
  CASE WHEN startback_group IS NULL THEN NULL ELSE {{'total': startback_total::INTEGER,
    'psychosocial': startback_psychosocial::INTEGER, 'group': startback_group}} END AS startback,
  imaging,
  CASE WHEN neuroplastic_level IS NULL THEN NULL ELSE {{'count': neuroplastic_count::INTEGER,
    'of': {NEUROPLASTIC_ITEMS}, 'level': neuroplastic_level}} END AS neuroplastic_indicators,
  review_in_days::INTEGER AS review_in_days,
  {_list("recommendation_ids")} AS recommendation_ids
FROM (SELECT *, {_list("red_flag_ids")} AS ids, {_list("red_flag_conditions")} AS conditions FROM results)
ORDER BY line
"""


def _q(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def write(con: Any, kb: KnowledgeBase, target: Path, fmt: str) -> None:
    if fmt == "csv":
        query = f"SELECT *, '{kb.version}' AS knowledge_version FROM results ORDER BY line"
        con.execute(f"COPY ({query}) TO {_q(target)} (FORMAT csv, HEADER true)")
    elif fmt == "jsonl":
        con.execute(f"COPY ({nested_sql(kb)}) TO {_q(target)} (FORMAT json)")
    else:
        con.execute(f"COPY ({nested_sql(kb)}) TO {_q(target)} (FORMAT parquet)")
