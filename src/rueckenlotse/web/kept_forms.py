"""The patient's forms that survive the end of a session: the diary entry, the correction of an entry,
an outcome measure's answers, an exercise's feedback. One mechanism for all four, so they promise alike:

- Owned: each rendered form carries its owner, the person and the form's idempotency key signed with the
  app's secret (``owner_token``), with a salt of its own per kind: a diary form's signature does not pass
  as a measure's. A form about one thing of the person's (the correction: its entry, ``Kind.bound``) has
  that signed too, in a hidden field that must name what the URL it is posted to names. A form posted
  without a live session is attributed by that field only.
- Kept: such a form, CSRF-valid and signed, is kept for 24 hours as a draft of its kind bound to that
  person; the cookie ``kept_form`` holds ``<kind>.<token>``, and the browser goes to the sign-in page with
  ``?entwurf=1`` (it says the entry is kept). An unsigned, forged or foreign form is not kept: just the
  sign-in page, as for any page.
- Saved once, for its own person: right after signing in (``resume``) the draft is saved with the same
  call the form's POST makes, with the form's key, so a replay never writes twice (a correction: the
  same correction again changes nothing); only when the person signed in is the draft's own, and in the
  audit trail as that person's account. Saved, the browser goes to the page that says so; refused, to
  the kept form with its errors at their fields (``?entwurf=1``, 422); no longer savable (answered
  meanwhile, not in today's plan any more, the entry deleted), to the form's page, and the draft is gone.

``posted`` is the POST preamble the four handlers share (the CSRF check, the language, the signed-in
patient, else keeping the form); ``done`` the redirect after saving. Drafts from before this module
(cookie ``diary_draft``) are still read as diary drafts, so entries in flight over a deploy survive.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ..core.errors import InvalidInput
from ..knowledge.measures import Measure
from ..plan.measures import default_measures, form_answers
from ..services import data_rights
from ..services.auth import Principal
from ..services.followup import AlreadySaved, NoIntake, NoSuchEntry
from ..services.measures import NotDue, record_response
from ..services.sessions import NotInSession, NotOffered, UnknownRating, record_feedback
from ..store import Store
from ..store.audit import Actor
from . import diary_form
from .deps import checked_form, path_for, person_of, see_other, signed_in_patient, store_of
from .i18n import request_lang
from .render import Form, Web, web_of
from .security.csrf import FIELD as CSRF_FIELD
from .security.csrf import is_secure

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


Save = Callable[[Web, Store, str, Form, str, dt.datetime | None, Actor], Saved | Refused]


@dataclass(frozen=True)
class Kind:
    """One kind of kept form: its draft kind, the owner's salt, how it is saved, where it lives."""

    name: str  # the draft kind in the store (store.drafts.KINDS)
    salt: str
    # (web, store, person, form, lang, kept_at: when a kept form was posted, else None, actor: the
    # signed-in patient's account, for the audit trail)
    save: Save
    page: str  # the route name of the page after saving (saved: its query; no longer savable: as is)
    gone: tuple[type[Exception], ...]  # raised by save: the kept form can no longer be saved
    # The path parameters the form is about (the entry a correction corrects): a hidden field of the same
    # name repeats each, and the owner's signature covers it.
    bound: tuple[str, ...] = ()
    # The route name of the form's own page when it is not ``page`` (with the bound parameters): a kept
    # form refused after signing in is shown there again (KEPT_QUERY).
    form_page: str | None = None


# ---- the four forms -----------------------------------------------------------------------------------
def _save_diary(
    web: Web, store: Store, person: str, form: Form, lang: str, kept_at: dt.datetime | None, actor: Actor
) -> Saved | Refused:
    outcome = diary_form.save(web, store, person, form, lang, resumed=kept_at is not None)
    if isinstance(outcome, diary_form.Refused):
        return Refused(outcome.errors)
    return Saved("?gespeichert=" + outcome.entry_id)


ENTRY_ID = "entry_id"


def _save_diary_edit(
    web: Web, store: Store, person: str, form: Form, lang: str, kept_at: dt.datetime | None, actor: Actor
) -> Saved | Refused:
    """The correction of one entry (raises NoSuchEntry for an entry that is not, or no longer, the
    person's, and NoIntake); the same correction again changes nothing (``followup.edit_entry``)."""
    record = diary_form.entry_of(store, person, form.get(ENTRY_ID) or "")
    if record is None:
        raise NoSuchEntry()
    outcome = diary_form.save_edit(
        web, store, person, record, form, lang, actor=actor, resumed=kept_at is not None
    )
    if isinstance(outcome, diary_form.Refused):
        return Refused(outcome.errors)
    return Saved("?gespeichert=" + outcome.entry_id)


def first_field(measure: Measure) -> str:
    """The field an error without a field of its own is shown at."""
    item = measure.items[0]
    return f"{item.id}-1-name" if item.kind == "named_scale" else item.id


def _save_measure(
    web: Web, store: Store, person: str, form: Form, lang: str, kept_at: dt.datetime | None, actor: Actor
) -> Saved | Refused:
    """One measure's answers (raises NotDue, NoIntake, BadForm). Saved for the week due now: the answers
    are about how the last days went, also when they were kept over a sign-in."""
    catalogue = default_measures()
    measure_id, key, week = form.get("measure") or "", diary_form.form_key(form), form.get("week") or ""
    if measure_id not in catalogue.ids or key is None or not week.isdigit() or len(week) > 3:
        raise BadForm()
    measure = catalogue.get(measure_id)
    answers, fields = form_answers(measure, form.get)
    try:
        record_response(store, person, measure_id, answers, week=int(week), lang=lang, idempotency_key=key)
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


def _save_feedback(
    web: Web, store: Store, person: str, form: Form, lang: str, kept_at: dt.datetime | None, actor: Actor
) -> Saved | Refused:
    """One exercise done and/or rated (raises NotInSession, NoIntake, BadForm). A kept form is saved at
    the moment it was posted: the feedback belongs to that day's session."""
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
        record_feedback(store, person, exercise_id, done=done, rating=rating, idempotency_key=key, at=kept_at)
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
KINDS: dict[str, Kind] = {kind.name: kind for kind in (DIARY, DIARY_EDIT, MEASURES, SESSION)}


# ---- the owner of a form --------------------------------------------------------------------------------
def _serializer(web: Web, kind: Kind) -> URLSafeSerializer:
    return URLSafeSerializer(web.codec.secret, salt=kind.salt)


def owner_token(web: Web, kind: Kind, person_id: str, key: str, **bound: str) -> str:
    """The value of the form's owner field: this person rendered the form with this key (and, for a
    kind with ``bound`` parameters, about these values of them)."""
    if set(bound) != set(kind.bound):
        raise ValueError(f"{kind.name} binds {kind.bound}")
    payload: dict[str, Any] = {"p": person_id, "k": key}
    if kind.bound:
        payload["b"] = bound
    text = _serializer(web, kind).dumps(payload)
    return text if isinstance(text, str) else text.decode("ascii")


def owner_of(web: Web, kind: Kind, form: Form) -> str | None:
    """The person whose page rendered this form of this kind, when its signature, key and bound fields
    check out."""
    key, token = diary_form.form_key(form), form.get(OWNER) or ""
    if key is None or not token or len(token) > MAX_OWNER:
        return None
    try:
        payload = _serializer(web, kind).loads(token)
    except BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("k") != key or not isinstance(payload.get("p"), str):
        return None
    bound = _bound_of(kind, form)
    if kind.bound and (payload.get("b") != bound or not all(bound.values())):
        return None
    person: str = payload["p"]
    return person


# ---- keeping a form posted after the session ended ------------------------------------------------------
def keep(
    web: Web, store: Store, kind: Kind, form: Form, lang: str, url: Mapping[str, str] | None = None
) -> str | None:
    """Keep a signed form posted without a live session; the cookie's value for it, or None when the
    form is not signed for this kind, or its bound fields are not what the URL (``url``: its path
    parameters) names (then there is nothing to keep)."""
    if any(form.get(name) != (url or {}).get(name) for name in kind.bound):
        return None
    person_id = owner_of(web, kind, form)
    if person_id is None:
        return None
    token = secrets.token_urlsafe(32)
    pairs = [[name, value] for name, value in form.pairs if name != CSRF_FIELD]
    try:
        store.put_draft(token, kind.name, {"pairs": pairs, "lang": lang}, ttl=DRAFT_TTL, person_id=person_id)
    except Exception:  # the person was erased meanwhile (foreign key): nothing to keep for
        return None
    return f"{kind.name}.{token}"


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


async def posted(request: Request, kind: Kind) -> Posted | Response:
    """The POST preamble of the patient's kept forms: the checked form with the signed-in patient; without
    a live session, the redirect to the sign-in page (with the form kept when it is signed)."""
    form = await checked_form(request)
    lang = request_lang(request)
    principal = signed_in_patient(request)
    url = {name: str(value) for name, value in request.path_params.items()}
    if principal is not None:
        return Posted(kind, _about(kind, form, url), lang, principal)
    web = web_of(request)
    value = await run_in_threadpool(keep, web, store_of(request), kind, form, lang, url)
    response = see_other(path_for(request, "login_page") + (KEPT_QUERY if value else ""))
    if value is not None:
        _set_cookie(web, request, response, value)
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
    actor = data_rights.actor_of(posted.principal, "web")
    return await run_in_threadpool(
        partial(posted.kind.save, web, store, posted.person, posted.form, posted.lang, None, actor)
    )


async def done(request: Request, posted: Posted, saved: Saved) -> Response:
    """After saving (post/redirect/get): the page that says so; a form of this kind kept over a sign-in
    is done with too (it was saved, or corrected and saved now)."""
    response = see_other(path_for(request, posted.kind.page) + saved.query)
    found = _cookie_of(request)
    if found is not None and found[0] is posted.kind:
        await run_in_threadpool(store_of(request).drop_draft, found[1])
        response.delete_cookie(found[2], path="/")
    return response


# ---- after signing in -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Resumed:
    """Where to go after signing in with a kept form, and whether the browser's cookie is done with."""

    location: str
    finished: bool


def resume(request: Request, person_id: str | None, account_id: str, lang: str) -> Resumed | None:
    """Right after signing in (``account_id``, a patient's account when it has a ``person_id``): save
    the form kept for this person, if any (once: its key), as that account does. None when nothing was
    kept for them (nothing kept, expired, or another person's: that one stays theirs)."""
    found = _cookie_of(request)
    if found is None or person_id is None:
        return None
    kind, token, _ = found
    web, store = web_of(request), store_of(request)
    draft = store.get_draft(token, kind.name)
    if draft is None or draft.person_id != person_id:
        return None
    form = _form_of(draft.payload)
    page = path_for(request, kind.page)
    gone: tuple[type[Exception], ...] = (BadForm, *kind.gone)
    actor = data_rights.patient_actor(account_id, "web")
    try:
        outcome = kind.save(web, store, person_id, form, lang, draft.created_at, actor)
    except gone:
        store.drop_draft(token)
        return Resumed(page, finished=True)
    if isinstance(outcome, Saved):
        store.drop_draft(token)
        return Resumed(page + outcome.query, finished=True)
    payload = dict(draft.payload) | {"errors": outcome.errors}
    store.put_draft(token, kind.name, payload, ttl=DRAFT_TTL, person_id=person_id)
    form_page = path_for(request, kind.form_page, **_bound_of(kind, form)) if kind.form_page else page
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


def kept(request: Request, kind: Kind, person_id: str) -> Kept | None:
    """The form of this kind kept for this person that still needs a correction (``?entwurf=1``): the
    form as posted with the errors it was refused with after signing in; for a kind with ``bound``
    parameters, only on the page of what it is about (the path parameters the request's URL names)."""
    if not request.query_params.get("entwurf"):
        return None
    found = _cookie_of(request)
    if found is None or found[0] is not kind:
        return None
    draft = store_of(request).get_draft(found[1], kind.name)
    if draft is None or draft.person_id != person_id:
        return None
    form = _form_of(draft.payload)
    url = {name: str(value) for name, value in request.path_params.items()}
    if any(form.get(name) != url.get(name) for name in kind.bound):
        return None
    errors = draft.payload.get("errors")
    return Kept(form, {str(k): str(v) for k, v in (errors or {}).items()})


def _form_of(payload: dict[str, object]) -> Form:
    pairs = payload.get("pairs")
    return Form([(str(name), str(value)) for name, value in (pairs if isinstance(pairs, list) else [])])
