"""What the account and practice repositories hand out, and the errors they raise.

No record carries a secret: no password hash, no TOTP secret, no token or token hash.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..core.models import Assessment, Case, RedFlag
from .errors import NotFound, StoreError
from .records import PersonRecord
from .schema import Account, ApiToken, Practice, PracticeIntake


class PasswordScheme(Protocol):
    """How passwords are checked and hashed; ``rueckenlotse.services.auth.Argon2Passwords`` is the one to
    use. The store only needs this shape, so it does not depend on the services layer."""

    def check_new(self, email: str, password: str) -> None:
        """Raise an error (a StoreError with German and English text) for a password that is not allowed."""

    def hash(self, password: str) -> str: ...

    def verify(self, stored_hash: str, password: str) -> bool: ...

    def needs_rehash(self, stored_hash: str) -> bool: ...

    @property
    def dummy_hash(self) -> str:
        """A hash of nothing anyone knows, verified for unknown addresses so they take as long."""


class Throttled(StoreError):
    """Too many failed attempts; ``retry_after`` is in whole seconds (for a Retry-After header)."""

    def __init__(self, retry_after_seconds: float) -> None:
        self.retry_after = max(1, math.ceil(retry_after_seconds))
        minutes = max(1, math.ceil(self.retry_after / 60))
        super().__init__("throttled", minutes=minutes)


class Forbidden(StoreError, PermissionError):
    """The acting account may not do this (for example, a clinician outside the practice)."""

    def __init__(self) -> None:
        super().__init__("forbidden")


def intake_not_found(intake_id: str) -> NotFound:
    return NotFound("intake", intake_id)


@dataclass(frozen=True)
class AccountRecord:
    id: str
    email: str
    role: str
    person_id: str | None
    created_at: datetime
    disabled: bool
    totp_confirmed: bool
    # A link mailed to the address was opened (verification or reset).
    email_verified: bool = False

    @classmethod
    def from_row(cls, row: Account) -> AccountRecord:
        return cls(
            id=row.id,
            email=row.email,
            role=row.role,
            person_id=row.person_id,
            created_at=row.created_at,
            disabled=row.disabled,
            totp_confirmed=row.totp_confirmed,
            email_verified=row.email_verified_at is not None,
        )


@dataclass(frozen=True)
class SessionRecord:
    """A live session, as resolved from its token (who it is, and how far they have signed in)."""

    account_id: str
    role: str
    person_id: str | None
    practice_ids: tuple[str, ...]
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    totp_passed: bool
    totp_confirmed: bool

    @property
    def second_factor_pending(self) -> bool:
        """Clinicians always need the second factor; patients only once they have set it up."""
        needed = self.role == "clinician" or self.totp_confirmed
        return needed and not self.totp_passed


@dataclass(frozen=True)
class TotpSetup:
    secret: str
    provisioning_uri: str


@dataclass(frozen=True)
class PracticeRecord:
    id: str
    name: str
    intake_code: str
    created_at: datetime

    @classmethod
    def from_row(cls, row: Practice) -> PracticeRecord:
        return cls(id=row.id, name=row.name, intake_code=row.intake_code, created_at=row.created_at)


@dataclass(frozen=True)
class IntakeRecord:
    id: str
    practice_id: str
    person_id: str
    assessment_id: str
    submitted_at: datetime
    triage: str
    reviewed_at: datetime | None
    reviewed_by: str | None
    reference: str | None = None  # revision 0009; None for intakes sent before it
    spam_at: datetime | None = None

    @classmethod
    def from_row(cls, row: PracticeIntake) -> IntakeRecord:
        return cls(
            id=row.id,
            practice_id=row.practice_id,
            person_id=row.person_id,
            assessment_id=row.assessment_id,
            submitted_at=row.submitted_at,
            triage=row.triage,
            reviewed_at=row.reviewed_at,
            reviewed_by=row.reviewed_by,
            reference=row.reference,
            spam_at=row.spam_at,
        )


@dataclass(frozen=True)
class InboxRow:
    """One line of a practice's inbox: enough to sort and to see the warning signs, no names beyond the
    person's pseudonymous id and the display name they chose."""

    intake: IntakeRecord
    display_name: str | None
    red_flags: tuple[RedFlag, ...]

    @property
    def red_flag_conditions(self) -> tuple[str, ...]:
        """The suspected serious conditions, each once, in the order the assessment names them."""
        return tuple(dict.fromkeys(flag.condition for flag in self.red_flags))

    @property
    def warning_signs(self) -> tuple[str, ...]:
        """The Case fields that raised a red flag (e.g. ``saddle_numbness``), each once."""
        return tuple(dict.fromkeys(sign for flag in self.red_flags for sign in flag.evidence))


@dataclass(frozen=True)
class IntakeDetail:
    intake: IntakeRecord
    person: PersonRecord
    case: Case
    assessment: Assessment
    knowledge_version: str
    contact: IntakeContact | None = None


@dataclass(frozen=True)
class IntakeContact:
    """What the person chose to leave for the practice to reach them (each part optional). The name is
    kept as the person's display name; the rest is sealed with the intake (``Practices``)."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    birth_date: str | None = None  # ISO date, e.g. 1961-04-30

    @property
    def empty(self) -> bool:
        return not (self.name or self.phone or self.email or self.birth_date)


@dataclass(frozen=True)
class ApiTokenRecord:
    id: str
    practice_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None
    expires_at: datetime | None = None

    @classmethod
    def from_row(cls, row: ApiToken) -> ApiTokenRecord:
        return cls(
            id=row.id,
            practice_id=row.practice_id,
            name=row.name,
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            expires_at=row.expires_at,
        )

    def live(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or now < self.expires_at)
