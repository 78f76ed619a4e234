"""A QuestionnaireResponse to our intake Questionnaire back into a Case.

Checked in this order, every problem reported per field (the linkId, which is the Case field path,
or the item's position): JSON, FHIR R4B structure (``fhir.resources``), that it answers our Questionnaire,
each item (known linkId, answered once, the right answer type, a code of ours), and finally the Case
itself (rueckenlotse.validation). Anything taken from the input and shown in a message is shortened and
has control and direction characters escaped, so hostile text cannot mislead a terminal or a log.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from pydantic import BaseModel, ValidationError

from ...core.errors import FieldError, InvalidCase, InvalidInput
from ...core.kb import KnowledgeBase
from ...core.models import Case
from ...input_limits import MAX_NESTING_DEPTH, InputRejected, check_json
from ...validation import validate_case
from .common import QUESTIONNAIRE_URL
from .layout import FieldItem, Layout, intake_layout
from .texts import fhir_texts

_SHOWN_MAX = 60
_EXPECTED_KEY = {
    "boolean": "valueBoolean",
    "integer": "valueInteger",
    "decimal": "valueDecimal",
    "coding": "valueCoding",
}
_STATUSES = ("completed", "amended")


class InvalidResponse(InvalidInput):
    """The QuestionnaireResponse cannot become a Case; ``errors`` lists every problem."""


def shown(value: object) -> str:
    """Input text made safe to show: quoted, control and direction characters escaped (``repr`` escapes
    every character Python does not count as printable), at most about 60 characters."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return repr(text if len(text) <= _SHOWN_MAX else text[: _SHOWN_MAX - 1] + "…")


def _error(field: str, kind: str, lang: str, **values: object) -> FieldError:
    return FieldError(
        field=field, type=kind, message=fhir_texts().format(f"fhir.importing.{kind}", lang, **values)
    )


class _Reader:
    """Collects the answers and every problem of one response."""

    def __init__(self, layout: Layout, lang: str) -> None:
        self.layout = layout
        self.fields = layout.fields
        self.help_ids = layout.help_ids
        self.lang = lang
        self.answers: dict[str, Any] = {}
        self.errors: list[FieldError] = []

    def fail(self, field: str, kind: str, **values: object) -> None:
        self.errors.append(_error(field, kind, self.lang, **values))

    def items(self, items: list[Any], path: str, *, top: bool) -> None:
        for index, item in enumerate(items):
            where = f"{path}[{index}]"
            link_id = item.get("linkId")
            if link_id in self.help_ids and not item.get("answer"):
                continue  # a sender may echo our help texts; they carry nothing
            if link_id in self.layout.groups:
                self._group(item, where, top=top)
            elif link_id in self.fields:
                self._field(self.fields[link_id], item)
            else:
                self.fail(where, "unknown_link_id", got=shown(link_id))

    def _group(self, item: Mapping[str, Any], where: str, *, top: bool) -> None:
        if not top:
            self.fail(where, "nested_group")
        elif item.get("answer"):
            self.fail(where, "group_answer")
        else:
            self.items(list(item.get("item") or []), f"{where}.item", top=False)

    def _field(self, field: FieldItem, item: Mapping[str, Any]) -> None:
        answers = list(item.get("answer") or [])
        name = field.link_id
        if name in self.answers:
            self.fail(name, "duplicate")
            return
        if len(answers) > 1 and not field.repeats:
            self.fail(name, "too_many")
            return
        values = [self._value(field, a) for a in answers]
        if not values or any(v is _BAD for v in values):
            return
        self.answers[name] = values if field.repeats else values[0]

    def _value(self, field: FieldItem, answer: Mapping[str, Any]) -> Any:
        key = _EXPECTED_KEY[field.type]
        value: Any = answer.get(key)
        ok = {
            "boolean": isinstance(value, bool),
            "integer": type(value) is int,
            "decimal": type(value) in (int, float),
            "coding": isinstance(value, Mapping),
        }[field.type]
        if not ok:
            self.fail(field.link_id, "wrong_type", expected=key)
            return _BAD
        if field.type == "decimal":
            return float(value)
        if field.type != "coding":
            return value
        for option in field.options:
            if value.get("system") == field.system and value.get("code") == option.code:
                return option.value
        got = f"{shown(value.get('system'))}#{shown(value.get('code'))}"
        allowed = ", ".join(o.code for o in field.options)
        self.fail(field.link_id, "unknown_code", got=got, allowed=allowed, system=field.system)
        return _BAD


_BAD = object()  # marks an answer already reported as wrong


def _case_data(answers: Mapping[str, Any]) -> dict[str, Any]:
    case: dict[str, Any] = {}
    for path, value in answers.items():
        head, _, tail = path.partition(".")
        if tail:
            case.setdefault(head, {})[tail] = value
        else:
            case[head] = value
    return case


def _loc(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + shown(part).strip("'\"")
    return out or "(response)"


def _known_type(name: object) -> bool:
    if not isinstance(name, str):
        return False
    try:
        get_fhir_model_class(name)
    except (KeyError, ValueError):
        return False
    return True


def _unknown_resource_types(data: object) -> list[tuple[str, dict[str, object]]]:
    """Every "resourceType" naming no FHIR R4B type, with where it is (fhir.resources would fail on it
    with a TypeError or KeyError, not a validation error)."""
    found: list[tuple[str, dict[str, object]]] = []
    stack: list[tuple[tuple[int | str, ...], object]] = [((), data)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, Mapping):
            if "resourceType" in node and not _known_type(node["resourceType"]):
                found.append((_loc((*path, "resourceType")), {"got": shown(node["resourceType"])}))
            stack += [((*path, str(k)), v) for k, v in node.items()]
        elif isinstance(node, list):
            stack += [((*path, i), v) for i, v in enumerate(node)]
    return sorted(found, key=lambda f: f[0])


def structure_problems(
    model: type[BaseModel], data: Mapping[str, Any]
) -> list[tuple[str, str, dict[str, object]]]:
    """What the ``fhir.resources`` R4B model finds wrong with ``data``, as (field, kind, values) for the
    caller's texts: "unknown_resource_type" (got), "fhir_invalid" (msg) or "fhir_unreadable" when the
    library itself fails on the input (it reads some misplaced strings as JSON and then trips over them):
    hostile input is refused, never a traceback. A RecursionError is left to the caller."""
    unknown = _unknown_resource_types(data)
    if unknown:
        return [(field, "unknown_resource_type", values) for field, values in unknown]
    try:
        model.model_validate(dict(data))
    except ValidationError as e:
        return [
            (_loc(err["loc"]), "fhir_invalid", {"msg": err["msg"]}) for err in e.errors(include_url=False)
        ]
    except RecursionError:
        raise
    except Exception:  # the library's own failure on odd input is a refusal too
        return [("(response)" if model is QuestionnaireResponse else "(bundle)", "fhir_unreadable", {})]
    return []


def _check_fhir(data: Mapping[str, Any], lang: str) -> list[FieldError]:
    return [
        _error(f, kind, lang, **values) for f, kind, values in structure_problems(QuestionnaireResponse, data)
    ]


def _check_header(data: Mapping[str, Any], lang: str) -> list[FieldError]:
    errors: list[FieldError] = []
    canonical = data.get("questionnaire")
    if not isinstance(canonical, str) or canonical.split("|", 1)[0] != QUESTIONNAIRE_URL:
        errors.append(
            _error("questionnaire", "questionnaire", lang, url=QUESTIONNAIRE_URL, got=shown(canonical))
        )
    if data.get("status") not in _STATUSES:
        errors.append(_error("status", "status", lang, got=shown(data.get("status"))))
    return errors


def response_to_case(data: object, kb: KnowledgeBase, lang: str = "de", layout: Layout | None = None) -> Case:
    """The Case a QuestionnaireResponse (parsed JSON) answers; InvalidResponse lists every problem.

    Any version of our Questionnaire is accepted: the linkIds are the Case field paths of contract v1,
    and each is checked on its own.
    """
    if not isinstance(data, Mapping):
        raise InvalidResponse([_error("(response)", "not_an_object", lang)])
    if data.get("resourceType") != "QuestionnaireResponse":
        raise InvalidResponse(
            [_error("resourceType", "resource_type", lang, got=shown(data.get("resourceType")))]
        )
    try:
        structural = _check_fhir(data, lang)
    except RecursionError:
        raise InvalidResponse([_error("(response)", "too_deep", lang, limit=MAX_NESTING_DEPTH)]) from None
    if structural:
        raise InvalidResponse(structural)
    reader = _Reader(layout or intake_layout(), lang)
    reader.errors += _check_header(data, lang)
    reader.items(list(data.get("item") or []), "item", top=True)
    if reader.errors:
        raise InvalidResponse(reader.errors)
    try:
        return validate_case(_case_data(reader.answers), kb, lang)
    except InvalidCase as e:
        raise InvalidResponse(e.errors) from None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {shown(key)}")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_response_json(text: str, kb: KnowledgeBase, lang: str = "de") -> Case:
    """``response_to_case`` for JSON text (a key given twice, NaN or Infinity are errors)."""
    try:
        check_json(text)  # before the parser recurses into it
    except InputRejected as e:
        raise InvalidResponse([FieldError("(response)", "json_invalid", e.message(lang))]) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except ValueError as e:
        raise InvalidResponse([_error("(response)", "json_invalid", lang, msg=str(e))]) from None
    return response_to_case(data, kb, lang)
