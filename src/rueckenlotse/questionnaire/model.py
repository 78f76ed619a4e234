"""The data model of the questionnaire (questionnaire.yaml), validated with Pydantic."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..core.models import Case
from ..i18n.local_text import LocalText

OFFER_PREFIX = "offer."  # fields that only open or skip a block; never part of the Case
NESTED = ("startback", "neuroplastic")
# The answer "nicht sicher" / "not sure": kept as this value in the answers, so the set of unsure
# answers travels wherever the answers go; for triage it counts as the sign being present.
UNSURE = "unsure"
# Version-1 Case fields the questionnaire no longer asks: contract 2 asks both legs and both arms apart.
NOT_ASKED = frozenset({"neuro_bilateral"})
UNSURE_KINDS = frozenset({"bool", "choice", "multi_flags"})

Kind = Literal["multi_regions", "multi_flags", "bool", "choice", "int", "number", "multi_choice"]
OptionValue = str | int | None
OPTION_KINDS = frozenset({"multi_regions", "choice", "multi_choice"})
LIST_KINDS = frozenset({"multi_regions", "multi_choice"})

_FROZEN = ConfigDict(extra="forbid", frozen=True, strict=True)
NonEmpty = Annotated[str, Field(min_length=1)]


class Option(BaseModel):
    """A numbered option: a Case value (choice, regions, findings) or a boolean field (multi_flags)."""

    model_config = _FROZEN

    label: LocalText
    value: OptionValue = None
    field: str | None = None

    @property
    def has_value(self) -> bool:
        return "value" in self.model_fields_set


class Question(BaseModel):
    """One prompt of the interview."""

    model_config = _FROZEN

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    kind: Kind
    field: str | None = None
    text: LocalText
    help: LocalText | None = None
    ask_if: Any = None
    options: Annotated[tuple[Option, ...], Field(strict=False)] = ()  # YAML gives a list
    min: int | float | None = None
    max: int | float | None = None
    unit: Literal["weeks"] | None = None
    # True: the emergency check waits for the next answer, which can lift this one's warning
    # (an injury a doctor has already examined is no longer a fracture warning sign).
    defer_check: bool = False
    # True: the question offers "nicht sicher"; such an answer counts as the sign being present
    # (bool and multi_flags: true; choice: the option value ``unsure_as``, the worse one).
    unsure: bool = False
    unsure_as: OptionValue = None
    # A short name of the sign for the result's "you were not sure about ..." (bool and choice).
    short: LocalText | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The answer fields this question fills (one, or one per option for multi_flags)."""
        if self.kind == "multi_flags":
            return tuple(o.field for o in self.options if o.field is not None)
        return (self.field,) if self.field is not None else ()

    @model_validator(mode="after")
    def _check_shape(self) -> Question:
        problem = _shape_problem(self)
        if problem:
            raise ValueError(problem)
        return self


def _shape_problem(q: Question) -> str | None:
    """What is wrong with the question's shape for its kind, or None."""
    if q.kind == "multi_flags":
        if q.field is not None:
            return "a multi_flags question has no 'field'; its options name the fields"
        if not q.options or any(o.field is None or o.has_value for o in q.options):
            return "multi_flags needs options, each with 'field' and 'label' (no 'value')"
    elif q.field is None:
        return f"a {q.kind} question needs 'field'"
    if q.kind in OPTION_KINDS:
        if not q.options or any(o.field is not None or not o.has_value for o in q.options):
            return f"{q.kind} needs options, each with 'value' and 'label'"
        values = [o.value for o in q.options]
        if len(set(values)) != len(values):
            return "option values repeat"
        if q.kind in LIST_KINDS and None in values:
            return "a list option cannot have a null value"
    elif q.kind != "multi_flags" and q.options:
        return f"a {q.kind} question has no options"
    return _unsure_problem(q) or _bounds_problem(q)


def _unsure_problem(q: Question) -> str | None:
    if not q.unsure:
        return "'unsure_as' needs 'unsure: true'" if q.unsure_as is not None else None
    if q.kind not in UNSURE_KINDS:
        return f"a {q.kind} question cannot offer 'unsure'"
    if q.kind != "multi_flags" and q.short is None:
        return "an 'unsure' question needs 'short' (the sign's name for the result)"
    if any(o.value == UNSURE for o in q.options):
        return f"{UNSURE!r} is kept for the 'not sure' answer"
    values = [o.value for o in q.options]
    if q.kind == "choice" and (q.unsure_as is None or q.unsure_as not in values):
        return "an 'unsure' choice needs 'unsure_as', one of its option values"
    if q.kind != "choice" and q.unsure_as is not None:
        return "'unsure_as' belongs to choice questions"
    return None


def _bounds_problem(q: Question) -> str | None:
    if q.kind == "int":
        if not isinstance(q.min, int) or not isinstance(q.max, int) or q.min > q.max:
            return "an int question needs integer 'min' <= 'max'"
    elif q.kind == "number":
        if q.min is None:
            return "a number question needs 'min'"
    elif q.min is not None or q.max is not None:
        return f"a {q.kind} question has no 'min' / 'max'"
    if q.unit is not None and q.kind != "number":
        return "'unit' belongs to number questions only"
    return None


def case_field_paths() -> frozenset[str]:
    """Every Case field a question can fill; nested answers as dotted names."""
    paths: set[str] = set()
    for name, info in Case.model_fields.items():
        if name not in NESTED:
            paths.add(name)
            continue
        for sub in getattr(info.annotation, "__args__", (info.annotation,)):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                paths |= {f"{name}.{child}" for child in sub.model_fields}
    return frozenset(paths)
