"""Patient, Observations and RiskAssessments of one Case and its Assessment (FHIR R4B).

- Patient: pseudonymous, only the sex (the Case has no name, no birth date).
- Observation: pain intensity (LOINC 72514-3, 0-10 as valueInteger); the STarT Back total and
  psychosocial scores with codes of our own CodeSystem (we claim no LOINC code we cannot vouch for).
- Observation per MRI/CT finding the person named (``imaging_context``): the finding coded as in the
  response, with how common it is in people without pain of that age, the age band and (contract 2)
  whether it may match the symptoms; category "imaging", the source as a note.
- RiskAssessment "triage": the triage level as the predicted outcome; one ``reasonCode`` per red flag
  (the rule and the suspected condition, its ``text`` naming the QuestionnaireResponse linkIds that are
  the evidence) and ``basis`` pointing at the response and the pain Observation.
- RiskAssessment "startback": the group as ``qualitativeRisk`` (low / moderate / high), ``basis`` the
  response and the two score Observations.
"""

from __future__ import annotations

import datetime as dt

from ...core.kb import KnowledgeBase
from ...core.models import Assessment, Case, RiskGroup
from .common import LOINC, UCUM, Json, codesystem, coding, instant, reference, resource_id, validated
from .texts import fhir_texts

_GENDER = {"female": "female", "male": "male", "diverse": "other"}
_RISK_PROBABILITY = "http://terminology.hl7.org/CodeSystem/risk-probability"
_QUALITATIVE = {
    RiskGroup.low: ("low", "Low likelihood"),
    RiskGroup.medium: ("moderate", "Moderate likelihood"),
    RiskGroup.high: ("high", "High likelihood"),
}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_SURVEY = {"coding": [coding(_CATEGORY, "survey", "Survey")]}
_IMAGING = {"coding": [coding(_CATEGORY, "imaging", "Imaging")]}
PAIN_LOINC = "72514-3"


def _t(key: str, lang: str, **values: object) -> str:
    return fhir_texts().format(f"fhir.clinical.{key}", lang, **values)


def build_patient(case: Case) -> Json:
    patient: Json = {"resourceType": "Patient", "id": resource_id(case, "Patient")}
    if case.sex is not None:
        patient["gender"] = _GENDER[case.sex]
    return validated(patient)


def _observation(
    case: Case, kind: str, code: Json, value: int, at: dt.datetime, patient: Json, response: Json
) -> Json:
    return validated(
        {
            "resourceType": "Observation",
            "id": resource_id(case, f"Observation/{kind}"),
            "status": "final",
            "category": [_SURVEY],
            "code": code,
            "subject": reference(patient),
            "effectiveDateTime": instant(at),
            "valueInteger": value,
            "derivedFrom": [reference(response)],
        }
    )


def build_observations(
    case: Case, assessment: Assessment, *, at: dt.datetime, patient: Json, response: Json, lang: str
) -> dict[str, Json]:
    """The Observations by kind: "pain" (when given), "startback-total", "startback-psychosocial"."""
    out: dict[str, Json] = {}
    if case.pain_intensity is not None:
        code = {
            "coding": [
                coding(LOINC, PAIN_LOINC, "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
            ],
            "text": _t("pain", lang),
        }
        out["pain"] = _observation(case, "pain", code, case.pain_intensity, at, patient, response)
    if assessment.startback is not None:
        scores = {
            "startback-total": assessment.startback.total,
            "startback-psychosocial": assessment.startback.psychosocial,
        }
        for kind, value in scores.items():
            code = {
                "coding": [coding(codesystem("observation"), kind, _t(kind, lang))],
                "text": _t(kind, lang),
            }
            out[kind] = _observation(case, kind, code, value, at, patient, response)
    return out


def _component(kind: str, lang: str, value: Json) -> Json:
    return {"code": {"coding": [coding(codesystem("observation"), kind, _t(kind, lang))]}, **value}


def build_imaging_context(
    kb: KnowledgeBase,
    case: Case,
    assessment: Assessment,
    *,
    at: dt.datetime,
    patient: Json,
    response: Json,
    lang: str,
) -> list[Json]:
    """One Observation per row of ``imaging_context`` (none when the table is empty, e.g. under 18)."""
    out: list[Json] = []
    for row in assessment.imaging_context:
        finding = row.finding.value
        label = kb.render(f"finding.{finding}.label", lang)
        percent = {"value": row.prevalence_pain_free_percent, "unit": "%", "system": UCUM, "code": "%"}
        observation = {
            "resourceType": "Observation",
            "id": resource_id(case, f"Observation/imaging-context/{finding}"),
            "status": "final",
            "category": [_IMAGING],
            # the same system and code as the answer option of the response's imaging_findings item
            "code": {"coding": [coding(codesystem("imaging_findings"), finding, label)], "text": label},
            "subject": reference(patient),
            "effectiveDateTime": instant(at),
            "valueBoolean": True,  # the person's imaging report names this finding
            "component": [
                _component("prevalence-pain-free", lang, {"valueQuantity": percent}),
                _component("age-band", lang, {"valueString": row.age_band}),
                _component("may-match-symptoms", lang, {"valueBoolean": row.may_match_symptoms}),
            ],
            "note": [{"text": _t("imaging-source", lang, title=kb.sources[row.source].title)}],
            "derivedFrom": [reference(response)],
        }
        out.append(validated(observation))
    return out


def _red_flag_reasons(kb: KnowledgeBase, assessment: Assessment, lang: str) -> list[Json]:
    return [
        {
            "coding": [
                coding(codesystem("rule"), flag.id, kb.reason(flag.id, flag.evidence, lang)),
                coding(
                    codesystem("condition"),
                    flag.condition,
                    kb.render(f"condition.{flag.condition}.label", lang),
                ),
            ],
            "text": _t("evidence", lang, fields=", ".join(flag.evidence)),
        }
        for flag in assessment.red_flags
    ]


def _seek_care(assessment: Assessment) -> str | None:
    texts = [r.text for r in assessment.recommendations if r.kind == "seek_care"]
    return " ".join(texts) or None


def build_triage_risk(
    kb: KnowledgeBase,
    case: Case,
    assessment: Assessment,
    *,
    at: dt.datetime,
    patient: Json,
    response: Json,
    observations: dict[str, Json],
    lang: str,
) -> Json:
    level = assessment.triage.value
    resource: Json = {
        "resourceType": "RiskAssessment",
        "id": resource_id(case, "RiskAssessment/triage"),
        "language": lang,
        "status": "final",
        "code": {"coding": [coding(codesystem("assessment"), "triage", _t("triage", lang))]},
        "method": {"text": _t("triage-method", lang, version=assessment.knowledge_version)},
        "subject": reference(patient),
        "occurrenceDateTime": instant(at),
        "basis": [reference(response)]
        + ([reference(observations["pain"])] if "pain" in observations else []),
        "prediction": [
            {
                "outcome": {
                    "coding": [coding(codesystem("triage"), level, kb.render(f"triage.{level}.title", lang))],
                },
                "rationale": kb.triage_action(assessment, lang),
            }
        ],
    }
    reasons = _red_flag_reasons(kb, assessment, lang)
    if reasons:
        resource["reasonCode"] = reasons
    mitigation = _seek_care(assessment)
    if mitigation:
        resource["mitigation"] = mitigation
    return validated(resource)


def build_startback_risk(
    kb: KnowledgeBase,
    case: Case,
    assessment: Assessment,
    *,
    at: dt.datetime,
    patient: Json,
    response: Json,
    observations: dict[str, Json],
    lang: str,
) -> Json | None:
    """The STarT Back RiskAssessment, or None when the block was not answered."""
    result = assessment.startback
    if result is None:
        return None
    group = result.group
    scores = [observations[k] for k in ("startback-total", "startback-psychosocial")]
    return validated(
        {
            "resourceType": "RiskAssessment",
            "id": resource_id(case, "RiskAssessment/startback"),
            "language": lang,
            "status": "final",
            "code": {"coding": [coding(codesystem("assessment"), "startback", _t("startback", lang))]},
            "method": {"text": _t("startback-method", lang)},
            "subject": reference(patient),
            "occurrenceDateTime": instant(at),
            "basis": [reference(response)] + [reference(o) for o in scores],
            "prediction": [
                {
                    "outcome": {"text": _t("startback-outcome", lang)},
                    "qualitativeRisk": {
                        "coding": [
                            coding(_RISK_PROBABILITY, *_QUALITATIVE[group]),
                            coding(
                                codesystem("startback-group"),
                                group.value,
                                kb.render(f"risk.{group.value}.label", lang),
                            ),
                        ]
                    },
                    "rationale": f"{result.total}/9, {result.psychosocial}/5",
                }
            ],
        }
    )
