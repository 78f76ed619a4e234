"""Today's exercise session: what to do today, and the person's "erledigt" and ratings (the diary's
"Übungen"), which the plan reads per exercise (plan.builder, rules a–e).

One place for what the web page and the command line do, so both behave alike: an exercise is recorded
only when it is in today's plan (never while a red flag or a warning sign keeps the plan free of
exercises), "take_next" only while the plan offers a harder exercise for it, and a form posted twice (the
same idempotency key) saves one row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..plan.models import EXERCISE_RATINGS, ExerciseFeedback
from ..plan.plan_model import Plan, PlanExercise
from ..store import audit
from ..store.audit import Actor
from ..store.errors import StoreError
from ..store.records import FeedbackRecord
from ..store.repository import Store
from .followup import AlreadySaved, current_plan, intake_of


class NotInSession(StoreError):
    """The exercise is not one of today's (unknown, or the plan holds no exercises now)."""

    def __init__(self) -> None:
        super().__init__("not_in_session")


class NotOffered(StoreError):
    """ "take_next" for an exercise whose harder one the plan does not offer (any more)."""

    def __init__(self) -> None:
        super().__init__("not_offered")


class UnknownRating(StoreError):
    def __init__(self) -> None:
        super().__init__("unknown_rating")


@dataclass(frozen=True)
class TodaySession:
    """Today's exercises (the current plan week's), what was recorded for each today, and next week."""

    plan: Plan
    today: dt.date
    done: dict[str, bool]
    ratings: dict[str, str]
    next_week: list[PlanExercise]


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def today_session(
    store: Store, person_id: str, *, today: dt.date | None = None, lang: str = "de"
) -> TodaySession:
    """The plan as it stands today with today's feedback per exercise (raises NoIntake without intake)."""
    today = today or today_utc()
    plan = current_plan(store, person_id, today=today, lang=lang)
    done: dict[str, bool] = {}
    ratings: dict[str, str] = {}
    for record in store.list_feedback(person_id):
        f = record.feedback
        if f.recorded_at.astimezone(dt.UTC).date() != today:
            continue
        done[f.exercise_id] = done.get(f.exercise_id, False) or f.done
        if f.rating is not None and f.rating != "take_next":
            ratings[f.exercise_id] = f.rating
    following = [w for w in plan.weeks if plan.current_week is not None and w.number == plan.current_week + 1]
    return TodaySession(plan, today, done, ratings, following[0].exercises if following else [])


def record_feedback(
    store: Store,
    person_id: str,
    exercise_id: str,
    *,
    done: bool,
    rating: str | None,
    idempotency_key: str | None = None,
    at: dt.datetime | None = None,
) -> str:
    """Keep one exercise of today's session done and/or rated; returns the row's id.

    Raises ``NotInSession`` for an exercise not in today's plan, ``NotOffered`` for "take_next" without a
    standing offer, ``UnknownRating``, and ``AlreadySaved`` when the form's key saved a row already.
    The checks and the write are one unit, under the person's lock."""
    if rating is not None and rating not in EXERCISE_RATINGS:
        raise UnknownRating()
    moment = at or dt.datetime.now(dt.UTC)
    feedback = ExerciseFeedback.model_validate(
        {"recorded_at": moment, "exercise_id": exercise_id, "done": done, "rating": rating}, strict=False
    )
    if idempotency_key is not None:
        earlier = store.feedback_by_key(person_id, idempotency_key)
        if earlier is not None:
            raise AlreadySaved(earlier)
    intake_of(store, person_id)
    with store.atomic():
        store.lock_person(person_id)
        if idempotency_key is not None:
            earlier = store.feedback_by_key(person_id, idempotency_key)
            if earlier is not None:
                raise AlreadySaved(earlier)
        plan = current_plan(store, person_id, today=moment.astimezone(dt.UTC).date())
        item = next((e for e in plan.exercises if e.id == exercise_id), None)
        if item is None:
            raise NotInSession()
        if rating == "take_next" and item.next_level is None:
            raise NotOffered()
        return store.add_feedback(person_id, feedback, idempotency_key=idempotency_key)


def feedback_of(store: Store, person_id: str) -> list[FeedbackRecord]:
    return store.list_feedback(person_id)


def feedback_csv(store: Store, person_id: str, *, actor: Actor) -> str:
    """The session's feedback as CSV, recorded in the audit as a download of the diary (it is part of it)."""
    text = store.feedback_csv(person_id)
    with store.transaction() as session:
        audit.record(session, actor, "export.diary_csv", person_id=person_id)
    return text
