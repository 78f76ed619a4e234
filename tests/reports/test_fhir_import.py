"""Importing a QuestionnaireResponse: field-level errors in German and English for responses that are not
for our Questionnaire or answer wrongly, and hostile text (HTML, very long text, right-to-left and control
characters) that cannot break the import or get into a message unescaped."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

import pytest

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Case
from rueckenlotse.reports.fhir import (
    InvalidResponse,
    build_questionnaire,
    build_response,
    codesystem,
    parse_response_json,
    response_to_case,
    validated,
)
from rueckenlotse.reports.fhir.clinical import build_patient

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
CASE = Case.model_validate(
    {
        "age": 52,
        "sex": "female",
        "regions": ["low_back", "neck"],
        "duration_weeks": 3.5,
        "pain_intensity": 6,
        "leg_pain": "above_knee",
        "imaging_findings": ["disc_bulge"],
        "startback": {
            "leg_pain_recent": True,
            "neck_or_shoulder_pain_recent": False,
            "walks_short_distances_only": False,
            "dresses_more_slowly": True,
            "unsafe_to_be_active": False,
            "worrying_thoughts": True,
            "pain_terrible_never_better": False,
            "not_enjoying_things": False,
            "bothersomeness": 2,
        },
    }
)
HOSTILE = [
    "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "\u202eevil\u202c \u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627",
    "\x1b[2J\x1b[31mred\x07",
    "Ä" * 100_000,
]


@pytest.fixture
def response(kb: KnowledgeBase) -> dict[str, Any]:
    return build_response(CASE, kb, at=AT, patient=build_patient(CASE))


def item(response: dict[str, Any], link_id: str) -> dict[str, Any]:
    for top in response["item"]:
        for candidate in [top, *top.get("item", [])]:
            if candidate["linkId"] == link_id:
                return candidate
    raise KeyError(link_id)


def errors(data: object, kb: KnowledgeBase, lang: str = "de") -> list[tuple[str, str, str]]:
    with pytest.raises(InvalidResponse) as caught:
        response_to_case(data, kb, lang)
    return [(e.field, e.type, e.message) for e in caught.value.errors]


def test_the_unchanged_response_imports(response: dict[str, Any], kb: KnowledgeBase) -> None:
    assert response_to_case(response, kb) == CASE


def test_echoed_help_texts_are_ignored(response: dict[str, Any], kb: KnowledgeBase) -> None:
    item(response, "duration_weeks")["item"] = [{"linkId": "duration_weeks.help", "text": "Gemeint ist …"}]
    response["item"].append({"linkId": "emergency_signs.help", "text": "Diese Zeichen …"})
    assert response_to_case(response, kb) == CASE


def test_a_response_to_another_questionnaire_is_refused(response: dict[str, Any], kb: KnowledgeBase) -> None:
    response["questionnaire"] = "https://example.org/Questionnaire/phq9|1"
    (de,) = errors(response, kb, "de")
    (en,) = errors(response, kb, "en")
    assert de[:2] == en[:2] == ("questionnaire", "questionnaire")
    assert "gehören nicht zu unserem Fragebogen" in de[2]
    assert "not for our questionnaire" in en[2]


def test_another_resource_type_is_refused(kb: KnowledgeBase) -> None:
    assert errors({"resourceType": "Patient"}, kb)[0][:2] == ("resourceType", "resource_type")
    assert errors(["not", "an", "object"], kb)[0][1] == "not_an_object"


def test_an_unfinished_response_is_refused(response: dict[str, Any], kb: KnowledgeBase) -> None:
    response["status"] = "in-progress"
    assert [e[:2] for e in errors(response, kb)] == [("status", "status")]


def test_unknown_link_id_names_the_item(response: dict[str, Any], kb: KnowledgeBase) -> None:
    response["item"].append({"linkId": "favourite_colour", "answer": [{"valueString": "blue"}]})
    (field, kind, message) = errors(response, kb, "en")[0]
    assert field == f"item[{len(response['item']) - 1}]"
    assert kind == "unknown_link_id"
    assert "'favourite_colour'" in message


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("link_id", "answer", "expected"),
    [
        ("age", {"valueString": "52"}, "valueInteger"),
        ("age", {"valueDecimal": 52.5}, "valueInteger"),
        ("fever", {"valueInteger": 1}, "valueBoolean"),
        ("duration_weeks", {"valueString": "3"}, "valueDecimal"),
        ("sex", {"valueString": "female"}, "valueCoding"),
    ],
)
def test_wrong_answer_type_is_a_field_error(
    response: dict[str, Any], kb: KnowledgeBase, link_id: str, answer: dict[str, Any], expected: str
) -> None:
    item(response, link_id)["answer"] = [answer]
    for lang in ("de", "en"):
        ((field, kind, message),) = errors(response, kb, lang)
        assert (field, kind) == (link_id, "wrong_type")
        assert expected in message


def test_a_code_not_in_our_codesystem_is_refused(response: dict[str, Any], kb: KnowledgeBase) -> None:
    item(response, "leg_pain")["answer"] = [
        {"valueCoding": {"system": codesystem("leg_pain"), "code": "hip"}}
    ]
    item(response, "sex")["answer"] = [
        {"valueCoding": {"system": "http://hl7.org/fhir/administrative-gender", "code": "female"}}
    ]
    found = errors(response, kb, "en")
    assert {(f, k) for f, k, _ in found} == {("leg_pain", "unknown_code"), ("sex", "unknown_code")}
    assert any("none, above_knee, below_knee" in m for _, _, m in found)


def test_two_answers_to_a_single_question_and_a_question_twice(
    response: dict[str, Any], kb: KnowledgeBase
) -> None:
    item(response, "age")["answer"].append({"valueInteger": 53})
    response["item"].append(copy.deepcopy(item(response, "pain_intensity")))
    found = {(f, k) for f, k, _ in errors(response, kb)}
    assert found == {("age", "too_many"), ("pain_intensity", "duplicate")}


@pytest.mark.safety("SR-IN-1")
def test_values_outside_the_case_contract_are_case_field_errors(
    response: dict[str, Any], kb: KnowledgeBase
) -> None:
    item(response, "age")["answer"] = [{"valueInteger": 130}]
    item(response, "startback")["item"].pop()  # bothersomeness left unanswered
    found = {f for f, _, _ in errors(response, kb)}
    assert found == {"age", "startback.bothersomeness"}


def test_missing_required_answers_name_the_fields(kb: KnowledgeBase) -> None:
    bare = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": build_questionnaire(kb)["url"],
    }
    assert {f for f, _, _ in errors(bare, kb)} == {"age", "regions", "duration_weeks"}


@pytest.mark.safety("SR-IN-1")
def test_structurally_broken_fhir_is_reported_by_position(
    response: dict[str, Any], kb: KnowledgeBase
) -> None:
    item(response, "age")["answer"] = [{"valueInteger": 52, "valueBoolean": True}]
    ((field, kind, message),) = errors(response, kb, "de")
    assert (
        kind == "fhir_invalid" and field.startswith("item[") and message.startswith("Kein gültiges FHIR R4B")
    )


@pytest.mark.parametrize("text", ["{", '{"a": 1, "a": 2}', '{"valueDecimal": NaN}', "[" * 100_000])
def test_broken_json_is_a_clear_error(text: str, kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidResponse) as caught:
        parse_response_json(text, kb, "en")
    assert caught.value.errors[0].type in ("json_invalid", "too_deep", "not_an_object")


@pytest.mark.safety("SR-IN-1", "SR-WEB-2")
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_display_text_is_ignored_and_never_breaks_the_import(
    response: dict[str, Any], kb: KnowledgeBase, hostile: str
) -> None:
    """Only linkIds, codes and values count; texts and displays are whatever the sender wrote."""
    for top in response["item"]:
        top["text"] = hostile
        for child in top.get("item", []):
            child["text"] = hostile
        for answer in top.get("answer", []):
            if "valueCoding" in answer:
                answer["valueCoding"]["display"] = hostile
    validated(response)
    assert response_to_case(json.loads(json.dumps(response)), kb) == CASE


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_link_ids_and_codes_are_escaped_and_short_in_messages(
    response: dict[str, Any], kb: KnowledgeBase, hostile: str
) -> None:
    response["item"].append({"linkId": hostile, "answer": [{"valueBoolean": True}]})
    item(response, "sex")["answer"] = [{"valueCoding": {"system": hostile, "code": hostile}}]
    found = errors(response, kb, "en")
    assert {k for _, k, _ in found} == {"unknown_link_id", "unknown_code"}
    for field, _, message in found:
        for text in (field, message):
            assert "<script>" not in text or "'<script>" in text  # shown only quoted, as data
            assert not any(ch in text for ch in "\u202e\u202c\x1b\x07")
            assert len(text) < 400


def test_hostile_questionnaire_texts_stay_plain_data(kb: KnowledgeBase) -> None:
    """Texts from the knowledge base go into FHIR strings verbatim and still validate."""
    from dataclasses import replace

    from rueckenlotse.questionnaire import LocalText
    from rueckenlotse.reports.fhir import Layout, intake_layout

    layout = intake_layout()
    hostile = LocalText(de=HOSTILE[0] + HOSTILE[1], en=HOSTILE[3])
    items = tuple(replace(i, text=hostile) for i in layout.items)
    questionnaire = build_questionnaire(kb, Layout(items))
    assert all(i["text"] == hostile.de for i in questionnaire["item"])
    assert questionnaire["item"][0]["_text"]["extension"][0]["extension"][1]["valueString"] == hostile.en


@pytest.mark.parametrize("resource_type", [None, 5, "Beobachtung", ["Observation"]])
def test_an_unknown_contained_resource_type_is_refused_not_a_traceback(
    response: dict[str, Any], kb: KnowledgeBase, resource_type: Any
) -> None:
    # fhir.resources itself fails on these with a TypeError or KeyError
    data = {**response, "contained": [{"resourceType": resource_type}]}
    assert [e[:2] for e in errors(data, kb)] == [("contained[0].resourceType", "unknown_resource_type")]


def test_a_string_where_fhir_resources_expects_an_element_is_refused(
    response: dict[str, Any], kb: KnowledgeBase
) -> None:
    # fhir.resources reads such a string as JSON and fails on what it finds (an AttributeError)
    data = {**response, "_authored": "5"}
    assert [e[:2] for e in errors(data, kb, "en")] == [("(response)", "fhir_unreadable")]
