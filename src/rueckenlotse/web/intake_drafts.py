"""The questionnaire's pages between a POST and the GET it redirects to (post/redirect/get).

Each POST of the interview names the page that comes next (a ``Step``) and keeps it, with the signed
state, in a ``form_drafts`` row of kind ``intake``; the browser holds the draft's random token in a cookie
and is sent to ``/intake/schritt/<n>``. The URL holds only the page's number, so no answer reaches a URL,
a log line or the browser history; the process keeps nothing, so any app server (sharing the database)
serves the GET. The draft expires two hours after its last step and is purged at the next draft written.

Numbers only grow: Back in the browser loads an earlier number, which shows that page again; a POST from
it continues from there (later numbers are then just history). At most ``MAX_STEPS`` are kept; older ones
redirect to the latest.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import Response

from ..settings import Settings
from ..store import Store
from .render import web_of
from .security.csrf import is_secure
from .security.state import BadState, IntakeState

TTL = dt.timedelta(hours=2)
MAX_STEPS = 200
_NUMBER = re.compile(r"^[0-9]{1,6}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")
_VIEWS = frozenset({"question", "emergency", "result"})


@dataclass(frozen=True)
class Step:
    """The page to show: a question (with the error and the choices of a refused answer), the emergency
    stop before ``question_id``, or the result (``question_id`` "")."""

    state: IntakeState
    question_id: str
    view: str
    error: str | None = None
    submitted: tuple[list[str], str] | None = None

    def as_json(self) -> dict[str, Any]:
        kept: dict[str, Any] = {"q": self.question_id, "v": self.view}
        if self.error is not None:
            kept["e"] = self.error
        if self.submitted is not None:
            kept["s"] = [self.submitted[0], self.submitted[1]]
        return kept


def cookie_name(request: Request) -> str:
    settings = cast(Settings, request.app.state.settings)
    # __Host- cookies must be Secure, so over plain HTTP (local use) the plain name is used.
    return "__Host-intake" if is_secure(request, settings.https) else "intake"


def _store(request: Request) -> Store:
    return cast(Store, request.app.state.store)


def _token_of(request: Request) -> str | None:
    token = request.cookies.get(cookie_name(request))
    return token if token is not None and _TOKEN.match(token) else None


def remember(request: Request, step: Step) -> tuple[str, int]:
    """Keep ``step`` as the interview's next page; the draft's token and the page's number."""
    store = _store(request)
    token = _token_of(request)
    draft = store.get_draft(token, "intake") if token else None
    if token is None or draft is None:
        token, first, steps = _new_token(), 0, []
    else:
        first, steps = int(draft.payload.get("first", 0)), list(draft.payload.get("steps", []))
    steps.append(step.as_json())
    if len(steps) > MAX_STEPS:
        first += len(steps) - MAX_STEPS
        steps = steps[-MAX_STEPS:]
    payload = {"state": web_of(request).codec.dumps(step.state), "first": first, "steps": steps}
    store.put_draft(token, "intake", payload, ttl=TTL)
    return token, first + len(steps) - 1


def load(request: Request, number: str) -> tuple[IntakeState, Step] | int | None:
    """The latest state and the page numbered ``number``; the latest number when there is no such page;
    None without a live draft (or with one whose state no longer reads, e.g. after a knowledge update)."""
    token = _token_of(request)
    draft = _store(request).get_draft(token, "intake") if token else None
    if draft is None:
        return None
    try:
        state = web_of(request).codec.loads(draft.payload.get("state"))
    except BadState:
        return None
    first, steps = int(draft.payload.get("first", 0)), list(draft.payload.get("steps", []))
    if not steps:
        return None
    index = int(number) - first if _NUMBER.match(number) else -1
    if not 0 <= index < len(steps):
        return first + len(steps) - 1
    return state, _step_of(state, steps[index])


def _step_of(state: IntakeState, kept: dict[str, Any]) -> Step:
    question_id, view = str(kept.get("q", "")), str(kept.get("v", "question"))
    if view not in _VIEWS:
        view = "question"
    error = kept.get("e")
    submitted = kept.get("s")
    chosen: tuple[list[str], str] | None = None
    if isinstance(submitted, list) and len(submitted) == 2:
        chosen = ([str(value) for value in submitted[0]], str(submitted[1]))
    return Step(state, question_id, view, str(error) if error is not None else None, chosen)


def set_cookie(request: Request, response: Response, token: str) -> None:
    settings = cast(Settings, request.app.state.settings)
    response.set_cookie(
        cookie_name(request),
        token,
        path="/",
        httponly=True,
        secure=is_secure(request, settings.https),
        samesite="lax",
        max_age=int(TTL.total_seconds()),
    )


def _new_token() -> str:
    return secrets.token_urlsafe(32)
