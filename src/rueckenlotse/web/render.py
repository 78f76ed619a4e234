"""What every page needs: the app's web context, reading a form safely, and rendering a template."""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, cast
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ..core.kb import KnowledgeBase
from ..settings import Settings
from .i18n import LANG_COOKIE, WebTexts
from .security.csrf import FIELD as CSRF_FIELD
from .security.csrf import CsrfGuard, is_secure
from .security.session import principal_of, session_token
from .security.state import StateCodec

MAX_FORM_BYTES = 64 * 1024  # a full intake state is a few KB
MAX_FORM_FIELDS = 100
LANG_COOKIE_SECONDS = 365 * 24 * 3600


class Form:
    """A posted url-encoded form: every value a string (no files), repeated names kept in order."""

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self.pairs = pairs

    def get(self, name: str, default: str | None = None) -> str | None:
        return next((value for key, value in self.pairs if key == name), default)

    def getlist(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


class PageError(Exception):
    """Show the generic error page ``error.<key>`` with this HTTP status."""

    def __init__(self, status: int, key: str) -> None:
        super().__init__(key)
        self.status = status
        self.key = key


@dataclass(frozen=True)
class Web:
    """Everything the pages share, built once by ``create_app`` and kept on ``app.state.web``."""

    settings: Settings
    texts: WebTexts
    templates: Jinja2Templates
    csrf: CsrfGuard
    codec: StateCodec
    kb: KnowledgeBase
    static_version: str


def web_of(request: Request) -> Web:
    return cast(Web, request.app.state.web)


async def read_form(request: Request) -> Form:
    """The url-encoded form of a POST, refused when it is too large or malformed (no 500, no huge reads)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise PageError(400, "400")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise PageError(413, "413")
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS, errors="strict"
        )
    except ValueError:  # also UnicodeDecodeError
        raise PageError(400, "400") from None
    return Form(pairs)


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    lang: str,
    status: int = 200,
    remember_lang: bool = False,
) -> Response:
    """Render a page in ``lang``; sets the CSRF cookie when the browser has none yet.

    ``remember_lang``: the language was chosen on this request, keep it in the ``lang`` cookie.
    """
    web = web_of(request)
    form_token, new_cookie = web.csrf.token_for(request)
    kb_texts = web.kb.spec.texts

    def kb_text(key: str, **values: object) -> str:
        text = kb_texts[key][lang]
        return text.format(**values) if values else text

    full = {
        **context,
        "lang": lang,
        "other_lang": "en" if lang == "de" else "de",
        "t": partial(web.texts.get, lang=lang),
        "kt": kb_text,
        "csrf_field": CSRF_FIELD,
        "csrf_token": form_token,
        # Who runs the site (RUECKENLOTSE_OPERATOR_NAME), for consent texts; "" while not filled in.
        "operator_name": web.settings.operator_name.strip(),
        "static": lambda name: f"/static/{name}?v={web.static_version}",
        "account_nav": account_nav(request),
    }
    response = web.templates.TemplateResponse(request, template, full, status_code=status)
    if new_cookie is not None:
        web.csrf.set_cookie(request, response, new_cookie)
    if remember_lang and request.cookies.get(LANG_COOKIE) != lang:
        set_lang_cookie(request, response, lang)
    return response


def account_nav(request: Request) -> dict[str, Any]:
    """What the header offers: "Anmelden" to a visitor, "Mein Bereich" and "Abmelden" to someone signed in
    (only "Abmelden" while the second factor is still missing).

    Read from the database like every other check, so a session that ended on this request (logout, erasure)
    shows the signed-out header; without a session cookie nothing is read at all.
    """
    if not session_token(request):
        return {"signed_in": False, "pending": False, "home": None}
    principal = principal_of(request)
    home: str | None = None
    if principal.signed_in:
        home = str(request.url_for("inbox" if principal.role.value == "clinician" else "home").path)
    return {"signed_in": principal.signed_in, "pending": principal.second_factor_pending, "home": home}


def set_lang_cookie(request: Request, response: Response, lang: str) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_SECONDS,
        path="/",
        secure=is_secure(request, web_of(request).settings.https),
        httponly=True,
        samesite="lax",
    )
