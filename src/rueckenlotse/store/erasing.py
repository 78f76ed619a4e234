"""Which rows belong to a person, found by following foreign keys from ``persons`` transitively.

A row belongs to the person when it references the person (``assessments.person_id``), or references a
row that belongs to the person (a web session through its account). A reference declared ``ON DELETE SET
NULL`` does not make the row the person's: it only has to lose the reference (a review by an account).

The same walk runs over two schemas: the declared one (``schema.py``) to erase, and the live database's
(reflected) to verify, so a table added outside this program is checked as well.

The audit trail (``audit_events``) has a ``person_id`` column without a reference: the walk finds it all the
same. Before the delete, a practice's rows about the person lose the person id and stay (``audit.forget_
person``: accountability for who read what, no longer whose); the person's own rows are deleted.
Login attempts are keyed by hashes, not references: they are deleted by key (the account's address, its
TOTP key and the other counts of ``ADDRESS_KEYS`` and ``ACCOUNT_KEYS``). No file belongs to a person:
reports, charts and exports are made in memory per request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    ForeignKeyConstraint,
    MetaData,
    Table,
    delete,
    false,
    func,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from . import audit, throttling
from .schema import Account, LoginAttempt, Person, metadata

PERSONS = Person.__tablename__
# What throttling counts per address and per account (accounts.py): the sign-in, the links asked for by
# e-mail; the TOTP codes, the password changes.
ADDRESS_KEYS = ("email", "mail-reset", "mail-verify")
ACCOUNT_KEYS = ("totp", "password-change")
PERSON_COLUMN = "person_id"


@dataclass(frozen=True)
class Reach:
    """Rows of ``table`` that are the person's (``owning``) or merely point at the person's rows."""

    table: Table
    columns: tuple[Column[object], ...]
    condition: ColumnElement[bool]
    owning: bool

    @property
    def label(self) -> str:
        return f"{self.table.name}.{','.join(c.name for c in self.columns)}"


def reaches(meta: MetaData, person_id: str) -> list[Reach]:
    """Every way a row of ``meta``'s tables can belong to (or point at) the person, parents first."""
    persons = meta.tables.get(PERSONS)
    if persons is None:
        return []
    found = [Reach(persons, (persons.c.id,), persons.c.id == person_id, owning=True)]
    owned: dict[str, list[ColumnElement[bool]]] = {PERSONS: [found[0].condition]}
    for table in meta.sorted_tables:  # parents before children: a parent's conditions are complete
        if table is persons:
            continue
        for reach in _reaches_of(table, owned, person_id):
            found.append(reach)
            if reach.owning:
                owned.setdefault(table.name, []).append(reach.condition)
    return found


def _reaches_of(table: Table, owned: dict[str, list[ColumnElement[bool]]], person_id: str) -> list[Reach]:
    result = []
    referenced = {element.parent.name for fk in table.foreign_key_constraints for element in fk.elements}
    column = table.c.get(PERSON_COLUMN)
    if column is not None and column.name not in referenced:
        # A person_id column without a declared reference (e.g. a table added by hand) still counts.
        result.append(Reach(table, (column,), column == person_id, owning=True))
    for fk in sorted(table.foreign_key_constraints, key=lambda c: [e.parent.name for e in c.elements]):
        parent = fk.referred_table
        if parent is table or parent.name not in owned:
            continue
        columns = tuple(element.parent for element in fk.elements)
        owning = (fk.ondelete or "").upper() != "SET NULL"
        result.append(Reach(table, columns, _references(fk, owned[parent.name], person_id), owning))
    return result


def _references(
    fk: ForeignKeyConstraint, parent_conditions: Sequence[ColumnElement[bool]], person_id: str
) -> ColumnElement[bool]:
    elements = list(fk.elements)
    if fk.referred_table.name == PERSONS and len(elements) == 1:
        return elements[0].parent == person_id  # the common case, without a subquery
    parents = select(*(e.column for e in elements)).where(or_(*parent_conditions))
    if len(elements) == 1:
        return elements[0].parent.in_(parents)
    return tuple_(*(e.parent for e in elements)).in_(parents)


# --- erase and verify ---------------------------------------------------------------------------------


def erase(session: Session, person_id: str) -> dict[str, int]:
    """Delete every row of the person (children first, explicitly: the counts are reported and nothing
    relies on cascades); returns the tables with deleted rows and how many."""
    found = reaches(metadata, person_id)
    audit.forget_person(session, [person_id])
    for reach in found:
        if not reach.owning:
            # Cleared while the rows it points at still exist: afterwards nothing points at the person.
            session.execute(
                update(reach.table).where(reach.condition).values({c.name: None for c in reach.columns})
            )
    counts = _forget_login_attempts(session, person_id)
    for table in reversed(metadata.sorted_tables):
        conditions = [r.condition for r in found if r.table is table and r.owning]
        if conditions:
            result = session.execute(delete(table).where(or_(*conditions)))
            counts[table.name] = int(getattr(result, "rowcount", 0))
    return {name: n for name, n in counts.items() if n}


def _forget_login_attempts(session: Session, person_id: str) -> dict[str, int]:
    """Throttling keys are hashes of the address (and account id), not references: delete them by key."""
    accounts = session.execute(select(Account.id, Account.email).where(Account.person_id == person_id)).all()
    email_keys = [throttling.attempt_key("email", email) for _, email in accounts]
    keys = [throttling.attempt_key(kind, email) for _, email in accounts for kind in ADDRESS_KEYS]
    keys += [throttling.attempt_key(kind, account_id) for account_id, _ in accounts for kind in ACCOUNT_KEYS]
    # The keys of the address together with a client cannot be computed without the client; they were
    # written in the same step and at the same moment as the address's own (throttling.reserve), so they go
    # by that moment (with whatever else was counted in that very microsecond: a throttle forgets a little).
    moments = select(LoginAttempt.attempted_at).where(LoginAttempt.key.in_(email_keys))
    condition = or_(LoginAttempt.key.in_(keys), LoginAttempt.attempted_at.in_(moments)) if keys else false()
    result = session.execute(delete(LoginAttempt).where(condition))
    return {LoginAttempt.__tablename__: int(getattr(result, "rowcount", 0))}


def person_row_counts(connection: Connection, person_id: str) -> dict[str, int]:
    """Rows per "table.column(s)" that belong to or point at the person, over every table the live
    database has (reflected, not taken from schema.py)."""
    live = MetaData()
    live.reflect(connection)
    counts: dict[str, int] = {}
    for reach in reaches(live, person_id):
        query = select(func.count()).select_from(reach.table).where(reach.condition)
        counts[reach.label] = counts.get(reach.label, 0) + int(connection.scalar(query) or 0)
    return counts
