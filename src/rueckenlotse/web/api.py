"""REST API v1 (mounted under /api/v1 by ``create_app``).

Every route lives in one of the ``api_*`` modules and uses ``ProblemRoute``, so every client error is
an ``application/problem+json`` document (see ``api_problems``) and every route, with its request
body, response model and error responses, appears in the OpenAPI document.
"""

from __future__ import annotations

from fastapi import APIRouter

from . import api_assessments, api_info, api_persons, api_practice, api_questionnaire

router = APIRouter()
router.include_router(api_assessments.router)
router.include_router(api_questionnaire.router)
router.include_router(api_persons.router)
router.include_router(api_practice.router)
router.include_router(api_info.router)
