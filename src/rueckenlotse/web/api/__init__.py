"""REST API v1 (mounted under /api/v1 by ``create_app``).

Every route lives in one of this package's modules and uses ``ProblemRoute``, so every client error is
an ``application/problem+json`` document (see ``problems``) and every route, with its request
body, response model and error responses, appears in the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import assessments, info, measures, persons, practice, questionnaire

router = APIRouter()
router.include_router(assessments.router)
router.include_router(questionnaire.router)
router.include_router(persons.router)
router.include_router(measures.router)
router.include_router(practice.router)
router.include_router(info.router)
