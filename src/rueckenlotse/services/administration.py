"""Administration of practices and accounts: revoke API tokens, rotate the intake link, remove members,
disable accounts, end sessions, reset a lost second factor. Each action and its audit row are one unit of
work (both or neither), so the trail says who did it, when and through which channel (``store.audit``).

The command line acts as the system (``audit.SYSTEM_CLI``); a practice page would pass its clinician.
"""

from __future__ import annotations

from functools import cache

from ..store import Store
from ..store.account_records import AccountRecord, ApiTokenRecord, PracticeRecord
from ..store.accounts import Accounts, account_not_found
from ..store.audit import Actor
from ..store.audit import record as audit_record
from ..store.practices import Practices
from .auth import Argon2Passwords


@cache
def _passwords() -> Argon2Passwords:
    # None of these actions hashes a password; one scheme per process spares making its dummy hash each time.
    return Argon2Passwords()


def _accounts(store: Store) -> Accounts:
    return Accounts(store, _passwords())


def _audit(store: Store, actor: Actor, action: str, *, practice_id: str | None = None) -> None:
    with store.transaction() as session:
        audit_record(session, actor, action, practice_id=practice_id)


def tokens(store: Store, practice_id: str) -> list[ApiTokenRecord]:
    Practices(store).practice(practice_id)  # NotFound for an unknown practice, not an empty list
    return Practices(store).api_tokens(practice_id)


def revoke_token(store: Store, practice_id: str, token_id: str, actor: Actor) -> bool:
    """True if a live token of this practice was revoked (audited only then)."""
    with store.atomic():
        revoked = Practices(store).revoke_api_token(practice_id, token_id)
        if revoked:
            _audit(store, actor, "admin.revoke_token", practice_id=practice_id)
        return revoked


def rotate_intake_link(store: Store, practice_id: str, actor: Actor) -> PracticeRecord:
    """A new intake code: the old link stops working at once."""
    with store.atomic():
        practice = Practices(store).rotate_intake_code(practice_id)
        _audit(store, actor, "admin.rotate_intake_link", practice_id=practice_id)
        return practice


def remove_member(store: Store, practice_id: str, email: str, actor: Actor) -> bool:
    """The account no longer belongs to the practice (its inbox is closed to it from the next request)."""
    with store.atomic():
        account = _accounts(store).account_by_email(email)
        removed = Practices(store).remove_member(practice_id, account.id)
        if removed:
            _audit(store, actor, "admin.remove_member", practice_id=practice_id)
        return removed


def disable_account(store: Store, email: str, actor: Actor) -> AccountRecord:
    """The account can no longer sign in; its sessions end at once."""
    with store.atomic():
        accounts = _accounts(store)
        account = accounts.account_by_email(email)
        accounts.disable_account(account.id)
        _audit(store, actor, "admin.disable_account")
        return account


def end_sessions(store: Store, email: str, actor: Actor) -> int:
    """End every session of the account (signed in on a lost device, say); returns how many."""
    with store.atomic():
        accounts = _accounts(store)
        account = accounts.account_by_email(email)
        ended = accounts.end_all_sessions(account.id)
        _audit(store, actor, "admin.end_sessions")
        return ended


def reset_second_factor(store: Store, email: str, actor: Actor) -> AccountRecord:
    """Forget the account's TOTP (a lost phone) and end its sessions; it sets up a new one at sign-in."""
    with store.atomic():
        accounts = _accounts(store)
        account = accounts.account_by_email(email)
        if not account.totp_confirmed and account.role != "clinician":
            raise account_not_found(email)  # a patient without a second factor: nothing to reset
        accounts.reset_second_factor(account.id)
        _audit(store, actor, "admin.reset_second_factor")
        return account


# --- a practice's own page: accounts by id, and only the practice's own members -------------------------


def _member(store: Store, practice_id: str, account_id: str) -> AccountRecord:
    """The account if it is a member of the practice; NotFound otherwise (as for an unknown id)."""
    for member in Practices(store).members(practice_id):
        if member.id == account_id:
            return member
    raise account_not_found(account_id)


def remove_member_by_id(store: Store, practice_id: str, account_id: str, actor: Actor) -> bool:
    with store.atomic():
        _member(store, practice_id, account_id)
        removed = Practices(store).remove_member(practice_id, account_id)
        if removed:
            _audit(store, actor, "admin.remove_member", practice_id=practice_id)
        return removed


def end_member_sessions(store: Store, practice_id: str, account_id: str, actor: Actor) -> int:
    with store.atomic():
        _member(store, practice_id, account_id)
        ended = _accounts(store).end_all_sessions(account_id)
        _audit(store, actor, "admin.end_sessions", practice_id=practice_id)
        return ended


def disable_member(store: Store, practice_id: str, account_id: str, actor: Actor) -> None:
    with store.atomic():
        _member(store, practice_id, account_id)
        _accounts(store).disable_account(account_id)
        _audit(store, actor, "admin.disable_account", practice_id=practice_id)
