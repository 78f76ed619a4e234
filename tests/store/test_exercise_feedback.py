"""The session's feedback (revision 0012): stored, read back, once per form, exported, erased — on SQLite
and PostgreSQL — and the service's checks (only today's exercises, take_next only when offered)."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy.exc import IntegrityError

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import ExerciseFeedback
from rueckenlotse.services.followup import AlreadySaved, current_plan, record_intake
from rueckenlotse.services.sessions import (
    NotInSession,
    NotOffered,
    UnknownRating,
    record_feedback,
    today_session,
)
from rueckenlotse.store import Store

NOW = dt.datetime.now(dt.UTC)


def feedback(
    exercise_id: str, rating: str | None = None, *, done: bool = True, at: dt.datetime = NOW
) -> ExerciseFeedback:
    return ExerciseFeedback(recorded_at=at, exercise_id=exercise_id, done=done, rating=rating)  # type: ignore[arg-type]


def person_with_intake(store: Store, data: dict[str, object] | None = None) -> str:
    person = store.create_person("Anna").id
    case = Case.model_validate(
        data or {"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5}
    )
    record_intake(store, person, case)
    return person


def test_feedback_is_stored_and_read_back_in_order(store: Store) -> None:
    person = store.create_person("Anna").id
    later = store.add_feedback(person, feedback("bridge", "too_hard", at=NOW))
    earlier = store.add_feedback(person, feedback("pelvic_tilt", None, at=NOW - dt.timedelta(hours=2)))
    records = store.list_feedback(person)
    assert [r.id for r in records] == [earlier, later]
    assert records[1].feedback == feedback("bridge", "too_hard", at=NOW)
    assert records[0].feedback.rating is None and records[0].feedback.done


def test_one_key_is_one_row_per_person(store: Store) -> None:
    anna, ben = store.create_person("Anna").id, store.create_person("Ben").id
    first = store.add_feedback(anna, feedback("bridge"), idempotency_key="k" * 43)
    assert store.feedback_by_key(anna, "k" * 43) == first
    assert store.feedback_by_key(ben, "k" * 43) is None
    store.add_feedback(ben, feedback("bridge"), idempotency_key="k" * 43)  # another person: fine
    with pytest.raises(IntegrityError):
        store.add_feedback(anna, feedback("bridge"), idempotency_key="k" * 43)


def test_feedback_is_exported_as_json_and_csv_and_erased_with_the_person(store: Store) -> None:
    anna, ben = store.create_person("Anna").id, store.create_person("Ben").id
    store.add_feedback(anna, feedback("bridge", "pain_after"))
    store.add_feedback(ben, feedback("cat_cow", "fits"))
    data = store.export_person(anna)
    assert data["format_version"] == 5
    assert [(f["exercise_id"], f["done"], f["rating"]) for f in data["exercise_feedback"]] == [
        ("bridge", True, "pain_after")
    ]
    rows = list(csv.DictReader(io.StringIO(store.feedback_csv(anna))))
    assert [(r["exercise_id"], r["done"], r["rating"]) for r in rows] == [("bridge", "yes", "pain_after")]
    counts = store.erase_person(anna)
    assert counts["exercise_feedback"] == 1
    assert [r.feedback.exercise_id for r in store.list_feedback(ben)] == ["cat_cow"]


def test_the_service_records_only_todays_exercises_once_per_form(store: Store) -> None:
    person = person_with_intake(store)
    plan = current_plan(store, person)
    first = plan.exercises[0].id
    key = "a" * 43
    saved = record_feedback(store, person, first, done=True, rating="too_hard", idempotency_key=key)
    with pytest.raises(AlreadySaved) as again:
        record_feedback(store, person, first, done=True, rating="too_hard", idempotency_key=key)
    assert again.value.entry_id == saved and len(store.list_feedback(person)) == 1
    with pytest.raises(NotInSession):
        record_feedback(store, person, "side_plank_knees", done=True, rating=None)  # not today's
    with pytest.raises(NotInSession):
        record_feedback(store, person, "no_such_exercise", done=True, rating=None)
    with pytest.raises(UnknownRating):
        record_feedback(store, person, first, done=True, rating="bad")
    with pytest.raises(NotOffered):
        record_feedback(store, person, first, done=False, rating="take_next")
    session = today_session(store, person)
    assert session.done == {first: True} and session.ratings == {first: "too_hard"}
    assert len(store.list_feedback(person)) == 1


def test_three_times_too_easy_offers_and_take_next_takes_it(store: Store) -> None:
    person = person_with_intake(store)
    first = current_plan(store, person).exercises[0]
    for _ in range(3):
        record_feedback(store, person, first.id, done=True, rating="too_easy")
    offered = current_plan(store, person).exercises[0]
    assert offered.id == first.id and offered.next_level is not None
    record_feedback(store, person, first.id, done=False, rating="take_next")
    taken = current_plan(store, person).exercises[0]
    assert (taken.id, taken.adjusted, taken.instead_of) == (offered.next_level, "took_next", first.id)


def test_no_session_under_a_red_flag(store: Store) -> None:
    person = person_with_intake(
        store, {"age": 45, "regions": ["low_back"], "duration_weeks": 1, "saddle_numbness": True}
    )
    session = today_session(store, person)
    assert session.plan.red_flag and session.plan.exercises == [] and session.next_week == []
    with pytest.raises(NotInSession):
        record_feedback(store, person, "pelvic_tilt", done=True, rating=None)
    assert store.list_feedback(person) == []
