"""A seeded world for the signed-in REST API tests: two patients, two practices, their clinicians and
API tokens, each with data marked by a distinctive string, behind a real uvicorn server.

Accounts, sessions and tokens are made through the real repositories on the server's own SQLite file
(the sign-in pages are tested on their own); every request then goes over real HTTP.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pyotp
from argon2 import PasswordHasher

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.auth import Argon2Passwords
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.accounts import Accounts
from rueckenlotse.store.practices import Practices

from .api_fixtures import API, make_app, serve
from .conftest import server_sealer

PASSWORD = "ein langer Satz als Passwort"
EMERGENCY: dict[str, Any] = {
    "age": 60,
    "regions": ["low_back"],
    "duration_weeks": 1,
    "saddle_numbness": True,
    "bladder_dysfunction": True,
}
SELF_CARE: dict[str, Any] = {"age": 35, "regions": ["low_back"], "duration_weeks": 1, "pain_intensity": 3}


@dataclass(frozen=True)
class Party:
    """One caller: the headers it sends, and the ids of what it owns."""

    name: str
    headers: dict[str, str] = field(default_factory=dict)
    person_id: str | None = None
    practice_id: str | None = None
    marker: str = ""


@dataclass(frozen=True)
class World:
    url: str
    db_url: str
    parties: dict[str, Party]
    intake_x: str
    intake_y: str

    def client(self, who: str) -> httpx.Client:
        return httpx.Client(base_url=self.url + API, headers=self.parties[who].headers, timeout=20.0)

    def store(self) -> Store:
        return Store.open(self.db_url)


def cheap_accounts(store: Store) -> Accounts:
    cheap = Argon2Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    return Accounts(store, cheap, sealer=server_sealer(store))


def diary_entry(note: str = "", **extra: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    return {"recorded_at": now.isoformat(), "pain": {"low_back": 4}, "note": note, **extra}


def _patient(store: Store, accounts: Accounts, name: str) -> Party:
    marker = f"Marker-{name}-{secrets.token_hex(4)}"
    account, person = accounts.register_patient(
        f"{name}-{secrets.token_hex(3)}@example.org", PASSWORD, marker
    )
    record_intake(store, person.id, Case.model_validate(SELF_CARE))
    add_entry(store, person.id, DiaryEntry.model_validate_json(json.dumps(diary_entry(note=marker))))
    store.add_exclusion(person.id, _first_exercise(store, person.id), reason=marker)
    token = accounts.start_session(account.id)
    return Party(name, {"Cookie": f"session={token}"}, person_id=person.id, marker=marker)


def _first_exercise(store: Store, person_id: str) -> str:
    plan = store.latest_plan(person_id)
    assert plan is not None
    return str(plan.plan["weeks"][0]["exercises"][0]["id"])


def submit(store: Store, practices: Practices, practice_id: str, name: str, case: dict[str, Any]) -> str:
    """A pseudonymous person with an assessment, sent to the practice; returns the intake id."""
    person = store.create_person(name)
    record = store.add_assessment(person.id, Case.model_validate(case), assess(Case.model_validate(case)))
    return practices.submit_intake(practice_id, person.id, record.id).id


def _practice(store: Store, accounts: Accounts, practices: Practices, name: str) -> tuple[Party, ...]:
    marker = f"Marker-{name}-{secrets.token_hex(4)}"
    practice = practices.create_practice(f"Praxis {name}")
    clinician = accounts.create_clinician(
        f"arzt-{name}-{secrets.token_hex(3)}@example.org", PASSWORD, practice.id
    )
    setup = accounts.totp_setup(clinician.id)
    assert accounts.totp_confirm(clinician.id, pyotp.TOTP(setup.secret).now())
    session = accounts.start_session(clinician.id, totp_passed=True)
    _, raw = practices.create_api_token(practice.id, f"software {name}")
    submit(store, practices, practice.id, marker, EMERGENCY)
    return (
        Party(f"clinician_{name}", {"Cookie": f"session={session}"}, practice_id=practice.id, marker=marker),
        Party(f"token_{name}", {"Authorization": f"Bearer {raw}"}, practice_id=practice.id, marker=marker),
    )


def _pending(accounts: Accounts, practice_id: str) -> Party:
    """A clinician who gave the password but not yet the second factor."""
    clinician = accounts.create_clinician(f"halb-{secrets.token_hex(3)}@example.org", PASSWORD, practice_id)
    return Party("pending", {"Cookie": f"session={accounts.start_session(clinician.id)}"})


@dataclass(frozen=True)
class Seeded:
    parties: dict[str, Party]
    intake_x: str
    intake_y: str


def seed(store: Store) -> Seeded:
    """Both patients, both practices with a clinician, a token and an intake each, and the callers."""
    accounts, practices = cheap_accounts(store), Practices(store)
    a, b = _patient(store, accounts, "A"), _patient(store, accounts, "B")
    clinician_x, token_x = _practice(store, accounts, practices, "X")
    clinician_y, token_y = _practice(store, accounts, practices, "Y")
    assert clinician_x.practice_id is not None and clinician_y.practice_id is not None
    parties = {
        "anonymous": Party("anonymous"),
        "bad_token": Party("bad_token", {"Authorization": "Bearer rl_" + secrets.token_urlsafe(32)}),
        "patient_a": a,
        "patient_b": b,
        "clinician_x": clinician_x,
        "clinician_y": clinician_y,
        "token_x": token_x,
        "token_y": token_y,
        "pending": _pending(accounts, clinician_x.practice_id),
    }
    intake_x = practices.inbox(clinician_x.practice_id)[0].intake.id
    intake_y = practices.inbox(clinician_y.practice_id)[0].intake.id
    return Seeded(parties, intake_x, intake_y)


@contextlib.contextmanager
def running_world(data_dir: Path) -> Iterator[World]:
    app = make_app(data_dir)
    db_url = f"sqlite:///{data_dir}/db"
    with serve(app) as url, Store.open(db_url) as store:
        seeded = seed(store)
        yield World(url, db_url, seeded.parties, seeded.intake_x, seeded.intake_y)
