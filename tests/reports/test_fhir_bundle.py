"""FHIR export: golden Bundles of public vignettes, every resource parsed back with fhir.resources R4B.

The golden files (tests/reports/golden/fhir/*.json, keys sorted) pin the whole Bundle for a fixed time.
They change when the knowledge base changes (its version is the Questionnaire's version, its texts are
in the resources). To write them anew, run with RUECKENLOTSE_UPDATE_GOLDEN=1 and review the diff:

    RUECKENLOTSE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_fhir_bundle.py
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle

from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Case
from rueckenlotse.reports.fhir import QUESTIONNAIRE_URL, build_bundle, build_questionnaire, intake_layout
from rueckenlotse.reports.fhir.common import TRANSLATION, codesystem

from ..conftest import SHARED

GOLDEN = Path(__file__).parent / "golden" / "fhir"
CASES = SHARED / "cases" / "v2"  # contract 2: the public vignettes of version 1 and the new ones
NEW_VIGNETTES = sorted(p.stem for p in CASES.glob("*.json") if int(p.stem[1:3]) > 24)
AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
# An emergency, a chronic case with STarT Back, sciatica, MRI findings (English), an acute neck.
GOLDEN_CASES = {
    "p01-ces-classic": "de",
    "p09-chronic-high-risk": "de",
    "p11-sciatica": "de",
    "p13-mri-context": "en",
    "p17-acute-neck": "en",
    "p45-sciatica-protrusion": "de",  # contract 2: a protrusion that may match the symptoms
    "p42-pregnancy-warning-signs": "de",  # contract 2: a new condition, pregnancy week
}
UPDATE = os.environ.get("RUECKENLOTSE_UPDATE_GOLDEN") == "1"


def vignette_case(name: str) -> Case:
    data = json.loads((CASES / f"{name}.json").read_text(encoding="utf-8"))
    return Case.model_validate(data["case"], strict=True)


def resources(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources(bundle) if r["resourceType"] == kind]


def flatten(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [x for i in items for x in [i, *flatten(i.get("item", []))]]


def dumped(bundle: dict[str, Any]) -> str:
    return json.dumps(bundle, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


@pytest.mark.parametrize(("name", "lang"), GOLDEN_CASES.items())
def test_golden_bundle(name: str, lang: str) -> None:
    text = dumped(build_bundle(vignette_case(name), at=AT, lang=lang))
    path = GOLDEN / f"{name}.{lang}.json"
    if UPDATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no golden file {path.name}: run with RUECKENLOTSE_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8")


@pytest.mark.parametrize(("name", "lang"), GOLDEN_CASES.items())
def test_every_resource_parses_with_fhir_resources(name: str, lang: str) -> None:
    bundle = build_bundle(vignette_case(name), at=AT, lang=lang)
    Bundle.model_validate(bundle)
    for resource in resources(bundle):
        model = get_fhir_model_class(resource["resourceType"])
        parsed = model.model_validate(resource)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == resource


def test_bundle_is_a_collection_with_the_expected_resources() -> None:
    bundle = build_bundle(vignette_case("p09-chronic-high-risk"), at=AT)
    assert bundle["type"] == "collection"
    assert bundle["timestamp"] == "2026-11-27T09:30:00Z"
    kinds = [r["resourceType"] for r in resources(bundle)]
    assert kinds == [
        "Patient",
        "Questionnaire",
        "QuestionnaireResponse",
        "Observation",
        "Observation",
        "Observation",
        "RiskAssessment",
        "RiskAssessment",
        "CarePlan",
    ]


def test_every_reference_resolves_inside_the_bundle() -> None:
    bundle = build_bundle(vignette_case("p09-chronic-high-risk"), at=AT)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    refs: list[str] = []

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("reference"), str):
                refs.append(node["reference"])
            for value in node.values():
                collect(value)
        elif isinstance(node, list):
            for value in node:
                collect(value)

    collect(bundle["entry"])
    assert refs and set(refs) <= full_urls
    response = of_type(bundle, "QuestionnaireResponse")[0]
    assert response["questionnaire"].split("|")[0] in full_urls


def test_ids_depend_on_the_case_and_times_on_at() -> None:
    case = vignette_case("p11-sciatica")
    first = build_bundle(case, at=AT)
    later = build_bundle(case, at=AT + dt.timedelta(days=1))
    other = build_bundle(vignette_case("p02-acute-lifting"), at=AT)
    assert first == build_bundle(case, at=AT)
    assert [r["id"] for r in resources(first)] == [r["id"] for r in resources(later)]
    assert first["timestamp"] != later["timestamp"]
    patient_ids = {of_type(b, "Patient")[0]["id"] for b in (first, other)}
    assert len(patient_ids) == 2


def test_questionnaire_has_every_case_field_in_german_with_english_translation(kb: KnowledgeBase) -> None:
    questionnaire = build_questionnaire(kb)
    assert questionnaire["url"] == QUESTIONNAIRE_URL
    assert questionnaire["version"] == kb.version
    items = flatten(questionnaire["item"])
    answer_items = {i["linkId"] for i in items if i["type"] not in ("group", "display")}
    assert answer_items == set(intake_layout().fields)
    help_items = {i["linkId"] for i in items if i["type"] == "display"}
    assert "duration_weeks.help" in help_items and help_items == intake_layout().help_ids
    for item in items:
        (ext,) = item["_text"]["extension"]
        assert ext["url"] == TRANSLATION
        parts = {e["url"]: e for e in ext["extension"]}
        assert parts["lang"]["valueCode"] == "en"
        assert parts["content"]["valueString"] and parts["content"]["valueString"] != item["text"]
        for option in item.get("answerOption", []):
            coding = option["valueCoding"]
            assert coding["system"].startswith("https://rueckenlotse.example/fhir/CodeSystem/")
            assert coding["_display"]["extension"][0]["url"] == TRANSLATION


def test_pain_observation_uses_loinc_and_the_case_value() -> None:
    case = vignette_case("p02-acute-lifting")
    bundle = build_bundle(case, at=AT)
    pain = [o for o in of_type(bundle, "Observation") if o["code"]["coding"][0]["code"] == "72514-3"]
    assert len(pain) == 1
    assert pain[0]["code"]["coding"][0]["system"] == "http://loinc.org"
    assert pain[0]["valueInteger"] == case.pain_intensity


def test_no_pain_observation_without_pain_intensity() -> None:
    case = Case.model_validate({"age": 30, "regions": ["neck"], "duration_weeks": 1.0})
    bundle = build_bundle(case, at=AT)
    assert of_type(bundle, "Observation") == []
    assert len(of_type(bundle, "RiskAssessment")) == 1  # triage only: no STarT Back answers


@pytest.mark.safety("SR-INF-2")
def test_triage_risk_assessment_names_the_red_flags_and_their_evidence(kb: KnowledgeBase) -> None:
    case = vignette_case("p01-ces-classic")
    assessment = evaluate(kb, case, "de")
    bundle = build_bundle(case, at=AT)
    triage = next(r for r in of_type(bundle, "RiskAssessment") if r["code"]["coding"][0]["code"] == "triage")
    assert triage["prediction"][0]["outcome"]["coding"][0]["code"] == assessment.triage.value == "emergency"
    reasons = {c["coding"][0]["code"]: c for c in triage["reasonCode"]}
    assert set(reasons) == {flag.id for flag in assessment.red_flags}
    for flag in assessment.red_flags:
        assert all(field in reasons[flag.id]["text"] for field in flag.evidence)
        assert reasons[flag.id]["coding"][1]["code"] == flag.condition
    response = of_type(bundle, "QuestionnaireResponse")[0]
    assert {"reference": f"urn:uuid:{response['id']}"} in triage["basis"]


def test_startback_risk_assessment_carries_group_and_scores(kb: KnowledgeBase) -> None:
    case = vignette_case("p09-chronic-high-risk")
    result = evaluate(kb, case, "de").startback
    assert result is not None
    bundle = build_bundle(case, at=AT)
    risk = next(r for r in of_type(bundle, "RiskAssessment") if r["code"]["coding"][0]["code"] == "startback")
    codes = [c["code"] for c in risk["prediction"][0]["qualitativeRisk"]["coding"]]
    assert result.group.value in codes
    scores = {o["code"]["coding"][0]["code"]: o for o in of_type(bundle, "Observation")}
    assert scores["startback-total"]["valueInteger"] == result.total
    assert scores["startback-psychosocial"]["valueInteger"] == result.psychosocial
    assert {"reference": f"urn:uuid:{scores['startback-total']['id']}"} in risk["basis"]


def test_care_plan_lists_the_plan_exercises_and_education(kb: KnowledgeBase) -> None:
    from rueckenlotse.plan.builder import build_plan

    case = vignette_case("p02-acute-lifting")
    plan = build_plan(case, evaluate(kb, case, "en"), start=AT.date(), lang="en")
    (careplan,) = of_type(build_bundle(case, at=AT, lang="en"), "CarePlan")
    titles = [a["detail"]["code"]["text"] for a in careplan["activity"]]
    assert plan.exercises and all(ex.title in titles for ex in plan.exercises)
    codes = {a["detail"]["code"]["coding"][0]["code"] for a in careplan["activity"]}
    assert set(plan.education) <= codes


@pytest.mark.safety("SR-TRI-3")
def test_care_plan_holds_no_exercises_while_a_red_flag_stands() -> None:
    (careplan,) = of_type(build_bundle(vignette_case("p01-ces-classic"), at=AT), "CarePlan")
    systems = {a["detail"]["code"]["coding"][0]["system"].rsplit("/", 1)[1] for a in careplan["activity"]}
    assert systems == {"education"}


def imaging_observations(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in of_type(bundle, "Observation") if o["category"][0]["coding"][0]["code"] == "imaging"]


def components(observation: dict[str, Any]) -> dict[str, Any]:
    return {c["code"]["coding"][0]["code"]: c for c in observation["component"]}


def test_mri_findings_in_context_are_observations_with_may_match_symptoms(kb: KnowledgeBase) -> None:
    case = vignette_case("p45-sciatica-protrusion")
    assessment = evaluate(kb, case, "de")
    observations = imaging_observations(build_bundle(case, at=AT))
    assert len(observations) == len(assessment.imaging_context) >= 2
    for row, observation in zip(assessment.imaging_context, observations, strict=True):
        (code,) = observation["code"]["coding"]
        assert (code["system"], code["code"]) == (codesystem("imaging_findings"), row.finding.value)
        parts = components(observation)
        assert parts["prevalence-pain-free"]["valueQuantity"]["value"] == row.prevalence_pain_free_percent
        assert parts["age-band"]["valueString"] == row.age_band
        assert parts["may-match-symptoms"]["valueBoolean"] is row.may_match_symptoms
        assert observation["derivedFrom"] == [{"reference": f"urn:uuid:{of_type_response_id(case)}"}]
    # policy: with radicular pain the protrusion may match, the wear of the disc does not
    matching = {r.finding.value for r in assessment.imaging_context if r.may_match_symptoms}
    assert matching == {"disc_protrusion"}


def of_type_response_id(case: Case) -> str:
    return str(of_type(build_bundle(case, at=AT), "QuestionnaireResponse")[0]["id"])


def test_no_imaging_observation_when_the_context_table_is_empty(kb: KnowledgeBase) -> None:
    case = vignette_case("p44-teen-mri-findings")
    assert case.imaging_findings and not evaluate(kb, case, "de").imaging_context
    assert imaging_observations(build_bundle(case, at=AT)) == []


@pytest.mark.safety("SR-INF-2")
@pytest.mark.parametrize("name", NEW_VIGNETTES)
def test_the_red_flags_of_each_new_vignette_reach_the_triage_assessment(name: str, kb: KnowledgeBase) -> None:
    case = vignette_case(name)
    assessment = evaluate(kb, case, "en")
    bundle = build_bundle(case, at=AT, lang="en")
    Bundle.model_validate(bundle)
    triage = next(r for r in of_type(bundle, "RiskAssessment") if r["code"]["coding"][0]["code"] == "triage")
    assert triage["prediction"][0]["outcome"]["coding"][0]["code"] == assessment.triage.value
    reasons = {c["coding"][0]["code"]: c for c in triage.get("reasonCode", [])}
    assert set(reasons) == {flag.id for flag in assessment.red_flags}
    for flag in assessment.red_flags:
        condition = reasons[flag.id]["coding"][1]
        assert condition["code"] == flag.condition
        assert condition["display"] == kb.render(f"condition.{flag.condition}.label", "en")
