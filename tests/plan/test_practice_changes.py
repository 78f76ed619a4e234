"""A practice's changes to a shared person's plan (issue #18; plan.builder, "Practice changes").

The builder takes the changes the service passes (only active ones of practices the person shares with
now: tests/store/test_shares.py checks that undone and revoked ones are never passed). Here: what each
kind does, what is refused, and that a red flag still leaves no exercise at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.plan.builder import build_plan, plan_weeks, practice_levels
from rueckenlotse.plan.library import default_library
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.plan.plan_model import Plan, PracticeAdjustment

from ..strategies import cases

START = dt.date(2025, 3, 3)  # a Monday
PLAIN: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5}
FEVER: dict[str, Any] = PLAIN | {"fever": True}
LIB = default_library()
_ids = iter(range(10_000_000))


def change(kind: str, *, on: dt.date = START, **values: Any) -> PracticeAdjustment:
    return PracticeAdjustment(id=f"a{next(_ids)}", kind=kind, practice="Praxis Nord", on=on, **values)


def plan_for(data: dict[str, Any], *adjustments: PracticeAdjustment, **kwargs: Any) -> Plan:
    case = Case.model_validate(data)
    kwargs.setdefault("start", START)
    return build_plan(case, assess(case), adjustments=adjustments, **kwargs)


def ids(plan: Plan) -> list[str]:
    return [e.id for e in plan.exercises]


def test_without_changes_nothing_is_marked() -> None:
    plan = plan_for(PLAIN)
    assert plan.practice_changes == [] and not plan.level_by_practice
    assert not any(e.by_practice for week in plan.weeks for e in week.exercises)


def test_an_exclusion_removes_the_exercise_and_its_stand_in_is_marked() -> None:
    before = ids(plan_for(PLAIN))
    left_out = before[0]
    plan = plan_for(PLAIN, change("exclude", exercise_id=left_out, note="Bitte vorerst nicht"))
    assert left_out not in ids(plan)
    assert all(left_out not in {e.id for e in week.exercises} for week in plan.weeks)
    stand_in = next(e for e in plan.exercises if e.replaces == left_out)
    assert stand_in.by_practice
    (shown,) = plan.practice_changes
    assert (
        shown.applied
        and shown.note == "Bitte vorerst nicht"
        and shown.title == LIB.exercises[left_out].title.get("de")
    )
    assert plan.excluded == []  # the person's own list: a practice's exclusion is not theirs to take back


def test_an_exclusion_without_alternative_is_named_never_silently_empty() -> None:
    """Excluding every exercise a week could hold empties the exercise list, but the plan names each one
    left without an alternative (the service refuses such an exclusion before: ``last_exercise``)."""
    level_one = [e.id for e in LIB.exercises_for("low_back", 1)]
    plan = plan_for(PLAIN, *(change("exclude", exercise_id=e) for e in level_one))
    assert plan.exercises == []
    assert plan.no_alternative and all(m.by_practice for m in plan.no_alternative)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=cases(), left_out=st.sets(st.sampled_from(sorted(LIB.exercises)), max_size=8))
def test_excluded_exercises_never_show_and_an_empty_week_is_always_explained(
    data: dict[str, Any], left_out: set[str]
) -> None:
    plan = plan_for(data, *(change("exclude", exercise_id=e) for e in sorted(left_out)))
    shown = {e.id for week in plan.weeks for e in week.exercises}
    assert not shown & left_out
    if not plan.red_flag and not plan.exercises:
        assert plan.no_alternative, "an empty week must say which exercise is left without an alternative"


def test_an_added_exercise_shows_from_its_week_on() -> None:
    added_on = START + dt.timedelta(weeks=2, days=3)  # in plan week 3
    plan = plan_for(PLAIN, change("add", exercise_id="bird_dog", on=added_on), today=added_on)
    assert "bird_dog" not in ids(plan_for(PLAIN, today=added_on))
    item = next(e for e in plan.exercises if e.id == "bird_dog")
    assert item.by_practice and item.level == 2  # the library's own level, whatever the week's
    weeks = {week.number: [e.id for e in week.exercises] for week in plan.weeks}
    assert "bird_dog" not in weeks[1] + weeks[2] and all("bird_dog" in weeks[n] for n in range(3, 13))


def test_an_added_exercise_appears_once() -> None:
    level_one = ids(plan_for(PLAIN))
    plan = plan_for(PLAIN, change("add", exercise_id=level_one[0]), change("add", exercise_id="bird_dog"))
    assert ids(plan).count(level_one[0]) == 1 and ids(plan).count("bird_dog") == 1
    assert not next(e for e in plan.exercises if e.id == level_one[0]).by_practice


@pytest.mark.parametrize(
    ("data", "exercise_id", "reason"),
    [
        (PLAIN, "neck_turns", "region"),  # a neck exercise for a low back
        (PLAIN | {"pregnant": True}, "prone_prop", "ruled_out"),  # lying on the belly, pregnant
        (PLAIN, "no_such_exercise", "unknown_exercise"),
    ],
)
def test_an_addition_that_does_not_fit_is_not_applied(
    data: dict[str, Any], exercise_id: str, reason: str
) -> None:
    plan = plan_for(data, change("add", exercise_id=exercise_id))
    assert exercise_id not in ids(plan)
    (shown,) = plan.practice_changes
    assert shown.not_applied == reason and not shown.applied


def test_the_persons_own_exclusion_wins_over_an_addition() -> None:
    plan = plan_for(PLAIN, change("add", exercise_id="bird_dog"), exclusions=["bird_dog"])
    assert "bird_dog" not in ids(plan)
    assert plan.practice_changes[0].not_applied == "excluded_by_person"


def test_an_exercise_added_and_excluded_by_practices_stays_out() -> None:
    plan = plan_for(PLAIN, change("add", exercise_id="bird_dog"), change("exclude", exercise_id="bird_dog"))
    assert "bird_dog" not in ids(plan)
    assert [c.not_applied for c in plan.practice_changes] == ["excluded_by_practice", None]


def test_a_level_set_by_the_practice_applies_from_its_week() -> None:
    set_on = START + dt.timedelta(weeks=1)
    plan = plan_for(PLAIN, change("level", level=3, on=set_on), today=set_on)
    assert [w.level for w in plan.weeks][:3] == [1, 3, 3]
    assert plan.current_level == 3 and plan.level_by_practice
    assert {e.level for e in plan.exercises} == {3}
    assert plan_for(PLAIN, today=set_on).current_level == 1


def test_the_traffic_light_goes_on_from_the_practices_level() -> None:
    """A step back after pain rose lowers the practice's level too: a level never holds against the diary."""
    steps = [0, -1, 1]
    levels, by_practice = practice_levels(1, steps, [(1, 3)])
    assert levels == [1, 3, 2, 3] and by_practice == [False, True, False, False]
    diary = [
        DiaryEntry.model_validate(
            {
                "recorded_at": dt.datetime.combine(START + dt.timedelta(days=d), dt.time(20), tzinfo=dt.UTC),
                "pain": {"low_back": 9},
            }
        )
        for d in range(7, 14)
    ]
    today = START + dt.timedelta(weeks=2)
    plan = plan_for(
        PLAIN, change("level", level=3, on=START + dt.timedelta(weeks=1)), diary=diary, today=today
    )
    assert plan.weeks[1].level == 3 and plan.weeks[2].level == 2 and not plan.level_by_practice


def test_a_later_level_of_the_same_week_wins_and_a_level_outside_the_library_is_not_applied() -> None:
    plan = plan_for(PLAIN, change("level", level=3), change("level", level=2), change("level", level=7))
    assert plan.current_level == 2
    assert [c.not_applied for c in plan.practice_changes] == [None, None, "unknown_level"]


def test_a_change_made_before_the_plan_began_counts_from_the_first_week() -> None:
    plan = plan_for(PLAIN, change("level", level=2, on=START - dt.timedelta(days=40)))
    assert plan.weeks[0].level == 2


@pytest.mark.safety("SR-TRI-3")
def test_under_a_red_flag_no_exercise_comes_back_and_only_notes_apply() -> None:
    plan = plan_for(
        FEVER,
        change("add", exercise_id="bird_dog", note="Dazu bitte"),
        change("level", level=3),
        change("exclude", exercise_id="pelvic_tilt"),
        change("note", note="Bitte melden Sie sich in der Praxis."),
    )
    assert plan.red_flag and plan.exercises == [] and plan.weeks == []
    assert [(c.kind, c.not_applied) for c in plan.practice_changes] == [
        ("add", "red_flag"),
        ("level", "red_flag"),
        ("exclude", "red_flag"),
        ("note", None),
    ]


@pytest.mark.safety("SR-TRI-3")
def test_a_diary_warning_sign_also_keeps_practice_additions_out() -> None:
    today = START + dt.timedelta(days=3)
    sign = DiaryEntry.model_validate(
        {
            "recorded_at": dt.datetime.combine(today, dt.time(9), tzinfo=dt.UTC),
            "pain": {"low_back": 4},
            "warning_signs": ["fever"],
        }
    )
    plan = plan_for(PLAIN, change("add", exercise_id="bird_dog"), diary=[sign], today=today)
    assert plan.red_flag and plan.exercises == []


@pytest.mark.safety("SR-TRI-3")
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=cases(),
    added=st.lists(st.sampled_from(sorted(LIB.exercises)), max_size=5),
    level=st.integers(min_value=0, max_value=4),
)
def test_practice_changes_never_bring_a_ruled_out_exercise_or_one_under_a_red_flag(
    data: dict[str, Any], added: list[str], level: int
) -> None:
    case = Case.model_validate(data)
    changes = [change("add", exercise_id=e) for e in added] + [change("level", level=level)]
    plan = build_plan(case, assess(case), start=START, adjustments=changes)
    if plan.red_flag:
        assert plan.exercises == [] and plan.weeks == []
        return
    for week in plan.weeks:
        assert 1 <= week.level <= 3
        for item in week.exercises:
            exercise = LIB.exercises[item.id]
            assert not exercise.avoided_for(case), item.id
            assert set(exercise.regions) & set(case.regions), item.id
    assert len(plan.weeks) == plan_weeks()


def test_the_plan_with_changes_is_plain_json() -> None:
    plan = plan_for(
        PLAIN, change("exclude", exercise_id="pelvic_tilt", note="ä ö ü"), change("level", level=2)
    )
    again = Plan.model_validate_json(plan.model_dump_json())
    assert again == plan and again.practice_changes[0].note == "ä ö ü"
