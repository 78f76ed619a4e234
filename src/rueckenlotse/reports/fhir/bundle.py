"""Everything about one Case as one FHIR R4B Bundle of type ``collection``.

Why ``collection`` and not ``document``: a document Bundle needs a Composition first, with an author who
attests it, and is meant as a signed-off clinical record. Ours is a machine-made set of linked
resources handed to another system; ``collection`` says exactly that and asks for nothing we would have
to invent.

Ids are UUIDv5 over the case content and the resource kind (the Bundle's also over the language and the
time), every timestamp is the ``at`` passed in: the same case, language and time give the same Bundle.
"""

from __future__ import annotations

import datetime as dt

from ...core.engine import evaluate
from ...core.kb import KnowledgeBase
from ...core.models import Case
from ...knowledge.loader import default_knowledge
from ...plan.builder import build_plan
from ...plan.library import Library, default_library
from .careplan import build_careplan
from .clinical import (
    build_imaging_context,
    build_observations,
    build_patient,
    build_startback_risk,
    build_triage_risk,
)
from .common import QUESTIONNAIRE_URL, Json, case_key, instant, resource_id, urn, uuid_for, validated
from .questionnaire import build_questionnaire
from .response import build_response


def _entry(resource: Json) -> Json:
    full_url = QUESTIONNAIRE_URL if resource["resourceType"] == "Questionnaire" else urn(str(resource["id"]))
    return {"fullUrl": full_url, "resource": resource}


def _bundle_id(case: Case, lang: str, at: dt.datetime) -> str:
    return uuid_for(f"Bundle:{lang}:{instant(at)}:{case_key(case)}")


def build_bundle(
    case: Case,
    *,
    at: dt.datetime,
    lang: str = "de",
    kb: KnowledgeBase | None = None,
    library: Library | None = None,
) -> Json:
    """The Bundle for one Case: Patient, Questionnaire, QuestionnaireResponse, Observations (scores,
    MRI findings in context), RiskAssessments and CarePlan; texts of assessment and plan in ``lang``."""
    kb = kb or default_knowledge()
    library = library or default_library()
    assessment = evaluate(kb, case, lang)
    plan = build_plan(case, assessment, start=at.date(), lang=lang, library=library)
    patient = build_patient(case)
    response = build_response(case, kb, at=at, patient=patient, lang=lang)
    observations = build_observations(case, assessment, at=at, patient=patient, response=response, lang=lang)
    triage = build_triage_risk(
        kb, case, assessment, at=at, lang=lang, patient=patient, response=response, observations=observations
    )
    startback = build_startback_risk(
        kb, case, assessment, at=at, lang=lang, patient=patient, response=response, observations=observations
    )
    risks = [triage] + ([startback] if startback is not None else [])
    careplan = build_careplan(
        plan, library, plan_id=resource_id(case, "CarePlan"), at=at, patient=patient, supporting=risks
    )
    imaging = build_imaging_context(
        kb, case, assessment, at=at, patient=patient, response=response, lang=lang
    )
    resources = [patient, build_questionnaire(kb), response, *observations.values(), *imaging]
    resources += [*risks, careplan]
    return validated(
        {
            "resourceType": "Bundle",
            "id": _bundle_id(case, lang, at),
            "type": "collection",
            "timestamp": instant(at),
            "entry": [_entry(r) for r in resources],
        }
    )
