"""Shared helpers for the account, session and practice tests (plain functions, not fixtures)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from argon2 import PasswordHasher

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.services.auth import Argon2Passwords
from rueckenlotse.store import Accounts, IntakeRecord, Practices, Store
from rueckenlotse.store.sealing import Sealer

T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)
PASSWORD = "Rücken-Lotse 2024!"
CLIENT = "203.0.113.7"

# One case per triage level (checked in test_practices): emergency first in every inbox.
CASES: dict[str, dict[str, Any]] = {
    "emergency": {
        "age": 60,
        "regions": ["low_back"],
        "duration_weeks": 1,
        "saddle_numbness": True,
        "bladder_dysfunction": True,
    },
    "urgent": {"age": 60, "regions": ["low_back"], "duration_weeks": 1, "fever": True},
    "soon": {"age": 60, "regions": ["low_back"], "duration_weeks": 3, "cancer_history": True},
    "routine": {"age": 35, "regions": ["low_back"], "duration_weeks": 14, "pain_intensity": 6},
    "self_care": {"age": 35, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 3},
}


def fast_passwords() -> Argon2Passwords:
    """Real Argon2id, with the smallest cost argon2 allows: the policy and the format are the same,
    only much faster (the default cost is tested on its own)."""
    return Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))


# Fixed test keys (32 bytes each): the sealing is real, only the keys are known.
TEST_KEY = bytes(range(32))
OTHER_KEY = bytes(range(100, 132))


def sealer_for_tests() -> Sealer:
    return Sealer(TEST_KEY)


def make_accounts(store: Store, **options: Any) -> Accounts:
    options.setdefault("sealer", sealer_for_tests())
    return Accounts(store, fast_passwords(), **options)


def intake(
    store: Store,
    practices: Practices,
    practice_id: str,
    triage: str,
    *,
    now: datetime,
    name: str | None = None,
    person_id: str | None = None,
) -> IntakeRecord:
    """A person (new unless given) with an assessment of the given triage, submitted to the practice."""
    person = person_id or store.create_person(name).id
    case = Case.model_validate(CASES[triage])
    record = store.add_assessment(person, case, assess(case))
    return practices.submit_intake(practice_id, person, record.id, now=now)


def code_at(secret: str, moment: datetime, steps: int = 0) -> str:
    """The TOTP code an authenticator app shows at ``moment`` (``steps`` time steps later)."""
    return pyotp.TOTP(secret).at(moment, counter_offset=steps)


def wrong_code(secret: str, moment: datetime) -> str:
    """A well-formed code that is not valid at ``moment`` (nor one step before or after)."""
    valid = {code_at(secret, moment, steps) for steps in (-1, 0, 1)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in valid)


def clinician_with_totp(
    accounts: Accounts, practice_id: str, email: str, *, now: datetime = T0
) -> tuple[str, str]:
    """A clinician of the practice with TOTP set up and confirmed; returns (account id, secret)."""
    account = accounts.create_clinician(email, PASSWORD, practice_id)
    setup = accounts.totp_setup(account.id)
    assert accounts.totp_confirm(account.id, code_at(setup.secret, now), now=now)
    return account.id, setup.secret


def signed_in_clinician(
    accounts: Accounts, practice_id: str, email: str, *, now: datetime = T0
) -> tuple[str, str]:
    """A clinician of the practice, signed in with both factors; returns (account id, session token)."""
    account_id, secret = clinician_with_totp(accounts, practice_id, email, now=now)
    token = accounts.start_session(account_id, now=now)
    later = now + timedelta(seconds=30)  # confirming used the code of `now`: a code is good only once
    full = accounts.pass_second_factor(token, code_at(secret, later), now=later)
    assert full is not None
    return account_id, full
