"""How the intake questions map onto FHIR Questionnaire items (shared by export and import).

Each item that carries an answer has the Case field path as its linkId ("age", "startback.worrying_thoughts").
A multi_flags question becomes a group (linkId = question id) of boolean items, one per Case field; the
STarT Back and neuroplastic answers become groups with the linkId of their Case field, worded like the
question that offers the block. The "offer.*" questions themselves only steer the interview: they are
no Case content and no items here. A question's help text is a display item inside it (linkId + ".help").

Case fields the interview no longer asks (contract 1's ``neuro_bilateral``, replaced by one question
for the legs and one for the arms) still get an item, worded here, after the questionnaire's items: a
Case of contract 1 must survive the round trip, and a sign must never be lost to "no".

No ``enableWhen``: the interview skips questions by its ask_if conditions, but a Case (contract v1) may
give any field whatever the others say, and a response must be able to carry every Case. Several
conditions (age minus duration) could not be written as ``enableWhen`` anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Literal

from pydantic import BaseModel

from ...core.models import Case, NeuroplasticAnswers, StartBackAnswers
from ...questionnaire import LocalText, Question, Questionnaire, load_questionnaire
from ...questionnaire.model import LIST_KINDS, NESTED, NOT_ASKED, OFFER_PREFIX
from .common import codesystem

AnswerType = Literal["boolean", "integer", "decimal", "coding"]
HELP_SUFFIX = ".help"
_TYPES: dict[str, AnswerType] = {"bool": "boolean", "int": "integer", "number": "decimal"}
OptionValue = str | int
_NESTED_MODELS: dict[str, type[BaseModel]] = {
    "startback": StartBackAnswers,
    "neuroplastic": NeuroplasticAnswers,
}


@dataclass(frozen=True)
class AnswerOption:
    code: str
    value: OptionValue
    label: LocalText


@dataclass(frozen=True)
class FieldItem:
    """A question item that fills one Case field."""

    link_id: str
    text: LocalText
    type: AnswerType
    repeats: bool = False
    required: bool = False
    options: tuple[AnswerOption, ...] = ()
    min: int | float | None = None
    max: int | float | None = None
    help: LocalText | None = None

    @property
    def system(self) -> str:
        return codesystem(self.link_id)


@dataclass(frozen=True)
class GroupItem:
    link_id: str
    text: LocalText
    items: tuple[FieldItem, ...]
    help: LocalText | None = None


Item = FieldItem | GroupItem


@dataclass(frozen=True)
class Layout:
    items: tuple[Item, ...]

    @property
    def fields(self) -> dict[str, FieldItem]:
        """Every answer item by linkId (= Case field path)."""
        return {f.link_id: f for f in _all_fields(self.items)}

    @property
    def groups(self) -> dict[str, GroupItem]:
        return {g.link_id: g for g in self.items if isinstance(g, GroupItem)}

    @property
    def help_ids(self) -> frozenset[str]:
        """The linkIds of the help texts (display items, never answered)."""
        every: list[Item] = [*self.items, *_all_fields(self.items)]
        return frozenset(help_link_id(i.link_id) for i in every if i.help is not None)


def help_link_id(link_id: str) -> str:
    return f"{link_id}{HELP_SUFFIX}"


def _all_fields(items: tuple[Item, ...]) -> list[FieldItem]:
    out: list[FieldItem] = []
    for item in items:
        out += list(item.items) if isinstance(item, GroupItem) else [item]
    return out


def _required(path: str) -> bool:
    head, _, tail = path.partition(".")
    if tail:  # inside its group: every STarT Back answer is needed once the block is answered
        return _NESTED_MODELS[head].model_fields[tail].is_required()
    return Case.model_fields[path].is_required()


def _field_item(q: Question) -> FieldItem:
    assert q.field is not None  # every kind but multi_flags has a field (questionnaire model)
    options = tuple(AnswerOption(str(o.value), o.value, o.label) for o in q.options if o.value is not None)
    return FieldItem(
        link_id=q.field,
        text=q.text,
        type=_TYPES.get(q.kind, "coding"),
        repeats=q.kind in LIST_KINDS,
        required=_required(q.field),
        options=options,
        min=q.min,
        max=q.max,
        help=q.help,
    )


def _flag_group(q: Question) -> GroupItem:
    items = tuple(
        FieldItem(link_id=o.field, text=o.label, type="boolean") for o in q.options if o.field is not None
    )
    return GroupItem(link_id=q.id, text=q.text, items=items, help=q.help)


def build_layout(qn: Questionnaire) -> Layout:
    offers = {
        q.field[len(OFFER_PREFIX) :]: q.text
        for q in qn.questions
        if q.field and q.field.startswith(OFFER_PREFIX)
    }
    items: list[Item] = []
    nested: dict[str, list[FieldItem]] = {}
    for q in qn.questions:
        if q.kind == "multi_flags":
            items.append(_flag_group(q))
            continue
        assert q.field is not None
        head, _, tail = q.field.partition(".")
        if q.field.startswith(OFFER_PREFIX):
            continue
        if tail and head in NESTED:
            if head not in nested:
                nested[head] = []
                items.append(GroupItem(link_id=head, text=offers.get(head, q.text), items=()))
            nested[head].append(_field_item(q))
            continue
        items.append(_field_item(q))
    items += [_not_asked_item(name) for name in sorted(NOT_ASKED)]
    filled = tuple(
        GroupItem(i.link_id, i.text, tuple(nested[i.link_id]), i.help)
        if isinstance(i, GroupItem) and i.link_id in nested
        else i
        for i in items
    )
    return Layout(filled)


# Version-1 Case fields the questionnaire no longer asks: still items, so every Case makes a round trip.
_NOT_ASKED_TEXTS: dict[str, LocalText] = {
    "neuro_bilateral": LocalText(
        de="Schmerzen, Taubheit oder Schwäche in beiden Beinen oder in beiden Armen (Frage der Version 1)",
        en="Pain, numbness or weakness in both legs or in both arms (question of version 1)",
    ),
}


def _not_asked_item(name: str) -> FieldItem:
    return FieldItem(link_id=name, text=_NOT_ASKED_TEXTS[name], type="boolean")


@cache
def intake_layout() -> Layout:
    """The layout of the packaged questionnaire."""
    return build_layout(load_questionnaire())
