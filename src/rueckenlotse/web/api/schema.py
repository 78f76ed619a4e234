"""JSON Schemas for the OpenAPI document that FastAPI cannot derive itself.

A request body the API parses by hand (so that duplicate keys and NaN are errors) and the problem
documents (a media type of their own) are described inline: ``$defs`` references resolved in place,
and ``default: null`` dropped where null is not allowed (the contract's Case has no nulls).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

_DEFS = "#/$defs/"


class ResponseModel(BaseModel):
    """Base of the API's response models: a field with a default is still always sent, so required."""

    model_config = ConfigDict(json_schema_serialization_defaults_required=True)


def with_case(document: BaseModel, case: BaseModel) -> dict[str, Any]:
    """The document as JSON with its ``case`` as the contract writes a Case: unanswered fields left out,
    never null (the Case schema has no nulls)."""
    out = document.model_dump(mode="json")
    out["case"] = case.model_dump(mode="json", exclude_none=True)
    return out


def inline_schema(
    model: type[BaseModel], *, mode: Literal["validation", "serialization"] = "validation"
) -> dict[str, Any]:
    """The model's JSON Schema without ``$defs``: every reference replaced by its target."""
    schema = model.model_json_schema(mode=mode)
    defs = schema.pop("$defs", {})
    resolved = _resolve(schema, defs, ())
    assert isinstance(resolved, dict)
    return resolved


def _resolve(node: Any, defs: dict[str, Any], seen: tuple[str, ...]) -> Any:
    if isinstance(node, list):
        return [_resolve(item, defs, seen) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_DEFS):
        name = ref.removeprefix(_DEFS)
        if name in seen:
            raise ValueError(f"cannot inline the recursive schema {name!r}")
        target = _resolve(defs[name], defs, (*seen, name))
        rest = {
            k: _resolve(v, defs, seen) for k, v in node.items() if k != "$ref" and not _null_default(k, v)
        }
        return {**target, **rest}
    return {k: _resolve(v, defs, seen) for k, v in node.items() if not _null_default(k, v)}


def _null_default(key: str, value: Any) -> bool:
    return key == "default" and value is None
