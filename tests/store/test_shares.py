"""Shared courses and a practice's plan changes (issue #18): store.shares through services.sharing, on
SQLite and PostgreSQL. Who may share with whom, what a practice reaches (only an active share, only its
own intakes), what the plan applies (undone and revoked changes never), idempotency, the audit trail, the
export and erasure."""

from __future__ import annotations

import json
import secrets
from datetime import timedelta

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.services import sharing
from rueckenlotse.services.followup import current_plan, record_intake
from rueckenlotse.services.sharing import ChangeRefused, PlanChange
from rueckenlotse.store import Practices, Store, audit
from rueckenlotse.store.audit import Actor
from rueckenlotse.store.shares import NotSharable, NotShared

from .account_support import PASSWORD, T0, make_accounts
from .test_erase_export import rows_mentioning

PLAIN = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5})
FEVER = Case.model_validate(
    {"age": 40, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "fever": True}
)


class World:
    """A patient (account and person) who sent an intake to practice N; practice S has none of theirs."""

    def __init__(self, store: Store, case: Case = PLAIN) -> None:
        self.store = store
        accounts = make_accounts(store)
        practices = Practices(store)
        self.account, person = accounts.register_patient(
            f"p-{secrets.token_hex(4)}@example.org", PASSWORD, "Petra"
        )
        self.person = person.id
        self.north = practices.create_practice("Praxis Nord")
        self.south = practices.create_practice("Praxis Süd")
        result = record_intake(store, self.person, case)
        self.intake = practices.submit_intake(self.north.id, self.person, result.record.id, now=T0)
        self.clinician_n = accounts.create_clinician(
            f"n-{secrets.token_hex(4)}@praxis.example", PASSWORD, self.north.id
        )
        self.clinician_s = accounts.create_clinician(
            f"s-{secrets.token_hex(4)}@praxis.example", PASSWORD, self.south.id
        )
        self.patient = Actor("patient", self.account.id, "web")
        self.doctor = Actor("clinician", self.clinician_n.id, "web")
        self.other_doctor = Actor("clinician", self.clinician_s.id, "web")

    def actions(self) -> list[tuple[str, str | None, str | None]]:
        with self.store.transaction(write=False) as session:
            return [(e.action, e.person_id, e.practice_id) for e in audit.all_events(session)]


@pytest.fixture
def world(store: Store) -> World:
    return World(store)


def test_sharing_needs_an_intake_sent_to_the_practice(world: World) -> None:
    with pytest.raises(NotSharable):
        sharing.grant(world.store, world.patient, world.person, world.south.id)
    with pytest.raises(NotSharable):
        sharing.grant(world.store, world.patient, world.person, "0" * 32)
    offered = sharing.sharable_practices(world.store, world.person)
    assert [(p.practice_id, p.name, p.shared) for p in offered] == [(world.north.id, "Praxis Nord", False)]
    assert world.actions() == []


def test_grant_revoke_and_grant_again(world: World) -> None:
    store, person, north = world.store, world.person, world.north.id
    first = sharing.grant(store, world.patient, person, north, now=T0)
    assert first.active and first.granted_at == T0
    again = sharing.grant(store, world.patient, person, north, now=T0 + timedelta(hours=1))
    assert again.granted_at == T0  # an active share stays as it is (and is not recorded twice)
    assert sharing.has_active_share(store, person, north)
    assert sharing.revoke(store, world.patient, person, north, now=T0 + timedelta(days=1))
    assert not sharing.revoke(store, world.patient, person, north)
    assert not sharing.has_active_share(store, person, north)
    renewed = sharing.grant(store, world.patient, person, north, now=T0 + timedelta(days=2))
    assert renewed.active and renewed.granted_at == T0 + timedelta(days=2)
    assert world.actions() == [
        ("share.grant", person, north),
        ("share.revoke", person, north),
        ("share.grant", person, north),
    ]


def test_a_practice_reaches_a_course_only_while_it_is_shared(world: World) -> None:
    store, north, south = world.store, world.north.id, world.south.id
    assert sharing.find_course(store, north, world.intake.id) is None  # never granted
    sharing.grant(store, world.patient, world.person, north)
    course = sharing.find_course(store, north, world.intake.id)
    assert course is not None and course.person_id == world.person and course.display_name == "Petra"
    assert sharing.find_course(store, south, world.intake.id) is None  # another practice's intake id
    assert sharing.find_course(store, north, "f" * 32) is None
    listed = sharing.shared_courses(store, world.doctor, north)
    assert [c.person_id for c in listed] == [world.person]
    assert sharing.shared_courses(store, world.other_doctor, south) == []
    view = sharing.read_course(store, world.doctor, north, world.person)
    assert view.plan is not None and view.report is not None and view.plan.exercises
    with pytest.raises(NotShared):
        sharing.read_course(store, world.other_doctor, south, world.person)
    sharing.revoke(store, world.patient, world.person, north)
    assert sharing.find_course(store, north, world.intake.id) is None
    assert sharing.shared_courses(store, world.doctor, north) == []
    with pytest.raises(NotShared):
        sharing.read_course(store, world.doctor, north, world.person)
    actions = [a for a, *_ in world.actions()]
    assert actions.count("read.course") == 1 and actions.count("list.courses") == 3


def test_adjustments_apply_only_while_shared_and_not_undone(world: World) -> None:
    store, person, north = world.store, world.person, world.north.id
    sharing.grant(store, world.patient, person, north)
    before = current_plan(store, person)
    left_out = before.exercises[0].id
    excluded = sharing.adjust(
        store,
        world.doctor,
        north,
        person,
        PlanChange("exclude", exercise_id=left_out, note="Nicht mit dem Knie"),
    )
    added = sharing.adjust(store, world.doctor, north, person, PlanChange("add", exercise_id="bird_dog"))
    plan = current_plan(store, person)
    assert left_out not in {e.id for e in plan.exercises} and "bird_dog" in {e.id for e in plan.exercises}
    assert [c.note for c in plan.practice_changes] == ["Nicht mit dem Knie", None]
    assert plan.practice_changes[0].practice == "Praxis Nord"

    assert sharing.undo(store, world.doctor, north, person, added.id)
    assert sharing.undo(store, world.doctor, north, person, added.id)  # twice: one undo, recorded once
    plan = current_plan(store, person)
    assert "bird_dog" not in {e.id for e in plan.exercises} and left_out not in {e.id for e in plan.exercises}

    sharing.revoke(store, world.patient, person, north)
    plan = current_plan(store, person)
    assert plan.practice_changes == [] and [e.id for e in plan.exercises] == [e.id for e in before.exercises]
    with pytest.raises(NotShared):
        sharing.undo(store, world.doctor, north, person, excluded.id)
    with pytest.raises(NotShared):
        sharing.adjust(store, world.doctor, north, person, PlanChange("note", note="Noch da?"))

    sharing.grant(store, world.patient, person, north)  # sharing again brings the change not undone back
    assert left_out not in {e.id for e in current_plan(store, person).exercises}
    actions = [a for a, *_ in world.actions()]
    assert actions.count("adjust.plan") == 2 and actions.count("undo.plan_adjustment") == 1


def test_another_practice_cannot_undo_or_see_a_change(world: World) -> None:
    store, person = world.store, world.person
    sharing.grant(store, world.patient, person, world.north.id)
    change = sharing.adjust(store, world.doctor, world.north.id, person, PlanChange("note", note="Gut so"))
    with pytest.raises(NotShared):
        sharing.undo(store, world.other_doctor, world.south.id, person, change.id)
    with pytest.raises(NotShared):
        sharing.undo(store, world.doctor, world.north.id, person, "0" * 32)
    assert [c.id for c in sharing.read_course(store, world.doctor, world.north.id, person).adjustments] == [
        change.id
    ]


def test_the_same_form_key_changes_the_plan_once(world: World) -> None:
    store, person, north = world.store, world.person, world.north.id
    sharing.grant(store, world.patient, person, north)
    key = secrets.token_urlsafe(32)
    first = sharing.adjust(store, world.doctor, north, person, PlanChange("level", level=2), form_key=key)
    second = sharing.adjust(store, world.doctor, north, person, PlanChange("level", level=2), form_key=key)
    assert first == second
    other = sharing.adjust(
        store, world.doctor, north, person, PlanChange("level", level=2), form_key=secrets.token_urlsafe(32)
    )
    assert other.id != first.id
    assert [a for a, *_ in world.actions()].count("adjust.plan") == 2


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        (PlanChange("exclude", exercise_id="neck_turns"), "exercise", "not_in_plan"),
        (PlanChange("exclude", exercise_id=""), "exercise", "exercise_missing"),
        (PlanChange("exclude", exercise_id="gibt_es_nicht"), "exercise", "unknown_exercise"),
        (PlanChange("add", exercise_id="neck_turns"), "exercise", "region"),
        (PlanChange("add", exercise_id="pelvic_tilt"), "exercise", "in_plan"),
        (PlanChange("level", level=4), "level", "level_missing"),
        (PlanChange("level"), "level", "level_missing"),
        (PlanChange("note", note="   "), "note", "note_missing"),
        (PlanChange("note", note="x" * 1001), "note", "note_too_long"),
        (PlanChange("delete"), "kind", "kind"),
    ],
)
def test_a_change_that_does_not_fit_is_refused_at_its_field(
    world: World, change: PlanChange, field: str, reason: str
) -> None:
    sharing.grant(world.store, world.patient, world.person, world.north.id)
    with pytest.raises(ChangeRefused) as refused:
        sharing.adjust(world.store, world.doctor, world.north.id, world.person, change)
    assert (refused.value.field, refused.value.reason) == (field, reason)
    assert "adjust.plan" not in [a for a, *_ in world.actions()]


def test_an_exclusion_that_would_empty_the_week_is_refused(world: World) -> None:
    store, person, north = world.store, world.person, world.north.id
    sharing.grant(store, world.patient, person, north)
    refused = None
    for _ in range(10):
        exercises = current_plan(store, person).exercises
        try:
            sharing.adjust(
                store, world.doctor, north, person, PlanChange("exclude", exercise_id=exercises[0].id)
            )
        except ChangeRefused as e:
            refused = e
            break
    assert refused is not None and refused.reason == "last_exercise"
    assert current_plan(store, person).exercises  # never empty


def test_under_a_red_flag_exercise_changes_wait_and_notes_go_through(store: Store) -> None:
    world = World(store, FEVER)
    sharing.grant(store, world.patient, world.person, world.north.id)
    with pytest.raises(ChangeRefused) as refused:
        sharing.adjust(
            store, world.doctor, world.north.id, world.person, PlanChange("add", exercise_id="bird_dog")
        )
    assert refused.value.reason == "red_flag"
    sharing.adjust(
        store, world.doctor, world.north.id, world.person, PlanChange("note", note="Bitte anrufen")
    )
    plan = current_plan(store, world.person)
    assert plan.red_flag and plan.exercises == [] and plan.practice_changes[0].note == "Bitte anrufen"


def test_the_export_holds_shares_and_changes(world: World) -> None:
    store, person, north = world.store, world.person, world.north.id
    sharing.grant(store, world.patient, person, north, now=T0)
    change = sharing.adjust(store, world.doctor, north, person, PlanChange("note", note="Weiter so"))
    sharing.undo(store, world.doctor, north, person, change.id)
    data = store.export_person(person)
    assert data["format_version"] == 5
    assert data["shares"] == [{"practice": "Praxis Nord", "granted_at": T0.isoformat(), "revoked_at": None}]
    (kept,) = data["plan_adjustments"]
    assert (kept["practice"], kept["kind"], kept["note"]) == ("Praxis Nord", "note", "Weiter so")
    assert kept["undone_at"] is not None
    assert world.clinician_n.id not in json.dumps(data)  # the practice by name, never the clinician


def test_erasing_the_person_removes_shares_and_changes_and_keeps_the_practices_trail_anonymous(
    world: World,
) -> None:
    store, person, north = world.store, world.person, world.north.id
    sharing.grant(store, world.patient, person, north)
    sharing.adjust(
        store,
        world.doctor,
        north,
        person,
        PlanChange("note", note="UNVERWECHSELBAR-Notiz"),
        form_key=secrets.token_urlsafe(32),
    )
    sharing.read_course(store, world.doctor, north, person)
    assert store.rows_of_person(person)["course_shares.person_id"] == 1
    store.erase_person(person)
    for needle in (person, "UNVERWECHSELBAR-Notiz"):
        left = rows_mentioning(store, needle)
        assert not any(left.values()), (needle, left)
    kept = [(a, p, pr) for a, p, pr in world.actions() if a in ("read.course", "adjust.plan")]
    assert kept == [("adjust.plan", None, north), ("read.course", None, north)]
