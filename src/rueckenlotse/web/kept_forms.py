"""The forms that survive the end of a session: the patient's diary entry, correction of an entry, outcome
measure's answers and exercise's feedback, and the clinician's change to a shared person's plan. One
mechanism for all five, so they promise alike:

- Owned: each rendered form carries its owner and the form's idempotency key signed with the app's
  secret (``owner_token``), with a salt of its own per kind: a diary form's signature does not pass as a
  measure's, a patient's not as a clinician's. The owner is the patient's person, or for the clinician's
  kind (``Kind.owner`` "account") the clinician's account. A form about one thing (the correction: its
  entry; the plan change: the course's intake; ``Kind.bound``) has that signed too, in a hidden field that
  must name what the URL it is posted to names. A form posted without a live session is attributed by
  that field only.
- Kept: such a form, CSRF-valid and signed, is kept for 24 hours as a draft of its kind bound to a person
  (the patient's own; for a clinician's form the person whose course it changes, ``Kind.subject``, so
  erasing that person erases the draft too, and the owning account in the draft); the cookie
  ``kept_form`` holds ``<kind>.<token>``, and the browser goes to the sign-in page with ``?entwurf=1``
  (it says the form is kept). An unsigned, forged or foreign form is not kept: just the sign-in page, as
  for any page.
- Saved once, for its own owner: right after signing in (``resume``; a clinician after the second factor)
  the draft is saved with the same call the form's POST makes, with the form's key, so a replay never
  writes twice (a correction: the same correction again changes nothing); only when the one signed in is
  the draft's owner, with everything the POST checks checked again (a clinician: still allowed to change
  this course, the share still active), and in the audit trail as that account. Saved, the browser goes
  to the page that says so; refused, to the kept form with its errors at their fields (``?entwurf=1``,
  422); no longer savable (answered meanwhile, not in today's plan any more, the entry deleted, the
  course no longer shared), to the form's page (the practice's course list), and the draft is gone.

``posted`` is the POST preamble the patient's four handlers share (the CSRF check, the language, the
signed-in patient, else ``sign_in_keeping`` the form); ``done`` the redirect after saving, ``finished``
its part that is done with a kept form. Drafts from before this module (cookie ``diary_draft``) are still
read as diary drafts, so entries in flight over a deploy survive.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..core.errors import InvalidInput
from ..knowledge.measures import Measure
from ..plan.measures import default_measures, form_answers
from ..services import data_rights
from ..services.auth import Principal, Role
from ..services.followup import AlreadySaved, NoIntake, NoSuchEntry
from ..services.measures import NotDue, record_response
from ..services.sessions import NotInSession, NotOffered, UnknownRating, record_feedback
from ..services.sharing import NotShared
from ..store import Store
from ..store.drafts import Draft
from . import course_form, diary_form
from .deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from .i18n import request_lang
from .render import Form, Web, web_of
from .security.csrf import FIELD as CSRF_FIELD
from .security.csrf import is_secure
from .security.session import practices_of

KEY = diary_form.ENTRY_KEY
OWNER = "entry_owner"
COOKIE = "kept_form"
OLD_DIARY_COOKIE = "diary_draft"  # the diary's own cookie before this module: still read, never written
DRAFT_TTL = dt.timedelta(hours=24)
KEPT_QUERY = "?entwurf=1"
MAX_OWNER = 512


# ---- what saving a form comes to --------------------------------------------------------------------
@dataclass(frozen=True)
class Saved:
    """Saved (or saved before, by the same key): the page that says so, as a query on the form's page."""

    query: str


@dataclass(frozen=True)
class Refused:
    """Nothing saved: these errors, per field id, to show at the form."""

    errors: dict[str, str]


class BadForm(Exception):
    """Not a form of ours (no key, an unknown measure or exercise): 400 when posted, dropped when kept."""


@dataclass(frozen=True)
class Saving:
    """What saving one form takes: the same for every kind, posted now or kept over a sign-in."""

    web: Web
    store: Store
    person: str  # the person the form is about (a kept form: the draft's)
    form: Form
    lang: str
    kept_at: dt.datetime | None  # when a kept form was posted; None when posted now
    principal: Principal  # the one signed in, who saves it: the audit trail's actor


Save = Callable[[Saving], Saved | Refused]
# A clinician's form: the person it is about, from the owning account and the URL's path parameters (None:
# nothing of theirs to keep it for).
Subject = Callable[[Request, str, Mapping[str, str]], str | None]

PERSON = "person"  # owned by the patient's person (the signed-in patient's ``person_id``)
ACCOUNT = "account"  # owned by the clinician's account (the signed-in clinician's ``account_id``)


@dataclass(frozen=True)
class Kind:
    """One kind of kept form: its draft kind, the owner's salt, how it is saved, where it lives."""

    name: str  # the draft kind in the store (store.drafts.KINDS)
    salt: str
    save: Save
    page: str  # the route name of the page after saving (saved: its query; no longer savable: as is)
    gone: tuple[type[Exception], ...]  # raised by save: the kept form can no longer be saved
    # The path parameters the form is about (the entry a correction corrects): a hidden field of the same
    # name repeats each, and the owner's signature covers it.
    bound: tuple[str, ...] = ()
    # The route name of the form's own page when it is not ``page`` (with the bound parameters): a kept
    # form refused after signing in is shown there again (KEPT_QUERY).
    form_page: str | None = None
    # The route name (with the bound parameters) of the page after saving when it is not ``page``.
    saved_page: str | None = None
    owner: str = PERSON  # PERSON or ACCOUNT: whom the signature names
    subject: Subject | None = None  # for ACCOUNT: the person the draft is kept for
    key_field: str = KEY  # the form's idempotency key

    def owner_in(self, principal: Principal) -> str | None:
        """The owner the signed-in principal is for a form of this kind (None: none of theirs)."""
        if self.owner == ACCOUNT:
            return principal.account_id if principal.role is Role.clinician else None
        return principal.person_id if principal.role is Role.patient else None


# ---- the patient's four forms --------------------------------------------------------------------------
def _save_diary(s: Saving) -> Saved | Refused:
    outcome = diary_form.save(s.web, s.store, s.person, s.form, s.lang, resumed=s.kept_at is not None)
    if isinstance(outcome, diary_form.Refused):
        return Refused(outcome.errors)
    return Saved("?gespeichert=" + outcome.entry_id)


ENTRY_ID = "entry_id"


def _save_diary_edit(s: Saving) -> Saved | Refused:
    """The correction of one entry (raises NoSuchEntry for an entry that is not, or no longer, the
    person's, and NoIntake); the same correction again changes nothing (``followup.edit_entry``)."""
    record = diary_form.entry_of(s.store, s.person, s.form.get(ENTRY_ID) or "")
    if record is None:
        raise NoSuchEntry()
    actor = data_rights.actor_of(s.principal, "web")
    outcome = diary_form.save_edit(
        s.web, s.store, s.person, record, s.form, s.lang, actor=actor, resumed=s.kept_at is not None
    )
    if isinstance(outcome, diary_form.Refused):
        return Refused(outcome.errors)
    return Saved("?gespeichert=" + outcome.entry_id)


def first_field(measure: Measure) -> str:
    """The field an error without a field of its own is shown at."""
    item = measure.items[0]
    return f"{item.id}-1-name" if item.kind == "named_scale" else item.id


def _save_measure(s: Saving) -> Saved | Refused:
    """One measure's answers (raises NotDue, NoIntake, BadForm). Saved for the week due now: the answers
    are about how the last days went, also when they were kept over a sign-in."""
    store, person, form = s.store, s.person, s.form
    catalogue = default_measures()
    measure_id, key, week = form.get("measure") or "", diary_form.form_key(form), form.get("week") or ""
    if measure_id not in catalogue.ids or key is None or not week.isdigit() or len(week) > 3:
        raise BadForm()
    measure = catalogue.get(measure_id)
    answers, fields = form_answers(measure, form.get)
    try:
        record_response(store, person, measure_id, answers, week=int(week), lang=s.lang, idempotency_key=key)
    except AlreadySaved:
        pass  # a reload, a second click or a replay: the first post saved it
    except InvalidInput as e:
        return Refused({fields.get(error.field, first_field(measure)): error.message for error in e.errors})
    return Saved("?gespeichert=" + measure_id)


# The choices of the session's form (the plan's ratings); "take_next" comes only from the offer's button.
FORM_RATINGS = ("too_easy", "fits", "too_hard", "pain_after")
EXERCISE = re.compile(r"^[a-z0-9_]{1,64}$")


def exercise_anchor(exercise_id: str) -> str:
    return "uebung-" + exercise_id


def _save_feedback(s: Saving) -> Saved | Refused:
    """One exercise done and/or rated (raises NotInSession, NoIntake, BadForm). A kept form is saved at
    the moment it was posted: the feedback belongs to that day's session."""
    web, form, lang = s.web, s.form, s.lang
    exercise_id, key = form.get("exercise") or "", diary_form.form_key(form)
    if not EXERCISE.match(exercise_id) or key is None:
        raise BadForm()
    rating = form.get("rating") or None
    done = form.get("done") == "1"
    field = "rating-" + exercise_id
    if rating is not None and rating not in (*FORM_RATINGS, "take_next"):
        return Refused({field: web.texts.get("session.error.rating", lang)})
    if rating is None and not done:
        return Refused({field: web.texts.get("session.error.empty", lang)})
    try:
        record_feedback(
            s.store, s.person, exercise_id, done=done, rating=rating, idempotency_key=key, at=s.kept_at
        )
    except AlreadySaved:
        pass  # a reload, a second click or a replay: the first post saved it
    except NotOffered:
        return Refused({field: web.texts.get("session.error.not_offered", lang)})
    except UnknownRating:  # pragma: no cover - refused above already
        raise BadForm() from None
    return Saved(f"?gespeichert={exercise_id}#{exercise_anchor(exercise_id)}")


DIARY = Kind("diary", "rueckenlotse.diary-owner.v1", _save_diary, "diary_page", (NoIntake,))
DIARY_EDIT = Kind(
    "diary_edit",
    "rueckenlotse.diary-edit-owner.v1",
    _save_diary_edit,
    "diary_page",
    (NoIntake, NoSuchEntry),
    bound=(ENTRY_ID,),
    form_page="diary_entry_page",
)
MEASURES = Kind(
    "measures", "rueckenlotse.measures-owner.v1", _save_measure, "measures_page", (NoIntake, NotDue)
)
SESSION = Kind(
    "session", "rueckenlotse.session-owner.v1", _save_feedback, "session_page", (NoIntake, NotInSession)
)


# ---- the clinician's change to a shared person's plan ---------------------------------------------------
def _course_subject(request: Request, account_id: str, url: Mapping[str, str]) -> str | None:
    """The person whose course the intake in the URL leads to, for one of the account's practices, while
    it is shared (None: nothing to keep; it could not be saved anyway)."""
    practice_ids = [practice.id for practice in practices_of(request).practices_of(account_id)]
    found = course_form.course_in(store_of(request), practice_ids, url.get(course_form.INTAKE_ID, ""))
    return found.person_id if found is not None else None


def _save_course_change(s: Saving) -> Saved | Refused:
    """The change, checked as the course page's POST checks it: the clinician may still change this
    course (raises NotShared: revoked meanwhile, or no longer in the practice; BadChange)."""
    intake_id = s.form.get(course_form.INTAKE_ID) or ""
    found = course_form.course_for(s.store, s.principal, intake_id, adjusting=True)
    if found is None or found.person_id != s.person:
        raise NotShared()
    errors = course_form.save_change(s.web, s.store, s.principal, found, s.form, s.lang)
    if errors is not None:
        return Refused(errors)
    return Saved("#" + course_form.CHANGES_ANCHOR)


COURSE_ADJUST = Kind(
    "course_adjust",
    "rueckenlotse.course-adjust-owner.v1",
    _save_course_change,
    "shared_courses",
    (NotShared, course_form.BadChange),
    bound=(course_form.INTAKE_ID,),
    form_page="practice_course_page",
    saved_page="practice_course_page",
    owner=ACCOUNT,
    subject=_course_subject,
    key_field=course_form.FORM_KEY,
)
KINDS: dict[str, Kind] = {kind.name: kind for kind in (DIARY, DIARY_EDIT, MEASURES, SESSION, COURSE_ADJUST)}


# ---- the owner of a form --------------------------------------------------------------------------------
def _serializer(web: Web, kind: Kind) -> URLSafeSerializer:
    return URLSafeSerializer(web.codec.secret, salt=kind.salt)


def _owner_claim(kind: Kind) -> str:
    # What the signature names, under a name of its own: a person's id never reads as an account's.
    return "a" if kind.owner == ACCOUNT else "p"


def owner_token(web: Web, kind: Kind, owner: str, key: str, **bound: str) -> str:
    """The value of the form's owner field: this owner (a person, or for a clinician's kind an account)
    rendered the form with this key (and, for a kind with ``bound`` parameters, about these values)."""
    if set(bound) != set(kind.bound):
        raise ValueError(f"{kind.name} binds {kind.bound}")
    payload: dict[str, Any] = {_owner_claim(kind): owner, "k": key}
    if kind.bound:
        payload["b"] = bound
    text = _serializer(web, kind).dumps(payload)
    return text if isinstance(text, str) else text.decode("ascii")


def owner_of(web: Web, kind: Kind, form: Form) -> str | None:
    """The owner whose page rendered this form of this kind, when its signature, key and bound fields
    check out."""
    key, token = diary_form.form_key(form, kind.key_field), form.get(OWNER) or ""
    if key is None or not token or len(token) > MAX_OWNER:
        return None
    try:
        payload = _serializer(web, kind).loads(token)
    except BadSignature:
        return None
    claim = _owner_claim(kind)
    if not isinstance(payload, dict) or payload.get("k") != key or not isinstance(payload.get(claim), str):
        return None
    bound = _bound_of(kind, form)
    if kind.bound and (payload.get("b") != bound or not all(bound.values())):
        return None
    owner: str = payload[claim]
    return owner


# ---- keeping a form posted after the session ended ------------------------------------------------------
def keep(
    request: Request, kind: Kind, form: Form, lang: str, url: Mapping[str, str] | None = None
) -> str | None:
    """Keep a signed form posted without a live session; the cookie's value for it, or None when the
    form is not signed for this kind, or its bound fields are not what the URL (``url``: its path
    parameters) names, or a clinician's form is about nothing of their practices (then there is nothing
    to keep)."""
    if any(form.get(name) != (url or {}).get(name) for name in kind.bound):
        return None
    owner = owner_of(web_of(request), kind, form)
    if owner is None:
        return None
    payload: dict[str, Any] = {"pairs": [[n, v] for n, v in form.pairs if n != CSRF_FIELD], "lang": lang}
    person_id: str | None = owner
    if kind.owner == ACCOUNT:
        person_id = kind.subject(request, owner, url or {}) if kind.subject is not None else None
        if person_id is None:
            return None
        payload[ACCOUNT] = owner
    token = secrets.token_urlsafe(32)
    try:
        store_of(request).put_draft(token, kind.name, payload, ttl=DRAFT_TTL, person_id=person_id)
    except Exception:  # the person was erased meanwhile (foreign key): nothing to keep for
        return None
    return f"{kind.name}.{token}"


def _draft_owner(kind: Kind, draft: Draft) -> str | None:
    """Whose kept form this is: the person's it is kept for, or the clinician's account in it."""
    if kind.owner == ACCOUNT:
        account = draft.payload.get(ACCOUNT)
        return account if isinstance(account, str) else None
    return draft.person_id


def _cookie_of(request: Request) -> tuple[Kind, str, str] | None:
    """The kept form this browser holds: its kind, its draft token, and the cookie that holds it."""
    value = request.cookies.get(COOKIE) or ""
    name, _, token = value.partition(".")
    if name in KINDS and token:
        return KINDS[name], token, COOKIE
    old = request.cookies.get(OLD_DIARY_COOKIE)
    return (DIARY, old, OLD_DIARY_COOKIE) if old else None


def _set_cookie(web: Web, request: Request, response: Response, value: str) -> None:
    response.set_cookie(
        COOKIE,
        value,
        path="/",
        httponly=True,
        secure=is_secure(request, web.settings.https),
        samesite="lax",
        max_age=int(DRAFT_TTL.total_seconds()),
    )


@dataclass(frozen=True)
class Posted:
    """A form posted by the signed-in patient, CSRF-checked."""

    kind: Kind
    form: Form
    lang: str
    principal: Principal

    @property
    def person(self) -> str:
        return person_of(self.principal)


def _url_of(request: Request) -> dict[str, str]:
    return {name: str(value) for name, value in request.path_params.items()}


async def posted(request: Request, kind: Kind) -> Posted | Response:
    """The POST preamble of the patient's kept forms: the checked form with the signed-in patient; without
    a live session, the redirect to the sign-in page (with the form kept when it is signed)."""
    form = await checked_form(request)
    lang = request_lang(request)
    principal = signed_in_patient(request)
    if principal is not None:
        return Posted(kind, _about(kind, form, _url_of(request)), lang, principal)
    return await sign_in_keeping(request, kind, form, lang)


async def sign_in_keeping(request: Request, kind: Kind, form: Form, lang: str) -> Response:
    """A form of this kind (CSRF-checked) posted without a live session: to the sign-in page, with the
    form kept (the cookie, ``?entwurf=1``) when it is signed; else just the sign-in page."""
    value = await run_in_threadpool(keep, request, kind, form, lang, _url_of(request))
    response = see_other(path_for(request, "login_page") + (KEPT_QUERY if value else ""))
    if value is not None:
        _set_cookie(web_of(request), request, response, value)
    return response


def _about(kind: Kind, form: Form, url: Mapping[str, str]) -> Form:
    """The signed-in patient's form about what its URL names: the URL's path parameters in its bound
    fields (a page from before a field was added has none; the URL decides, as it always did)."""
    if not kind.bound:
        return form
    pairs = [(name, value) for name, value in form.pairs if name not in kind.bound]
    return Form(pairs + [(name, url.get(name, "")) for name in kind.bound])


async def save(request: Request, posted: Posted) -> Saved | Refused:
    """Save the posted form as its kind does (raises what the kind's save raises)."""
    web, store = web_of(request), store_of(request)
    return await run_in_threadpool(
        posted.kind.save, Saving(web, store, posted.person, posted.form, posted.lang, None, posted.principal)
    )


async def done(request: Request, posted: Posted, saved: Saved) -> Response:
    """After saving (post/redirect/get): the page that says so; a form of this kind kept over a sign-in
    is done with too (it was saved, or corrected and saved now)."""
    return await finished(request, posted.kind, see_other(path_for(request, posted.kind.page) + saved.query))


async def finished(request: Request, kind: Kind, response: Response) -> Response:
    """A form of this kind was saved by its own POST: a form of this kind kept over a sign-in is done with
    (it was saved, or corrected and saved now), its draft and cookie go with this response."""
    found = _cookie_of(request)
    if found is not None and found[0] is kind:
        await run_in_threadpool(store_of(request).drop_draft, found[1])
        response.delete_cookie(found[2], path="/")
    return response


# ---- after signing in -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resumed:
    """Where to go after signing in with a kept form, and whether the browser's cookie is done with."""

    location: str
    finished: bool


def resume(request: Request, principal: Principal, lang: str) -> Resumed | None:
    """Right after signing in (``principal``: of the new session, past every factor it needs): save the
    form kept for them, if any (once: its key), as they do. None when nothing was kept for them (nothing
    kept, expired, or another owner's: that one stays theirs)."""
    found = _cookie_of(request)
    if found is None:
        return None
    kind, token, _ = found
    owner = kind.owner_in(principal)
    if owner is None or not principal.signed_in:
        return None
    web, store = web_of(request), store_of(request)
    draft = store.get_draft(token, kind.name)
    if draft is None or draft.person_id is None or _draft_owner(kind, draft) != owner:
        return None
    form = _form_of(draft.payload)
    bound = _bound_of(kind, form)
    page = path_for(request, kind.page)
    gone: tuple[type[Exception], ...] = (BadForm, *kind.gone)
    try:
        outcome = kind.save(Saving(web, store, draft.person_id, form, lang, draft.created_at, principal))
    except gone:
        store.drop_draft(token)
        return Resumed(page, finished=True)
    if isinstance(outcome, Saved):
        store.drop_draft(token)
        saved_page = path_for(request, kind.saved_page, **bound) if kind.saved_page else page
        return Resumed(saved_page + outcome.query, finished=True)
    payload = dict(draft.payload) | {"errors": outcome.errors}
    store.put_draft(token, kind.name, payload, ttl=DRAFT_TTL, person_id=draft.person_id)
    form_page = path_for(request, kind.form_page, **bound) if kind.form_page else page
    return Resumed(form_page + KEPT_QUERY, finished=False)


def _bound_of(kind: Kind, form: Form) -> dict[str, str]:
    return {name: form.get(name) or "" for name in kind.bound}


def forget(request: Request, response: Response) -> None:
    """The browser's kept-form cookie is done with (its draft was saved or dropped)."""
    found = _cookie_of(request)
    if found is not None:
        response.delete_cookie(found[2], path="/")


@dataclass(frozen=True)
class Kept:
    form: Form
    errors: dict[str, str]


def kept(request: Request, kind: Kind, owner: str) -> Kept | None:
    """The form of this kind kept for this owner (a person; for a clinician's kind, an account) that still
    needs a correction (``?entwurf=1``): the form as posted with the errors it was refused with after
    signing in; for a kind with ``bound`` parameters, only on the page of what it is about (the path
    parameters the request's URL names)."""
    if not request.query_params.get("entwurf"):
        return None
    found = _cookie_of(request)
    if found is None or found[0] is not kind:
        return None
    draft = store_of(request).get_draft(found[1], kind.name)
    if draft is None or _draft_owner(kind, draft) != owner:
        return None
    form = _form_of(draft.payload)
    url = _url_of(request)
    if any(form.get(name) != url.get(name) for name in kind.bound):
        return None
    errors = draft.payload.get("errors")
    return Kept(form, {str(k): str(v) for k, v in (errors or {}).items()})


def _form_of(payload: dict[str, object]) -> Form:
    pairs = payload.get("pairs")
    return Form([(str(name), str(value)) for name, value in (pairs if isinstance(pairs, list) else [])])
