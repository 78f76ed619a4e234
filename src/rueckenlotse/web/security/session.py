"""Who is signed in: the session cookie, the principal of a request, and the account repositories.

The cookie holds a random token; the database keeps only its hash (``store.web_sessions``), with idle and
absolute timeouts and server-side logout. The process keeps nothing, so any instance can serve any request.
"""

from __future__ import annotations

from datetime import timedelta
from typing import cast

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from ...services.auth import Argon2Passwords, Principal, principal_for_api_token, principal_for_session
from ...settings import Settings
from ...store import Store
from ...store.accounts import Accounts
from ...store.practices import Practices
from ...store.sealing import sealer_for
from .csrf import bind_forms_to, is_secure
from .csrf import session_cookie_name as _cookie_name


def build_accounts(store: Store, settings: Settings) -> Accounts:
    """One Accounts repository per app: Argon2Passwords prepares its dummy hash once; the data keys (made in
    data_dir on first use when none is set) seal the TOTP secrets."""
    return Accounts(
        store,
        Argon2Passwords(),
        idle_timeout=timedelta(minutes=settings.session_idle_minutes),
        absolute_timeout=timedelta(hours=settings.session_absolute_hours),
        sealer=sealer_for(settings),
    )


def accounts_of(request: Request) -> Accounts:
    return cast(Accounts, request.app.state.accounts)


def practices_of(request: Request) -> Practices:
    return cast(Practices, request.app.state.practices)


def session_cookie_name(request: Request) -> str:
    settings = cast(Settings, request.app.state.settings)
    return _cookie_name(request, settings.https)


def session_token(request: Request) -> str | None:
    return request.cookies.get(session_cookie_name(request))


# Where a request keeps its principal once read (the request's own state, never the process's).
PRINCIPAL_STATE = "principal"


def principal_of(request: Request) -> Principal:
    """The principal behind the request's session cookie (anonymous without a live session).

    Read once per request: ``PrincipalPreload`` reads it in the thread pool before an async page runs, so
    the header (``render.account_nav``) and the page's own checks never wait for the database on the event
    loop; without a session cookie nothing is read at all."""
    cached = getattr(request.state, PRINCIPAL_STATE, None)
    if isinstance(cached, Principal):
        return cached
    token = session_token(request)
    principal = principal_for_session(accounts_of(request), token) if token else Principal()
    setattr(request.state, PRINCIPAL_STATE, principal)
    return principal


def forget_principal(request: Request) -> None:
    """This request ended the session it came with (sign-out, erasure, a new sign-in): what it renders
    from now on is for a visitor, its forms too (their CSRF tokens bound to no session: the browser drops
    the cookie with this response)."""
    setattr(request.state, PRINCIPAL_STATE, Principal())
    bind_forms_to(request, "")


class PrincipalPreload:
    """Reads the principal of a request that carries a session cookie in the thread pool, before the
    route runs (ASGI middleware; pages and API alike, static files and the health check aside)."""

    SKIPPED = ("/static/", "/healthz")

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(self.SKIPPED):
            request = Request(scope)
            if session_token(request):
                await run_in_threadpool(principal_of, request)
        await self.app(scope, receive, send)


def api_principal_of(request: Request) -> Principal:
    """The principal of an API request: a practice's bearer token, else the session cookie."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return principal_for_api_token(practices_of(request), token.strip())
    return principal_of(request)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    settings = cast(Settings, request.app.state.settings)
    response.set_cookie(
        session_cookie_name(request),
        token,
        path="/",
        httponly=True,
        secure=is_secure(request, settings.https),
        samesite="lax",
        max_age=settings.session_absolute_hours * 3600,
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(session_cookie_name(request), path="/")
