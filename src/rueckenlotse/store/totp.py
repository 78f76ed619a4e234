"""Time-based one-time passwords (RFC 6238) with replay protection.

A code is accepted for the time step before, at or after ``now`` (clock drift), and only for a step later
than the last one used: the same code can never be used twice, even by two app processes at once.

The secret is kept sealed (``store.sealing``): ``seal_secret`` and ``secret_of`` are the only ways in and
out. A secret stored in plain text before revision 0006 is recognised by its form (base32, which never holds
the ``:`` of a sealed value), still works, and is sealed the first time it is read.
"""

from __future__ import annotations

import hmac
import re
from datetime import datetime

import pyotp
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from .schema import Account
from .sealing import Sealer, SealingError

STEP_SECONDS = 30
DIGITS = 6
ISSUER = "Rückenlotse"
# What pyotp makes (32 characters) and what any authenticator secret looks like: RFC 4648 base32.
PLAIN_SECRET = re.compile(r"^[A-Z2-7]{16,128}=*$")


def new_secret() -> str:
    return pyotp.random_base32()


def place(account_id: str) -> str:
    """Where a TOTP secret is kept: bound into its seal, so it opens only in its own row."""
    return f"accounts.totp_secret/{account_id}"


def seal_secret(sealer: Sealer, account: Account, secret: str) -> None:
    account.totp_secret = sealer.seal(secret, place(account.id))


def is_plain(stored: str) -> bool:
    """A secret from before sealing (revision 0006): base32, never the form of a sealed value."""
    return PLAIN_SECRET.match(stored) is not None


def secret_of(sealer: Sealer, account: Account) -> str | None:
    """The account's secret in plain text (None when it has none); a plain one is sealed on the way.

    SealingError for a value that is neither sealed nor a plain secret, or that cannot be opened.
    """
    stored = account.totp_secret
    if stored is None:
        return None
    if is_plain(stored):
        seal_secret(sealer, account, stored)
        return stored
    return sealer.open(stored, place(account.id))


def reseal(sealer: Sealer, account: Account) -> str:
    """Seal the account's secret again under the current key unless it is under it already; every value is
    opened, so a damaged one fails here. Says what it found: ``current``, ``previous`` (another configured
    key) or ``plain``."""
    stored = account.totp_secret
    if stored is None:
        raise SealingError("sealed_value_damaged", place=place(account.id))
    kind = "plain" if is_plain(stored) else "current" if sealer.is_current(stored) else "previous"
    secret = secret_of(sealer, account)  # a plain one is sealed on the way
    if kind == "previous" and secret is not None:
        seal_secret(sealer, account, secret)
    return kind


def provisioning_uri(secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from a QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def time_step(now: datetime) -> int:
    return int(now.timestamp()) // STEP_SECONDS


def matching_step(secret: str, code: str, now: datetime, *, after: int | None) -> int | None:
    """The time step whose code this is (within one step of now, later than ``after``), else None."""
    code = "".join(code.split())
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)
    current = time_step(now)
    for step in (current - 1, current, current + 1):
        if after is not None and step <= after:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def claim_step(session: Session, account_id: str, step: int) -> bool:
    """Record the step as used; False when this or a later step was used meanwhile (a replay race)."""
    query = (
        update(Account)
        .where(
            Account.id == account_id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(session.execute(query), "rowcount", 0)) == 1
