"""ASGI middleware: security headers and a data-free access log (the error shield is in ``errors``).

Pure ASGI (no BaseHTTPMiddleware): nothing is buffered and nothing is kept between requests.
"""

from __future__ import annotations

import logging
import re
import time

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; worker-src 'self'; manifest-src 'self'"
)
STATIC_PREFIX = "/static/"
# The exercise drawings (web.pages.exercises): public, no personal data; they set their own Cache-Control and
# an SVG opened on its own may use its inline <style> (the reduced-motion switch), never a script.
EXERCISE_IMAGE_PREFIX = "/uebungen/"
IMAGE_CSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
# Fetched again on every use, never from a stale copy: the service worker (which says what the browser
# keeps) and the manifest. Neither holds personal data.
REVALIDATED = frozenset({"/sw.js", "/manifest.webmanifest"})

access_logger = logging.getLogger("rueckenlotse.access")
# Paths whose last parts are a secret that opens something without signing in (the private calendar feed,
# the receipt of a practice intake): the log shows the route, never the token (logs travel further).
_SECRET_PATHS = re.compile(r"^/(kalender|beleg)/[^/]+")


def loggable_path(path: str) -> str:
    """The request path as the access log may show it: a secret token replaced by "…"."""
    return _SECRET_PATHS.sub(lambda m: f"/{m.group(1)}/…", path)


class SecurityHeaders:
    """Headers on every response; personal pages (everything but static files and the exercise drawings) are
    never cached."""

    def __init__(self, app: ASGIApp, *, https: bool) -> None:
        self.app = app
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        static = path.startswith(STATIC_PREFIX)
        drawing = path.startswith(EXERCISE_IMAGE_PREFIX) and path.endswith(".svg")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                # The drawing itself, not an error page answering for a missing one.
                image = drawing and message["status"] in (200, 304)
                headers["Content-Security-Policy"] = IMAGE_CSP if image else CSP
                headers["Referrer-Policy"] = "no-referrer"
                headers["X-Content-Type-Options"] = "nosniff"
                headers["X-Frame-Options"] = "DENY"
                headers["Cross-Origin-Opener-Policy"] = "same-origin"
                headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
                if self.https:
                    headers["Strict-Transport-Security"] = "max-age=31536000"
                if image and headers.get("cache-control", "").startswith("public"):
                    pass  # the drawing's own Cache-Control and ETag (an error answer stays no-store)
                elif static:
                    headers["Cache-Control"] = "public, max-age=3600"
                elif path in REVALIDATED:
                    headers["Cache-Control"] = "no-cache"
                else:
                    # A response may say more (the calendar feed: "private, no-store"), never less.
                    if "no-store" not in headers.get("Cache-Control", ""):
                        headers["Cache-Control"] = "no-store"
                    headers["Pragma"] = "no-cache"
            await send(message)

        await self.app(scope, receive, send_with_headers)


class AccessLog:
    """One line per request: method, path (never the query string or body), status, milliseconds."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recording_status)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            access_logger.info(
                "%s %s %d %.0fms", scope["method"], loggable_path(scope["path"]), status, elapsed
            )
