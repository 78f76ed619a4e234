"""Store errors are typed: a code and its parameters (rueckenlotse.i18n.errors.DomainError); every interface
words them in the reader's language from the catalogue (i18n/texts_errors.yaml)."""

from __future__ import annotations

from typing import Literal

from ..i18n.errors import DomainError, Term

__all__ = ["NotFound", "RecordKind", "StoreError", "Term", "person_not_found"]

RecordKind = Literal["person", "account", "practice", "diary_entry", "assessment", "intake"]


class StoreError(DomainError):
    """A store operation failed in a way the user can act on (bad URL, missing tool, damaged backup)."""


class NotFound(StoreError, LookupError):
    """A person (or another record) does not exist."""

    def __init__(self, kind: RecordKind, key: str) -> None:
        self.key = key
        super().__init__(f"not_found.{kind}", key=key)


def person_not_found(person_id: str) -> NotFound:
    return NotFound("person", person_id)
