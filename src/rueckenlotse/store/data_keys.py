"""The data keys' work on the database: which key each sealed secret needs, and re-sealing them all under
the current key (rotation).

Sealed today: the clinicians' TOTP secrets (``accounts.totp_secret``) and the contact details a person
left with a practice intake (``practice_intakes.contact_sealed``, sealed from the start). Everything else
secret-like is kept as a digest and never needs reading again (passwords as Argon2 hashes; session ids, API
tokens, throttling keys, submission keys and receipts as SHA-256).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select

from . import audit, totp
from .audit import Actor
from .practices import contact_place
from .repository import Store
from .schema import Account, PracticeIntake
from .sealing import Sealer, is_sealed, key_id_of

PLAIN = "plain"


@dataclass(frozen=True)
class Rotation:
    """What a rotation did: sealed again from a previous key, sealed for the first time (plain before),
    already under the current key (opened to check, left as it was)."""

    resealed: int
    plain: int
    current: int

    @property
    def changed(self) -> int:
        return self.resealed + self.plain


def rotate(store: Store, sealer: Sealer, actor: Actor) -> Rotation:
    """Every sealed secret under the current key, in one transaction with its audit row: a value that
    cannot be opened (its key not configured, or damaged) ends it with SealingError and nothing changed.
    Running it again changes nothing."""
    with store.transaction(write=True) as session:
        # FOR UPDATE (PostgreSQL): a TOTP set up meanwhile waits, rather than being overwritten.
        query = select(Account).where(Account.totp_secret.is_not(None)).order_by(Account.id)
        found = Counter(totp.reseal(sealer, account) for account in session.scalars(query.with_for_update()))
        contacts = select(PracticeIntake).where(PracticeIntake.contact_sealed.is_not(None))
        found.update(_reseal_contact(sealer, row) for row in session.scalars(contacts.with_for_update()))
        audit.record(session, actor, "rotate.keys")
        return Rotation(resealed=found["previous"], plain=found["plain"], current=found["current"])


def _reseal_contact(sealer: Sealer, row: PracticeIntake) -> str:
    assert row.contact_sealed is not None  # selected for it
    place = contact_place(row.id)
    plain = sealer.open(row.contact_sealed, place)  # also checks a current one: SealingError if damaged
    if sealer.is_current(row.contact_sealed):
        return "current"
    row.contact_sealed = sealer.seal(plain, place)
    return "previous"


def sealed_by_key(store: Store) -> dict[str, int]:
    """How many secrets each key id sealed (``plain`` for those not sealed yet), opening none."""
    with store.transaction() as session:
        values = list(session.scalars(select(Account.totp_secret).where(Account.totp_secret.is_not(None))))
        column = PracticeIntake.contact_sealed
        values += session.scalars(select(column).where(column.is_not(None)))
        return dict(Counter((key_id_of(v) or "?") if is_sealed(v) else PLAIN for v in values if v))
