"""Turning raw input into a Case, with field-level errors in the user's language."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .core.errors import FieldError, InvalidCase, InvalidInput
from .core.kb import KnowledgeBase
from .core.models import Case
from .input_limits import InputRejected, check_json

M = TypeVar("M", bound=BaseModel)


def _location(loc: tuple[int | str, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if part == "[key]":  # a bad dictionary key: the field path already names it
            continue
        if isinstance(part, int):
            parts.append(f"[{part}]")
        else:
            parts.append(("." if parts else "") + part)
    return "".join(parts) or "(case)"


def _message(kb: KnowledgeBase, error: ErrorDetails, lang: str) -> tuple[str, str]:
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    msg = str(ctx.get("error", error["msg"]))
    if "expected" in ctx:
        # Pydantic joins the allowed values with an English "or"; list them neutrally instead.
        values = re.findall(r"'([^']*)'", str(ctx["expected"]))
        ctx["expected"] = ", ".join(values) if values else ctx["expected"]
    if kind == "value_error":
        if "null is not allowed" in msg:
            kind = "null_not_allowed"
        elif "duplicate" in msg:
            kind = "duplicate"
    template = kb.spec.texts.get(f"error.{kind}") or kb.spec.texts.get("error.unknown")
    if template is None:
        return kind, error["msg"]
    try:
        return kind, template[lang].format(msg=msg, **ctx)
    except (KeyError, IndexError, ValueError):
        return kind, f"{template[lang]} ({error['msg']})"


def _field_errors(kb: KnowledgeBase, exc: ValidationError, lang: str) -> list[FieldError]:
    out = []
    for error in exc.errors(include_url=False):
        kind, message = _message(kb, error, lang)
        out.append(FieldError(field=_location(error["loc"]), type=kind, message=message))
    return out


def _simple_error(
    kb: KnowledgeBase, kind: str, lang: str, field: str = "(case)", msg: str = ""
) -> FieldError:
    template = kb.spec.texts.get(f"error.{kind}")
    text = template[lang].format(msg=msg) if template else msg or kind
    return FieldError(field=field, type=kind, message=text)


def validate_case(data: Mapping[str, Any] | Case, kb: KnowledgeBase, lang: str = "de") -> Case:
    """A validated Case, or InvalidCase listing every field problem."""
    if isinstance(data, Case):
        return data
    return _validate(Case, data, kb, lang, InvalidCase)


def validate_model(model: type[M], data: object, kb: KnowledgeBase, lang: str = "de") -> M:
    """Validate any strict input model (e.g. a diary entry); InvalidInput lists every field problem."""
    return _validate(model, data, kb, lang, InvalidInput)


def _validate(model: type[M], data: object, kb: KnowledgeBase, lang: str, error: type[InvalidInput]) -> M:
    if not isinstance(data, Mapping):
        raise error([_simple_error(kb, "not_an_object", lang)])
    try:
        return model.model_validate(dict(data), strict=True)
    except ValidationError as e:
        raise error(_field_errors(kb, e, lang)) from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _load_json_object(text: str, kb: KnowledgeBase, lang: str, error: type[InvalidInput]) -> None:
    """Reject JSON nested too deeply or with too many items (before the parser and the model's validation
    work through it), broken JSON, duplicate keys, NaN and non-objects before the model sees the text."""
    try:
        check_json(text)
    except InputRejected as e:  # its own words, but the kind clients know for text that cannot be read
        raise error([FieldError(field="(case)", type="json_invalid", message=e.message(lang))]) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except ValueError as e:
        raise error([_simple_error(kb, "json_invalid", lang, msg=str(e))]) from None
    if not isinstance(data, dict):
        raise error([_simple_error(kb, "not_an_object", lang)])


def parse_model_json(model: type[M], text: str, kb: KnowledgeBase, lang: str = "de") -> M:
    """Parse a strict model from JSON text (dates as ISO strings); InvalidInput lists every field problem."""
    _load_json_object(text, kb, lang, InvalidInput)
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as e:
        raise InvalidInput(_field_errors(kb, e, lang)) from None


def parse_case_json(text: str, kb: KnowledgeBase, lang: str = "de") -> Case:
    """Parse one Case from JSON text; a key given twice is an error, never silently the last one."""
    _load_json_object(text, kb, lang, InvalidCase)
    try:
        return Case.model_validate_json(text, strict=True)
    except ValidationError as e:
        raise InvalidCase(_field_errors(kb, e, lang)) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
