"""The practice's form that changes a shared person's plan (issue #18): read, checked and saved in one place,
for the course page's POST and for a form kept over the end of the clinician's session
(``web.kept_forms``, kind ``course_adjust``), so both promise alike.

* ``course_for``: the shared course an intake of one of the clinician's practices leads to, asking the
  policy for each practice (``can_adjust_plan`` when adjusting); None for anything else.
* ``save_change``: the change with the form's key (``sharing.adjust``: a reload, a second click or a
  replay of a kept form changes the plan once), audited ``adjust.plan`` as the clinician; the errors per
  field id of a refused change, else None. Raises NotShared (revoked meanwhile) and BadChange (not a form
  of ours: no such kind).
"""

from __future__ import annotations

from collections.abc import Iterable

from ..services import data_rights, sharing
from ..services.auth import Principal, can_adjust_plan, can_read_course
from ..services.sharing import ChangeRefused, PlanChange, SharedCourse
from ..store import Store
from .course_view import FORMS
from .render import Form, Web

MAX_ID = 64
MAX_NOTE_SHOWN = 2000
INTAKE_ID = "intake_id"  # the path parameter, repeated in the form (kept forms bind it)
FORM_KEY = "form_key"
CHANGES_ANCHOR = "anpassungen"
# The form fields a refused change is shown at (ChangeRefused.field → the form's input id).
FIELD_IDS = {
    "exclude": {"exercise": "exclude-exercise", "note": "exclude-note"},
    "add": {"exercise": "add-exercise", "note": "add-note"},
    "level": {"level": "level-1", "exercise": "level-1", "note": "level-note"},
    "note": {"note": "note-text"},
}


class BadChange(Exception):
    """Not a form of the course page (an unknown kind): 400 when posted, dropped when kept."""


def course_for(
    store: Store, principal: Principal, intake_id: str, *, adjusting: bool = False
) -> SharedCourse | None:
    """The shared course an intake of one of the principal's practices leads to, while it is shared;
    None for anything else (another practice's intake, an unknown id, a share revoked or never granted,
    a principal the policy refuses)."""
    allowed = can_adjust_plan if adjusting else can_read_course
    if not all(allowed(principal, practice_id) for practice_id in principal.practice_ids):
        return None
    return course_in(store, principal.practice_ids, intake_id)


def course_in(store: Store, practice_ids: Iterable[str], intake_id: str) -> SharedCourse | None:
    """The shared course an intake of one of these practices leads to, while it is shared; None for
    anything else. The caller has asked the policy (``course_for``), or only needs to know whose course
    it is (a kept form's person)."""
    if not intake_id or len(intake_id) > MAX_ID:
        return None
    for practice_id in sorted(practice_ids):
        found = sharing.find_course(store, practice_id, intake_id)
        if found is not None:
            return found
    return None


def change_of(form: Form) -> PlanChange:
    """The change the form asks for (not yet checked); BadChange for a kind the page has no form of."""
    kind = form.get("kind") or ""
    if kind not in FORMS:
        raise BadChange()
    level_text = (form.get("level") or "").strip()
    level = int(level_text) if level_text.isdigit() and len(level_text) <= 2 else None
    return PlanChange(
        kind=kind,
        exercise_id=(form.get("exercise") or "")[:MAX_ID] or None,
        level=level,
        note=form.get("note"),
    )


def values_of(form: Form) -> dict[str, str]:
    """What a refused form held, to show it again (``course_context(values=...)``)."""
    change = change_of(form)
    return {
        "kind": change.kind,
        "exercise": change.exercise_id or "",
        "level": "" if change.level is None else str(change.level),
        "note": (form.get("note") or "")[:MAX_NOTE_SHOWN],
    }


def save_change(
    web: Web, store: Store, principal: Principal, found: SharedCourse, form: Form, lang: str
) -> dict[str, str] | None:
    """Save the form's change to the course's plan as this clinician; the errors of a refused change."""
    change = change_of(form)
    actor = data_rights.actor_of(principal, "web")
    try:
        sharing.adjust(
            store,
            actor,
            found.practice_id,
            found.person_id,
            change,
            form_key=form.get(FORM_KEY),
            lang=lang,
        )
    except ChangeRefused as refused:
        if refused.field == "kind":
            raise BadChange() from None
        field_id = FIELD_IDS[change.kind].get(refused.field, f"{change.kind}-note")
        return {field_id: web.texts.get(f"share.error.{refused.reason}", lang)}
    return None
