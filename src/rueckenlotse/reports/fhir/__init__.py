"""FHIR R4B export and import (``fhir.resources``): the intake Questionnaire, a Case as
QuestionnaireResponse, the Assessment as RiskAssessments and Observations, the plan as CarePlan, all in one
Bundle; and a QuestionnaireResponse back into a Case. Pure functions: they return JSON-ready data that has
been parsed by the ``fhir.resources`` R4B model of each resource.
"""

from __future__ import annotations

from .bundle import build_bundle
from .common import QUESTIONNAIRE_URL, codesystem, validated
from .importing import InvalidResponse, parse_response_json, response_to_case
from .layout import Layout, build_layout, intake_layout
from .questionnaire import build_questionnaire
from .response import build_response

__all__ = [
    "QUESTIONNAIRE_URL",
    "InvalidResponse",
    "Layout",
    "build_bundle",
    "build_layout",
    "build_questionnaire",
    "build_response",
    "codesystem",
    "intake_layout",
    "parse_response_json",
    "response_to_case",
    "validated",
]
