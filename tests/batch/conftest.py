"""Batch fixtures: the PostgreSQL server of TEST_DATABASE_URL (tests skip without it), helpers to compare."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Assessment

from .. import needs

PG_ENV = needs.PG_ENV


@pytest.fixture
def pg_url() -> str:
    return needs.postgres_url()


def write_jsonl(path: Path, cases: Iterable[dict[str, Any]]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for case in cases:
            f.write(json.dumps(case) + "\n")
    return path


# Assessment fields the compiled path writes under their contract names.
CONTRACT_FIELDS = (
    "contract_version",
    "knowledge_version",
    "triage",
    "suspected_conditions",
    "phase",
    "pain_type",
    "chronification_risk",
    "startback",
    "imaging",
    "neuroplastic_indicators",
    "review_in_days",
)


def expected_row(line: int, a: Assessment) -> dict[str, Any]:
    """What the batch output must hold for one line, taken from the per-case engine's Assessment."""
    data = a.model_dump(mode="json")
    row = {"line": line, **{k: data[k] for k in CONTRACT_FIELDS}}
    row["red_flag_rules"] = [{"id": f["id"], "condition": f["condition"]} for f in data["red_flags"]]
    row["recommendation_ids"] = [r["id"] for r in data["recommendations"]]
    return row


def read_output(path: Path) -> list[dict[str, Any]]:
    """Batch output rows from JSONL or Parquet, in the same plain-JSON shape as expected_row."""
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    import pyarrow.parquet as pq

    return [json.loads(json.dumps(r)) for r in pq.read_table(path).to_pylist()]


def with_copies_of_first_recommendation(kb: KnowledgeBase, updates: list[dict[str, Any]]) -> KnowledgeBase:
    """The knowledge base with more recommendations: copies of its first one (its texts too), each with
    the given fields changed (at least a new `id`)."""
    first = kb.spec.recommendations[0]
    extra = [first.model_copy(update=u) for u in updates]
    texts = {f"rec.{r.id}": kb.spec.texts[f"rec.{first.id}"] for r in extra} | {
        f"rec.{r.id}.{v.id}": kb.spec.texts[f"rec.{first.id}.{v.id}"] for r in extra for v in r.variants
    }
    recommendations = [*kb.spec.recommendations, *extra]
    return KnowledgeBase(
        kb.spec.model_copy(update={"recommendations": recommendations, "texts": kb.spec.texts | texts})
    )
