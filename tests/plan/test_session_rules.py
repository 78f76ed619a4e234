"""Per-exercise progression from the session's ratings (plan.builder, rules a–e of its module doc)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rueckenlotse.plan.followup_texts import default_followup
from rueckenlotse.plan.library import default_library
from rueckenlotse.plan.models import EXERCISE_RATINGS, ExerciseFeedback
from rueckenlotse.plan.plan_model import Plan

from .test_builder import PLAIN, RED_FLAG_CASES, START, entry, plan_for, week_of

RULE = default_followup().plan.feedback
LEVEL_2: dict[str, Any] = {**PLAIN, "duration_weeks": 8, "home_exercise": "regularly"}


def rated(day: dt.date, exercise_id: str, rating: str | None, *, hour: int = 9, done: bool = True) -> Any:
    moment = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=dt.UTC)
    return ExerciseFeedback.model_validate(
        {"recorded_at": moment.isoformat(), "exercise_id": exercise_id, "done": done, "rating": rating},
        strict=False,
    )


def ids(plan: Plan, week: int) -> list[str]:
    return [e.id for e in plan.weeks[week - 1].exercises]


def day(week: int, d: int = 0) -> dt.date:
    return START + dt.timedelta(weeks=week - 1, days=d)


def test_the_feedback_numbers_are_in_followup_yaml() -> None:
    assert (RULE.pain_after_back, RULE.too_easy_offer) == (2, 3)


def test_without_feedback_the_plan_is_the_levels() -> None:
    plan = plan_for(PLAIN, today=day(3))
    assert ids(plan, 1) == ["pelvic_tilt", "knee_rocking"]
    assert all(e.adjusted is None and e.next_level is None for w in plan.weeks for e in w.exercises)


# --- a) pain after -----------------------------------------------------------------------------------
def test_pain_after_twice_steps_back_to_an_easier_alternative_next_week() -> None:
    feedback = [rated(day(1, 1), "bridge", "pain_after"), rated(day(1, 3), "bridge", "pain_after")]
    assert ids(plan_for(LEVEL_2, today=day(2)), 1) == ["bridge", "bird_dog"]
    plan = plan_for(LEVEL_2, feedback=feedback, today=day(2))
    week2 = plan.weeks[1].exercises[0]
    assert (week2.id, week2.adjusted, week2.instead_of) == ("pelvic_tilt", "pain_after", "bridge")
    assert week2.level < 2 and plan.exercises[0].id == "pelvic_tilt"
    assert ids(plan, 1) == ["bridge", "bird_dog"], "the week of the ratings keeps its exercises"
    # The preview: already during week 1, week 2 shows the step back.
    preview = plan_for(LEVEL_2, feedback=feedback, today=day(1, 3))
    assert preview.weeks[1].exercises[0].id == "pelvic_tilt"
    once = plan_for(LEVEL_2, feedback=feedback[:1], today=day(2))
    assert once.weeks[1].exercises[0].id == "bridge" and once.weeks[1].exercises[0].adjusted is None


def test_pain_after_without_an_easier_alternative_holds_the_exercise() -> None:
    feedback = [rated(day(1, d), "pelvic_tilt", "pain_after") for d in (1, 2)]
    diary = week_of(4, 0)  # the traffic light steps up to level 2 ...
    plan = plan_for(PLAIN, diary=diary, feedback=feedback, today=day(2))
    shown = plan.weeks[1].exercises[0]
    assert plan.weeks[1].level == 2
    assert (shown.id, shown.adjusted, shown.instead_of) == ("pelvic_tilt", "pain_after", "bridge")


# --- b) too hard, c) persistence -----------------------------------------------------------------------
def test_too_hard_holds_the_exercise_when_the_level_steps_up() -> None:
    diary = week_of(4, 0)
    plain = plan_for(PLAIN, diary=diary, today=day(2))
    assert ids(plain, 2) == ["bridge", "bird_dog"]
    plan = plan_for(PLAIN, diary=diary, feedback=[rated(day(1, 2), "pelvic_tilt", "too_hard")], today=day(2))
    shown = plan.weeks[1].exercises[0]
    assert (shown.id, shown.adjusted, shown.instead_of) == ("pelvic_tilt", "too_hard", "bridge")
    assert ids(plan, 2)[1] == "bird_dog"
    # Only the latest rating of the week counts for b).
    later = [rated(day(1, 2), "pelvic_tilt", "too_hard"), rated(day(1, 3), "pelvic_tilt", "fits")]
    assert ids(plan_for(PLAIN, diary=diary, feedback=later, today=day(2)), 2)[0] == "bridge"


def test_a_hold_persists_until_too_easy_releases_it() -> None:
    diary = week_of(4, 0)
    hard = [rated(day(1, 2), "pelvic_tilt", "too_hard")]
    kept = plan_for(
        PLAIN, diary=diary, feedback=[*hard, rated(day(2, 1), "pelvic_tilt", "fits")], today=day(3)
    )
    assert ids(kept, 3)[0] == "pelvic_tilt" and kept.weeks[2].exercises[0].adjusted == "too_hard"
    assert ids(plan_for(PLAIN, diary=diary, feedback=hard, today=day(4)), 4)[0] == "pelvic_tilt"
    released = [*hard, rated(day(2, 1), "pelvic_tilt", "too_easy")]
    plan = plan_for(PLAIN, diary=diary, feedback=released, today=day(3))
    assert ids(plan, 3)[0] == "bridge" and plan.weeks[2].exercises[0].adjusted is None


# --- d) offer and take --------------------------------------------------------------------------------
def easy(*days: dt.date, exercise: str = "pelvic_tilt") -> list[Any]:
    return [rated(d, exercise, "too_easy") for d in days]


def test_three_too_easy_in_a_row_offer_the_next_level_across_weeks() -> None:
    feedback = easy(day(1, 5), day(1, 6), day(2, 0))
    plan = plan_for(PLAIN, feedback=feedback, today=day(2, 0))
    assert plan.exercises[0].next_level == "bridge" and plan.exercises[0].id == "pelvic_tilt"
    assert plan.exercises[1].next_level is None
    two = plan_for(PLAIN, feedback=feedback[:2], today=day(2, 0))
    assert two.exercises[0].next_level is None
    broken = [*feedback[:2], rated(day(1, 6), "pelvic_tilt", "fits", hour=12), feedback[2]]
    assert plan_for(PLAIN, feedback=broken, today=day(2, 0)).exercises[0].next_level is None


def test_taking_the_offer_puts_the_harder_exercise_in_that_days_week() -> None:
    feedback = [*easy(day(1, 5), day(1, 6), day(2, 0)), rated(day(2, 1), "pelvic_tilt", "take_next")]
    plan = plan_for(PLAIN, feedback=feedback, today=day(2, 1))
    shown = plan.exercises[0]
    assert (shown.id, shown.adjusted, shown.instead_of, shown.level) == (
        "bridge",
        "took_next",
        "pelvic_tilt",
        2,
    )
    assert ids(plan, 1)[0] == "pelvic_tilt" and ids(plan, 3)[0] == "bridge"
    # Without a standing offer, take_next changes nothing.
    early = [*easy(day(1, 5), day(1, 6)), rated(day(2, 1), "pelvic_tilt", "take_next")]
    assert plan_for(PLAIN, feedback=early, today=day(2, 1)).exercises[0].id == "pelvic_tilt"
    # The taken exercise follows a): pain after twice steps it back.
    pain = [*feedback, *(rated(day(2, d), "bridge", "pain_after") for d in (2, 3))]
    back = plan_for(PLAIN, feedback=pain, today=day(3))
    assert back.exercises[0].level == 1 and back.exercises[0].adjusted == "pain_after"


def test_no_offer_while_the_pain_rises_or_under_a_hold() -> None:
    rising = week_of(7, 0)  # 2 above the start (5): hold, pain_rise
    feedback = easy(day(2, 0), day(2, 1), day(2, 2))
    plan = plan_for(PLAIN, diary=rising, feedback=feedback, today=day(2, 3))
    assert plan.weeks[1].step_reason == "pain_rise"
    assert all(e.next_level is None for e in plan.exercises)
    held = [rated(day(1, 6), "pelvic_tilt", "too_hard"), *feedback]
    assert plan_for(PLAIN, feedback=held, today=day(2, 3)).exercises[0].next_level is None


# --- e) safety --------------------------------------------------------------------------------------
def test_stepping_back_drops_a_taken_exercise() -> None:
    feedback = [*easy(day(1, 0), day(1, 1), day(1, 2)), rated(day(1, 3), "pelvic_tilt", "take_next")]
    calm = plan_for(PLAIN, feedback=feedback, today=day(2))
    assert ids(calm, 1)[0] == "bridge" and ids(calm, 2)[0] == "bridge"
    worse = plan_for(PLAIN, diary=week_of(9, 0), feedback=feedback, today=day(2))  # 4 above the start
    assert worse.weeks[1].step == "back"
    assert ids(worse, 2)[0] == "pelvic_tilt" and worse.exercises[0].adjusted is None


@pytest.mark.parametrize("data", RED_FLAG_CASES[:3])
def test_no_exercises_under_a_red_flag_whatever_the_feedback(data: dict[str, Any]) -> None:
    feedback = [*easy(day(1, 0), day(1, 1), day(1, 2)), rated(day(1, 3), "pelvic_tilt", "take_next")]
    plan = plan_for(data, feedback=feedback, today=day(1, 4))
    assert plan.red_flag and plan.exercises == [] and plan.weeks == []


def test_a_warning_sign_in_the_diary_withholds_the_session() -> None:
    feedback = easy(day(1, 0), day(1, 1), day(1, 2))
    diary = [entry(day(1, 2), 4, signs=["bladder_dysfunction"])]
    assert plan_for(PLAIN, diary=diary, feedback=feedback, today=day(1, 3)).exercises == []


# --- properties -------------------------------------------------------------------------------------
EXERCISES = ["pelvic_tilt", "knee_rocking", "cat_cow", "bridge", "bird_dog", "sit_to_stand", "dead_bug"]
feedback_rows = st.lists(
    st.tuples(
        st.integers(0, 6 * 7 - 1),
        st.sampled_from(EXERCISES),
        st.sampled_from([*EXERCISE_RATINGS, None]),
    ),
    max_size=40,
)
weekly_pains = st.lists(st.one_of(st.none(), st.integers(0, 10)), min_size=0, max_size=6)


def rows_of(drawn: Sequence[tuple[int, str, str | None]]) -> list[Any]:
    return [rated(START + dt.timedelta(days=d), e, r, hour=1 + i % 20) for i, (d, e, r) in enumerate(drawn)]


def diary_of(pains: Sequence[int | None]) -> list[Any]:
    return [e for w, p in enumerate(pains) if p is not None for e in week_of(p, w)]


def within(plan: Plan, week: int) -> list[list[Any]]:
    return [[e.model_dump() for e in w.exercises] for w in plan.weeks[:week]]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feedback_rows, weekly_pains, st.integers(1, 5), st.sampled_from([PLAIN, LEVEL_2]))
def test_feedback_after_a_week_never_changes_that_week_or_earlier(
    drawn: list[tuple[int, str, str | None]], pains: list[int | None], cut: int, data: dict[str, Any]
) -> None:
    """Causality: ratings recorded after plan week ``cut`` ends change none of weeks 1..cut, nor the
    exercises of week cut+1 (only a taken offer does, from the day it is taken)."""
    rows, diary = rows_of(drawn), diary_of(pains)
    today = day(7)
    before = [r for r in rows if r.recorded_at.date() <= day(cut, 6)]
    full = plan_for(data, diary=diary, feedback=rows, today=today)
    cut_plan = plan_for(data, diary=diary, feedback=before, today=today)
    assert within(full, cut) == within(cut_plan, cut)
    # Week cut+1 takes its exercises from the ratings up to week cut's end: later ratings change only its
    # offers, unless the person takes one ("take_next" acts from that day's week on).
    untaken = before + [r for r in rows if r.recorded_at.date() > day(cut, 6) and r.rating != "take_next"]
    following = plan_for(data, diary=diary, feedback=untaken, today=today).weeks[cut].exercises
    assert [(e.id, e.adjusted) for e in following] == [
        (e.id, e.adjusted) for e in cut_plan.weeks[cut].exercises
    ]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feedback_rows, st.integers(1, 5))
def test_the_preview_is_the_next_week_as_it_will_be(
    drawn: list[tuple[int, str, str | None]], week: int
) -> None:
    """During week N the preview of week N+1 is what week N+1 holds once it begins (same ratings)."""
    rows = [r for r in rows_of(drawn) if r.recorded_at.date() <= day(week, 6)]
    during = plan_for(PLAIN, feedback=rows, today=day(week, 6))
    after = plan_for(PLAIN, feedback=rows, today=day(week + 1))
    assert [e.id for e in during.weeks[week].exercises] == [e.id for e in after.weeks[week].exercises]


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(feedback_rows, weekly_pains, st.sampled_from([PLAIN, LEVEL_2]))
def test_pain_after_never_leads_to_a_harder_exercise_and_pain_rise_never_offers(
    drawn: list[tuple[int, str, str | None]], pains: list[int | None], data: dict[str, Any]
) -> None:
    plan = plan_for(data, diary=diary_of(pains), feedback=rows_of(drawn), today=day(7))
    lib = default_library()
    if plan.red_flag:
        assert plan.exercises == []
        return
    for before, week in zip(plan.weeks, plan.weeks[1:], strict=False):
        for slot, shown in enumerate(week.exercises):
            if shown.adjusted == "pain_after" and slot < len(before.exercises):
                assert shown.level <= before.exercises[slot].level
            if shown.adjusted in ("pain_after", "too_hard"):
                assert shown.level <= max(week.level, before.exercises[slot].level)
            if shown.next_level is not None:
                assert lib.exercises[shown.next_level].level == shown.level + 1
                assert week.step_reason not in ("pain_rise", "warning_sign", "function_worse")
                assert week.step != "back"
        ids_of_week = [e.id for e in week.exercises]
        assert len(ids_of_week) == len(set(ids_of_week)), "no exercise twice in a week"
    for week in plan.weeks:
        for shown in week.exercises:
            if shown.level > week.level:
                assert shown.adjusted in ("took_next", "too_hard", "pain_after")
