"""The world of the authorisation matrix (test_authz_pages.py): two patients, two practices, their clinicians,
signed in against the live server, and ways to look into the server's SQLite file.

Patients register through the real /registrieren form; intakes reach the practices through their real
practice links (/p/CODE). Only clinician accounts are seeded straight into the database (there is no web
form for them), as in test_auth.py. Every request of a test goes through a fresh client that carries one
role's cookies, so a Set-Cookie of one test never changes the session another test uses.
"""

from __future__ import annotations

import itertools
import re
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import httpx
import pyotp

from rueckenlotse.store import Store
from rueckenlotse.store.practices import Practices

from .conftest import LiveServer
from .pages_helpers import SELF_CARE_PLAN, answer_all, parse_page
from .practice_link_helpers import MIN_SECONDS
from .test_auth import Clinician, accounts, csrf_of, login, sign_in
from .test_patient import PASSWORD, diary_entry, new_patient


class Role(StrEnum):
    anonymous = "anonymous"
    patient_a = "patient_a"
    patient_b = "patient_b"
    clinician_x = "clinician_x"
    clinician_y = "clinician_y"
    pending = "pending_2fa"


ROLES = tuple(Role)
SIGNED_IN = tuple(role for role in Role if role is not Role.anonymous)
# Whose data a role may see: the patients their own person, the clinicians their own practice. The
# pending clinician belongs to practice X but has not passed the second factor: it owns nothing yet.
OWNER: dict[Role, str | None] = {
    Role.anonymous: None,
    Role.patient_a: "A",
    Role.patient_b: "B",
    Role.clinician_x: "X",
    Role.clinician_y: "Y",
    Role.pending: None,
}
PATIENTS = ("A", "B")
PRACTICES = ("X", "Y")
EXCLUDE_FORM = re.compile(r'<form[^>]*action="/mein-bereich/plan/ausschliessen".*?</form>', re.S)
EXERCISE = re.compile(r'name="exercise" value="([a-z0-9_]+)"')
# Each sent result differs from the last few (a practice must never take one for a resend), but the age
# stays below every age-bound rule (70: a first episode of back pain; 65: a fall or neck injury; 50: some
# chest-pain patterns), so a worker that has sent hundreds of results still sends a self-care one. (A counter
# without bound passed 70 in a long CI worker and turned the result into a warning sign.)
AGES = range(20, 50)
_ages = itertools.cycle(AGES)


@dataclass(frozen=True)
class Patient:
    email: str
    person_id: str
    name: str
    note: str
    excluded: str


@dataclass(frozen=True)
class Practice:
    id: str
    name: str
    code: str
    intake_id: str
    person_short: str  # how the inbox names the intake's unnamed person: its reference
    receipt: str  # the token of the sender's receipt (/beleg/<token>)


@dataclass(frozen=True)
class Identity:
    """One browser: its cookies (session and CSRF) and the CSRF form value that belongs to them."""

    cookies: dict[str, str]
    form_token: str

    @property
    def session(self) -> str | None:
        return self.cookies.get("session")


@dataclass
class World:
    server: LiveServer
    store: Store
    patients: dict[str, Patient]
    practices: dict[str, Practice]
    identities: dict[Role, Identity]
    stranger: Identity  # another anonymous browser: its CSRF value belongs to its own cookie only
    pending_clinician: Clinician
    saved_state: str  # a complete anonymous intake, signed: what "Speichern" posts
    scratch_exercise: str  # in no seeded plan: free to exclude and include again
    # Shared courses (issue #18): A and B each sent an intake to X while signed in; A shares the course
    # with X, B does not. The practice addresses a course by an intake id of its own.
    course_intake: str = ""  # A's intake at X
    unshared_intake: str = ""  # B's intake at X
    scratch: dict[str, str] = field(default_factory=dict)  # ids made by a row's preparation

    @property
    def db(self) -> Path:
        return self.server.data_dir / "web.db"

    def markers(self, owner: str) -> dict[str, str]:
        """Strings only this owner's pages may show (names, notes, intake ids)."""
        if owner in self.patients:
            patient = self.patients[owner]
            return {f"{owner}.name": patient.name, f"{owner}.note": patient.note}
        practice = self.practices[owner]
        return {
            f"{owner}.practice": practice.name,
            f"{owner}.intake": practice.intake_id,
            f"{owner}.person": practice.person_short,
        }

    def all_markers(self) -> dict[str, str]:
        return {k: v for owner in PATIENTS + PRACTICES for k, v in self.markers(owner).items()}


# ---- clients ---------------------------------------------------------------------------------------
def new_client(server: LiveServer, cookies: dict[str, str] | None = None) -> httpx.Client:
    """A client with its own made-up address (the sign-in throttle counts per address)."""
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250) + 1}"
    return httpx.Client(
        base_url=server.url,
        timeout=15.0,
        follow_redirects=False,
        headers={"X-Forwarded-For": address},
        cookies=cookies or {},
    )


def identity_of(client: httpx.Client) -> Identity:
    """The client's cookies after a page has given it a CSRF cookie, with that cookie's form value."""
    token = csrf_of(client.get("/"))
    cookies = {name: value for name in ("session", "csrf") if (value := client.cookies.get(name))}
    assert "csrf" in cookies
    return Identity(cookies, token)


@contextmanager
def client_as(world: World, identity: Identity) -> Iterator[httpx.Client]:
    with new_client(world.server, dict(identity.cookies)) as client:
        yield client


# ---- seeding ---------------------------------------------------------------------------------------
def seed_clinician(store: Store, practice_id: str) -> Clinician:
    """A clinician of this practice whose TOTP is active (confirmed with the previous step's code, so a
    sign-in now may use the current one)."""
    email = f"authz-{secrets.token_hex(5)}@praxis.example"
    repo = accounts(store)
    account = repo.create_clinician(email, PASSWORD, practice_id)
    secret = repo.totp_setup(account.id).secret
    assert repo.totp_confirm(account.id, pyotp.TOTP(secret).at(time.time() - 30))
    return Clinician(email, PASSWORD, practice_id, secret)


def completed_state(client: httpx.Client, start_path: str) -> httpx.Response:
    """The result page of a complete self-care intake started at ``start_path``, with a new age each time."""
    first = client.get(start_path)
    assert first.status_code == 200, (start_path, first.status_code)
    result, _ = answer_all(client, first, {**SELF_CARE_PLAN, "age": str(next(_ages))})
    return result


def send_form(client: httpx.Client, code: str) -> dict[str, str]:
    """The hidden fields of the "send to the practice" form at the end of a practice-link intake."""
    form, _, _ = parse_page(completed_state(client, f"/p/{code}/fragen?zustimmung=ja").text, "practice-send")
    assert form is not None and form.action == f"/p/{code}/bestaetigen"
    return form.hidden


def confirmed_form(client: httpx.Client, code: str, *, wait: bool = True) -> dict[str, str]:
    """The hidden fields of the confirmation page, read for as long as the server asks before sending."""
    page = client.post(f"/p/{code}/bestaetigen", data=send_form(client, code))
    form, _, _ = parse_page(page.text, "practice-confirm")
    assert form is not None and form.action == f"/p/{code}/senden", page.text[:500]
    if wait:
        time.sleep(MIN_SECONDS)
    return form.hidden


def seed_practice(server: LiveServer, store: Store, label: str) -> tuple[Practice, Clinician]:
    """A practice with one intake sent through its real link by an anonymous visitor, and a clinician."""
    name = f"Praxis-{label}-{secrets.token_hex(4)}"
    record = Practices(store).create_practice(name)
    with new_client(server) as visitor:
        sent = visitor.post(
            f"/p/{record.intake_code}/senden", data=confirmed_form(visitor, record.intake_code)
        )
        assert sent.status_code == 303, sent.text[:500]
    receipt = sent.headers["location"].removeprefix("/beleg/")
    with sql(server.data_dir / "web.db") as db:
        rows = db.execute("SELECT id, reference FROM practice_intakes WHERE practice_id = ?", (record.id,))
        ((intake_id, reference),) = rows.fetchall()
    practice = Practice(record.id, name, record.intake_code, intake_id, reference, receipt)
    return practice, seed_clinician(store, record.id)


def seed_patient(server: LiveServer, client: httpx.Client, label: str, exclude_index: int) -> Patient:
    """A patient registered through the form, with a saved assessment, a diary entry and an exclusion."""
    name = f"{label}-Marker-{secrets.token_hex(4)}"
    email = new_patient(client, name=name)
    note = f"Notiz-{label}-{secrets.token_hex(6)}"
    assert diary_entry(client, note=note, pain_low_back=str(3 + 4 * exclude_index)).status_code == 200
    plan = client.get("/mein-bereich/plan")
    excluded = exclude_offers(plan.text)[exclude_index]
    response = client.post(
        "/mein-bereich/plan/ausschliessen", data={"csrf_token": csrf_of(plan), "exercise": excluded}
    )
    assert response.status_code == 303
    return Patient(email, person_of_email(server.data_dir / "web.db", email), name, note, excluded)


def send_signed_in(server: LiveServer, client: httpx.Client, practice: Practice, person_id: str) -> str:
    """A signed-in patient sends a result through the practice's link: the intake is their own person's
    (issue #18). Returns its id."""
    sent = client.post(f"/p/{practice.code}/senden", data=confirmed_form(client, practice.code))
    assert sent.status_code == 303, sent.text[:500]
    with sql(server.data_dir / "web.db") as db:
        query = "SELECT id FROM practice_intakes WHERE practice_id = ? AND person_id = ?"
        ((intake_id,),) = db.execute(query, (practice.id, person_id)).fetchall()
    return str(intake_id)


def exclude_offers(plan_html: str) -> list[str]:
    """The exercises the plan page offers to exclude (one form each)."""
    return [m for form in EXCLUDE_FORM.findall(plan_html) for m in EXERCISE.findall(form)]


def person_of_email(db_path: Path, email: str) -> str:
    with sql(db_path) as db:
        row = db.execute("SELECT person_id FROM accounts WHERE email = ?", (email.lower(),)).fetchone()
    assert row is not None and row[0]
    return str(row[0])


def signed_in_clinician(server: LiveServer, clinician: Clinician) -> Identity:
    with new_client(server) as client:
        sign_in(client, clinician)
        return identity_of(client)


def pending_identity(server: LiveServer, clinician: Clinician) -> Identity:
    """A session of this clinician that has passed the password but not yet the second factor."""
    with new_client(server) as client:
        response = login(client, clinician.email, clinician.password)
        assert response.status_code == 303 and response.headers["location"] == "/anmelden/code"
        return identity_of(client)


def patient_identity(server: LiveServer, patient: Patient) -> Identity:
    """A new session of this patient, by the sign-in form (the registration's session stays alive)."""
    with new_client(server) as client:
        response = login(client, patient.email, PASSWORD)
        assert response.status_code == 303 and response.headers["location"] == "/mein-bereich"
        return identity_of(client)


def fresh_identity(world: World, role: Role) -> Identity:
    """A session of this role nobody else uses, for requests that end it (logout). Clinicians get a new
    account of their practice: a TOTP code is accepted once per time step and account."""
    if role is Role.anonymous:
        with new_client(world.server) as client:
            return identity_of(client)
    if role is Role.pending:
        return pending_identity(world.server, world.pending_clinician)
    owner = OWNER[role]
    assert owner is not None
    if owner in world.patients:
        return patient_identity(world.server, world.patients[owner])
    clinician = seed_clinician(world.store, world.practices[owner].id)
    return signed_in_clinician(world.server, clinician)


# ---- the database ----------------------------------------------------------------------------------
@contextmanager
def sql(db_path: Path) -> Iterator[sqlite3.Connection]:
    """A plain connection to the server's SQLite file (WAL: reading beside the server is safe)."""
    connection = sqlite3.connect(db_path, timeout=15)
    try:
        yield connection
        connection.commit()
    finally:
        connection.close()


def fingerprint(db_path: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table; a session's last-seen time aside (reading a page moves it on purpose)."""
    found: dict[str, list[tuple[object, ...]]] = {}
    with sql(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if table.startswith("sqlite_"):
                continue
            columns = [r[1] for r in db.execute(f'PRAGMA table_info("{table}")')]
            kept = [c for c in columns if not (table == "web_sessions" and c == "last_seen_at")]
            names = ", ".join(f'"{c}"' for c in kept)
            rows = db.execute(f'SELECT {names} FROM "{table}"').fetchall()
            found[table] = sorted(rows, key=repr)
    return found


def owner_state(world: World, owner: str) -> tuple[object, ...]:
    """What a request may or may not change of one owner: a person's rows, a practice's intakes, or
    ("accounts") how many accounts exist."""
    with sql(world.db) as db:
        if owner == "accounts":
            return tuple(db.execute("SELECT count(*) FROM accounts").fetchone())
        if owner in world.patients:
            person = world.patients[owner].person_id
            queries = [
                "SELECT display_name FROM persons WHERE id = ?",
                "SELECT id FROM assessments WHERE person_id = ? ORDER BY id",
                "SELECT id FROM diary_entries WHERE person_id = ? ORDER BY id",
                "SELECT exercise_id FROM exclusions WHERE person_id = ? ORDER BY exercise_id",
                "SELECT id FROM plans WHERE person_id = ? ORDER BY id",
                "SELECT id FROM exercise_feedback WHERE person_id = ? ORDER BY id",
                "SELECT times, weekdays, email FROM reminder_settings WHERE person_id = ?",
                "SELECT id, revoked_at FROM calendar_feeds WHERE person_id = ? ORDER BY id",
                "SELECT id FROM measure_responses WHERE person_id = ? ORDER BY id",
                "SELECT practice_id, granted_at, revoked_at FROM course_shares WHERE person_id = ?",
                "SELECT id, undone_at FROM plan_adjustments WHERE person_id = ? ORDER BY id",
            ]
            return tuple(tuple(db.execute(q, (person,)).fetchall()) for q in queries)
        practice = world.practices[owner].id
        columns = "id, reviewed_at, reviewed_by, spam_at"
        query = f"SELECT {columns} FROM practice_intakes WHERE practice_id = ? ORDER BY id"
        return tuple(db.execute(query, (practice,)).fetchall())


OWNERS = (*PATIENTS, *PRACTICES, "accounts")


def snapshot(world: World) -> dict[str, tuple[object, ...]]:
    return {owner: owner_state(world, owner) for owner in OWNERS}


def reviewed_at(world: World, intake_id: str) -> object:
    with sql(world.db) as db:
        row = db.execute("SELECT reviewed_at FROM practice_intakes WHERE id = ?", (intake_id,)).fetchone()
    assert row is not None
    return row[0]
