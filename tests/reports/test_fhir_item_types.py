"""Every Questionnaire we export uses only the item types of FHIR R4/R4B (fhir.resources accepts R5's
"coding" too, so its validation alone does not catch one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rueckenlotse.knowledge.loader import default_knowledge, packaged_knowledge
from rueckenlotse.reports.fhir import build_measure_questionnaire, build_questionnaire

# http://hl7.org/fhir/R4B/valueset-item-type.html
R4_ITEM_TYPES = frozenset(
    "group display boolean decimal integer date dateTime time string text url choice open-choice "
    "attachment reference quantity".split()
)


def _items(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for item in items:
        yield item
        yield from _items(item.get("item", []))


def test_the_intake_questionnaire_uses_r4_item_types() -> None:
    questionnaire = build_questionnaire(default_knowledge())
    types = {item["type"] for item in _items(questionnaire["item"])}
    assert types <= R4_ITEM_TYPES and "choice" in types


def test_the_measure_questionnaires_use_r4_item_types() -> None:
    knowledge = packaged_knowledge()
    for measure in knowledge.measures.measures:
        questionnaire = build_measure_questionnaire(measure, version=knowledge.rules.version)
        assert {item["type"] for item in _items(questionnaire["item"])} <= R4_ITEM_TYPES, measure.id
