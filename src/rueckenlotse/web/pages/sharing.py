"""The person's sharing page (issue #18): the practices they sent an intake to, and sharing their course
with each, or stopping it.

* ``GET /mein-bereich/teilen``: each practice with its state (shared since, stopped on, not shared) and
  what sharing means (the practice sees the diary, the outcome measures, the plan and the escalations; it
  may adjust the plan; the person can stop at any time, with effect at once).
* ``POST /mein-bereich/teilen/freigeben``: share with one of those practices; the consent box must be
  ticked (else the page again with the error at that box, 422).
* ``POST /mein-bereich/teilen/beenden``: stop sharing; the practice's pages answer 404 from this commit on.

Both are idempotent (sharing an active share or stopping a stopped one changes nothing) and answer 303
back to the page. The person is always the principal's own; the practice must be one of theirs.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...i18n.formatting import format_day
from ...services import data_rights, sharing
from ...services.auth import Principal
from ...store.shares import NotSharable
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..render import render, web_of

router = APIRouter(include_in_schema=False)

HOME = "/mein-bereich"
PRACTICES_ANCHOR = "praxen"
AGREED = "ja"
MAX_ID = 64


def _page(
    request: Request, principal: Principal, lang: str, *, errors: dict[str, str] | None = None
) -> Response:
    store = store_of(request)
    person = person_of(principal)
    texts = web_of(request).texts
    rows = []
    for index, practice in enumerate(sharing.sharable_practices(store, person), start=1):
        share = practice.share
        if practice.shared and share is not None:
            state = texts.get("share.state.shared", lang, date=format_day(share.granted_at.date(), lang))
        elif share is not None and share.revoked_at is not None:
            state = texts.get("share.state.revoked", lang, date=format_day(share.revoked_at.date(), lang))
        else:
            state = texts.get("share.state.not_shared", lang)
        rows.append(
            {
                "index": index,
                "id": practice.practice_id,
                "name": practice.name,
                "sent": texts.get(
                    "share.practice.sent", lang, date=format_day(practice.last_sent.date(), lang)
                ),
                "shared": practice.shared,
                "state": state,
            }
        )
    context: dict[str, Any] = {
        "name": store.get_person(person).display_name,
        "practices": rows,
        "errors": errors or {},
        "anchor": PRACTICES_ANCHOR,
    }
    return render(request, "patient_share.html", context, lang=lang, status=422 if errors else 200)


@router.api_route(HOME + "/teilen", methods=["GET", "HEAD"])
async def share_page(request: Request) -> Response:
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    return await run_in_threadpool(_page, request, principal, request_lang(request))


def _chosen(request: Request, principal: Principal, practice_id: str) -> int | None:
    """The practice's place in the person's list (1, 2, …), or None when it is not one of theirs."""
    practices = sharing.sharable_practices(store_of(request), person_of(principal))
    return next((i for i, p in enumerate(practices, start=1) if p.practice_id == practice_id), None)


@router.post(HOME + "/teilen/freigeben")
async def grant_share(request: Request) -> Response:
    form = await checked_form(request)
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    texts = web_of(request).texts
    practice_id = (form.get("practice") or "")[:MAX_ID]
    index = await run_in_threadpool(_chosen, request, principal, practice_id)
    if index is None:
        errors = {PRACTICES_ANCHOR: texts.get("share.error.practice", lang)}
        return await run_in_threadpool(lambda: _page(request, principal, lang, errors=errors))
    if form.get("consent") != AGREED:
        errors = {f"consent-{index}": texts.get("share.error.consent", lang)}
        return await run_in_threadpool(lambda: _page(request, principal, lang, errors=errors))
    actor = data_rights.actor_of(principal, "web")
    try:
        await run_in_threadpool(sharing.grant, store_of(request), actor, person_of(principal), practice_id)
    except NotSharable:  # its intakes were deleted a moment ago
        errors = {PRACTICES_ANCHOR: texts.get("share.error.practice", lang)}
        return await run_in_threadpool(lambda: _page(request, principal, lang, errors=errors))
    return see_other(path_for(request, "share_page") + f"#praxis-{index}")


@router.post(HOME + "/teilen/beenden")
async def revoke_share(request: Request) -> Response:
    form = await checked_form(request)
    principal = await run_in_threadpool(signed_in_patient, request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    practice_id = (form.get("practice") or "")[:MAX_ID]
    index = await run_in_threadpool(_chosen, request, principal, practice_id)
    if index is None:
        errors = {PRACTICES_ANCHOR: web_of(request).texts.get("share.error.practice", lang)}
        return await run_in_threadpool(lambda: _page(request, principal, lang, errors=errors))
    actor = data_rights.actor_of(principal, "web")
    await run_in_threadpool(sharing.revoke, store_of(request), actor, person_of(principal), practice_id)
    return see_other(path_for(request, "share_page") + f"#praxis-{index}")
