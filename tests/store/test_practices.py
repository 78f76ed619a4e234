"""Practices: intake code, inbox, detail, review, API tokens; who may see what (BOLA); and that erase,
export and the integrity check cover accounts, sessions and intakes."""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from rueckenlotse import assess
from rueckenlotse.core.models import Case, Triage
from rueckenlotse.services.auth import (
    Principal,
    Role,
    can_manage_practice,
    can_read_intake,
    can_read_person,
    can_review_intake,
    can_write_person,
    principal_for_api_token,
    principal_for_session,
    require,
)
from rueckenlotse.store import Accounts, Forbidden, InvalidValue, NotFound, Practices, Store
from rueckenlotse.store.practices import CODE_ALPHABET, CODE_LENGTH
from rueckenlotse.store.schema import TRIAGE_RANK, PracticeIntake

from .account_support import CASES, CLIENT, PASSWORD, T0, intake, make_accounts, signed_in_clinician
from .conftest import populate, sample_case
from .test_erase_export import rows_mentioning


def test_the_cases_cover_every_triage_and_the_ranks_follow_urgency() -> None:
    assert {assess(Case.model_validate(case)).triage.value for case in CASES.values()} == set(CASES)
    assert set(TRIAGE_RANK) == {t.value for t in Triage}
    order = ["self_care", "routine", "soon", "urgent", "emergency"]
    assert [TRIAGE_RANK[t] for t in order] == list(range(5))


# --- practices and codes ------------------------------------------------------------------------------


def test_a_practice_gets_an_unguessable_intake_code(store: Store) -> None:
    practices = Practices(store)
    first, second = practices.create_practice(" Praxis am Park "), practices.create_practice("Zentrum")
    assert first.name == "Praxis am Park"
    for code in (first.intake_code, second.intake_code):
        assert len(code) == CODE_LENGTH and set(code) <= set(CODE_ALPHABET)
    assert first.intake_code != second.intake_code
    spaced = "-".join(first.intake_code[i : i + 4] for i in range(0, CODE_LENGTH, 4)).upper()
    assert practices.practice_by_code(spaced) == first
    assert practices.practice_by_code(f"  {first.intake_code}\n") == first
    for wrong in ("", "x", first.intake_code[:-1], first.intake_code[:-1] + "9", "' OR 1=1 --"):
        assert practices.practice_by_code(wrong) is None or wrong == first.intake_code
    with pytest.raises(InvalidValue):
        practices.create_practice("  ")


def test_a_rotated_code_replaces_the_old_link(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis")
    rotated = practices.rotate_intake_code(practice.id)
    assert rotated.intake_code != practice.intake_code
    assert practices.practice_by_code(practice.intake_code) is None
    assert practices.practice_by_code(rotated.intake_code) == rotated


def test_only_clinicians_are_members_and_removing_one_takes_effect_at_once(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    x, y = practices.create_practice("X"), practices.create_practice("Y")
    patient, _ = accounts.register_patient("anna@example.org", PASSWORD)
    with pytest.raises(InvalidValue):
        practices.add_member(x.id, patient.id)
    clinician, token = signed_in_clinician(accounts, x.id, "dr@example.org")
    practices.add_member(y.id, clinician)
    practices.add_member(y.id, clinician)  # again: no error, no duplicate
    assert [p.id for p in practices.practices_of(clinician)] == sorted(
        [x.id, y.id], key=lambda i: "XY"[i != x.id]
    )
    assert principal_for_session(accounts, token, now=T0).practice_ids == {x.id, y.id}
    assert practices.remove_member(y.id, clinician) and not practices.remove_member(y.id, clinician)
    assert principal_for_session(accounts, token, now=T0).practice_ids == {x.id}


# --- intakes and the inbox ----------------------------------------------------------------------------


def test_the_inbox_lists_the_most_urgent_first_then_the_newest(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    submitted = [
        ("routine", 1),
        ("emergency", 2),
        ("self_care", 3),
        ("urgent", 4),
        ("emergency", 5),
        ("soon", 6),
        ("routine", 7),
    ]
    ids = {
        (triage, minute): intake(store, practices, practice, triage, now=T0 + timedelta(minutes=minute)).id
        for triage, minute in submitted
    }
    expected = [
        ("emergency", 5),
        ("emergency", 2),
        ("urgent", 4),
        ("soon", 6),
        ("routine", 7),
        ("routine", 1),
        ("self_care", 3),
    ]
    rows = practices.inbox(practice)
    assert [row.intake.id for row in rows] == [ids[key] for key in expected]
    assert [row.intake.triage for row in rows] == [triage for triage, _ in expected]
    assert [r.intake.id for r in practices.inbox(practice, limit=2, offset=1)] == [
        ids[k] for k in expected[1:3]
    ]


def test_inbox_rows_show_the_warning_signs_and_no_more_than_a_pseudonym(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    practice = practices.create_practice("Praxis").id
    _, person = accounts.register_patient("anna.geheim@example.org", PASSWORD, "Anna")
    intake(store, practices, practice, "emergency", now=T0, person_id=person.id)
    intake(store, practices, practice, "routine", now=T0)
    emergency, routine = practices.inbox(practice)
    assert emergency.red_flag_conditions == ("cauda_equina_syndrome",)
    assert emergency.warning_signs == ("saddle_numbness", "bladder_dysfunction")
    assert emergency.display_name == "Anna" and emergency.intake.person_id == person.id
    assert routine.red_flags == () and routine.warning_signs == () and routine.display_name is None
    assert emergency.intake.reviewed_at is None
    assert "anna.geheim" not in repr(emergency)


def test_an_intake_is_submitted_once_and_only_with_the_persons_own_assessment(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    first = intake(store, practices, practice, "urgent", now=T0)
    again = practices.submit_intake(
        practice, first.person_id, first.assessment_id, now=T0 + timedelta(hours=1)
    )
    assert again == first
    other = store.create_person().id
    with pytest.raises(NotFound):
        practices.submit_intake(practice, other, first.assessment_id, now=T0)
    with pytest.raises(NotFound):
        practices.submit_intake("no-such-practice", first.person_id, first.assessment_id, now=T0)
    # The same assessment may go to a second practice (a referral), as a separate intake.
    second = practices.create_practice("Zweitmeinung").id
    assert practices.submit_intake(second, first.person_id, first.assessment_id, now=T0).id != first.id
    assert len(practices.inbox(practice)) == len(practices.inbox(second)) == 1


def sent_copy(store: Store, triage: str = "routine") -> tuple[str, str]:
    """What one send of a practice link makes before submitting: a new person with its assessment."""
    person = store.create_person().id
    case = Case.model_validate(CASES[triage])
    return person, store.add_assessment(person, case, assess(case)).id


def test_a_result_sent_again_under_its_key_is_one_intake(store: Store) -> None:
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    key, other_key = "a" * 64, "b" * 64
    assert practices.intake_by_submission(practice, key) is None
    first = practices.submit_intake(practice, *sent_copy(store), submission_key=key, now=T0)
    again = practices.submit_intake(
        practice, *sent_copy(store), submission_key=key, now=T0 + timedelta(minutes=1)
    )
    assert again == first
    assert practices.intake_by_submission(practice, key) == first
    # Other answers (another key) and keyless intakes are new intakes; so is the key at another practice.
    changed = practices.submit_intake(practice, *sent_copy(store, "urgent"), submission_key=other_key, now=T0)
    keyless = [practices.submit_intake(practice, *sent_copy(store), now=T0) for _ in range(2)]
    elsewhere = practices.create_practice("Zweitmeinung").id
    referred = practices.submit_intake(elsewhere, *sent_copy(store), submission_key=key, now=T0)
    ids = {first.id, changed.id, referred.id, *(k.id for k in keyless)}
    assert len(ids) == 5
    assert len(practices.inbox(practice)) == 4 and len(practices.inbox(elsewhere)) == 1
    with pytest.raises(InvalidValue):
        practices.submit_intake(practice, *sent_copy(store), submission_key="short", now=T0)


def test_concurrent_sends_of_one_result_make_one_intake(store: Store) -> None:
    """Several processes may get the same send at once: the database lets exactly one intake in."""
    practices = Practices(store)
    practice = practices.create_practice("Praxis").id
    copies = [sent_copy(store) for _ in range(4)]
    start = threading.Barrier(len(copies))
    results: list[str] = []
    errors: list[BaseException] = []

    def send(person: str, assessment: str) -> None:
        try:
            start.wait()
            results.append(practices.submit_intake(practice, person, assessment, submission_key="c" * 64).id)
        except BaseException as e:  # reported below, in the test's thread
            errors.append(e)

    threads = [threading.Thread(target=send, args=copy) for copy in copies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    [row] = practices.inbox(practice)
    assert results == [row.intake.id] * len(copies)


def test_the_detail_has_all_answers_and_reviewing_is_recorded_once(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    practice = practices.create_practice("Praxis").id
    clinician, _ = signed_in_clinician(accounts, practice, "dr@example.org")
    submitted = intake(store, practices, practice, "emergency", now=T0, name="Anna")
    detail = practices.intake_detail(practice, submitted.id)
    assert detail.case == Case.model_validate(CASES["emergency"])
    assert detail.assessment.triage == Triage.emergency and detail.person.display_name == "Anna"
    assert detail.intake == submitted
    reviewed = practices.mark_reviewed(practice, submitted.id, clinician, now=T0 + timedelta(hours=1))
    assert reviewed.reviewed_at == T0 + timedelta(hours=1) and reviewed.reviewed_by == clinician
    again = practices.mark_reviewed(practice, submitted.id, clinician, now=T0 + timedelta(hours=2))
    assert again.reviewed_at == T0 + timedelta(hours=1)
    intake(store, practices, practice, "routine", now=T0)
    assert [r.intake.triage for r in practices.inbox(practice, only_open=True)] == ["routine"]


# --- BOLA at the repository ---------------------------------------------------------------------------


def test_practice_y_can_neither_read_nor_mark_practice_xs_intake(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    x, y = practices.create_practice("X").id, practices.create_practice("Y").id
    of_x = intake(store, practices, x, "emergency", now=T0)
    clinician_y, _ = signed_in_clinician(accounts, y, "dr.y@example.org")
    assert practices.inbox(y) == []
    with pytest.raises(NotFound) as caught:
        practices.intake_detail(y, of_x.id)
    assert caught.value.key == of_x.id
    with pytest.raises(NotFound):
        practices.mark_reviewed(y, of_x.id, clinician_y, now=T0)
    with pytest.raises(Forbidden):
        practices.mark_reviewed(x, of_x.id, clinician_y, now=T0)
    assert practices.intake_detail(x, of_x.id).intake.reviewed_at is None
    # A patient account is no member of anything either.
    patient, _ = accounts.register_patient("anna@example.org", PASSWORD)
    with pytest.raises(Forbidden):
        practices.mark_reviewed(x, of_x.id, patient.id, now=T0)


# --- API tokens ---------------------------------------------------------------------------------------


def test_api_tokens_are_shown_once_kept_as_hashes_and_revocable_by_their_practice_only(store: Store) -> None:
    practices = Practices(store)
    x, y = practices.create_practice("X"), practices.create_practice("Y")
    # Made now, not at T0: tokens expire (test_administration), and one made at T0 would be no longer live.
    record, raw = practices.create_api_token(x.id, "Praxissoftware")
    assert raw.startswith("rlp_") and len(raw) > 40
    assert not any(rows_mentioning(store, raw).values()) and not any(rows_mentioning(store, raw[4:]).values())
    assert practices.practice_for_token(raw) == x
    assert practices.practice_for_token(raw + "x") is None and practices.practice_for_token(raw[4:]) is None
    assert [t.id for t in practices.api_tokens(x.id)] == [record.id] and practices.api_tokens(y.id) == []
    assert not practices.revoke_api_token(y.id, record.id, now=T0)
    assert practices.practice_for_token(raw) == x
    assert practices.revoke_api_token(x.id, record.id, now=T0)
    assert practices.practice_for_token(raw) is None
    assert principal_for_api_token(practices, raw) == Principal()
    assert not practices.revoke_api_token(x.id, record.id, now=T0)
    with pytest.raises(InvalidValue):
        practices.create_api_token(x.id, "")


# --- the authorisation matrix -------------------------------------------------------------------------


@dataclass
class World:
    person_a: str
    person_b: str
    practice_x: str
    practice_y: str
    principals: dict[str, Principal]


def build_world(store: Store) -> World:
    """Every role of the issue, each resolved from real credentials in the database."""
    accounts, practices = make_accounts(store), Practices(store)
    x, y = practices.create_practice("X").id, practices.create_practice("Y").id
    patient_a, person_a = accounts.register_patient("a@example.org", PASSWORD)
    patient_b, person_b = accounts.register_patient("b@example.org", PASSWORD)
    _, token_x = signed_in_clinician(accounts, x, "dr.x@example.org")
    _, token_y = signed_in_clinician(accounts, y, "dr.y@example.org")
    half = accounts.authenticate("dr.x@example.org", PASSWORD, client=CLIENT, now=T0)
    assert half is not None
    tokens = {
        "patient A": accounts.start_session(patient_a.id, now=T0),
        "patient B": accounts.start_session(patient_b.id, now=T0),
        "clinician X": token_x,
        "clinician Y": token_y,
        "clinician X without second factor": accounts.start_session(half.id, now=T0),
    }
    principals = {name: principal_for_session(accounts, token, now=T0) for name, token in tokens.items()}
    principals["anonymous"] = principal_for_session(accounts, None, now=T0)
    principals["API token X"] = principal_for_api_token(practices, practices.create_api_token(x, "PVS")[1])
    logged_out = accounts.start_session(patient_a.id, now=T0)
    accounts.end_session(logged_out, now=T0)
    principals["patient A after logout"] = principal_for_session(accounts, logged_out, now=T0)
    return World(person_a.id, person_b.id, x, y, principals)


# Exactly what each may do; everything not listed is refused.
ALLOWED: dict[str, set[str]] = {
    "anonymous": set(),
    "patient A after logout": set(),
    "patient A": {"read person A", "write person A"},
    "patient B": {"read person B", "write person B"},
    "clinician X": {"read intakes X", "review intakes X", "manage X"},
    "clinician Y": {"read intakes Y", "review intakes Y", "manage Y"},
    "clinician X without second factor": set(),
    "API token X": {"read intakes X"},
}


def decisions(world: World, principal: Principal) -> set[str]:
    checks: dict[str, bool] = {}
    for label, person in (("A", world.person_a), ("B", world.person_b)):
        checks[f"read person {label}"] = can_read_person(principal, person)
        checks[f"write person {label}"] = can_write_person(principal, person)
    for label, practice in (("X", world.practice_x), ("Y", world.practice_y)):
        checks[f"read intakes {label}"] = can_read_intake(principal, practice)
        checks[f"review intakes {label}"] = can_review_intake(principal, practice)
        checks[f"manage {label}"] = can_manage_practice(principal, practice)
    return {action for action, allowed in checks.items() if allowed}


def test_every_role_gets_exactly_what_it_may(store: Store) -> None:
    world = build_world(store)
    assert set(world.principals) == set(ALLOWED)
    assert {name: decisions(world, p) for name, p in world.principals.items()} == ALLOWED
    assert world.principals["anonymous"].role is Role.anonymous
    assert world.principals["patient A after logout"] == Principal()
    with pytest.raises(Forbidden):
        require(can_read_person(world.principals["patient B"], world.person_a))
    require(can_read_person(world.principals["patient A"], world.person_a))


# --- erase, export, integrity over the new tables -----------------------------------------------------


def person_with_everything(store: Store, accounts: Accounts, practices: Practices) -> dict[str, Any]:
    """A patient with account, data, two sessions, failed sign-ins, TOTP tries and a reviewed intake."""
    account, person = accounts.register_patient("anna.loeschen@example.org", PASSWORD, "Anna")
    ids = populate(store, "unused")  # another person's data, to see it survive
    case = sample_case()
    record = store.add_assessment(person.id, case, assess(case))
    practice = practices.create_practice("Praxis").id
    clinician, _ = signed_in_clinician(accounts, practice, "dr@example.org")
    submitted = practices.submit_intake(practice, person.id, record.id, now=T0)
    practices.mark_reviewed(practice, submitted.id, clinician, now=T0)
    sessions = [accounts.start_session(account.id, now=T0) for _ in range(2)]
    # A minute after the clinician signed in: erasure finds the rows of the address with a client by the
    # moment of the address's own row (store.erasing), and that moment must be Anna's alone here.
    wrong = T0 + timedelta(minutes=1)
    assert (
        accounts.authenticate("anna.loeschen@example.org", "falsch-falsch", client=CLIENT, now=wrong) is None
    )
    setup = accounts.totp_setup(account.id)
    assert not accounts.totp_confirm(account.id, "12", now=T0)
    return {
        "account": account.id,
        "person": person.id,
        "other": ids["person"],
        "practice": practice,
        "clinician": clinician,
        "intake": submitted.id,
        "sessions": sessions,
        "secret": setup.secret,
    }


def test_erase_removes_account_sessions_intakes_and_attempts(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    anna = person_with_everything(store, accounts, practices)
    before = store.rows_of_person(anna["person"])
    # The walk follows foreign keys: sessions reach the person only through the account.
    assert before["web_sessions.account_id"] == 2 and before["accounts.person_id"] == 1
    assert before["practice_intakes.person_id"] == 1
    counts = store.erase_person(anna["person"])
    assert counts == {
        # The failed sign-in's rows (the address's, the address with the client's, and the client's, all
        # written in that one step) and the TOTP counter.
        "login_attempts": 4,
        "web_sessions": 2,
        "practice_intakes": 1,
        "accounts": 1,
        "assessments": 1,
        "persons": 1,
    }
    assert not any(store.rows_of_person(anna["person"]).values())
    for value in (anna["person"], anna["account"], anna["intake"], "anna.loeschen", anna["secret"]):
        left = rows_mentioning(store, value)
        assert not any(left.values()), (value, left)
    assert all(accounts.session(token, now=T0) is None for token in anna["sessions"])
    assert accounts.authenticate("anna.loeschen@example.org", PASSWORD, client="198.51.100.9", now=T0) is None
    # The practice, its clinician and the other person stay.
    assert practices.inbox(anna["practice"]) == []
    assert [m.id for m in practices.members(anna["practice"])] == [anna["clinician"]]
    assert len(store.list_diary(anna["other"])) == 5
    assert store.integrity_check() == []


def test_verification_follows_references_through_tables_it_does_not_know(store: Store) -> None:
    """A table added outside the program, two references away from the person, is still checked."""
    accounts = make_accounts(store)
    account, person = accounts.register_patient("anna@example.org", PASSWORD)
    token = accounts.start_session(account.id, now=T0)
    session_id = hashlib.sha256(token.encode()).hexdigest()
    with store.engine.begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE session_notes (id INTEGER PRIMARY KEY, session_id VARCHAR(64) "
            "REFERENCES web_sessions (id) ON DELETE CASCADE, note VARCHAR(100))"
        )
        conn.exec_driver_sql(f"INSERT INTO session_notes VALUES (1, '{session_id}', 'gesehen')")
    counts = store.rows_of_person(person.id)
    assert counts["session_notes.session_id"] == 1
    assert counts["web_sessions.account_id"] == 1
    store.erase_person(person.id)  # the database's cascade removes the note; the check confirms it
    assert store.rows_of_person(person.id)["session_notes.session_id"] == 0


def test_a_review_by_an_account_that_is_erased_keeps_the_intake(store: Store) -> None:
    """ON DELETE SET NULL references are cleared, not followed: the intake is the other person's."""
    accounts, practices = make_accounts(store), Practices(store)
    practice = practices.create_practice("Praxis").id
    submitted = intake(store, practices, practice, "urgent", now=T0)
    anna, person = accounts.register_patient("anna@example.org", PASSWORD)
    with store.engine.begin() as conn:  # impossible through the API; tests the generic walk
        conn.execute(update(PracticeIntake).values(reviewed_by=anna.id, reviewed_at=T0))
    assert store.rows_of_person(person.id)["practice_intakes.reviewed_by"] == 1
    store.erase_person(person.id)
    [row] = practices.inbox(practice)
    assert row.intake.id == submitted.id and row.intake.reviewed_by is None and row.intake.reviewed_at == T0


def test_export_has_the_account_sessions_and_intakes_but_no_secrets(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    anna = person_with_everything(store, accounts, practices)
    data = store.export_person(anna["person"])
    assert data["format_version"] == 5
    assert data["account"] == {
        "email": "anna.loeschen@example.org",
        "role": "patient",
        "created_at": data["account"]["created_at"],
        "two_factor": False,
        "disabled": False,
    }
    assert len(data["sessions"]) == 2 and set(data["sessions"][0]) == {
        "created_at",
        "last_seen_at",
        "expires_at",
        "revoked_at",
        "two_factor_passed",
    }
    [sent] = data["practice_intakes"]
    assert sent["id"] == anna["intake"] and sent["practice"] == "Praxis" and sent["reviewed_at"]
    text = json.dumps(data)
    with store.engine.connect() as conn:
        secrets = [
            *conn.exec_driver_sql("SELECT password_hash FROM accounts").scalars(),
            *conn.exec_driver_sql("SELECT totp_secret FROM accounts").scalars(),
            *conn.exec_driver_sql("SELECT id FROM web_sessions").scalars(),
            *conn.exec_driver_sql("SELECT key FROM login_attempts").scalars(),
            *conn.exec_driver_sql("SELECT token_hash FROM api_tokens").scalars(),
        ]
    # Her TOTP secret is sealed in the table; neither it nor its seal is in the export.
    assert anna["secret"] not in "".join(filter(None, secrets))
    secrets.append(anna["secret"])
    for secret in [*secrets, *anna["sessions"], "$argon2", anna["clinician"], "dr@example.org"]:
        if secret:
            assert secret not in text, secret


def test_export_of_a_person_without_account(store: Store) -> None:
    ids = populate(store)
    data = store.export_person(ids["person"])
    assert data["account"] is None and data["sessions"] == [] and data["practice_intakes"] == []


def test_integrity_check_finds_an_intake_whose_triage_copy_disagrees(store: Store) -> None:
    accounts, practices = make_accounts(store), Practices(store)
    person_with_everything(store, accounts, practices)
    assert store.integrity_check() == []
    with store.engine.begin() as conn:
        conn.execute(update(PracticeIntake).values(triage_rank=4))
    problems = store.integrity_check()
    assert any("practice_intakes" in p and "triage" in p for p in problems), problems
