"""Accounts: registration, sign-in with throttling, database-held sessions, and TOTP second factor.

Build one per app (``Accounts(store, Argon2Passwords(), sealer=sealer_for(settings))``); it holds no state
of its own beyond its settings, so any number of app processes can share one database. The sealer keeps the
TOTP secrets sealed at rest (``store.sealing``); an Accounts without one (e.g. the command that adds a
clinician) works, but refuses to touch a TOTP secret. Every ``now`` defaults to the current
time and must be time-zone aware.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from . import drafts, throttling, totp, web_sessions
from .account_records import AccountRecord, PasswordScheme, SessionRecord, TotpSetup
from .errors import NotFound, person_not_found
from .records import PersonRecord
from .repository import InvalidValue, Store, clean_display_name
from .schema import EMAIL_LENGTH, Account, Person, Practice, PracticeMember, utc_now
from .sealing import Sealer, SealingError
from .throttling import ThrottlePolicy

# Deliberately loose: one @, something on both sides, a dot in the domain. Whether an address really
# exists only a mail to it can tell.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_ABSOLUTE = timedelta(hours=12)


class EmailTaken(InvalidValue):
    def __init__(self) -> None:
        super().__init__("email_taken")


def normalise_email(email: str) -> str:
    return email.strip().lower()


def checked_email(email: str) -> str:
    """The address as stored (trimmed, lower-case), or InvalidValue."""
    normal = normalise_email(email)
    if len(normal) > EMAIL_LENGTH or not EMAIL.match(normal):
        raise InvalidValue("email_invalid")
    return normal


def account_not_found(account_id: str) -> NotFound:
    return NotFound("account", account_id)


def practice_not_found(practice_id: str) -> NotFound:
    return NotFound("practice", practice_id)


def aware(now: datetime | None) -> datetime:
    if now is None:
        return utc_now()
    if now.tzinfo is None or now.utcoffset() is None:
        raise InvalidValue("moment_without_zone")
    return now


class Accounts:
    """Accounts, sessions and the second factor, on one Store."""

    def __init__(
        self,
        store: Store,
        passwords: PasswordScheme,
        *,
        idle_timeout: timedelta = DEFAULT_IDLE,
        absolute_timeout: timedelta = DEFAULT_ABSOLUTE,
        throttle: ThrottlePolicy | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        self._store = store
        self._passwords = passwords
        self._sealer = sealer
        self.idle_timeout = idle_timeout
        self.absolute_timeout = absolute_timeout
        self.throttle = throttle or ThrottlePolicy()

    # --- accounts -------------------------------------------------------------------------------------

    def register_patient(
        self, email: str, password: str, display_name: str | None = None
    ) -> tuple[AccountRecord, PersonRecord]:
        """A patient account together with the one person it owns (both or neither)."""
        address = checked_email(email)
        name = clean_display_name(display_name)
        self._passwords.check_new(address, password)
        password_hash = self._passwords.hash(password)
        with _new_account(self._store) as session:
            person = Person(display_name=name)
            session.add(person)
            session.flush()
            account = Account(email=address, password_hash=password_hash, role="patient", person_id=person.id)
            session.add(account)
            session.flush()
            return AccountRecord.from_row(account), PersonRecord.from_row(person)

    def create_clinician(self, email: str, password: str, practice_id: str) -> AccountRecord:
        """A clinician account, member of the practice. It must set up TOTP before it sees any intake."""
        address = checked_email(email)
        self._passwords.check_new(address, password)
        password_hash = self._passwords.hash(password)
        with _new_account(self._store) as session:
            if session.get(Practice, practice_id) is None:
                raise practice_not_found(practice_id)
            account = Account(email=address, password_hash=password_hash, role="clinician")
            session.add(account)
            session.flush()
            session.add(PracticeMember(practice_id=practice_id, account_id=account.id))
            session.flush()
            return AccountRecord.from_row(account)

    def account(self, account_id: str) -> AccountRecord:
        with self._store.transaction(write=False) as session:
            return AccountRecord.from_row(_account(session, account_id))

    def person_of(self, account_id: str) -> str | None:
        """The id of the person a patient account owns (None for a clinician)."""
        return self.account(account_id).person_id

    def owned_person(self, account_id: str, person_id: str) -> PersonRecord:
        """The person, if this account owns it; otherwise NotFound, exactly as for an unknown id, so that
        another patient's id reveals nothing."""
        with self._store.transaction(write=False) as session:
            owner = session.scalar(select(Account.id).where(Account.person_id == person_id))
            person = session.get(Person, person_id)
            if owner != account_id or person is None:
                raise person_not_found(person_id)
            return PersonRecord.from_row(person)

    def disable_account(self, account_id: str, *, now: datetime | None = None) -> None:
        """Lock the account out: it cannot sign in, and its sessions end at once."""
        moment = aware(now)
        with self._store.transaction() as session:
            _account(session, account_id).disabled = True
            web_sessions.revoke_all(session, account_id, moment)

    # --- signing in -----------------------------------------------------------------------------------

    def authenticate(
        self, email: str, password: str, *, client: str, now: datetime | None = None
    ) -> AccountRecord | None:
        """The account if the password is right; None otherwise (unknown, wrong or disabled alike).

        Raises Throttled after too many failures for the address or the client, before the password is
        even looked at. A success clears the address's count (not the client's).
        """
        moment = aware(now)
        address = normalise_email(email)
        email_key = throttling.attempt_key("email", address)
        client_key = throttling.attempt_key("client", throttling.client_bucket(client))
        policy = self.throttle
        with self._store.transaction() as session:
            limits = [(email_key, policy.per_email), (client_key, policy.per_client)]
            throttling.check(session, limits, moment, policy.window)
            row = session.scalar(select(Account).where(Account.email == address))
            stored = None if row is None else (row.id, row.password_hash, row.disabled)
        # Hashing takes a while on purpose: done outside any transaction, so no lock is held meanwhile.
        if stored is None:
            self._passwords.verify(self._passwords.dummy_hash, password)
            valid = False
        else:
            valid = self._passwords.verify(stored[1], password) and not stored[2]
        new_hash = self._passwords.hash(password) if valid and self._needs_rehash(stored) else None
        with self._store.transaction() as session:
            if not valid or stored is None:
                throttling.record(session, [email_key, client_key], moment, success=False)
                return None
            throttling.record(session, [email_key], moment, success=True)
            account = _account(session, stored[0])
            if new_hash is not None:
                account.password_hash = new_hash
            return AccountRecord.from_row(account)

    def _needs_rehash(self, stored: tuple[str, str, bool] | None) -> bool:
        return stored is not None and self._passwords.needs_rehash(stored[1])

    # --- sessions -------------------------------------------------------------------------------------

    def start_session(
        self, account_id: str, *, totp_passed: bool = False, now: datetime | None = None
    ) -> str:
        """A new session; returns the raw token for the cookie. Only its hash is stored."""
        moment = aware(now)
        with self._store.transaction() as session:
            if _account(session, account_id).disabled:
                raise account_not_found(account_id)
            return web_sessions.create(
                session,
                account_id,
                now=moment,
                expires_at=moment + self.absolute_timeout,
                totp_passed=totp_passed,
            )

    def session(self, token: str, *, now: datetime | None = None) -> SessionRecord | None:
        """Who this token belongs to, or None: unknown, logged out, idle too long, past its absolute
        expiry, or the account disabled."""
        moment = aware(now)
        with self._store.transaction() as session:
            row = web_sessions.live(session, token, now=moment, idle=self.idle_timeout)
            if row is None:
                return None
            account = _account(session, row.account_id)
            if account.disabled:
                return None
            web_sessions.touch(row, moment)
            return web_sessions.record_of(session, row, account)

    def end_session(self, token: str, *, now: datetime | None = None) -> bool:
        """Server-side logout: the token is refused from now on, by every app process."""
        moment = aware(now)
        with self._store.transaction() as session:
            return web_sessions.revoke(session, token, moment)

    def end_all_sessions(self, account_id: str, *, now: datetime | None = None) -> int:
        moment = aware(now)
        with self._store.transaction() as session:
            return web_sessions.revoke_all(session, account_id, moment)

    def mark_session_totp_passed(self, token: str, *, now: datetime | None = None) -> str | None:
        """After a successful ``totp_verify``: end this session and return a new token for one that has
        passed the second factor (a token seen before the second factor never gains its rights).
        The absolute expiry still counts from the sign-in. None when the session is no longer live."""
        moment = aware(now)
        with self._store.transaction() as session:
            row = web_sessions.live(session, token, now=moment, idle=self.idle_timeout)
            if row is None:
                return None
            row.revoked_at = moment
            return web_sessions.create(
                session, row.account_id, now=moment, expires_at=row.expires_at, totp_passed=True
            )

    def pass_second_factor(self, token: str, code: str, *, now: datetime | None = None) -> str | None:
        """``totp_verify`` for the session's account and, if the code is right, the new token from
        ``mark_session_totp_passed``; None for a wrong code or a dead session. Raises Throttled."""
        record = self.session(token, now=now)
        if record is None or not self.totp_verify(record.account_id, code, now=now):
            return None
        return self.mark_session_totp_passed(token, now=now)

    # --- TOTP -----------------------------------------------------------------------------------------

    def totp_setup(self, account_id: str) -> TotpSetup:
        """A new secret (shown once, as a QR code of the URI) that becomes active with ``totp_confirm``.

        Refused once TOTP is active: otherwise a stolen password alone could replace the second factor.
        """
        with self._store.transaction() as session:
            account = _account(session, account_id)
            if account.totp_confirmed:
                raise InvalidValue("totp_already_set_up")
            secret = totp.new_secret()
            totp.seal_secret(self.sealer, account, secret)
            account.totp_last_step = None
            return TotpSetup(secret, totp.provisioning_uri(secret, account.email))

    def totp_confirm(self, account_id: str, code: str, *, now: datetime | None = None) -> bool:
        """Activate the secret from ``totp_setup`` with a first valid code. Raises Throttled."""
        return self._check_code(account_id, code, aware(now), confirming=True)

    def totp_verify(self, account_id: str, code: str, *, now: datetime | None = None) -> bool:
        """True for a valid, not yet used code of the active secret. Raises Throttled."""
        return self._check_code(account_id, code, aware(now), confirming=False)

    def _check_code(self, account_id: str, code: str, now: datetime, *, confirming: bool) -> bool:
        key = throttling.attempt_key("totp", account_id)
        policy = self.throttle
        with self._store.transaction() as session:
            throttling.check(session, [(key, policy.per_totp)], now, policy.window)
            account = _account(session, account_id)
            # Confirming needs a pending secret, verifying an active one.
            usable = account.totp_confirmed != confirming and not account.disabled
            secret = totp.secret_of(self.sealer, account) if usable else None
            step = None
            if secret is not None:
                step = totp.matching_step(secret, code, now, after=account.totp_last_step)
            if step is None or not totp.claim_step(session, account_id, step):
                throttling.record(session, [key], now, success=False)
                return False
            throttling.record(session, [key], now, success=True)
            if confirming:
                account.totp_confirmed = True
            return True

    @property
    def sealer(self) -> Sealer:
        if self._sealer is None:
            raise SealingError("data_key_not_given")
        return self._sealer

    # --- housekeeping ---------------------------------------------------------------------------------

    def purge(self, *, now: datetime | None = None) -> dict[str, int]:
        """Delete what no longer counts: sessions past their expiry or idle timeout or logged out, login
        attempts older than the throttling window, and expired form drafts. Run it now and then (e.g.
        daily); drafts are also purged whenever one is written."""
        moment = aware(now)
        with self._store.transaction() as session:
            return {
                "web_sessions": web_sessions.purge(session, moment, self.idle_timeout),
                "login_attempts": throttling.purge(session, moment, self.throttle.window),
                "form_drafts": drafts.purge(session, moment),
            }


@contextmanager
def _new_account(store: Store) -> Iterator[Session]:
    """A transaction in which a duplicate address (also one inserted concurrently) becomes EmailTaken."""
    try:
        with store.transaction() as session:
            yield session
    except IntegrityError as e:
        # SQLite names the column, PostgreSQL the constraint (uq_accounts_email): both say "email".
        if "email" in str(e.orig).lower():
            raise EmailTaken() from None
        raise


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise account_not_found(account_id)
    return account
