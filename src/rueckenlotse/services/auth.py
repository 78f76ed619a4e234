"""Passwords and the one authorisation policy shared by the web pages and the REST API.

* ``Argon2Passwords``: the password policy and Argon2id hashing that ``Accounts`` uses.
* ``Principal``: who is acting, resolved from the database for each request (a session token or a
  practice's API token), so no app process keeps any state about anyone.
* ``can_*``: pure functions deciding what a principal may do. Every route asks one of them before it
  touches data; the repositories then filter by the same ids (a practice's queries by practice id).
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..store.account_records import Forbidden, PracticeRecord, SessionRecord
from ..store.accounts import Accounts
from ..store.practices import Practices
from ..store.repository import InvalidValue
from .common_passwords import is_common

MIN_PASSWORD_LENGTH = 10
# Long enough for any passphrase or manager-made password; bounds the work one request can cause.
MAX_PASSWORD_LENGTH = 1024


class WeakPassword(InvalidValue):
    """A password the policy refuses; its message says what to change, in the reader's language."""


def _normal(password: str) -> str:
    # NFKC: the same password typed on another keyboard or system (composed vs decomposed umlauts,
    # full-width digits) must hash the same.
    return unicodedata.normalize("NFKC", password)


def check_password(email: str, password: str) -> None:
    """Raise WeakPassword unless the password is long enough, is not the e-mail address, and is not one
    that guessers try first (``common_passwords``)."""
    normal = _normal(password)
    if len(normal) < MIN_PASSWORD_LENGTH:
        raise WeakPassword("password_too_short", min_length=MIN_PASSWORD_LENGTH)
    if len(normal) > MAX_PASSWORD_LENGTH:
        raise WeakPassword("password_too_long", max_length=MAX_PASSWORD_LENGTH)
    address = email.strip().casefold()
    if normal.strip().casefold() in {address, address.split("@", 1)[0]}:
        raise WeakPassword("password_is_email")
    if len(set(normal)) == 1:
        raise WeakPassword("password_one_character")
    if is_common(normal):
        raise WeakPassword("password_common")


class Argon2Passwords:
    """The password policy and Argon2id hashing (argon2-cffi's defaults, RFC 9106's low-memory profile).

    A stored hash made with other parameters is re-hashed at the next successful sign-in
    (``needs_rehash``), so raising the cost later upgrades every account that signs in.
    Pass a cheaper ``PasswordHasher`` only in tests.
    """

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        # Made now, not at the first unknown address: that sign-in would otherwise take twice as long.
        self._dummy_hash = self.hash(secrets.token_urlsafe(24))

    def check_new(self, email: str, password: str) -> None:
        check_password(email, password)

    def hash(self, password: str) -> str:
        return self._hasher.hash(_normal(password))

    def verify(self, stored_hash: str, password: str) -> bool:
        if len(password) > 4 * MAX_PASSWORD_LENGTH:
            return False
        try:
            return self._hasher.verify(stored_hash, _normal(password))
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    @property
    def dummy_hash(self) -> str:
        """A hash of a password nobody knows, verified for unknown addresses."""
        return self._dummy_hash


# --- principals ---------------------------------------------------------------------------------------


class Role(StrEnum):
    anonymous = "anonymous"
    patient = "patient"
    clinician = "clinician"
    api_token = "api_token"


@dataclass(frozen=True)
class Principal:
    """Who is acting in one request. Build it with ``principal_for_session`` or
    ``principal_for_api_token``; ``Principal()`` is the anonymous visitor."""

    role: Role = Role.anonymous
    account_id: str | None = None
    person_id: str | None = None
    practice_ids: frozenset[str] = field(default_factory=frozenset)
    # Signed in with the password, but the second factor is still missing: may only complete it.
    second_factor_pending: bool = False

    @classmethod
    def from_session(cls, record: SessionRecord) -> Principal:
        role = Role.clinician if record.role == "clinician" else Role.patient
        return cls(
            role=role,
            account_id=record.account_id,
            person_id=record.person_id if role is Role.patient else None,
            practice_ids=frozenset(record.practice_ids) if role is Role.clinician else frozenset(),
            second_factor_pending=record.second_factor_pending,
        )

    @classmethod
    def from_api_token(cls, practice: PracticeRecord) -> Principal:
        return cls(role=Role.api_token, practice_ids=frozenset({practice.id}))

    @property
    def signed_in(self) -> bool:
        """A patient or clinician who has completed every factor their account needs."""
        return self.role in (Role.patient, Role.clinician) and not self.second_factor_pending


def principal_for_session(accounts: Accounts, token: str | None, *, now: datetime | None = None) -> Principal:
    """The principal of a session cookie; anonymous for none, or a dead, revoked or unknown token."""
    record = accounts.session(token, now=now) if token else None
    return Principal.from_session(record) if record is not None else Principal()


def principal_for_api_token(practices: Practices, token: str | None) -> Principal:
    """The principal of an ``Authorization: Bearer`` token; anonymous for none, a revoked or unknown one."""
    practice = practices.practice_for_token(token) if token else None
    return Principal.from_api_token(practice) if practice is not None else Principal()


# --- the policy ---------------------------------------------------------------------------------------


def can_read_person(principal: Principal, person_id: str) -> bool:
    """A person's own data (assessments, plan, diary, export) is theirs alone: only the patient account
    that owns the person. Practices see only what was submitted to them, through their intakes."""
    return (
        principal.role is Role.patient
        and not principal.second_factor_pending
        and principal.person_id is not None
        and principal.person_id == person_id
    )


def can_write_person(principal: Principal, person_id: str) -> bool:
    """Writing (diary entries, exclusions, submitting to a practice, erasing) follows reading."""
    return can_read_person(principal, person_id)


def can_read_intake(principal: Principal, practice_id: str) -> bool:
    """The inbox and intake details of a practice: its clinicians (after the second factor) and its
    API tokens."""
    if principal.role not in (Role.clinician, Role.api_token) or principal.second_factor_pending:
        return False
    return practice_id in principal.practice_ids


def can_review_intake(principal: Principal, practice_id: str) -> bool:
    """Marking reviewed is a clinician's act; API tokens only read."""
    return principal.role is Role.clinician and can_read_intake(principal, practice_id)


def can_manage_practice(principal: Principal, practice_id: str) -> bool:
    """API tokens and the intake code of a practice: its clinicians, never a token."""
    return can_review_intake(principal, practice_id)


def can_read_course(principal: Principal, practice_id: str) -> bool:
    """A course a person shares with a practice: its clinicians (after the second factor), never an API
    token. Whether the person shares it (now) is the data's part: ``services.sharing`` checks the active
    share in the same query that reads."""
    return principal.role is Role.clinician and can_read_intake(principal, practice_id)


def can_adjust_plan(principal: Principal, practice_id: str) -> bool:
    """Changing a shared person's plan (and undoing a change): the practice's clinicians, as reading."""
    return can_read_course(principal, practice_id)


def require(allowed: bool) -> None:
    """Raise Forbidden unless allowed (``require(can_read_intake(p, practice_id))``)."""
    if not allowed:
        raise Forbidden()
