"""The practice's administration page (/praxis/verwaltung), for its clinicians after the second factor:
the intake link (and a new one), the API tokens (revoke), the members (end their sessions, remove them
from the practice, disable their account).

Every action is a POST behind CSRF, asks ``can_manage_practice`` for the practice named in the form, acts
only on that practice's own tokens and members (anything else is a 404, as for an unknown id), is audited
with the clinician as actor (``services.administration``), and answers with a redirect back to the page
(post/redirect/get). A clinician cannot remove or disable themself here: a practice must not lock out
its last clinician by a slip; the command line (`rueckenlotse admin`) can.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...services import administration, data_rights
from ...services.auth import Principal, can_manage_practice
from ...store.errors import NotFound
from ..deps import NotAllowed, checked_form, path_for, see_other, signed_in_clinician, store_of
from ..i18n import request_lang
from ..practice_view import format_time
from ..render import PageError, render
from ..security.session import practices_of

router = APIRouter(include_in_schema=False)

PAGE = "/praxis/verwaltung"
MAX_ID = 64


@router.get(PAGE)
def practice_admin(request: Request) -> Response:
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    practices = practices_of(request)
    now = dt.datetime.now(dt.UTC)
    sections = []
    for practice_id in sorted(principal.practice_ids):
        if not can_manage_practice(principal, practice_id):
            continue
        tokens = [
            {
                "id": token.id,
                "name": token.name,
                "created": format_time(token.created_at, lang),
                "expires": format_time(token.expires_at, lang) if token.expires_at else "",
                "state": "revoked" if token.revoked_at else ("live" if token.live(now) else "expired"),
            }
            for token in practices.api_tokens(practice_id)
        ]
        practice = practices.practice(practice_id)
        sections.append(
            (
                practice.name,
                {"practice": practice, "tokens": tokens, "members": practices.members(practice_id)},
            )
        )
    sections.sort(key=lambda section: section[0])
    context = {
        "sections": [section for _, section in sections],
        "me": principal.account_id,
        "done": request.query_params.get("erledigt"),
    }
    return render(request, "practice_admin.html", context, lang=lang)


def _field(form: dict[str, str], name: str) -> str:
    value = (form.get(name) or "").strip()
    if not value or len(value) > MAX_ID:
        raise PageError(404, "404")
    return value


async def _act(
    request: Request, action: Callable[[Principal, dict[str, str]], object], done: str
) -> Response:
    form = await checked_form(request)
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    values = {name: form.get(name) or "" for name in ("practice_id", "token_id", "account_id")}
    practice_id = _field(values, "practice_id")
    if not can_manage_practice(principal, practice_id):
        raise PageError(404, "404")
    try:
        await run_in_threadpool(action, principal, values)
    except NotFound:
        raise PageError(404, "404") from None
    return see_other(path_for(request, "practice_admin") + f"?erledigt={done}")


def _not_me(principal: Principal, account_id: str) -> str:
    if account_id == principal.account_id:
        raise PageError(403, "403")
    return account_id


@router.post(PAGE + "/link")
async def rotate_link(request: Request) -> Response:
    def act(principal: Principal, values: dict[str, str]) -> object:
        actor = data_rights.actor_of(principal, "web")
        return administration.rotate_intake_link(store_of(request), values["practice_id"], actor)

    return await _act(request, act, "link")


@router.post(PAGE + "/token")
async def revoke_token(request: Request) -> Response:
    def act(principal: Principal, values: dict[str, str]) -> object:
        actor = data_rights.actor_of(principal, "web")
        token_id = _field(values, "token_id")
        if not administration.revoke_token(store_of(request), values["practice_id"], token_id, actor):
            raise PageError(404, "404")
        return None

    return await _act(request, act, "token")


@router.post(PAGE + "/sitzungen")
async def end_sessions(request: Request) -> Response:
    def act(principal: Principal, values: dict[str, str]) -> object:
        actor = data_rights.actor_of(principal, "web")
        account_id = _field(values, "account_id")
        return administration.end_member_sessions(store_of(request), values["practice_id"], account_id, actor)

    return await _act(request, act, "sitzungen")


@router.post(PAGE + "/entfernen")
async def remove_member(request: Request) -> Response:
    def act(principal: Principal, values: dict[str, str]) -> object:
        actor = data_rights.actor_of(principal, "web")
        account_id = _not_me(principal, _field(values, "account_id"))
        return administration.remove_member_by_id(store_of(request), values["practice_id"], account_id, actor)

    return await _act(request, act, "entfernt")


@router.post(PAGE + "/sperren")
async def disable_member(request: Request) -> Response:
    def act(principal: Principal, values: dict[str, str]) -> object:
        actor = data_rights.actor_of(principal, "web")
        account_id = _not_me(principal, _field(values, "account_id"))
        administration.disable_member(store_of(request), values["practice_id"], account_id, actor)
        return None

    return await _act(request, act, "gesperrt")
