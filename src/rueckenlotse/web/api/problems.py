"""Problem documents (RFC 9457, ``application/problem+json``) of the REST API, in German or English.

``ProblemRoute`` is the route class of every API router: it turns FastAPI's own request validation
errors, ``InvalidInput`` / ``InvalidCase`` from the validators and ``ApiProblem`` raised by an endpoint
into one problem document each, so a client never sees another error shape (and never a 5xx for bad
input). Field messages come from the knowledge base's ``error.*`` texts; the few texts only the API
needs live here, German first, English second.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Coroutine, Iterable, Mapping, Sequence
from functools import cache
from typing import Any, Literal

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from ...core.errors import FieldError, InvalidCase, InvalidInput
from ...i18n import DEFAULT_LANG
from ...i18n.catalogue import Catalogue, load_catalogue
from ...knowledge.loader import default_knowledge
from .lang import request_language
from .schema import inline_schema

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:rueckenlotse:problem:"

ProblemKind = Literal[
    "invalid-case",
    "invalid-input",
    "unsupported-media-type",
    "payload-too-large",
    "not-found",
    "unauthorized",
    "forbidden",
    "no-intake",
    "not-due",
    "cross-site",
    "method-not-allowed",
    "server-error",
    "busy",
    "storage-unavailable",
]

_STATUS: dict[ProblemKind, int] = {
    "invalid-case": 422,
    "invalid-input": 422,
    "unsupported-media-type": 415,
    "payload-too-large": 413,
    "not-found": 404,
    "unauthorized": 401,
    "forbidden": 403,
    "no-intake": 409,
    "not-due": 409,
    "cross-site": 403,
    "method-not-allowed": 405,
    "server-error": 500,
    "busy": 503,
    "storage-unavailable": 503,
}

# Texts of the API itself: web/api/texts.yaml (keys api.*), loaded by the translation layer.
# FastAPI's error types for query strings, mapped to the knowledge base's error texts.
_ALIASES = {"int_parsing": "int_type", "float_parsing": "float_type", "bool_parsing": "bool_type"}

_RESPONSE_DESCRIPTIONS: dict[int, str] = {
    401: "Nicht angemeldet (kein gültiges Cookie oder Token). / Not signed in (no valid cookie or token).",
    403: "Nicht erlaubt (API-Token nur lesend, oder Änderung von fremder Seite). / "
    "Not allowed (read-only API token, or a change from another site).",
    404: "Nicht gefunden, oder nicht sichtbar für diese Anmeldung. / "
    "Not found, or not visible to this sign-in.",
    409: "Noch keine gespeicherte Einschätzung. / No saved assessment yet.",
    413: "Anfrage zu groß (mehr als 64 KiB). / Request body too large (more than 64 KiB).",
    415: "Kein JSON (Content-Type application/json, UTF-8). / "
    "Not JSON (Content-Type application/json, UTF-8).",
    422: "Ungültige Eingabe, Feld für Feld. / Invalid input, field by field.",
}


class ProblemFieldError(BaseModel):
    """One problem with one field."""

    model_config = ConfigDict(frozen=True)

    field: str = Field(
        description="Dotted path of the field (``startback.bothersomeness``, ``regions[0]``, "
        "``answers.age``), a query parameter (``lang``), or ``(case)`` / ``(body)`` for the body as a whole."
    )
    type: str = Field(description="Machine-readable kind, e.g. ``less_than_equal``, ``extra_forbidden``.")
    message: str = Field(description="Message for people, in the requested language.")


class Problem(BaseModel):
    """An RFC 9457 problem document with the field errors behind it."""

    model_config = ConfigDict(title="Problem", frozen=True)

    type: str = Field(
        description="URI naming the kind of problem, e.g. urn:rueckenlotse:problem:invalid-case."
    )
    title: str = Field(description="Short summary, in the requested language.")
    status: int = Field(ge=400, le=599, description="The HTTP status code.")
    detail: str = Field(description="What to do about it, in the requested language.")
    errors: list[ProblemFieldError] = Field(description="Every field problem; empty when none applies.")


class ProblemResponse(Response):
    """A JSON response with the media type application/problem+json."""

    media_type = PROBLEM_MEDIA_TYPE

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        try:
            return text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate echoed from the input: escape it instead
            return json.dumps(content, ensure_ascii=True, allow_nan=False, separators=(",", ":")).encode()


class ApiProblem(Exception):
    """Raised by an endpoint: ``ProblemRoute`` answers with this problem document."""

    def __init__(self, kind: ProblemKind, errors: Sequence[ProblemFieldError] = (), **values: object) -> None:
        super().__init__(kind)
        self.kind = kind
        self.errors = tuple(errors)
        self.values = values


# ---- texts ---------------------------------------------------------------------------------------
@cache
def _api_texts() -> Catalogue:
    return load_catalogue("rueckenlotse.web.api", ["texts.yaml"])


def api_text(key: str, lang: str, **values: object) -> str:
    return _api_texts().get(f"api.{key}", lang, **values)


def field_message(kind: str, lang: str, ctx: Mapping[str, Any] | None = None, msg: str = "") -> str:
    """A field error message from the API's or the knowledge base's ``error.*`` texts."""
    kb_texts = default_knowledge().spec.texts
    template = (
        _api_texts().entries.get(f"api.error.{kind}")
        or kb_texts.get(f"error.{_ALIASES.get(kind, kind)}")
        or kb_texts["error.unknown"]
    )
    values: dict[str, Any] = {**(ctx or {}), "msg": msg}
    if "expected" in values and "'" in str(values["expected"]):  # Pydantic's "'a' or 'b'": list neutrally
        values["expected"] = ", ".join(re.findall(r"'([^']*)'", str(values["expected"])))
    chosen = template.get(lang) or template[DEFAULT_LANG]
    try:
        return chosen.format(**values)
    except (KeyError, IndexError, ValueError):
        return f"{chosen} ({msg})" if msg else chosen


def field_error(field: str, kind: str, lang: str, msg: str = "", **ctx: Any) -> ProblemFieldError:
    """One field error with its message in ``lang`` (``ctx`` fills the text's placeholders)."""
    return ProblemFieldError(field=field, type=kind, message=field_message(kind, lang, ctx, msg))


# ---- building problem documents ------------------------------------------------------------------
def problem(
    kind: ProblemKind, lang: str, errors: Iterable[ProblemFieldError] = (), **values: object
) -> Problem:
    return Problem(
        type=PROBLEM_TYPE_PREFIX + kind,
        title=api_text(f"{kind}.title", lang),
        status=_STATUS[kind],
        detail=api_text(f"{kind}.detail", lang, **values),
        errors=list(errors),
    )


def problem_response(problem_doc: Problem) -> ProblemResponse:
    headers = {"Cache-Control": "no-store"}
    if problem_doc.status == 401:  # RFC 9110: a 401 names the scheme that would work
        headers["WWW-Authenticate"] = 'Bearer realm="rueckenlotse"'
    return ProblemResponse(
        problem_doc.model_dump(mode="json"), status_code=problem_doc.status, headers=headers
    )


def from_field_errors(errors: Iterable[FieldError]) -> list[ProblemFieldError]:
    return [ProblemFieldError(field=e.field, type=e.type, message=e.message) for e in errors]


def _request_errors(exc: RequestValidationError, lang: str) -> list[ProblemFieldError]:
    out: list[ProblemFieldError] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        field = ".".join(loc[1:] if loc and loc[0] in ("query", "header", "path", "body") else loc)
        kind = str(error.get("type", "unknown"))
        message = field_message(kind, lang, error.get("ctx"), str(error.get("msg", "")))
        out.append(ProblemFieldError(field=field or "(request)", type=kind, message=message))
    return out


def problem_for(exc: ApiProblem | InvalidInput | RequestValidationError, request: Request) -> Problem:
    """The problem document for a client error raised while handling an API request."""
    lang = request_language(request)
    if isinstance(exc, ApiProblem):
        return problem(exc.kind, lang, exc.errors, **exc.values)
    if isinstance(exc, InvalidCase):
        return problem("invalid-case", lang, from_field_errors(exc.errors))
    if isinstance(exc, InvalidInput):
        return problem("invalid-input", lang, from_field_errors(exc.errors))
    return problem("invalid-input", lang, _request_errors(exc, lang))


class ProblemRoute(APIRoute):
    """The route class of the API: every client error becomes a problem document."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except (ApiProblem, InvalidInput, RequestValidationError) as exc:
                return problem_response(problem_for(exc, request))

        return handle


# ---- OpenAPI -------------------------------------------------------------------------------------
PROBLEM_SCHEMA: dict[str, Any] = inline_schema(Problem, mode="serialization")


def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error codes, as application/problem+json."""
    return {
        code: {
            "description": _RESPONSE_DESCRIPTIONS[code],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        for code in codes
    }
