"""Registering from a practice intake's receipt: the intake sent without an account becomes the new
account's first record (``Accounts.register_patient(receipt_hash=…)``), so the person can share their
course with that practice (issue #18).

The receipt token is the proof: whoever holds it can already see the result and both PDFs. It travels in
the receipt's path (``/beleg/<token>/konto``, which the access log never writes) and then as a hidden form
field, never in a query string. Only the token's SHA-256 is ever looked up, as for the receipt itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from starlette.requests import Request

from .security.session import accounts_of

FIELD = "receipt"
TOKEN_LENGTH = 43  # 32 bytes in base64url without padding (``practice_link``)


def receipt_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Claim:
    """A receipt that can still become a new account's record, and the practice its intake went to."""

    token: str
    digest: str
    practice_name: str


def claim_of(request: Request, token: str) -> Claim | None:
    """The claim this token makes, or None when it names no intake or the intake's person has an account
    already (one answer for both). Blocking (a database read): call it in the thread pool."""
    if len(token) != TOKEN_LENGTH:
        return None
    digest = receipt_digest(token)
    name = accounts_of(request).claimable_receipt(digest)
    return None if name is None else Claim(token, digest, name)
