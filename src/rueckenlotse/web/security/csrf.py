"""CSRF protection by a signed double-submit cookie.

The cookie holds a random token; every form carries an HMAC of that token under the app's secret key.
A POST is accepted only when the form's value matches the HMAC of the cookie it came with. A site that
can plant a cookie (a sibling subdomain) still cannot forge the form value without the key, and the
server keeps no state: any process with the same key can check any form.
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
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


class CsrfError(Exception):
    """The form's token is missing or does not match the cookie."""


def is_secure(request: Request, https_setting: bool) -> bool:
    return https_setting or request.url.scheme == "https"


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

    def form_value(self, cookie_token: str) -> str:
        return hmac.new(self.secret, b"csrf:" + cookie_token.encode("ascii"), hashlib.sha256).hexdigest()

    def token_for(self, request: Request) -> tuple[str, str | None]:
        """(form value, new cookie token or None when the request's cookie can stay)."""
        existing = self.cookie_token(request)
        if existing is not None:
            return self.form_value(existing), None
        fresh = secrets.token_urlsafe(32)
        return self.form_value(fresh), fresh

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
        if not hmac.compare_digest(sent.encode("utf-8"), self.form_value(cookie).encode("ascii")):
            raise CsrfError
