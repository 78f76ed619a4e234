"""Validation errors of a Case, kept field by field so every interface can show them per field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    """One problem with one field: where (dotted path), what kind, and a message for people."""

    field: str
    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class InvalidInput(ValueError):
    """Input failed validation; ``errors`` lists every field problem."""

    def __init__(self, errors: list[FieldError], *, line: int | None = None, prefix: str = "") -> None:
        self.errors = errors
        self.line = line
        where = f"{prefix} " if prefix else ""
        super().__init__(where + "; ".join(str(e) for e in errors))


class InvalidCase(InvalidInput):
    """A Case failed validation; ``errors`` lists every field problem."""
