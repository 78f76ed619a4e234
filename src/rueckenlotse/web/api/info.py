"""Education search (``GET /ask``), the knowledge base's version and sources (``GET /knowledge``) and
``GET /health``."""

from __future__ import annotations

from typing import Annotated, Literal, cast

from fastapi import APIRouter, Depends, Query, Request
from pydantic import Field

from ... import __version__
from ...knowledge.ask_screen import ScreenLevel
from ...knowledge.loader import default_ask_screen, default_knowledge
from ...plan.ask import MAX_K, ask_screened
from ...plan.ask_screen import Screen
from ...settings import Settings
from ..reading import reading_link
from .lang import LANGS, Lang, language
from .problems import ApiProblem, ProblemRoute, field_error, problem_responses
from .schema import ResponseModel

router = APIRouter(route_class=ProblemRoute)

MAX_QUESTION_LENGTH = 500


class EducationHit(ResponseModel):
    """One passage of an education module that answers the question."""

    module_id: str
    module_title: str
    text: str
    score: float = Field(ge=0, description="BM25 score; higher is a better match.")
    sources: list[str] = Field(min_length=1, description="Source ids (see GET /knowledge).")
    read_url: str = Field(
        description="The module's reading page with all its passages and sources (/lesen/<module>?lang=…); "
        "absolute when the server knows its public address (RUECKENLOTSE_PUBLIC_URL)."
    )


# Where the web app's assessment starts; the screen points there.
ASSESSMENT_URL = "/"


class ScreenSign(ResponseModel):
    """One warning sign the screen found in the question."""

    id: str = Field(description="Lexicon entry or combination id (ask_screen.yaml).")
    fields: list[str] = Field(min_length=1, description="The Case fields this sign stands for.")
    level: ScreenLevel
    stated: bool = Field(
        description='false when the sign was denied ("kein Fieber"), asked about or only named as a '
        'topic: its text is then worded as a condition ("Falls Sie …: …").'
    )
    text: str = Field(description="The seek-care text for this sign, in the requested language.")


class ScreenOut(ResponseModel):
    """The warning-sign screen: shown before any passage (contract 2, invariant 9)."""

    level: ScreenLevel = Field(description="The highest level found: emergency means call 112 now.")
    stated: bool = Field(description="true when at least one sign was stated, not denied or a topic.")
    text: str = Field(description="All seek-care texts, highest level first: show this first.")
    signs: list[ScreenSign] = Field(min_length=1, description="Highest level first.")
    assessment: str = Field(description="The pointer to the assessment, with its URL.")
    assessment_url: str = Field(description="Where the assessment starts.")


class AskResult(ResponseModel):
    lang: Lang
    screen: ScreenOut | None = Field(
        description="Warning signs in the question, to show BEFORE the hits; null when none were found."
    )
    hits: list[EducationHit] = Field(description="Best first; empty when no passage matches.")


def _screen_out(found: Screen, lang: str) -> ScreenOut | None:
    if not found.hits or found.level is None:
        return None
    pointer = default_ask_screen().frame.assessment_web.get(lang).format(url=ASSESSMENT_URL)
    return ScreenOut(
        level=found.level,
        stated=found.stated,
        text="\n\n".join(hit.text for hit in found.hits),
        signs=[ScreenSign.model_validate(hit.model_dump()) for hit in found.hits],
        assessment=pointer,
        assessment_url=ASSESSMENT_URL,
    )


class SourceOut(ResponseModel):
    id: str
    title: str
    status: Literal["checked", "secondary", "unchecked"]
    note: str | None


class KnowledgeOut(ResponseModel):
    knowledge_version: str
    contract_version: Literal["2"] = "2"
    languages: list[Lang]
    sources: list[SourceOut] = Field(description="The source registry every recommendation cites.")


class Health(ResponseModel):
    status: Literal["ok"] = "ok"
    version: str
    knowledge_version: str
    contract_version: Literal["2"] = "2"


_Q = Query(
    min_length=1,
    max_length=MAX_QUESTION_LENGTH,
    json_schema_extra={"pattern": r"\S"},  # not blank: checked in ask_education, with its own message
    description="Die Frage, z. B. „Ist ein Bandscheibenvorfall gefährlich?“ / The question.",
)
_K = Query(ge=1, le=MAX_K, description=f"Höchstens so viele Treffer (1–{MAX_K}). / At most this many hits.")


@router.get(
    "/ask",
    operation_id="askEducation",
    tags=["education"],
    summary="Frage an die Lernmodule / Ask the education modules",
    description="Sucht in den Lernmodulen (offline, BM25) die Abschnitte, die eine Frage am besten "
    "beantworten, jeweils mit Modul und Quellen. Kein ärztlicher Rat.\n\n"
    "Searches the education modules (offline, BM25) for the passages that best answer a question, each "
    "with its module and sources. Not medical advice.\n\n"
    "Jede Frage wird zuerst auf Warnzeichen geprüft: `screen` trägt dann die Stufe und den Text, der "
    "VOR den Treffern zu zeigen ist (112 bei Notfall-Zeichen). / Every question is screened for warning "
    "signs first: `screen` then carries the level and the text to show BEFORE the hits.",
    response_model=AskResult,
    responses=problem_responses(422),
)
def ask_education(
    request: Request,
    q: Annotated[str, _Q],
    lang: Annotated[Lang, Depends(language)],
    k: Annotated[int, _K] = 3,
) -> AskResult:
    if not q.strip():
        raise ApiProblem("invalid-input", [field_error("q", "blank", lang)])
    found, passages = ask_screened(q, lang=lang, k=k)
    public_url = cast(Settings, request.app.state.settings).public_url
    hits = [
        EducationHit(**hit.model_dump(), read_url=reading_link(hit.module_id, lang, public_url))
        for hit in passages
    ]
    return AskResult(lang=lang, screen=_screen_out(found, lang), hits=hits)


@router.get(
    "/knowledge",
    operation_id="getKnowledge",
    tags=["meta"],
    summary="Wissensstand und Quellen / Knowledge version and sources",
    description="Die Version der Wissensbasis und des Vertrags und das Quellenverzeichnis.\n\n"
    "The version of the knowledge base and of the contract, and the source registry.",
    response_model=KnowledgeOut,
)
def get_knowledge() -> KnowledgeOut:
    kb = default_knowledge()
    sources = [SourceOut.model_validate(source.model_dump()) for source in kb.spec.sources]
    return KnowledgeOut(knowledge_version=kb.version, languages=list(LANGS), sources=sources)


@router.get(
    "/health",
    operation_id="getHealth",
    tags=["meta"],
    summary="Betriebsbereit? / Health",
    description="Antwortet, wenn der Dienst läuft und die Wissensbasis geladen ist.\n\n"
    "Answers when the service runs and the knowledge base is loaded.",
    response_model=Health,
)
def get_health() -> Health:
    return Health(version=__version__, knowledge_version=default_knowledge().version)
