"""Reading a JSON request body by hand: media type, size limit, UTF-8.

The API parses bodies itself (``parse_case_json`` / ``parse_model_json``) because FastAPI's own JSON
parsing keeps the last of two equal keys and accepts NaN; both are errors in Rückenlotse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from .problems import ApiProblem, ProblemKind, field_error

MAX_BODY_BYTES = 64 * 1024
_JSON_MEDIA_TYPE = re.compile(r"^application/(?:json|[a-z0-9.+-]+\+json)$")
_UTF8 = frozenset({"utf-8", "utf8"})

T = TypeVar("T")


def is_json_content_type(value: str | None) -> bool:
    """True for application/json (or application/*+json), with no charset or a UTF-8 one."""
    if not value:
        return False
    media_type, *params = value.split(";")
    if not _JSON_MEDIA_TYPE.match(media_type.strip().lower()):
        return False
    for param in params:
        name, _, raw = param.partition("=")
        if name.strip().lower() == "charset" and raw.strip().strip('"').lower() not in _UTF8:
            return False
    return True


def _declared_length(request: Request) -> int | None:
    """The Content-Length header as a number (None when absent or malformed; capped, never a huge int)."""
    value = request.headers.get("content-length", "").strip()
    if not (value.isascii() and value.isdigit()):
        return None
    return int(value) if len(value) <= 12 else MAX_BODY_BYTES + 1


async def read_json_text(request: Request, lang: str, *, invalid: ProblemKind = "invalid-input") -> str:
    """The body as text; ApiProblem for a wrong media type (415), a body over 64 KiB (413) or bad UTF-8."""
    if not is_json_content_type(request.headers.get("content-type")):
        raise ApiProblem("unsupported-media-type")
    declared = _declared_length(request)
    if declared is not None and declared > MAX_BODY_BYTES:
        raise ApiProblem("payload-too-large", limit=MAX_BODY_BYTES)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_BYTES:
            raise ApiProblem("payload-too-large", limit=MAX_BODY_BYTES)
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ApiProblem(
            invalid, [field_error(_whole(invalid), "json_invalid", lang, msg=e.reason)]
        ) from None


def parse_guarded(parse: Callable[[], T], lang: str, *, invalid: ProblemKind = "invalid-input") -> T:
    """Run a JSON parser; JSON nested too deeply for the parser is a 422, not a server error."""
    try:
        return parse()
    except RecursionError:
        error = field_error(_whole(invalid), "json_invalid", lang, msg="nested too deeply")
        raise ApiProblem(invalid, [error]) from None


def _whole(kind: ProblemKind) -> str:
    """The field name of the body as a whole (as the Case validation names it)."""
    return "(case)" if kind == "invalid-case" else "(body)"
