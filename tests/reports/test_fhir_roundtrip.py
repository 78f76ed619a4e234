"""Case -> QuestionnaireResponse -> Case gives the same Case and the same Assessment: for every vignette
of contract 2 (../shared/cases/v2: those of version 1 and the new ones) and for generated cases
(tests/strategies.py, every contract-2 field). A field lost on the way would read as "no"."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse
from hypothesis import HealthCheck, given, settings

from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Case
from rueckenlotse.reports.fhir import build_response, intake_layout, parse_response_json, response_to_case
from rueckenlotse.reports.fhir.clinical import build_patient

from ..conftest import SHARED
from ..strategies import cases

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
V2 = ("cases", "v2")
# The names only, for the test ids; each test reads its file through the shared_dir fixture.
VIGNETTES = sorted(p.stem for p in SHARED.joinpath(*V2).glob("*.json"))
NEW_FIELDS = {
    "neuro_bilateral_legs",
    "neuro_bilateral_arms",
    "cannot_walk",
    "pain_worse_lying_or_straining",
    "pain_progressive",
    "cancer_active",
    "recent_spinal_procedure",
    "rigors",
    "diabetes",
    "band_like_rash_or_burning",
    "pain_with_exertion_sweating_or_nausea",
    "pregnancy_week",
    "pregnancy_warning_signs",
    "gave_birth_recently",
    "sepsis_signs",
}


def response_for(case: Case, kb: KnowledgeBase, lang: str = "de") -> dict[str, Any]:
    return build_response(case, kb, at=AT, patient=build_patient(case), lang=lang)


def round_trip(case: Case, kb: KnowledgeBase, lang: str = "de") -> Case:
    # Through JSON text, as a file would carry it.
    return parse_response_json(json.dumps(response_for(case, kb, lang)), kb, lang)


def test_vignettes_are_there(shared_dir: Path) -> None:
    assert len(list(shared_dir.joinpath(*V2).glob("*.json"))) == len(VIGNETTES) >= 52


@pytest.mark.safety("SR-TRI-4")
@pytest.mark.parametrize("name", VIGNETTES)
def test_round_trip_of_every_vignette(name: str, shared_dir: Path, kb: KnowledgeBase) -> None:
    path = shared_dir.joinpath(*V2, f"{name}.json")
    case = Case.model_validate(json.loads(path.read_text(encoding="utf-8"))["case"], strict=True)
    for lang in ("de", "en"):
        again = round_trip(case, kb, lang)
        assert again == case
        assert evaluate(kb, again, lang) == evaluate(kb, case, lang)


@pytest.mark.safety("SR-TRI-4")
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cases())
def test_round_trip_of_generated_cases(data: dict[str, Any], kb: KnowledgeBase) -> None:
    case = Case.model_validate(data, strict=True)
    response = response_for(case, kb)
    QuestionnaireResponse.model_validate(response)
    again = response_to_case(response, kb)
    assert again == case
    assert evaluate(kb, again, "de") == evaluate(kb, case, "de")


def test_absent_neuroplastic_block_and_an_empty_one_stay_apart(kb: KnowledgeBase) -> None:
    base = {"age": 50, "regions": ["low_back"], "duration_weeks": 20.0}
    without = Case.model_validate(base)
    empty = Case.model_validate({**base, "neuroplastic": {}})
    assert round_trip(without, kb).neuroplastic is None
    assert round_trip(empty, kb).neuroplastic is not None


def test_every_case_field_has_an_item_of_its_type() -> None:
    fields = intake_layout().fields
    top = {path.partition(".")[0] for path in fields}
    assert set(Case.model_fields) == top
    assert NEW_FIELDS <= set(Case.model_fields)
    assert fields["pregnancy_week"].type == "integer"
    assert (fields["pregnancy_week"].min, fields["pregnancy_week"].max) == (0, 42)
    assert {o.code for o in fields["trauma"].options} == {"none", "strain", "minor", "major"}
    assert all(fields[f].type == "boolean" for f in NEW_FIELDS - {"pregnancy_week"})


@pytest.mark.safety("SR-TRI-4")
def test_every_new_field_and_a_strain_survive_the_round_trip(kb: KnowledgeBase) -> None:
    data: dict[str, Any] = dict.fromkeys(NEW_FIELDS - {"pregnancy_week"}, True)
    data |= {"age": 33, "sex": "female", "regions": ["thoracic"], "duration_weeks": 2.0}
    data |= {"trauma": "strain", "pregnant": True, "pregnancy_week": 24, "neuro_bilateral": True}
    case = Case.model_validate(data, strict=True)
    response = response_for(case, kb)
    answers = {i["linkId"]: i["answer"] for i in _flat(response["item"]) if "answer" in i}
    assert answers["pregnancy_week"] == [{"valueInteger": 24}]
    assert answers["trauma"][0]["valueCoding"]["code"] == "strain"
    assert all(answers[f] == [{"valueBoolean": True}] for f in NEW_FIELDS - {"pregnancy_week"})
    for lang in ("de", "en"):
        assert round_trip(case, kb, lang) == case


def _flat(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for i in items for x in [i, *_flat(i.get("item", []))]]
