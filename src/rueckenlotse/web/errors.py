"""Generic error pages in the user's language: a status, a plain message, never a traceback or a detail.

Requests under /api/ keep FastAPI's JSON error bodies (the API's clients are programs, not people).
"""

from __future__ import annotations

import logging
import traceback

from fastapi import FastAPI
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..storage import StorageUnavailable
from ..store.sealing import SealingError
from .api.problems import ProblemKind, problem, problem_response
from .i18n import request_lang
from .render import PageError, render
from .security.csrf import CsrfError
from .security.state import BadState

logger = logging.getLogger("rueckenlotse.web")

KNOWN_PAGES = frozenset({"400", "403", "404", "405", "413", "500", "503"})
# How long a client should wait before it sends again after a 503 (the database was busy or away).
RETRY_AFTER_SECONDS = 5
# ... and after a 503 for a full or read-only disk: someone has to free space or remount it first.
STORAGE_RETRY_AFTER_SECONDS = 60
FALLBACK_500 = (
    "Etwas ist schiefgelaufen. Bitte versuchen Sie es noch einmal. Im Notfall: 112.\n"
    "Something went wrong. Please try again. In an emergency: 112.\n"
)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def error_page(request: Request, status: int, key: str | None = None) -> Response:
    key = key or (str(status) if str(status) in KNOWN_PAGES else "other")
    lang = request_lang(request)
    return render(request, "error.html", {"status": status, "key": key}, lang=lang, status=status)


async def _page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return error_page(request, exc.status, exc.key)


async def _csrf_error(request: Request, exc: Exception) -> Response:
    return error_page(request, 403)


async def _bad_state(request: Request, exc: Exception) -> Response:
    return error_page(request, 400)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if is_api(request):
        kind = _API_PROBLEMS.get(exc.status_code)
        if kind is None:
            return await http_exception_handler(request, exc)
        response = api_problem_response(kind, request)
    else:
        response = error_page(request, exc.status_code)
    if exc.headers:  # e.g. Allow on a 405
        response.headers.update({k: v for k, v in exc.headers.items() if k.lower() == "allow"})
    return response


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    if is_api(request):
        return await request_validation_exception_handler(request, exc)
    return error_page(request, 400)


# The API's own 404/405/500 answer with the same problem documents as its routes (application/problem+json).
_API_PROBLEMS: dict[int, ProblemKind] = {404: "not-found", 405: "method-not-allowed"}


def api_problem_response(kind: ProblemKind, request: Request) -> Response:
    from .api.lang import request_language

    return problem_response(problem(kind, request_language(request)))


async def _database_unavailable(request: Request, exc: Exception) -> Response:
    """A locked (SQLite: another writer past the busy timeout), full or unreachable database: 503 with
    Retry-After, so clients wait and send again; the transaction was rolled back, nothing half-saved."""
    log_unhandled(request, exc)
    response = api_problem_response("busy", request) if is_api(request) else error_page(request, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


async def _sealing_error(request: Request, exc: Exception) -> Response:
    """A stored secret the configured data keys cannot open: the operator's to fix, so the log says what
    (which row, which key id; nothing of the secret), and the visitor sees the plain 500 page."""
    assert isinstance(exc, SealingError)
    logger.error("%s on %s %s", exc.message("en"), request.method, request.url.path)
    return server_error_response(request)


async def _storage_unavailable(request: Request, exc: Exception) -> Response:
    """A full or read-only disk (rueckenlotse.storage): 503 with Retry-After and its own problem and page,
    not a 500; the transaction was rolled back, nothing half-saved and nothing saved before lost. The
    operator reads the cause in the log (its code, never a path or data)."""
    assert isinstance(exc, StorageUnavailable)
    logger.error("cannot write (%s) on %s %s", exc.code, request.method, request.url.path)
    if is_api(request):
        response = api_problem_response("storage-unavailable", request)
    else:
        response = error_page(request, 503, "storage")
    response.headers["Retry-After"] = str(STORAGE_RETRY_AFTER_SECONDS)
    return response


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, _database_unavailable)
    app.add_exception_handler(SealingError, _sealing_error)
    app.add_exception_handler(StorageUnavailable, _storage_unavailable)
    app.add_exception_handler(PageError, _page_error)
    app.add_exception_handler(CsrfError, _csrf_error)
    app.add_exception_handler(BadState, _bad_state)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


def log_unhandled(request: Request, exc: BaseException) -> None:
    """Where it failed, without the exception's message: messages can carry the answers of a form."""
    frames = traceback.extract_tb(exc.__traceback__)
    where = " <- ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}" for f in reversed(frames[-6:]))
    logger.error("unhandled %s on %s %s at %s", type(exc).__name__, request.method, request.url.path, where)


def server_error_response(request: Request) -> Response:
    """The 500 page; if even rendering fails, a fixed two-language text."""
    if is_api(request):
        return api_problem_response("server-error", request)
    try:
        return error_page(request, 500)
    except Exception:  # the page itself failed: never let that surface as a traceback
        return PlainTextResponse(FALLBACK_500, status_code=500)


class ErrorShield:
    """Turns any unhandled exception into the generic 500 page, and logs where it happened (no message).

    Catching it here, rather than in Starlette's outer error middleware, keeps the exception (whose text
    may quote form input) out of the server's log.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            request = Request(scope)
            if started:  # too late for an error page; the client sees a cut-off response
                log_unhandled(request, exc)
                return
            response = await _outside_the_pages(request, exc)
            await response(scope, receive, send)


async def _outside_the_pages(request: Request, exc: Exception) -> Response:
    """An exception from a middleware (``PrincipalPreload`` reads the session before any page): the
    database and disk errors answer as they would inside a page (503, Retry-After), anything else is 500."""
    if isinstance(exc, OperationalError):
        return await _database_unavailable(request, exc)
    if isinstance(exc, StorageUnavailable):
        return await _storage_unavailable(request, exc)
    log_unhandled(request, exc)
    return server_error_response(request)
