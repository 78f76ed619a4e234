"""Accounts: registration, sign-in with throttling, database-held sessions, and TOTP second factor.

Build one per app (``Accounts(store, Argon2Passwords(), sealer=sealer_for(settings))``); it holds no state
of its own beyond its settings, so any number of app processes can share one database. The sealer keeps the
TOTP secrets sealed at rest (``store.sealing``); an Accounts without one (e.g. the command that adds a
clinician) works, but refuses to touch a TOTP secret. Every ``now`` defaults to the current
time and must be time-zone aware.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from ..storage import StorageUnavailable
from . import account_tokens, audit, drafts, throttling, totp, web_sessions
from .account_records import AccountRecord, PasswordScheme, SessionRecord, Throttled, TotpSetup
from .errors import NotFound, person_not_found
from .records import PersonRecord
from .repository import InvalidValue, Store, clean_display_name
from .schema import EMAIL_LENGTH, Account, Person, Practice, PracticeIntake, PracticeMember, utc_now
from .sealing import Sealer, SealingError
from .throttling import ThrottlePolicy

logger = logging.getLogger(__name__)

# Deliberately loose: one @, something on both sides, a dot in the domain. Whether an address really
# exists only a mail to it can tell.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
DEFAULT_IDLE = timedelta(minutes=30)
DEFAULT_ABSOLUTE = timedelta(hours=12)
# Mails with a link to one address within the throttling window: enough for a lost first mail, too few to
# flood someone's mailbox through the form.
MAILS_PER_ADDRESS = 3


class EmailTaken(InvalidValue):
    def __init__(self) -> None:
        super().__init__("email_taken")


class ReceiptUnusable(InvalidValue):
    """A receipt that cannot become a new account's record: unknown, or its person has an account already
    (the same answer for both: the form must not tell which receipts exist)."""

    def __init__(self) -> None:
        super().__init__("receipt_unusable")


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
        self,
        email: str,
        password: str,
        display_name: str | None = None,
        *,
        receipt_hash: str | None = None,
        now: datetime | None = None,
    ) -> tuple[AccountRecord, PersonRecord]:
        """A patient account together with the one person it owns (both or neither).

        With ``receipt_hash`` (the digest of a practice intake's receipt token, the proof of having sent it)
        the account owns that intake's person instead of a new one, provided no account owns it yet
        (ReceiptUnusable otherwise): someone who sent an intake without an account keeps it as the first
        record of their area, and can then share their course with that practice (issue #18). Two
        registrations racing for one receipt cannot both win: ``accounts.person_id`` is unique.
        """
        address = checked_email(email)
        name = clean_display_name(display_name)
        self._passwords.check_new(address, password)
        password_hash = self._passwords.hash(password)
        moment = aware(now)
        with _new_account(self._store) as session:
            if receipt_hash is None:
                person = Person(display_name=name)
                session.add(person)
                session.flush()
            else:
                person, practice_id = _unowned_person_of_receipt(session, receipt_hash)
                if name:
                    person.display_name = name
            account = Account(email=address, password_hash=password_hash, role="patient", person_id=person.id)
            session.add(account)
            session.flush()
            if receipt_hash is not None:
                actor = audit.Actor("patient", account.id, "web")
                audit.record(
                    session, actor, "claim.receipt", person_id=person.id, practice_id=practice_id, now=moment
                )
            return AccountRecord.from_row(account), PersonRecord.from_row(person)

    def claimable_receipt(self, receipt_hash: str) -> str | None:
        """The name of the practice the receipt's intake went to, if the intake can still become a new
        account's record (see ``register_patient``); None otherwise."""
        with self._store.transaction(write=False) as session:
            try:
                _, practice_id = _unowned_person_of_receipt(session, receipt_hash)
            except ReceiptUnusable:
                return None
            practice = session.get(Practice, practice_id)
            return practice.name if practice is not None else None

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

    def account_by_email(self, email: str) -> AccountRecord:
        """The account of this address (for the administration commands); NotFound otherwise."""
        address = normalise_email(email)
        with self._store.transaction(write=False) as session:
            row = session.scalar(select(Account).where(Account.email == address))
            if row is None:
                raise account_not_found(address)
            return AccountRecord.from_row(row)

    def reset_second_factor(self, account_id: str, *, now: datetime | None = None) -> None:
        """Forget the account's TOTP secret (a lost phone) and end its sessions: at the next sign-in it
        sets up a new one (a clinician must, before seeing any intake)."""
        moment = aware(now)
        with self._store.transaction() as session:
            account = _account(session, account_id)
            account.totp_secret = None
            account.totp_confirmed = False
            account.totp_last_step = None
            web_sessions.revoke_all(session, account_id, moment)

    # --- signing in -----------------------------------------------------------------------------------

    def authenticate(
        self, email: str, password: str, *, client: str, now: datetime | None = None
    ) -> AccountRecord | None:
        """The account if the password is right; None otherwise (unknown, wrong or disabled alike).

        Raises Throttled, before the password is even looked at, when the attempt is over a limit. The
        rule, so that an attacker cannot lock the rightful owner out:

        * per client and account (``per_email`` failures, then a growing back-off): the guesser's
          address is slowed down for this account, nobody else's;
        * per client (``per_client`` failures across all accounts, for the window);
        * per account (``per_email`` failures from anywhere, for the window) only when the account has no
          active second factor (and for unknown addresses, which are throttled like such accounts). An
          account with TOTP is never locked as a whole: a right password still needs the code, which has
          its own limit per account, so the owner with password and code gets in from their own address
          however often someone else guessed wrong from theirs.

        Every attempt is counted as failed in the same locked step as the check (``throttling.reserve``),
        so parallel guesses cannot slip past a limit; a success then clears the account's counts (not
        the client's).
        """
        moment = aware(now)
        address = normalise_email(email)
        bucket = throttling.client_bucket(client)
        email_key = throttling.attempt_key("email", address)
        pair_key = throttling.attempt_key("email-client", f"{address}\x00{bucket}")
        client_key = throttling.attempt_key("client", bucket)
        keys = [email_key, pair_key, client_key]
        policy = self.throttle
        with self._store.transaction() as session:
            throttling.lock(session, keys)
            row = session.scalar(select(Account).where(Account.email == address))
            stored = None if row is None else (row.id, row.password_hash, row.disabled)
            second_factor = row is not None and row.totp_confirmed and not row.disabled
            window = policy.window
            waits = [
                throttling.wait_for(
                    session, pair_key, policy.per_email, moment, window, backoff=policy.backoff
                ),
                throttling.wait_for(session, client_key, policy.per_client, moment, window),
            ]
            if not second_factor:
                waits.append(throttling.wait_for(session, email_key, policy.per_email, moment, window))
            throttling.raise_if_waiting(waits)
            reserved = throttling.reserve(session, keys, moment)
        # Hashing takes a while on purpose: done outside any transaction, so no lock is held meanwhile.
        if stored is None:
            self._passwords.verify(self._passwords.dummy_hash, password)
            valid = False
        else:
            valid = self._passwords.verify(stored[1], password) and not stored[2]
        new_hash = self._passwords.hash(password) if valid and self._needs_rehash(stored) else None
        if not valid or stored is None:
            return None  # the reserved failures stand
        with self._store.transaction() as session:
            throttling.settle(session, reserved, cleared=[email_key, pair_key], forgotten=[client_key])
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
        # Read only: every request of a signed-in person asks this, and on SQLite a write transaction
        # would queue them all behind one write lock. The idle clock is written at most once a minute,
        # in a short transaction of its own.
        with self._store.transaction(write=False) as session:
            row = web_sessions.live(session, token, now=moment, idle=self.idle_timeout)
            if row is None:
                return None
            account = _account(session, row.account_id)
            if account.disabled:
                return None
            record = web_sessions.record_of(session, row, account)
            stale = web_sessions.needs_touch(row, moment)
        if stale:
            self._touch(token, moment)
        return record

    def _touch(self, token: str, moment: datetime) -> None:
        """Move the idle clock, if the database takes the write now. Best effort on purpose: this runs for
        every request before its page (``PrincipalPreload``, outside the page's 503 handling), and a locked
        SQLite file or a full disk must not turn a page that only reads into an error; the clock is moved
        by the next request instead (at worst the idle timeout counts from a minute earlier)."""
        try:
            with self._store.transaction() as session:
                web_sessions.touch(session, token, moment)
        except (OperationalError, StorageUnavailable):
            logger.warning("session idle clock not moved: the database takes no writes right now")

    def session_end_reason(self, token: str, *, now: datetime | None = None) -> str | None:
        """Why the session of this token ended (``web_sessions.end_reason``); None if it did not, or is
        unknown (or purged already)."""
        moment = aware(now)
        with self._store.transaction(write=False) as session:
            return web_sessions.end_reason(session, token, now=moment, idle=self.idle_timeout)

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

    # --- links by e-mail, password changes -------------------------------------------------------------

    def issue_link(
        self, email: str, purpose: str, *, client: str, now: datetime | None = None
    ) -> tuple[AccountRecord, str] | None:
        """A new single-use link token (``account_tokens``) for the account with this address; None for an
        unknown or disabled address, or when this address was sent links too often lately (the caller
        answers the same in every case, so nobody learns which addresses have accounts).

        Raises Throttled when this client asked for too many links, whatever the addresses.
        """
        moment = aware(now)
        address = normalise_email(email)
        policy = self.throttle
        address_key = throttling.attempt_key(f"mail-{purpose}", address)
        client_key = throttling.attempt_key("mail-client", throttling.client_bucket(client))
        with self._store.transaction() as session:
            # One locked step from count to record: parallel requests cannot all pass the same count.
            throttling.lock(session, [client_key, address_key])
            throttling.check_every_attempt(session, client_key, policy.per_client, moment, policy.window)
            throttling.record(session, [client_key], moment, success=True)
            try:
                throttling.check_every_attempt(session, address_key, MAILS_PER_ADDRESS, moment, policy.window)
            except Throttled:
                return None  # quietly: a mailbox is not flooded, and the answer looks the same
            throttling.record(session, [address_key], moment, success=True)
            row = session.scalar(select(Account).where(Account.email == address))
            if row is None or row.disabled:
                return None
            return AccountRecord.from_row(row), account_tokens.issue(session, row.id, purpose, moment)

    def link_for(self, account_id: str, purpose: str, *, now: datetime | None = None) -> str:
        """A new single-use link token for this account (e.g. the verification mail after registering)."""
        moment = aware(now)
        with self._store.transaction() as session:
            _account(session, account_id)
            return account_tokens.issue(session, account_id, purpose, moment)

    def link_account(self, token: str, purpose: str, *, now: datetime | None = None) -> AccountRecord | None:
        """Whose link this is while it can still be used (the reset form shows only for a live link)."""
        moment = aware(now)
        with self._store.transaction(write=False) as session:
            account_id = account_tokens.owner(session, token, purpose, moment)
            row = session.get(Account, account_id) if account_id is not None else None
            return AccountRecord.from_row(row) if row is not None and not row.disabled else None

    def reset_password(
        self, token: str, password: str, *, now: datetime | None = None
    ) -> AccountRecord | None:
        """Set a new password with a reset link: the link is used up, every session of the account ends
        (whoever had the old password is out), the address counts as verified (the link reached it), and
        the trail records it. None for a link that is unknown, used or expired. Raises WeakPassword (the
        policy of ``check_new``) before the link is used."""
        account = self.link_account(token, account_tokens.RESET, now=now)
        if account is None:
            return None
        self._passwords.check_new(account.email, password)
        password_hash = self._passwords.hash(password)  # slow on purpose: outside any transaction
        moment = aware(now)
        with self._store.transaction() as session:
            if account_tokens.use(session, token, account_tokens.RESET, moment) != account.id:
                return None
            row = _account(session, account.id)
            row.password_hash = password_hash
            if row.email_verified_at is None:
                row.email_verified_at = moment
            web_sessions.revoke_all(session, row.id, moment)
            account_tokens.end_all(session, row.id, account_tokens.RESET, moment)
            _audit(session, row, "password.reset", moment)
            return AccountRecord.from_row(row)

    def change_password(
        self, account_id: str, old: str, new: str, *, keep: str | None, now: datetime | None = None
    ) -> bool:
        """Change the password of a signed-in account: False when ``old`` is wrong (counted like a failed
        sign-in, so it cannot be guessed here instead). Every other session ends (``keep``: the token of the
        browser that asked), unused reset links stop working. Raises WeakPassword, Throttled."""
        moment = aware(now)
        key = throttling.attempt_key("password-change", account_id)
        policy = self.throttle
        with self._store.transaction() as session:
            # Counted as failed before the check, in one locked step (as sign-in): parallel guesses of the
            # old password cannot pass the limit; a right one turns the count into a success below.
            throttling.lock(session, [key])
            throttling.check(session, [(key, policy.per_email)], moment, policy.window)
            reserved = throttling.reserve(session, [key], moment)
            row = _account(session, account_id)
            email, stored = row.email, row.password_hash
        if not self._passwords.verify(stored, old):
            return False
        self._passwords.check_new(email, new)
        password_hash = self._passwords.hash(new)
        with self._store.transaction() as session:
            throttling.settle(session, reserved, cleared=[key], forgotten=[])
            row = _account(session, account_id)
            row.password_hash = password_hash
            web_sessions.revoke_others(session, account_id, keep, moment)
            account_tokens.end_all(session, account_id, account_tokens.RESET, moment)
            _audit(session, row, "password.change", moment)
        return True

    def verify_email(self, token: str, *, now: datetime | None = None) -> AccountRecord | None:
        """Mark the address verified with the link from the verification mail; None for a dead link."""
        moment = aware(now)
        with self._store.transaction() as session:
            account_id = account_tokens.use(session, token, account_tokens.VERIFY, moment)
            if account_id is None:
                return None
            row = _account(session, account_id)
            if row.email_verified_at is None:
                row.email_verified_at = moment
            return AccountRecord.from_row(row)

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

    def totp_pending_setup(self, account_id: str) -> TotpSetup:
        """The setup still waiting for its first code, or a new one (``totp_setup``) when there is none.

        The set-up page shows this: reloading it, or a second tab, shows the same key, so the key scanned
        into the authenticator app stays the one that is confirmed. The pending secret stays sealed in the
        account's row until then. Refused once TOTP is active, like ``totp_setup``.
        """
        with self._store.transaction() as session:
            account = _account(session, account_id)
            if account.totp_confirmed:
                raise InvalidValue("totp_already_set_up")
            try:
                secret = totp.secret_of(self.sealer, account)
            except SealingError:  # damaged or sealed under a key no longer configured: start afresh
                secret = None
            if secret is None:
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
            throttling.lock(session, [key])
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
        attempts older than the throttling window, and expired form drafts. The web app runs it every
        RUECKENLOTSE_PURGE_SECONDS; drafts are also purged whenever one is written."""
        moment = aware(now)
        with self._store.transaction() as session:
            return {
                "web_sessions": web_sessions.purge(session, moment, self.idle_timeout),
                "login_attempts": throttling.purge(session, moment, self.throttle.window),
                "account_tokens": account_tokens.purge(session, moment),
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
        message = str(e.orig).lower()
        if "email" in message:
            raise EmailTaken() from None
        # Another registration took the receipt's person a moment earlier (the unique person_id), or the
        # person was erased meanwhile (its foreign key).
        if "person" in message or "foreign key" in message:
            raise ReceiptUnusable() from None
        raise


def _unowned_person_of_receipt(session: Session, receipt_hash: str) -> tuple[Person, str]:
    """The person of the intake this receipt names and the intake's practice, if no account owns the
    person; ReceiptUnusable otherwise."""
    row = session.execute(
        select(PracticeIntake.person_id, PracticeIntake.practice_id).where(
            PracticeIntake.receipt_hash == receipt_hash
        )
    ).first()
    if row is None:
        raise ReceiptUnusable()
    owned = session.scalar(select(Account.id).where(Account.person_id == row.person_id))
    person = session.get(Person, row.person_id)
    if owned is not None or person is None:
        raise ReceiptUnusable()
    return person, row.practice_id


def _audit(session: Session, account: Account, action: str, now: datetime) -> None:
    """A change to the account's sign-in, in the trail (the patient's own access page shows it)."""
    actor = audit.Actor(account.role, account.id, "web")
    audit.record(session, actor, action, person_id=account.person_id, now=now)


def _account(session: Session, account_id: str) -> Account:
    account = session.get(Account, account_id)
    if account is None:
        raise account_not_found(account_id)
    return account
