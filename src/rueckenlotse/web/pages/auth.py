"""Signing in and out: the password page, the second factor (TOTP, with its first setup), and logout.

The session lives in the database (``Accounts``); the cookie only holds its random token. Passing the
second factor ends the password-only session and starts a new one (a new cookie), so a token seen before
the second factor never gains its rights. Failed attempts are throttled per address, client and account:
too many answer with 429 and Retry-After. The same message stands for an unknown address and a wrong
password. Nothing about the person goes into a URL or a log line.

A visitor who chose "Speichern" on the result page and then signs in (instead of registering) brings the
signed intake state along in a hidden field, through the code form too; it is saved once a patient is
fully signed in.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...core.models import Case
from ...services.auth import Principal, Role, principal_for_session
from ...services.followup import record_intake
from ...store.account_records import Throttled
from ...store.repository import InvalidValue
from .. import kept_forms
from ..deps import (
    CODE_PATH,
    LOGIN_PATH,
    checked_form,
    client_of,
    path_for,
    pending_case,
    see_other,
    store_of,
    throttled_page,
)
from ..i18n import request_lang
from ..qr import qr_svg
from ..render import render, web_of
from ..security.csrf import bind_forms_to
from ..security.hashing import run_hashing
from ..security.session import (
    accounts_of,
    clear_session_cookie,
    forget_principal,
    principal_of,
    session_token,
    set_session_cookie,
)
from ..security.state import FIELD as STATE_FIELD

router = APIRouter(include_in_schema=False)

LOGOUT_PATH = "/abmelden"
MAX_EMAIL = 320
MAX_PASSWORD = 4096
MAX_CODE = 20


def home_of(request: Request, principal: Principal) -> str:
    """Where a signed-in person starts: clinicians at the inbox, patients on the start page."""
    return path_for(request, "inbox" if principal.role is Role.clinician else "home")


# ---- password --------------------------------------------------------------------------------------
def _start_of(request: Request, principal: Principal) -> str:
    """Home for someone signed in, else the sign-in page."""
    return home_of(request, principal) if principal.signed_in else path_for(request, "login_page")


# Why the sign-in page is shown, said on it: from the query (after signing out or a new password: no
# personal data) or from the ended session the browser still sends (its cookie is cleared then).
REASONS = {
    "self": "auth.reason.self",
    "new_password": "auth.reason.new_password",
    "idle": "auth.reason.idle",
    "absolute": "auth.reason.absolute",
    "revoked": "auth.reason.revoked",
}


@router.get(LOGIN_PATH)
def login_page(request: Request) -> Response:
    principal = principal_of(request)
    if principal.signed_in:
        return see_other(home_of(request, principal))
    lang = request_lang(request)
    reason: str | None = None
    if request.query_params.get("abgemeldet") == "1":
        reason = "self"
    elif request.query_params.get("grund") == "passwort_neu":
        reason = "new_password"
    token = session_token(request)
    if reason is None and token and not principal.second_factor_pending:
        reason = accounts_of(request).session_end_reason(token)
    ended = bool(token) and not principal.second_factor_pending
    if ended:
        forget_principal(request)  # the form below is posted without the cookie this answer clears
    response = _login_form(request, lang, reason=reason)
    if ended:
        clear_session_cookie(request, response)  # ended: the message is said once
    return response


@router.post(LOGIN_PATH)
async def login(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    # An assessment waiting to be saved (from the result page, via /speichern): signed, in a hidden field.
    saved = await run_in_threadpool(pending_case, request, form.get(STATE_FIELD), lang)
    pending = saved[0] if saved is not None else ""
    email = (form.get("email") or "")[:MAX_EMAIL]
    password = (form.get("password") or "")[:MAX_PASSWORD]
    accounts = accounts_of(request)
    try:
        account = await run_hashing(accounts.authenticate, email, password, client=client_of(request))
    except Throttled as e:
        return throttled_page(request, e, lang)
    if account is None:
        return _login_form(request, lang, email=email, failed=True, state=pending)
    old = session_token(request)
    if old:
        await run_in_threadpool(accounts.end_session, old)
        forget_principal(request)
    token = await run_in_threadpool(accounts.start_session, account.id)
    needs_code = account.role == "clinician" or account.totp_confirmed
    if needs_code and saved is not None and account.role == "patient":
        # The code form at once (not a redirect): the pending assessment cannot travel in a URL. Its CSRF
        # token belongs to the new session, whose cookie this response sets.
        bind_forms_to(request, token)
        response = await run_in_threadpool(_code_form, request, account.id, lang, state=pending)
    elif needs_code:
        response = see_other(path_for(request, "code_page"))
    else:
        await run_in_threadpool(_keep_pending, request, account.role, account.person_id, saved, lang)
        kept = await run_in_threadpool(_resume, request, token, lang)
        response = _after_sign_in(request, kept, path_for(request, "home"))
    set_session_cookie(request, response, token)
    return response


def _keep_pending(
    request: Request, role: str, person_id: str | None, saved: tuple[str, Case] | None, lang: str
) -> None:
    """Save the assessment the visitor brought along, once they are signed in as a patient (only then)."""
    if saved is not None and role == "patient" and person_id is not None:
        record_intake(store_of(request), person_id, saved[1], lang=lang)


def _resume(request: Request, token: str, lang: str) -> kept_forms.Resumed | None:
    """A form kept over the end of a session, saved by the one the new session (``token``, fully signed
    in) belongs to, if it is theirs: a patient's own form, a clinician's own change to a course."""
    return kept_forms.resume(request, principal_for_session(accounts_of(request), token), lang)


def _after_sign_in(request: Request, kept: kept_forms.Resumed | None, home: str) -> Response:
    """Home, or the page of a form kept over the end of the session (``kept_forms.resume`` saved it or
    shows it again with its errors); a kept form that is done with takes its cookie along."""
    if kept is None:
        return see_other(home)
    response = see_other(kept.location)
    if kept.finished:
        kept_forms.forget(request, response)
    return response


def _login_form(
    request: Request,
    lang: str,
    *,
    email: str = "",
    failed: bool = False,
    reason: str | None = None,
    state: str = "",
) -> Response:
    context = {
        "email": email,
        "failed": failed,
        "reason": REASONS.get(reason or ""),
        "state": state,
    }
    return render(request, "auth_login.html", context, lang=lang, status=401 if failed else 200)


# ---- logout ----------------------------------------------------------------------------------------
@router.post(LOGOUT_PATH)
async def logout(request: Request) -> Response:
    await checked_form(request)
    token = session_token(request)
    if token:
        await run_in_threadpool(accounts_of(request).end_session, token)
    response = see_other(path_for(request, "login_page") + "?abgemeldet=1")
    clear_session_cookie(request, response)
    # A plan kept on this device for offline use goes too: the browser clears its caches, and pwa.js
    # deletes the plan's own cache on the signed-out page that follows.
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# ---- the second factor -----------------------------------------------------------------------------
@router.get(CODE_PATH)
def code_page(request: Request) -> Response:
    principal = principal_of(request)
    if not principal.second_factor_pending or principal.account_id is None:
        return see_other(
            home_of(request, principal) if principal.signed_in else path_for(request, "login_page")
        )
    lang = request_lang(request)
    return _code_form(request, principal.account_id, lang)


@router.post(CODE_PATH)
async def code_step(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    token = session_token(request)
    principal = await run_in_threadpool(principal_of, request)
    if not token or not principal.second_factor_pending or principal.account_id is None:
        return see_other(
            home_of(request, principal) if principal.signed_in else path_for(request, "login_page")
        )
    saved = await run_in_threadpool(pending_case, request, form.get(STATE_FIELD), lang)
    pending = saved[0] if saved is not None else ""
    code = (form.get("code") or "")[:MAX_CODE]
    accounts = accounts_of(request)
    account_id = principal.account_id
    try:
        confirmed = (await run_in_threadpool(accounts.account, account_id)).totp_confirmed
        if confirmed:
            new_token = await run_in_threadpool(accounts.pass_second_factor, token, code)
        elif await run_in_threadpool(accounts.totp_confirm, account_id, code):
            # The first code proves the app works: it also completes this sign-in.
            new_token = await run_in_threadpool(accounts.mark_session_totp_passed, token)
        else:
            new_token = None
    except Throttled as e:
        return throttled_page(request, e, lang)
    if new_token is None:
        return await run_in_threadpool(_code_form, request, account_id, lang, wrong=True, state=pending)
    await run_in_threadpool(_keep_pending, request, principal.role.value, principal.person_id, saved, lang)
    kept = await run_in_threadpool(_resume, request, new_token, lang)
    response = _after_sign_in(request, kept, home_of(request, principal))
    set_session_cookie(request, response, new_token)
    return response


def _code_form(
    request: Request,
    account_id: str,
    lang: str,
    *,
    wrong: bool = False,
    state: str = "",
) -> Response:
    """The code form; for an account without an active second factor, with the set-up (QR code and key).

    The pending key is kept sealed in the account's row until the first code confirms it, so a reload, a
    wrong code or a second tab shows the same key the app has already scanned.
    """
    accounts = accounts_of(request)
    setup: dict[str, str] | None = None
    qr = None
    if not accounts.account(account_id).totp_confirmed:
        try:
            pending = accounts.totp_pending_setup(account_id)
        except InvalidValue:  # confirmed meanwhile (another tab): just ask for the code
            pending = None
        if pending is not None:
            setup = {"secret": pending.secret, "uri": pending.provisioning_uri}
            qr = qr_svg(pending.provisioning_uri, web_of(request).texts.get("auth.setup.qr_label", lang=lang))
    context = {
        "setup": setup,
        "qr": qr,
        "wrong": wrong,
        "secret_groups": _groups(setup["secret"]) if setup is not None else "",
        "state": state,
    }
    return render(request, "auth_code.html", context, lang=lang, status=401 if wrong else 200)


def _groups(secret: str) -> str:
    """The key in groups of four, easier to type."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
