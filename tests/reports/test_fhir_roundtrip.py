"""Case -> QuestionnaireResponse -> Case gives the same Case and the same Assessment: for every public
vignette (found as tests/test_vignettes.py finds them) and for generated cases (tests/strategies.py)."""

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
from rueckenlotse.reports.fhir import build_response, parse_response_json, response_to_case
from rueckenlotse.reports.fhir.clinical import build_patient

from ..strategies import cases
from ..test_vignettes import VIGNETTES

AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)


def response_for(case: Case, kb: KnowledgeBase, lang: str = "de") -> dict[str, Any]:
    return build_response(case, kb, at=AT, patient=build_patient(case), lang=lang)


def round_trip(case: Case, kb: KnowledgeBase, lang: str = "de") -> Case:
    # Through JSON text, as a file would carry it.
    return parse_response_json(json.dumps(response_for(case, kb, lang)), kb, lang)


def test_vignettes_are_there() -> None:
    assert len(VIGNETTES) >= 20


@pytest.mark.parametrize("path", VIGNETTES, ids=[p.stem for p in VIGNETTES])
def test_round_trip_of_every_public_vignette(path: Path, kb: KnowledgeBase) -> None:
    case = Case.model_validate(json.loads(path.read_text(encoding="utf-8"))["case"], strict=True)
    for lang in ("de", "en"):
        again = round_trip(case, kb, lang)
        assert again == case
        assert evaluate(kb, again, lang) == evaluate(kb, case, lang)


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
