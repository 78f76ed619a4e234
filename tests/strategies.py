"""Hypothesis strategies for valid Cases (every field of contract 2, version 1's included).

The field lists are read from the Case model, not written by hand: a new yes/no sign or graded answer
is generated (and checked by the property tests) as soon as the model has it, and a field of any other
kind that no strategy here generates fails tests/test_guards_strategies.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args, get_origin

from hypothesis import strategies as st
from pydantic import BaseModel

from rueckenlotse.core.models import Case, NeuroplasticAnswers, StartBackAnswers


def boolean_fields(model: type[BaseModel]) -> list[str]:
    """The model's yes/no fields, in the model's order."""
    return [name for name, info in model.model_fields.items() if info.annotation is bool]


def _literal(annotation: Any) -> list[str] | None:
    if get_origin(annotation) is Literal:
        return list(get_args(annotation))
    for arg in get_args(annotation):
        found = _literal(arg)
        if found is not None:
            return found
    return None


def literal_values(model: type[BaseModel], name: str) -> list[str]:
    """The allowed strings of a Literal field (optional or a list of them too), in the model's order."""
    found = _literal(model.model_fields[name].annotation)
    if found is None:
        raise TypeError(f"{name} is not a Literal field")
    return found


def graded_fields(model: type[BaseModel]) -> dict[str, list[str]]:
    """Answers graded from "none" upwards (trauma, leg pain, weakness): Literal fields whose default is
    "none". The contract lists their values from harmless to worst, and the model keeps that order."""
    return {
        name: literal_values(model, name)
        for name, info in model.model_fields.items()
        if get_origin(info.annotation) is Literal and info.default == "none"
    }


def _bound(model: type[BaseModel], name: str, kind: str) -> int:
    """The ge/le bound of a numeric field, from its Field metadata (nested in Optional[Annotated[...]])."""
    info = model.model_fields[name]
    metadata = list(info.metadata)
    for arg in get_args(info.annotation):
        metadata += list(getattr(arg, "__metadata__", ()))
        for inner in getattr(arg, "__metadata__", ()):
            metadata += list(getattr(inner, "metadata", ()))
    values = [getattr(m, kind) for m in metadata if hasattr(m, kind)]
    if not values:
        raise TypeError(f"{name} has no {kind} bound")
    return int(values[0])


REGIONS = literal_values(Case, "regions")
BOOLEAN_FIELDS = boolean_fields(Case)
# Not warning signs: answering yes can rightly lower triage (an injury checked, earlier episodes).
NOT_WARNING_SIGNS = {"recurrent", "injury_checked_by_doctor"}
WARNING_SIGNS = [f for f in BOOLEAN_FIELDS if f not in NOT_WARNING_SIGNS]
# tests/safety/golden.py draws the graded answers in this order from a seeded generator: keeping it keeps
# the golden cases as they are. A graded field the model gains is appended, never left out.
_GOLDEN_DRAW_ORDER = ["weakness", "trauma", "leg_pain"]
ORDERED_ENUMS = dict(
    sorted(
        graded_fields(Case).items(),
        key=lambda item: _GOLDEN_DRAW_ORDER.index(item[0]) if item[0] in _GOLDEN_DRAW_ORDER else 99,
    )
)
durations = st.one_of(
    st.integers(min_value=0, max_value=600),
    st.floats(min_value=0, max_value=600, allow_nan=False, allow_infinity=False),
    st.sampled_from([0, 0.5, 1, 1.5, 2, 3.9, 4, 5.9, 6, 12, 12.1, 13]),
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.none(), strategy)


startback = st.fixed_dictionaries(
    {k: st.booleans() for k in boolean_fields(StartBackAnswers)}
    | {
        "bothersomeness": st.integers(
            _bound(StartBackAnswers, "bothersomeness", "ge"), _bound(StartBackAnswers, "bothersomeness", "le")
        )
    }
)
neuroplastic = st.fixed_dictionaries(
    {}, optional={k: st.booleans() for k in boolean_fields(NeuroplasticAnswers)}
)

# The fields every Case has.
REQUIRED: dict[str, st.SearchStrategy[Any]] = {
    "age": st.integers(_bound(Case, "age", "ge"), _bound(Case, "age", "le")),
    "regions": st.lists(st.sampled_from(REGIONS), min_size=1, max_size=len(REGIONS), unique=True),
    "duration_weeks": durations,
}
# The remaining optional fields, each drawn or left out. Values and bounds come from the model where it
# states them; the physiotherapy weeks have no upper bound there, 60 keeps them plausible.
OPTIONAL: dict[str, st.SearchStrategy[Any]] = {
    "sex": st.sampled_from(literal_values(Case, "sex")),
    "pain_intensity": st.integers(_bound(Case, "pain_intensity", "ge"), _bound(Case, "pain_intensity", "le")),
    "startback": startback,
    "neuroplastic": neuroplastic,
    "physiotherapy_weeks": st.one_of(st.integers(0, 60), st.floats(0, 60, allow_nan=False)),
    "physiotherapy_helped": st.sampled_from(literal_values(Case, "physiotherapy_helped")),
    "home_exercise": st.sampled_from(literal_values(Case, "home_exercise")),
    "imaging_findings": st.lists(st.sampled_from(literal_values(Case, "imaging_findings")), unique=True),
    "pregnancy_week": st.integers(_bound(Case, "pregnancy_week", "ge"), _bound(Case, "pregnancy_week", "le")),
}


def ungenerated_fields(model: type[BaseModel], drawn: Iterable[str]) -> set[str]:
    """Fields of the model that cases() would never fill in: neither a yes/no field, nor a graded answer,
    nor one with its own strategy (`drawn`)."""
    return set(model.model_fields) - {*boolean_fields(model), *graded_fields(model), *drawn}


@st.composite
def cases(draw: st.DrawFn) -> dict[str, Any]:
    case: dict[str, Any] = {field: draw(strategy) for field, strategy in REQUIRED.items()}
    for field in BOOLEAN_FIELDS:
        value = draw(st.one_of(st.none(), st.booleans()))
        if value is not None:
            case[field] = value
    for field, values in ORDERED_ENUMS.items():
        value = draw(_optional(st.sampled_from(values)))
        if value is not None:
            case[field] = value
    for field, strategy in OPTIONAL.items():
        value = draw(_optional(strategy))
        if value is not None:
            case[field] = value
    return case
