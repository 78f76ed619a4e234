"""One's own account by e-mail and password: a forgotten password (a link by e-mail), changing the password
while signed in, and confirming the address (the link of the verification mail).

Nothing here tells whether an address has an account: asking for a reset link answers the same page for
any address, and the mail goes out after the answer (a background task), so not even the time it takes
differs. The links' tokens travel in the query string (the access log never writes it, and every page is
sent with ``Referrer-Policy: no-referrer``) and are kept only as hashes (``store.account_tokens``).
"""

from __future__ import annotations

from typing import cast

from fastapi import APIRouter
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...services.auth import Principal, Role, check_password
from ...services.mail import Mailer
from ...store import account_tokens
from ...store.account_records import AccountRecord, Throttled
from ...store.accounts import EmailTaken, normalise_email
from ...store.repository import InvalidValue
from ..deps import checked_form, client_of, path_for, see_other, throttled_page
from ..i18n import request_lang
from ..receipt_claim import Claim
from ..render import render, web_of
from ..security.hashing import run_hashing
from ..security.session import accounts_of, principal_of, session_token

router = APIRouter(include_in_schema=False)

FORGOT_PATH = "/passwort-vergessen"
RESET_PATH = "/passwort-neu"
CHANGE_PATH = "/konto/passwort"
VERIFY_PATH = "/adresse-bestaetigen"
MAX_EMAIL = 320
MAX_PASSWORD = 4096
MAX_TOKEN = 200
RESET_HOURS = int(account_tokens.LIFETIME[account_tokens.RESET].total_seconds() // 3600)
VERIFY_DAYS = account_tokens.LIFETIME[account_tokens.VERIFY].days


def mailer_of(request: Request) -> Mailer:
    return cast(Mailer, request.app.state.mailer)


def mail_available(request: Request) -> bool:
    return mailer_of(request).available


def unverified_address(request: Request, principal: Principal) -> bool:
    """Whether Mein Bereich asks to confirm the address (only where mail can be sent at all)."""
    if principal.account_id is None or not mail_available(request):
        return False
    return not accounts_of(request).account(principal.account_id).email_verified


# ---- registering, where mail can be sent ---------------------------------------------------------------
async def registered_by_mail(
    request: Request,
    values: dict[str, str],
    password: str,
    state: str,
    lang: str,
    *,
    claim: Claim | None = None,
) -> Response:
    """The answer to a valid registration form when mail can be sent: the same page for a new address and
    for one that has an account already, so the form tells nobody which addresses are known.

    A new address gets its account and a mail to confirm the address; a known one a mail saying that it has
    an account, with a link to set a new password. Nobody is signed in here (that would tell the two
    apart): the page asks to sign in with the password just chosen, and an assessment waiting to be saved
    goes along in that form and is saved at the sign-in (to whichever account the password opens).

    With ``claim`` a new account owns the receipt's intake at once (ReceiptUnusable when another
    registration took it a moment earlier; that says nothing about the address). A known address leaves
    the receipt unclaimed: its owner may claim it later with another registration, never by this form.
    """
    accounts = accounts_of(request)
    account: AccountRecord | None = None
    task: BackgroundTask | None = None
    try:
        # Argon2 through the bounded hashing queue, like sign-in and the form without mail.
        account, _ = await run_hashing(
            accounts.register_patient,
            values["email"],
            password,
            values["display_name"],
            receipt_hash=claim.digest if claim else None,
        )
    except EmailTaken:
        issued = await run_in_threadpool(
            accounts.issue_link, values["email"], account_tokens.RESET, client=client_of(request)
        )
        if issued is not None:
            task = reset_mail_task(request, issued[0], issued[1], lang, "account_exists")
    if account is not None:
        token = await run_in_threadpool(accounts.link_for, account.id, account_tokens.VERIFY)
        task = verify_mail_task(request, account, token, lang)
    context = {"email": normalise_email(values["email"]), "state": state}
    response = render(request, "patient_register_sent.html", context, lang=lang)
    response.background = task
    return response


def reset_mail_task(
    request: Request, account: AccountRecord, token: str, lang: str, kind: str
) -> BackgroundTask:
    """Sending the reset link (``kind`` "reset", or "account_exists" at registration), after the answer."""
    mailer = mailer_of(request)
    link = mailer.link(path_for(request, "reset_page") + "?code=" + token)
    message = mailer.compose(kind, lang, account.email, link=link, hours=RESET_HOURS)
    return BackgroundTask(mailer.send, message)


def verify_mail_task(request: Request, account: AccountRecord, token: str, lang: str) -> BackgroundTask:
    mailer = mailer_of(request)
    link = mailer.link(path_for(request, "verify_address") + "?code=" + token)
    message = mailer.compose("verify", lang, account.email, link=link, days=VERIFY_DAYS)
    return BackgroundTask(mailer.send, message)


# ---- a forgotten password ----------------------------------------------------------------------------
@router.api_route(FORGOT_PATH, methods=["GET", "HEAD"])
def forgot_page(request: Request) -> Response:
    lang = request_lang(request)
    context = {"mail": mailer_of(request).available, "sent": False, "email": "", "error": ""}
    return render(request, "account_forgot.html", context, lang=lang)


@router.post(FORGOT_PATH)
async def forgot(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    mailer = mailer_of(request)
    email = (form.get("email") or "").strip()[:MAX_EMAIL]
    if not mailer.available:
        context = {"mail": False, "sent": False, "email": email, "error": ""}
        return render(request, "account_forgot.html", context, lang=lang, status=503)
    if not email:
        error = web_of(request).texts.get("account.forgot.error.empty", lang)
        context = {"mail": True, "sent": False, "email": email, "error": error}
        return render(request, "account_forgot.html", context, lang=lang, status=422)
    accounts = accounts_of(request)
    try:
        issued = await run_in_threadpool(
            accounts.issue_link, email, account_tokens.RESET, client=client_of(request)
        )
    except Throttled as e:
        return throttled_page(request, e, lang, what="account.forgot.throttled", back=FORGOT_PATH)
    # The same page whether or not the address has an account (``issued`` stays out of the answer).
    context = {"mail": True, "sent": True, "email": "", "error": ""}
    response = render(request, "account_forgot.html", context, lang=lang)
    if issued is not None:
        response.background = reset_mail_task(request, issued[0], issued[1], lang, "reset")
    return response


@router.api_route(RESET_PATH, methods=["GET", "HEAD"])
async def reset_page(request: Request) -> Response:
    lang = request_lang(request)
    token = request.query_params.get("code", "")[:MAX_TOKEN]
    account = await run_in_threadpool(accounts_of(request).link_account, token, account_tokens.RESET)
    return _reset_form(request, lang, token if account is not None else "", live=account is not None)


@router.post(RESET_PATH)
async def reset(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    token = (form.get("code") or "")[:MAX_TOKEN]
    password = (form.get("password") or "")[:MAX_PASSWORD]
    repeat = (form.get("password_repeat") or "")[:MAX_PASSWORD]
    accounts = accounts_of(request)
    account = await run_in_threadpool(accounts.link_account, token, account_tokens.RESET)
    if account is None:
        return _reset_form(request, lang, "", live=False, status=410)
    errors = _new_password_errors(request, account.email, password, repeat, lang)
    if errors:
        return _reset_form(request, lang, token, live=True, errors=errors, status=422)
    try:
        done = await run_hashing(accounts.reset_password, token, password)
    except InvalidValue as e:  # the policy, in case it says more than check_password did
        errors = {"password": e.message(lang)}
        return _reset_form(request, lang, token, live=True, errors=errors, status=422)
    if done is None:  # used meanwhile (a second tab): as for any dead link
        return _reset_form(request, lang, "", live=False, status=410)
    return see_other(path_for(request, "login_page") + "?grund=passwort_neu")


def _reset_form(
    request: Request,
    lang: str,
    token: str,
    *,
    live: bool,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    context = {"token": token, "live": live, "errors": errors or {}, "labels": _labels(request, lang)}
    return render(request, "account_reset.html", context, lang=lang, status=status)


def _labels(request: Request, lang: str) -> dict[str, str]:
    texts = web_of(request).texts
    return {
        "old_password": texts.get("account.change.old", lang),
        "password": texts.get("account.password.new", lang),
        "password_repeat": texts.get("account.password.repeat", lang),
    }


def _new_password_errors(
    request: Request, email: str, password: str, repeat: str, lang: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    try:
        check_password(email, password)
    except InvalidValue as e:
        errors["password"] = e.message(lang)
    if "password" not in errors and password != repeat:
        errors["password_repeat"] = web_of(request).texts.get("patient.register.error.repeat", lang)
    return errors


# ---- changing the password while signed in -----------------------------------------------------------
@router.api_route(CHANGE_PATH, methods=["GET", "HEAD"])
def change_page(request: Request) -> Response:
    principal = principal_of(request)
    if not principal.signed_in:
        return see_other(path_for(request, "login_page"))
    return _change_form(request, request_lang(request), done=request.query_params.get("geaendert") == "1")


@router.post(CHANGE_PATH)
async def change(request: Request) -> Response:
    form = await checked_form(request)
    lang = request_lang(request)
    principal = await run_in_threadpool(principal_of, request)
    if not principal.signed_in or principal.account_id is None:
        return see_other(path_for(request, "login_page"))
    old = (form.get("old_password") or "")[:MAX_PASSWORD]
    password = (form.get("password") or "")[:MAX_PASSWORD]
    repeat = (form.get("password_repeat") or "")[:MAX_PASSWORD]
    accounts = accounts_of(request)
    account = await run_in_threadpool(accounts.account, principal.account_id)
    errors = _new_password_errors(request, account.email, password, repeat, lang)
    if not old:
        errors["old_password"] = web_of(request).texts.get("account.change.error.old", lang)
    if errors:
        return _change_form(request, lang, errors=errors)
    try:
        changed = await run_hashing(
            accounts.change_password, account.id, old, password, keep=session_token(request)
        )
    except Throttled as e:
        return throttled_page(request, e, lang, back=CHANGE_PATH)
    except InvalidValue as e:
        return _change_form(request, lang, errors={"password": e.message(lang)})
    if not changed:
        errors = {"old_password": web_of(request).texts.get("account.change.error.old", lang)}
        return _change_form(request, lang, errors=errors)
    return see_other(path_for(request, "change_page") + "?geaendert=1")


def _change_form(
    request: Request, lang: str, *, errors: dict[str, str] | None = None, done: bool = False
) -> Response:
    context = {"errors": errors or {}, "labels": _labels(request, lang), "done": done}
    return render(request, "account_change.html", context, lang=lang, status=422 if errors else 200)


# ---- confirming the address --------------------------------------------------------------------------
@router.get(VERIFY_PATH)
async def verify_address(request: Request) -> Response:
    lang = request_lang(request)
    token = request.query_params.get("code", "")[:MAX_TOKEN]
    account = await run_in_threadpool(accounts_of(request).verify_email, token)
    principal = await run_in_threadpool(principal_of, request)
    home = None
    if principal.signed_in:
        home = path_for(request, "inbox" if principal.role is Role.clinician else "home")
    context = {"verified": account is not None, "home": home}
    return render(request, "account_verified.html", context, lang=lang, status=200 if account else 410)
