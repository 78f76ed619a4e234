"""Hypothesis strategies for fuzzing the Case: arbitrary JSON, broken JSON text, and near-valid Cases.

A near-valid Case is a valid one (from a seeded pool like the golden set's) with one to three mutations.
Some make the Case invalid for sure (a junk value, an unknown field, a required field dropped): the fuzz
tests then demand an error naming that very field. Others may or may not be valid (null, huge or negative
numbers, floats for integers, booleans for numbers): there only the shape of the answer is checked.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from rueckenlotse.core.models import Case

from .golden import generated_case

FIELDS = sorted(Case.model_fields)
# Drawing a whole valid Case field by field costs Hypothesis ~10 ms; picking from a pool makes 10,000
# examples affordable while the mutations, the part that matters here, are still drawn and shrunk.
_rng = random.Random(7)
POOL = [generated_case(_rng) for _ in range(500)]
REQUIRED = sorted(name for name, info in Case.model_fields.items() if info.is_required())
CONTROL = st.characters(min_codepoint=0, max_codepoint=31)

# Any JSON value, nested a little; numbers far outside every range included.
json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Text with a control character first: never a valid enum value, number or boolean.
control_text = st.builds(lambda c, s: c + s, CONTROL, st.text(max_size=20))
# Values wrong for every Case field whatever its type.
junk = st.one_of(
    control_text,
    st.lists(st.dictionaries(st.text(max_size=5), json_scalars, max_size=2), min_size=1, max_size=3),
    st.dictionaries(st.text(max_size=8).map(lambda k: "x_" + k), json_values, min_size=1, max_size=3),
)
# Values that may or may not fit a field.
odd = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.sampled_from([-1, 0, 1, 10, 11, 120, 121, 2**31, 2**63, -(2**63), 10**20]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([-0.0, 0.5, 1e-300, 1e300, 5.000000000000001]),
    st.sampled_from(["", "yes", "true", "1", "male", "neck", "none", "below_knee", "🙂", "\u202e"]),
    st.lists(json_scalars, max_size=3),
    st.dictionaries(st.sampled_from(FIELDS), json_scalars, max_size=3),
)


@dataclass
class NearValid:
    """A mutated Case and the fields an error must name (field -> why)."""

    case: dict[str, Any]
    must_name: dict[str, str] = field(default_factory=dict)

    def text(self) -> str:
        return json.dumps(self.case, ensure_ascii=False)

    def assert_refused(self, result: object, fields: set[str] | list[str]) -> None:
        """When the mutation broke the Case: no result, and an error names each broken field (or a
        part of it: `name.child`, `name[0]`)."""
        if not self.must_name:
            return
        assert result is None, f"accepted although {self.must_name}: {self.case}"
        for name, why in self.must_name.items():
            assert any(f == name or f.startswith((name + ".", name + "[")) for f in fields), (
                name,
                why,
                fields,
            )


@st.composite
def near_valid(draw: st.DrawFn) -> NearValid:
    out = NearValid(copy.deepcopy(draw(st.sampled_from(POOL))))
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["junk", "odd", "odd", "unknown", "drop"]))
        if kind == "unknown":
            key = "x_" + draw(st.text(max_size=12))
            out.case[key] = draw(json_values)
            out.must_name[key] = "unknown field"
            continue
        name = draw(st.sampled_from(REQUIRED if kind == "drop" else FIELDS))
        out.must_name.pop(name, None)
        if kind == "drop":
            out.case.pop(name, None)
            out.must_name[name] = "required field missing"
        elif kind == "junk":
            out.case[name] = draw(junk)
            out.must_name[name] = "wrong type"
        else:
            out.case[name] = draw(odd)
    return out


@st.composite
def broken_json(draw: st.DrawFn) -> str:
    """JSON text that is no valid Case document: truncated, NaN, duplicate keys, not an object, raw text."""
    base = draw(near_valid()).text()
    kind = draw(st.sampled_from(["truncate", "nan", "duplicate", "scalar", "raw", "control"]))
    if kind == "truncate":
        return base[: draw(st.integers(0, max(0, len(base) - 1)))]
    if kind == "nan":
        return (
            base[:-1] + ', "duration_weeks": ' + draw(st.sampled_from(["NaN", "Infinity", "-Infinity"])) + "}"
        )
    if kind == "duplicate":
        return base[:-1] + ', "age": 40, "age": 41}'
    if kind == "scalar":
        return json.dumps(draw(json_scalars | st.lists(json_values, max_size=3)))
    if kind == "control":
        return base[:1] + draw(CONTROL) + base[1:]
    return draw(st.text(max_size=60))
