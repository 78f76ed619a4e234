"""CSRF protection by a signed double-submit cookie.

The cookie holds a random token; every form carries an HMAC of that token under the app's secret key.
A POST is accepted only when the form's value matches the HMAC of the cookie it came with. A site that
can plant a cookie (a sibling subdomain) still cannot forge the form value without the key, and the
server keeps no state: any process with the same key can check any form.

The HMAC also covers the session cookie (its SHA-256; nothing for a visitor without one): a form value
made for one session is refused with another session's cookie, so a cookie-and-token pair that an attacker
got for their own session (and planted) does not work for the victim's. Forms of visitors who are not
signed in work as before. Signing in or out changes the session cookie, so a form rendered before that
needs a reload; the response that sets a new session cookie and renders a form at once says so with
``bind_forms_to``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

FIELD = "csrf_token"
_BOUND_SESSION = "csrf_session_token"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


class CsrfError(Exception):
    """The form's token is missing or does not match the cookie."""


def is_secure(request: Request, https_setting: bool) -> bool:
    return https_setting or request.url.scheme == "https"


def session_cookie_name(request: Request, https_setting: bool) -> str:
    # __Host- cookies must be Secure, so over plain HTTP (local use) the plain name is used.
    return "__Host-session" if is_secure(request, https_setting) else "session"


def bind_forms_to(request: Request, session_token: str) -> None:
    """Forms rendered for this request belong to this (new) session, not to the cookie it came with."""
    setattr(request.state, _BOUND_SESSION, session_token)


@dataclass(frozen=True)
class CsrfGuard:
    secret: bytes
    https: bool

    def cookie_name(self, request: Request) -> str:
        # __Host- cookies must be Secure, so over plain HTTP (local use) the plain name is used.
        return "__Host-csrf" if is_secure(request, self.https) else "csrf"

    def cookie_token(self, request: Request) -> str | None:
        value = request.cookies.get(self.cookie_name(request))
        return value if value is not None and _TOKEN.match(value) else None

    def session_binding(self, request: Request, *, rendering: bool) -> str:
        """The SHA-256 of the session cookie the form belongs to; empty without a session cookie."""
        session = getattr(request.state, _BOUND_SESSION, None) if rendering else None
        if session is None:
            session = request.cookies.get(session_cookie_name(request, self.https))
        return hashlib.sha256(session.encode("utf-8")).hexdigest() if session else ""

    def form_value(self, cookie_token: str, binding: str = "") -> str:
        message = b"csrf:" + cookie_token.encode("ascii") + b":" + binding.encode("ascii")
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def token_for(self, request: Request) -> tuple[str, str | None]:
        """(form value, new cookie token or None when the request's cookie can stay)."""
        binding = self.session_binding(request, rendering=True)
        existing = self.cookie_token(request)
        if existing is not None:
            return self.form_value(existing, binding), None
        fresh = secrets.token_urlsafe(32)
        return self.form_value(fresh, binding), fresh

    def set_cookie(self, request: Request, response: Response, token: str) -> None:
        response.set_cookie(
            self.cookie_name(request),
            token,
            path="/",
            secure=is_secure(request, self.https),
            httponly=True,
            samesite="lax",
        )

    def verify(self, request: Request, sent: str | None) -> None:
        """Raise CsrfError unless the token sent with a form matches the request's cookie."""
        cookie = self.cookie_token(request)
        if cookie is None or sent is None:
            raise CsrfError
        expected = self.form_value(cookie, self.session_binding(request, rendering=False))
        if not hmac.compare_digest(sent.encode("utf-8"), expected.encode("ascii")):
            raise CsrfError
