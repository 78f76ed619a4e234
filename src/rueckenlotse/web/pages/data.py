"""The patient's data rights on the web: who accessed my record, download everything, erase my account.

* ``GET /mein-bereich/zugriffe``: who accessed the record (a practice's team or API access, the system,
  oneself), when, and what; never another patient, never a clinician's own name or address.
* ``GET /mein-bereich/daten``: the downloads (JSON of everything, the two reports) and the erase form.
* ``GET /mein-bereich/daten/export.json``: the store's export, as an attachment nobody caches.
* ``POST /mein-bereich/daten/loeschen``: erase the account; the person types their e-mail address again
  to confirm (CSRF first, as every POST). Afterwards the session is gone and a confirmation page shows.

As everywhere in the patient's area, the person is always the principal's own, never one from the URL.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...services import data_rights
from ...services.auth import Principal
from ...store.accounts import normalise_email
from ...store.audit import AuditRecord
from ..deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from ..i18n import request_lang
from ..practice_view import format_time
from ..render import render, web_of
from ..security.session import accounts_of, clear_session_cookie, forget_principal
from .patient import HOME, display_name_of

router = APIRouter(include_in_schema=False)

DATA = HOME + "/daten"
ACCESS = HOME + "/zugriffe"
EXPORT_FILE_NAME = "rueckenlotse-meine-daten.json"
CONFIRM_FIELD = "confirm_email"
MAX_CONFIRM = 300


def _who(event: AuditRecord, request: Request, lang: str) -> str:
    texts = web_of(request).texts
    practice = event.practice_name or texts.get("patient.access.unknown_practice", lang)
    if event.actor_kind in ("clinician", "api_token"):
        return texts.get(f"patient.access.who.{event.actor_kind}", lang, practice=practice)
    kind = event.actor_kind if event.actor_kind in ("patient", "system") else "system"
    return texts.get(f"patient.access.who.{kind}", lang)


def _what(event: AuditRecord, request: Request, lang: str) -> str:
    texts = web_of(request).texts
    key = f"patient.access.what.{event.action}"
    return texts.get(key, lang) if key in texts else event.action


@router.api_route(ACCESS, methods=["GET", "HEAD"])
async def access_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    events = await run_in_threadpool(data_rights.access_log, store_of(request), person_of(principal))
    rows = [
        {
            "time": format_time(e.at, lang),
            "who": _who(e, request, lang),
            "what": _what(e, request, lang),
            "channel": e.channel,
        }
        for e in events
    ]
    context = {"name": display_name_of(request, principal), "rows": rows}
    return render(request, "patient_access.html", context, lang=lang)


def _data_page(
    request: Request, principal: Principal, lang: str, errors: dict[str, str] | None = None
) -> Response:
    context: dict[str, Any] = {"name": display_name_of(request, principal), "errors": errors or {}}
    return render(request, "patient_data.html", context, lang=lang, status=422 if errors else 200)


@router.api_route(DATA, methods=["GET", "HEAD"])
async def data_page(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    return _data_page(request, principal, request_lang(request))


@router.get(DATA + "/export.json")
async def export_json(request: Request) -> Response:
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    actor = data_rights.actor_of(principal, "web")
    data = await run_in_threadpool(data_rights.export_person, store_of(request), actor, person_of(principal))
    return Response(
        json.dumps(data, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="{EXPORT_FILE_NAME}"',
            "Cache-Control": "no-store",
        },
    )


@router.post(DATA + "/loeschen")
async def erase(request: Request) -> Response:
    form = await checked_form(request)
    principal = signed_in_patient(request)
    if principal is None:
        return see_other(path_for(request, "login_page"))
    lang = request_lang(request)
    assert principal.account_id is not None  # a patient's session always names its account
    account = await run_in_threadpool(accounts_of(request).account, principal.account_id)
    typed = (form.get(CONFIRM_FIELD) or "")[:MAX_CONFIRM]
    if not typed.strip() or normalise_email(typed) != account.email:
        message = web_of(request).texts.get("patient.data.erase.error", lang)
        return _data_page(request, principal, lang, {CONFIRM_FIELD: message})
    actor = data_rights.actor_of(principal, "web")
    await run_in_threadpool(data_rights.erase_account, store_of(request), actor, person_of(principal))
    forget_principal(request)  # the page says goodbye to a visitor: no "Mein Bereich" any more
    response = render(request, "patient_erased.html", {}, lang=lang)
    clear_session_cookie(request, response)
    response.headers["Clear-Site-Data"] = '"cache"'  # and pwa.js deletes a kept plan on this page
    return response
