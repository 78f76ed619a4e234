"""Fuzzing the Case model: at least 10,000 generated inputs through parse_case_json and assess.

Never an exception other than InvalidCase; every InvalidCase lists field-level errors with a message;
where the input is invalid for a known reason (junk value, unknown field, required field dropped), an
error names that field. Fixed seed (derandomize) and no example database, so CI runs are repeatable.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rueckenlotse import assess
from rueckenlotse.core.errors import InvalidCase
from rueckenlotse.core.models import Assessment, Case
from rueckenlotse.knowledge import default_knowledge
from rueckenlotse.validation import parse_case_json

from .fuzz import NearValid, broken_json, json_values, near_valid

LANGS = st.sampled_from(["de", "en"])


def fuzz(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    return settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def outcome(run: Callable[[], Any]) -> tuple[Any, list[tuple[str, str, str]]]:
    """The result of run(), or the (field, type, message) errors of the InvalidCase it raised."""
    try:
        return run(), []
    except InvalidCase as e:
        errors = [(err.field, err.type, err.message) for err in e.errors]
        assert errors, "InvalidCase without any field error"
        assert all(f and t and m.strip() for f, t, m in errors), errors
        return None, errors


def check_text(text: str, lang: str) -> tuple[Case | None, list[tuple[str, str, str]]]:
    case, errors = outcome(lambda: parse_case_json(text, default_knowledge(), lang))
    if case is not None:
        assert isinstance(case, Case)
        assert isinstance(assess(case, lang=lang), Assessment)
    return case, errors


def check_near_valid(sample: NearValid, lang: str) -> None:
    from_text = check_text(sample.text(), lang)
    from_mapping = outcome(lambda: assess(sample.case, lang=lang))
    for result, errors in (from_text, from_mapping):
        sample.assert_refused(result, {f for f, _, _ in errors})


@pytest.mark.safety("SR-IN-1")
def test_near_valid_cases_are_assessed_or_named_field_by_field() -> None:
    seen = 0

    @fuzz(6000)
    @given(sample=near_valid(), lang=LANGS)
    def check(sample: NearValid, lang: str) -> None:
        nonlocal seen
        seen += 1
        check_near_valid(sample, lang)

    check()
    assert seen >= 6000


@pytest.mark.safety("SR-IN-1")
def test_arbitrary_json_and_broken_text_never_crash() -> None:
    seen = 0

    @fuzz(4000)
    @given(data=st.one_of(json_values.map(_dumps), broken_json()), lang=LANGS)
    def check(data: str, lang: str) -> None:
        nonlocal seen
        seen += 1
        check_text(data, lang)

    check()
    assert seen >= 4000


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
