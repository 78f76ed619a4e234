"""What the page routes share: the store, who is signed in, the checked form, the redirect after a POST.

Plain functions of the request, called at the top of a route. With ``render.web_of`` and
``security.session`` this is the only code that reads ``request.app.state``, so no page module reaches
into it, and no page module borrows another's helpers.
"""

from __future__ import annotations

import math
from typing import cast

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..core.errors import InvalidInput
from ..core.models import Case
from ..questionnaire import answers_to_case, missing_required
from ..services.auth import Principal, Role
from ..store import Store
from ..store.account_records import Throttled
from ..validation import validate_case
from .render import Form, PageError, read_form, render, web_of
from .security.csrf import FIELD as CSRF_FIELD
from .security.session import principal_of
from .security.state import BadState

LOGIN_PATH = "/anmelden"
CODE_PATH = "/anmelden/code"


def store_of(request: Request) -> Store:
    return cast(Store, request.app.state.store)


async def checked_form(request: Request) -> Form:
    """The posted form, once its CSRF token is right (else CsrfError: a 403 page)."""
    form = await read_form(request)
    web_of(request).csrf.verify(request, form.get(CSRF_FIELD))
    return form


def path_for(request: Request, name: str, /, **params: str) -> str:
    """The path of a named route (FastAPI names a route after its function), under the app's root path.

    Pages and templates link by name, so a path is written once: in its route's decorator.
    """
    return str(request.scope.get("root_path", "")) + str(request.app.url_path_for(name, **params))


def see_other(path: str) -> Response:
    """303: after a POST the browser loads the next page with GET, so a reload never posts again."""
    return RedirectResponse(path, status_code=303)


def signed_in_patient(request: Request) -> Principal | None:
    """The signed-in patient; None for anyone not signed in (they go to the sign-in page)."""
    principal = principal_of(request)
    if principal.role is Role.anonymous or principal.second_factor_pending:
        return None
    if principal.role is not Role.patient or principal.person_id is None:
        raise PageError(403, "patient_only")
    return principal


def person_of(principal: Principal) -> str:
    assert principal.person_id is not None  # signed_in_patient checked it
    return principal.person_id


class NotAllowed(Exception):
    """Not a signed-in clinician: where to send the browser instead."""

    def __init__(self, response: Response) -> None:
        super().__init__("not allowed")
        self.response = response


def signed_in_clinician(request: Request) -> Principal:
    """A clinician past the second factor; NotAllowed (to sign in) for anyone not signed in, else 403."""
    principal = principal_of(request)
    if principal.role is Role.clinician and principal.second_factor_pending:
        raise NotAllowed(see_other(path_for(request, "code_page")))
    if principal.role is Role.anonymous:
        raise NotAllowed(see_other(path_for(request, "login_page")))
    if principal.role is not Role.clinician:
        raise PageError(403, "403")
    return principal


def client_of(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def pending_case(request: Request, state_token: str | None, lang: str) -> tuple[str, Case] | None:
    """The signed intake state and its complete Case; None without a state; BadState for a bad one."""
    if not state_token:
        return None
    state = web_of(request).codec.loads(state_token)
    if missing_required(state.answers):
        raise BadState
    try:
        case = validate_case(answers_to_case(state.answers), web_of(request).kb, lang)
    except InvalidInput:
        raise BadState from None
    return state_token, case


def throttled_page(
    request: Request, error: Throttled, lang: str, *, what: str = "auth.throttled", back: str = LOGIN_PATH
) -> Response:
    """429 with Retry-After; ``what`` names the texts (``.body``, ``.back``), ``back`` where to go then."""
    minutes = max(1, math.ceil(error.retry_after / 60))
    context = {"minutes": minutes, "what": what, "back": back}
    response = render(request, "auth_throttled.html", context, lang=lang, status=429)
    response.headers["Retry-After"] = str(error.retry_after)
    return response
