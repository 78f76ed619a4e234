"""FHIR R4B export and import (``fhir.resources``): the intake Questionnaire, a Case as
QuestionnaireResponse, the Assessment as RiskAssessments and Observations, the plan as CarePlan, all in one
Bundle; and a QuestionnaireResponse back into a Case. The outcome measures of one person: a Questionnaire
per measure, each response with its score Observation (LOINC where measures.yaml has it) in one Bundle,
and such a Bundle read back (``measures``, ``measures_import``). Pure functions: they return JSON-ready
data that has been parsed by the ``fhir.resources`` R4B model of each resource.
"""

from __future__ import annotations

from .bundle import build_bundle
from .common import QUESTIONNAIRE_URL, codesystem, validated
from .importing import InvalidResponse, parse_response_json, response_to_case
from .layout import Layout, build_layout, intake_layout
from .measures import (
    MeasureRecord,
    RecordedMeasure,
    build_measure_observation,
    build_measure_questionnaire,
    build_measure_response,
    measures_bundle,
)
from .measures_import import InvalidMeasureBundle, parse_measure_bundle, parse_measure_bundle_json
from .questionnaire import build_questionnaire
from .response import build_response

__all__ = [
    "QUESTIONNAIRE_URL",
    "InvalidMeasureBundle",
    "InvalidResponse",
    "Layout",
    "MeasureRecord",
    "RecordedMeasure",
    "build_bundle",
    "build_layout",
    "build_measure_observation",
    "build_measure_questionnaire",
    "build_measure_response",
    "build_questionnaire",
    "build_response",
    "codesystem",
    "intake_layout",
    "measures_bundle",
    "parse_measure_bundle",
    "parse_measure_bundle_json",
    "parse_response_json",
    "response_to_case",
    "validated",
]
