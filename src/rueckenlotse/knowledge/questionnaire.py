"""The questionnaire (questionnaire.yaml) as validated data: the question model and the checks that make a
Questionnaire (ids unique, fields that fit the Case, every ask_if compiled over earlier answers only).

Pure: the loader (knowledge.loader) reads the file and hands the parsed YAML to ``parse_questionnaire``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..core.conditions import BoolFn, Compiler, ConditionError, referenced_names
from ..core.kb import KnowledgeError
from ..core.models import Case, StartBackAnswers
from ..i18n.local_text import LocalText

QUESTIONNAIRE_FILE = "questionnaire.yaml"
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


# Probe values to check that every answer a question can give fits the Case model.
_PROBE_BASE: Mapping[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 1.0}
_PROBE_STARTBACK: Mapping[str, Any] = {
    name: 0 if name == "bothersomeness" else False for name in StartBackAnswers.model_fields
}


# One error class for every knowledge file (kept under its old name for the callers that use it).
QuestionnaireError = KnowledgeError


def _error(message: str) -> KnowledgeError:
    """An error naming the file and the question."""
    return KnowledgeError(f"{QUESTIONNAIRE_FILE}: {message}")


@dataclass(frozen=True)
class Questionnaire:
    """The validated questions in order, with each ask_if compiled."""

    questions: tuple[Question, ...]
    conditions: Mapping[str, BoolFn]
    _owners: Mapping[str, Question] = dc_field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        owners = {f: q for q in self.questions for f in q.fields}
        object.__setattr__(self, "_owners", owners)  # frozen: set once, here

    def get(self, question_id: str) -> Question:
        for q in self.questions:
            if q.id == question_id:
                return q
        raise KeyError(f"unknown question id {question_id!r}")

    def asks(self, question: Question, answers_so_far: Mapping[str, Any]) -> bool:
        return self.conditions[question.id](answers_so_far)

    def owner(self, field: str) -> Question:
        """The question that fills this answer field."""
        try:
            return self._owners[field]
        except KeyError:
            raise KeyError(f"no question fills {field!r}") from None

    @property
    def answer_fields(self) -> frozenset[str]:
        return frozenset(f for q in self.questions for f in q.fields)

    @property
    def case_fields(self) -> frozenset[str]:
        """The Case fields (dotted for nested ones) some question fills."""
        return frozenset(f for f in self.answer_fields if not f.startswith(OFFER_PREFIX))


# ---- validation ------------------------------------------------------------------------------------
def parse_questionnaire(raw: object) -> Questionnaire:
    """Validate the parsed YAML; every error names the question it is about."""
    if not isinstance(raw, list) or not raw:
        raise _error("must be a non-empty list of questions")
    questions = tuple(_parse_question(index, item) for index, item in enumerate(raw))
    _check_unique(questions)
    compiler = Compiler({f: frozenset({f}) for q in questions for f in q.fields})
    conditions: dict[str, BoolFn] = {}
    earlier: set[str] = set()
    for q in questions:
        _check_fields(q)
        conditions[q.id] = _compile_ask_if(compiler, q, frozenset(earlier))
        _check_values_fit_case(q)
        earlier |= set(q.fields)
    return Questionnaire(questions, conditions)


def _parse_question(index: int, item: object) -> Question:
    name = item.get("id", f"#{index + 1}") if isinstance(item, Mapping) else f"#{index + 1}"
    try:
        return Question.model_validate(item)
    except ValidationError as e:
        details = "; ".join(f"{'.'.join(map(str, err['loc'])) or '-'}: {err['msg']}" for err in e.errors())
        raise _error(f"question {name!r}: {details}") from None


def _check_unique(questions: tuple[Question, ...]) -> None:
    seen_ids: set[str] = set()
    owner: dict[str, str] = {}
    for q in questions:
        if q.id in seen_ids:
            raise _error(f"question {q.id!r}: the id is used twice")
        seen_ids.add(q.id)
        for f in q.fields:
            if f in owner:
                raise _error(f"question {q.id!r}: field {f!r} is already filled by {owner[f]!r}")
            owner[f] = q.id


def _check_fields(q: Question) -> None:
    known = case_field_paths()
    for f in q.fields:
        if f.startswith(OFFER_PREFIX):
            if q.kind != "bool" or len(f) == len(OFFER_PREFIX):
                raise _error(f"question {q.id!r}: an {OFFER_PREFIX}* field needs a bool question")
        elif f not in known:
            raise _error(f"question {q.id!r}: {f!r} is not a Case field")
        elif f in NOT_ASKED:
            raise _error(f"question {q.id!r}: {f!r} is no longer asked (contract 2)")


def _compile_ask_if(compiler: Compiler, q: Question, earlier: frozenset[str]) -> BoolFn:
    if q.ask_if is None:
        return lambda env: True
    try:
        fn = compiler.compile_bool(q.ask_if)
    except ConditionError as e:
        raise _error(f"question {q.id!r}: ask_if: {e}") from e
    later = referenced_names(q.ask_if, frozenset(compiler.names)) - earlier
    if later:
        raise _error(f"question {q.id!r}: ask_if uses {sorted(later)}, not asked before it")
    return fn


def _probe_values(q: Question) -> list[Any]:
    """Values this question can give, to check them against the Case model."""
    if q.kind in ("bool", "multi_flags"):
        return [True, False]
    if q.kind in LIST_KINDS:
        return [[o.value] for o in q.options] + [[o.value for o in q.options]]
    if q.kind == "choice":
        return [o.value for o in q.options if o.value is not None]
    return [v for v in (q.min, q.max) if v is not None]


def _probe_case(field: str, value: Any) -> dict[str, Any]:
    case = dict(_PROBE_BASE)
    head, _, tail = field.partition(".")
    if not tail:
        case[field] = value
    else:
        nested = dict(_PROBE_STARTBACK) if head == "startback" else {}
        case[head] = {**nested, tail: value}
    return case


def _check_values_fit_case(q: Question) -> None:
    for f in q.fields:
        if f.startswith(OFFER_PREFIX):
            continue
        for value in _probe_values(q):
            try:
                Case.model_validate(_probe_case(f, value), strict=True)
            except ValidationError as e:
                raise _error(f"question {q.id!r}: {value!r} does not fit Case field {f!r}: {e}") from None
