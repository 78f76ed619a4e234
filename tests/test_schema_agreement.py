"""The Pydantic models' JSON Schemas agree with the contract's schema files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse import Assessment, Case


def _resolve(schema: dict[str, Any], root: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = {**root["$defs"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def normalise(schema: dict[str, Any], root: dict[str, Any]) -> Any:
    """Reduce a schema to what the contract fixes: types, enums, bounds, required and nested fields."""
    schema = _resolve(schema, root)
    variants = schema.get("anyOf") or schema.get("oneOf")
    if variants:
        return sorted((normalise(v, root) for v in variants), key=json.dumps)
    out: dict[str, Any] = {}
    if "enum" in schema or "const" in schema:
        out["enum"] = sorted(schema.get("enum", [schema.get("const")]))
    elif "type" in schema:
        out["type"] = schema["type"]
    for key in ("minimum", "maximum", "minItems", "uniqueItems", "additionalProperties"):
        if key in schema:
            out[key] = schema[key]
    if "items" in schema:
        out["items"] = normalise(schema["items"], root)
    if "properties" in schema:
        out["properties"] = {k: normalise(v, root) for k, v in schema["properties"].items()}
        out["required"] = sorted(schema.get("required", []))
    return out


def _contract(shared_dir: Path, name: str) -> dict[str, Any]:
    return json.loads((shared_dir / "contract" / name).read_text(encoding="utf-8"))


def _compare(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    a, b = normalise(ours, ours), normalise(theirs, theirs)
    assert sorted(a["properties"]) == sorted(b["properties"])
    assert a["required"] == b["required"]
    for name in b["properties"]:
        assert a["properties"][name] == b["properties"][name], name


@pytest.mark.safety("SR-KB-3")
def test_case_schema_agrees(shared_dir: Path) -> None:
    ours = Case.model_json_schema()
    theirs = _contract(shared_dir, "v2/case.schema.json")
    assert ours.get("additionalProperties") is False
    _compare(ours, theirs)


@pytest.mark.safety("SR-KB-3")
def test_assessment_schema_agrees(shared_dir: Path) -> None:
    _compare(
        Assessment.model_json_schema(mode="serialization"), _contract(shared_dir, "v2/assessment.schema.json")
    )
