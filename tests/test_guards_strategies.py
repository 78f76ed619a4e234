"""Guard: the Hypothesis strategies (tests/strategies.py) generate every field of the Case model.

The yes/no fields and the graded answers are read from the model; every other field needs a strategy of
its own. The companion plants a Case model with an extra yes/no sign, an extra graded answer and an
extra free-text field, and sees the first two picked up and the third reported.
"""

from __future__ import annotations

from typing import Literal

from hypothesis import given, settings

from rueckenlotse.core.models import Case

from . import strategies
from .strategies import boolean_fields, graded_fields, ungenerated_fields


def test_every_case_field_is_generated() -> None:
    drawn = [*strategies.REQUIRED, *strategies.OPTIONAL]
    assert ungenerated_fields(Case, drawn) == set()
    assert set(drawn) <= set(Case.model_fields)  # no strategy for a field the model no longer has
    assert "aortic_aneurysm_known" in strategies.WARNING_SIGNS
    assert set(strategies.NOT_WARNING_SIGNS) <= set(strategies.BOOLEAN_FIELDS)


@settings(max_examples=50, deadline=None)
@given(case=strategies.cases())
def test_generated_cases_are_valid(case: dict[str, object]) -> None:
    Case.model_validate(case)


class PlantedCase(Case):
    planted_sign: bool = False
    planted_graded: Literal["none", "some", "much"] = "none"
    planted_note: str | None = None


def test_a_planted_field_is_generated_or_reported() -> None:
    assert "planted_sign" in boolean_fields(PlantedCase)
    assert graded_fields(PlantedCase)["planted_graded"] == ["none", "some", "much"]
    drawn = [*strategies.REQUIRED, *strategies.OPTIONAL]
    assert ungenerated_fields(PlantedCase, drawn) == {"planted_note"}
