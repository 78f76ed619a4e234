"""The intake as a FHIR R4B Questionnaire: German texts with the English translation extension."""

from __future__ import annotations

from ...core.kb import KnowledgeBase
from ...questionnaire import LocalText
from .common import MAX_VALUE, MIN_VALUE, QUESTIONNAIRE_URL, Json, coding, translation, validated
from .layout import FieldItem, GroupItem, Item, Layout, help_link_id, intake_layout

QUESTIONNAIRE_ID = "intake"
_ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"
_ITEM_CONTROL_EXT = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_TITLE = LocalText(
    de="Rückenlotse: Fragen zu Ihren Rückenschmerzen", en="Rückenlotse: questions about your back pain"
)


def _texts(key: str, text: LocalText) -> Json:
    return {key: text.de, f"_{key}": translation(text.en)}


def _bound(url: str, item: FieldItem, value: int | float) -> Json:
    return {"url": url, "valueInteger" if item.type == "integer" else "valueDecimal": value}


def _help(link_id: str, text: LocalText | None) -> list[Json]:
    if text is None:
        return []
    control = {"coding": [coding(_ITEM_CONTROL, "flyover", "Fly-over")]}
    return [
        {
            "linkId": help_link_id(link_id),
            "type": "display",
            **_texts("text", text),
            "extension": [{"url": _ITEM_CONTROL_EXT, "valueCodeableConcept": control}],
        }
    ]


def _field(item: FieldItem) -> Json:
    # A coded answer is item type "choice" in R4/R4B ("coding" is R5's name; fhir.resources accepts either).
    kind = "choice" if item.type == "coding" else item.type
    out: Json = {"linkId": item.link_id, "type": kind, **_texts("text", item.text)}
    if item.required:
        out["required"] = True
    if item.repeats:
        out["repeats"] = True
    bounds = [_bound(u, item, v) for u, v in ((MIN_VALUE, item.min), (MAX_VALUE, item.max)) if v is not None]
    if bounds:
        out["extension"] = bounds
    if item.options:
        out["answerOption"] = [
            {
                "valueCoding": {
                    **coding(item.system, o.code, o.label.de),
                    "_display": translation(o.label.en),
                }
            }
            for o in item.options
        ]
    if item.help is not None:
        out["item"] = _help(item.link_id, item.help)
    return out


def _item(item: Item) -> Json:
    if isinstance(item, GroupItem):
        return {
            "linkId": item.link_id,
            "type": "group",
            **_texts("text", item.text),
            "item": _help(item.link_id, item.help) + [_field(f) for f in item.items],
        }
    return _field(item)


def questionnaire_canonical(kb: KnowledgeBase) -> str:
    return f"{QUESTIONNAIRE_URL}|{kb.version}"


def build_questionnaire(kb: KnowledgeBase, layout: Layout | None = None) -> Json:
    """The Questionnaire of the intake; its ``version`` is the knowledge version."""
    lay = layout or intake_layout()
    return validated(
        {
            "resourceType": "Questionnaire",
            "id": QUESTIONNAIRE_ID,
            "language": "de",
            "url": QUESTIONNAIRE_URL,
            "version": kb.version,
            "name": "RueckenlotseIntake",
            **_texts("title", _TITLE),
            "status": "active",
            "subjectType": ["Patient"],
            "item": [_item(i) for i in lay.items],
        }
    )
