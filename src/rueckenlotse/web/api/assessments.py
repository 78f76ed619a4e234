"""``POST /assessments``: one Case in, one Assessment out (contract 2), or a 422 with field errors."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from ... import assess
from ...core.models import Assessment, Case
from ...knowledge.loader import default_knowledge
from ...validation import parse_case_json
from .body import parse_guarded, read_json_text
from .lang import Lang, language
from .problems import ProblemRoute, problem_responses
from .schema import inline_schema

router = APIRouter(route_class=ProblemRoute, tags=["assessment"])

NO_STORE = {"Cache-Control": "no-store"}

_CASE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Ein Case nach Vertrag 2 (Version-1-Cases gelten weiter): unbekannte Felder, falsche "
        "Typen, null, doppelte Schlüssel und NaN sind Fehler. / A Case of contract 2 (version-1 Cases stay "
        "valid): unknown fields, wrong types, null, duplicate keys and NaN are errors.",
        "content": {"application/json": {"schema": inline_schema(Case)}},
    }
}


# Every valid Case is far smaller than this (about 1 KiB with every field given).
INLINE_MAX_CHARS = 4096


def _assess(text: str, lang: Lang) -> bytes:
    case = parse_guarded(
        lambda: parse_case_json(text, default_knowledge(), lang), lang, invalid="invalid-case"
    )
    # Pydantic's own JSON writer: the same bytes as json.dumps of model_dump(mode="json") (compact, UTF-8;
    # the only floats are percentages, written alike), in a third of the time.
    return assess(case, lang=lang).model_dump_json().encode()


@router.post(
    "/assessments",
    operation_id="createAssessment",
    summary="Einschätzung eines Case / Assess one Case",
    description="Schätzt einen Case ein (Dringlichkeit, Warnzeichen, Empfehlungen mit Quellen) und gibt das "
    "Assessment nach Vertrag 2 zurück, genau wie `rueckenlotse.assess`. Ungültige Angaben geben 422 mit "
    "Fehlern je Feld, auf Deutsch oder mit `lang=en` auf Englisch. Nichts wird gespeichert.\n\n"
    "Assesses one Case (urgency, warning signs, recommendations with sources) and returns the Assessment "
    "of contract 2, exactly as `rueckenlotse.assess` does. An invalid case gives 422 with one error per "
    "field, in German, or in English with `lang=en`. Nothing is stored.",
    response_model=Assessment,
    response_description="Das Assessment (Vertrag 2). / The Assessment (contract 2).",
    responses=problem_responses(413, 415, 422),
    openapi_extra=_CASE_BODY,
)
async def create_assessment(request: Request, lang: Annotated[Lang, Depends(language)]) -> Response:
    text = await read_json_text(request, lang, invalid="invalid-case")
    # A Case of normal size takes about 0.1 ms: less than the hop to a worker thread, which would not
    # run it in parallel anyway (the GIL). A large body (invalid or padded, up to 64 KiB) may take
    # longer to parse and report on, so it still goes to a worker thread and never holds up the loop.
    if len(text) <= INLINE_MAX_CHARS:
        content = _assess(text, lang)
    else:
        content = await run_in_threadpool(_assess, text, lang)
    return Response(content, media_type="application/json", headers=NO_STORE)
