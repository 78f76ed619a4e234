"""A practice's public intake link: welcome and consent, the questions, confirming the send, the receipt.

* ``GET /p/<code>``: the practice's name and what agreeing means, before the first question.
* ``GET /p/<code>/fragen``: the normal intake, with the practice's code in the signed state.
* ``POST /p/<code>/bestaetigen``: from the result page: what is sent, the optional contact details, and a
  signed, time-stamped form token. That step is the price of a send: the token must be some seconds old
  (a person reads the page; a script has to wait), and each send is counted per client and per link
  (``store.intake_limits``, atomic), so 500 sends from one client mostly end in a 429 page.
* ``POST /p/<code>/senden``: checks all that, stores the intake once (the submission key: a reload or a
  double click sends nothing new) and answers 303 to the receipt, so a reload never posts again.
* ``GET /beleg/<token>``: the person's receipt: the reference (the practice sees the same), the result and
  both PDFs. The token is 256 bits (an HMAC of the send's key), unguessable; the URL holds no health data.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any, cast

from fastapi import APIRouter
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ... import assess
from ...core.errors import InvalidCase
from ...core.models import Assessment, Case, Triage
from ...questionnaire import answers_to_case, effective_answers, missing_required, next_question
from ...services.auth import Role
from ...services.followup import record_intake
from ...settings import Settings
from ...store.account_records import IntakeContact, IntakeDetail, PracticeRecord, Throttled
from ...store.intake_limits import IntakeLimits, count_send
from ...validation import validate_case
from .. import receipt_claim
from ..deps import checked_form, client_of, path_for, see_other, store_of, throttled_page
from ..downloads import pdf_download, report_pdf
from ..i18n import request_lang
from ..practice_contact import FIELDS as CONTACT_FIELDS
from ..practice_contact import ContactForm, read_contact
from ..presenter import Presenter
from ..render import Form, PageError, render, web_of
from ..security.session import practices_of, principal_of
from ..security.state import FIELD as STATE_FIELD
from ..security.state import IntakeState
from .home import question_page
from .patient import register_form

router = APIRouter(include_in_schema=False)

MAX_CODE = 64
TOKEN_FIELD = "confirm"
CONFIRM_SALT = "rueckenlotse.practice-confirm.v1"
CONFIRM_MAX_AGE = 2 * 60 * 60  # a confirmation page open longer is confirmed again
AGREED = "ja"


def _practice_for(request: Request, code: str) -> PracticeRecord:
    practice = practices_of(request).practice_by_code(code) if len(code) <= MAX_CODE else None
    if practice is None:
        raise PageError(404, "practice_code")
    return practice


def _settings(request: Request) -> Settings:
    return cast(Settings, request.app.state.settings)


# ---- welcome, consent and the questions ------------------------------------------------------------
@router.get("/p/{code}")
def practice_link(request: Request, code: str) -> Response:
    """The practice's name and what agreeing means; the questions begin only after "Einverstanden"."""
    practice = _practice_for(request, code)
    lang = request_lang(request)
    context = {"practice": practice, "code": practice.intake_code, "agreed": AGREED}
    remember = "lang" in request.query_params
    return render(request, "practice_welcome.html", context, lang=lang, remember_lang=remember)


@router.get("/p/{code}/fragen")
def practice_questions(request: Request, code: str) -> Response:
    """The normal intake, with the practice's code carried in the signed state."""
    practice = _practice_for(request, code)
    if request.query_params.get("zustimmung") != AGREED:  # straight here: the consent comes first
        return see_other(path_for(request, "practice_link", code=practice.intake_code))
    lang = request_lang(request)
    state = IntakeState(practice_code=practice.intake_code, nonce=secrets.token_urlsafe(16))
    first = next_question(state.answers)
    assert first is not None  # the questionnaire is never empty (checked at load)
    return question_page(request, state, first, lang, remember_lang="lang" in request.query_params)


# ---- confirming and sending ------------------------------------------------------------------------
@dataclass(frozen=True)
class Sending:
    practice: PracticeRecord
    state: IntakeState
    case: Case
    lang: str


async def _sending(request: Request, form: Form, code: str) -> Sending:
    lang = request_lang(request)
    state = web_of(request).codec.loads(form.get(STATE_FIELD))
    practice = await run_in_threadpool(_practice_for, request, code)
    if state.practice_code != practice.intake_code or state.nonce is None:
        raise PageError(400, "400")
    if missing_required(state.answers):
        raise PageError(400, "practice_incomplete")
    try:
        case = validate_case(answers_to_case(state.answers), web_of(request).kb, lang)
    except InvalidCase:
        raise PageError(400, "practice_incomplete") from None
    return Sending(practice, state, case, lang)


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(web_of(request).codec.secret, salt=CONFIRM_SALT)


def _confirm_token(request: Request, sending: Sending) -> str:
    return str(_serializer(request).dumps({"p": sending.practice.id, "n": sending.state.nonce}))


def _token_problem(request: Request, sending: Sending, token: object) -> str | None:
    """None for a token of this send that is old enough; else the text key saying what to do."""
    if not isinstance(token, str) or len(token) > 500:
        raise PageError(400, "400")
    try:
        payload, stamp = _serializer(request).loads(token, max_age=CONFIRM_MAX_AGE, return_timestamp=True)
    except SignatureExpired:
        return "practice.confirm.expired"
    except BadSignature:
        raise PageError(400, "400") from None
    if payload != {"p": sending.practice.id, "n": sending.state.nonce}:
        raise PageError(400, "400")
    age = (dt.datetime.now(dt.UTC) - stamp).total_seconds()
    return "practice.confirm.too_fast" if age < _settings(request).practice_send_min_seconds else None


def _confirm_page(
    request: Request,
    sending: Sending,
    token: str,
    contact: ContactForm | None = None,
    problem: str | None = None,
) -> Response:
    lang = sending.lang
    texts = web_of(request).texts
    errors = {k: texts.get(v, lang) for k, v in (contact.errors if contact else {}).items()}
    if problem is not None:
        errors["confirm-button"] = texts.get(problem, lang)
    context = {
        "practice": sending.practice,
        "code": sending.practice.intake_code,
        "state": web_of(request).codec.dumps(sending.state),
        "token": token,
        "token_field": TOKEN_FIELD,
        "values": contact.values if contact else {},
        "errors": errors,
        "emergency": assess(sending.case, lang=lang).triage is Triage.emergency,
        "own_account": own_person(request) is not None,
    }
    return render(request, "practice_confirm.html", context, lang=lang, status=400 if errors else 200)


@router.post("/p/{code}/bestaetigen")
async def confirm_send(request: Request, code: str) -> Response:
    form = await checked_form(request)
    sending = await _sending(request, form, code)
    return _confirm_page(request, sending, _confirm_token(request, sending))


@router.post("/p/{code}/senden")
async def send_to_practice(request: Request, code: str) -> Response:
    form = await checked_form(request)
    sending = await _sending(request, form, code)
    token = form.get(TOKEN_FIELD)
    problem = _token_problem(request, sending, token)
    contact = read_contact({name: form.get(name) for name in CONTACT_FIELDS}, dt.date.today())
    if problem is not None or not contact.valid:
        # An expired page gets a new token; one sent too fast keeps its own (it only grows older).
        again = _confirm_token(request, sending) if problem == "practice.confirm.expired" else str(token)
        return _confirm_page(request, sending, again, contact, problem)
    practice = sending.practice
    key = submission_key(practice, sending.state)
    sent = await run_in_threadpool(practices_of(request).intake_by_submission, practice.id, key or "")
    if sent is None:  # a new send: counted (a reload of one already stored is not)
        limits = IntakeLimits(
            per_client=_settings(request).practice_sends_per_client,
            per_link=_settings(request).practice_sends_per_link,
        )
        try:
            await run_in_threadpool(count_send, store_of(request), practice.id, client_of(request), limits)
        except Throttled as e:
            return throttled_page(request, e, sending.lang, what="practice.throttled", back="/")
    receipt = receipt_token(request, key)
    await run_in_threadpool(_submit, request, sending, key, receipt, contact.contact())
    return see_other(path_for(request, "practice_receipt", token=receipt))


def submission_key(practice: PracticeRecord, state: IntakeState) -> str | None:
    """Names one result of one intake: a double click, a reload or back-and-send again gives the same key,
    other answers give another. The intake's random nonce keeps two people with the same answers apart.
    None for states written before the nonce existed (those are sent as before, without the check)."""
    if state.nonce is None:
        return None
    # Only the answers that count: one left over from a branch the person went back out of changes nothing.
    answers = json.dumps(effective_answers(state.answers), sort_keys=True, separators=(",", ":"))
    text = "\x00".join(("rueckenlotse.practice-send.v1", practice.id, state.nonce, answers))
    return hashlib.sha256(text.encode()).hexdigest()


def receipt_token(request: Request, key: str | None) -> str:
    """The person's receipt: derived from the send's key, so a send repeated finds the same receipt;
    random for a state without a nonce (from before receipts existed)."""
    if key is None:
        raw = secrets.token_bytes(32)
    else:
        secret = web_of(request).codec.secret.encode()
        raw = hmac.new(secret, b"rueckenlotse.receipt.v1\x00" + key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def own_person(request: Request) -> str | None:
    """The person of a fully signed-in patient: what they send through a practice link is their own
    assessment (kept in their area, and the course they may then share with the practice, issue #18).
    None for everyone else: their send makes a new pseudonymous person."""
    principal = principal_of(request)
    if principal.role is not Role.patient or not principal.signed_in or principal.person_id is None:
        return None
    return principal.person_id


def _submit(
    request: Request, sending: Sending, key: str | None, receipt: str, contact: IntakeContact
) -> None:
    """A new pseudonymous person (named, if the person gave a name) with this intake, attached to the
    practice; for a signed-in patient their own person (named only if it has no name yet). Nothing new
    when this result was sent before (the first send's intake stands)."""
    practices = practices_of(request)
    practice = sending.practice
    if key is not None and practices.intake_by_submission(practice.id, key) is not None:
        return
    store = store_of(request)
    own = own_person(request)
    if own is not None:
        store.name_person_if_unnamed(own, contact.name)
    person_id = own if own is not None else store.create_person(contact.name).id
    result = record_intake(store, person_id, sending.case, lang=sending.lang)
    intake = practices.submit_intake(
        practice.id,
        person_id,
        result.record.id,
        submission_key=key,
        receipt_hash=receipt_claim.receipt_digest(receipt),
        contact=contact,
    )
    if intake.assessment_id != result.record.id and own is None:
        # Another process stored the same send a moment earlier: that intake stands, this copy goes. (A
        # signed-in patient's copy stays in their own history: their person is never erased here.)
        store.erase_person(person_id)


# ---- the receipt -----------------------------------------------------------------------------------
def _receipt(request: Request, token: str) -> tuple[PracticeRecord, IntakeDetail]:
    digest = receipt_claim.receipt_digest(token)
    found = practices_of(request).receipt(digest) if len(token) == receipt_claim.TOKEN_LENGTH else None
    if found is None:
        raise PageError(404, "receipt")
    return found


@router.get("/beleg/{token}")
async def practice_receipt(request: Request, token: str) -> Response:
    practice, detail = await run_in_threadpool(_receipt, request, token)
    lang = request_lang(request)
    result: Any = Presenter(web_of(request).kb, lang).result(_assessment_in(detail, lang))
    # Someone without an account may make one from here: the intake becomes its first record, and the
    # course can then be shared with the practice (a signed-in patient's own sends are theirs already).
    signed_in = (await run_in_threadpool(principal_of, request)).role is Role.patient
    claim = None if signed_in else await run_in_threadpool(receipt_claim.claim_of, request, token)
    context = {
        "claimable": claim is not None,
        "practice": practice,
        "reference": detail.intake.reference,
        "r": result,
        "token": token,
        "contact_given": detail.contact is not None and bool(detail.contact.phone or detail.contact.email),
        "emergency": detail.intake.triage == Triage.emergency.value,
    }
    return render(request, "practice_receipt.html", context, lang=lang)


@router.api_route("/beleg/{token}/konto", methods=["GET", "HEAD"])
async def receipt_register_page(request: Request, token: str) -> Response:
    """The registration form that makes this receipt's intake the new account's first record."""
    await run_in_threadpool(_receipt, request, token)  # 404 for a token that names no intake
    lang = request_lang(request)
    if (await run_in_threadpool(principal_of, request)).role is Role.patient:
        return see_other(path_for(request, "home"))
    claim = await run_in_threadpool(receipt_claim.claim_of, request, token)
    return register_form(request, lang, claim=claim, claim_taken=claim is None)


def _assessment_in(detail: IntakeDetail, lang: str) -> Assessment:
    """The assessment as stored: what the practice received (its texts in the language it was made in)."""
    return detail.assessment


@router.get("/beleg/{token}/{kind}.pdf")
async def practice_receipt_pdf(request: Request, token: str, kind: str) -> Response:
    if kind not in ("zusammenfassung", "praxis"):
        raise PageError(404, "404")
    chosen: Any = "patient" if kind == "zusammenfassung" else "clinician"
    practice, detail = await run_in_threadpool(_receipt, request, token)
    lang = request_lang(request)
    label = detail.person.display_name or detail.intake.reference

    def make() -> bytes:
        return report_pdf(chosen, detail.case, _assessment_in(detail, lang), lang=lang, person_label=label)

    return pdf_download(await run_in_threadpool(make), chosen)
