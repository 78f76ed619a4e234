"""``POST /assessments``: one Case in, one Assessment out (contract v1), or a 422 with field errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from .. import assess
from ..core.models import Assessment, Case
from ..knowledge.loader import default_knowledge
from ..validation import parse_case_json
from .api_body import parse_guarded, read_json_text
from .api_lang import Lang, language
from .api_problems import ProblemRoute, problem_responses
from .api_schema import inline_schema

router = APIRouter(route_class=ProblemRoute, tags=["assessment"])

NO_STORE = {"Cache-Control": "no-store"}

_CASE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Ein Case nach Vertrag v1: unbekannte Felder, falsche Typen, null, doppelte Schlüssel "
        "und NaN sind Fehler. / A Case of contract v1: unknown fields, wrong types, null, duplicate keys "
        "and NaN are errors.",
        "content": {"application/json": {"schema": inline_schema(Case)}},
    }
}


def _assess(text: str, lang: Lang) -> dict[str, Any]:
    case = parse_guarded(
        lambda: parse_case_json(text, default_knowledge(), lang), lang, invalid="invalid-case"
    )
    return assess(case, lang=lang).model_dump(mode="json")


@router.post(
    "/assessments",
    operation_id="createAssessment",
    summary="Einschätzung eines Case / Assess one Case",
    description="Schätzt einen Case ein (Dringlichkeit, Warnzeichen, Empfehlungen mit Quellen) und gibt das "
    "Assessment nach Vertrag v1 zurück, genau wie `rueckenlotse.assess`. Ungültige Angaben geben 422 mit "
    "Fehlern je Feld, auf Deutsch oder mit `lang=en` auf Englisch. Nichts wird gespeichert.\n\n"
    "Assesses one Case (urgency, warning signs, recommendations with sources) and returns the Assessment "
    "of contract v1, exactly as `rueckenlotse.assess` does. An invalid case gives 422 with one error per "
    "field, in German, or in English with `lang=en`. Nothing is stored.",
    response_model=Assessment,
    response_description="Das Assessment (Vertrag v1). / The Assessment (contract v1).",
    responses=problem_responses(413, 415, 422),
    openapi_extra=_CASE_BODY,
)
async def create_assessment(request: Request, lang: Annotated[Lang, Depends(language)]) -> JSONResponse:
    text = await read_json_text(request, lang, invalid="invalid-case")
    content = await run_in_threadpool(_assess, text, lang)
    return JSONResponse(content, headers=NO_STORE)
