"""`from rueckenlotse import assess`: the Python entry point of the contract."""

from __future__ import annotations

from typing import Any

import pytest

import rueckenlotse
from rueckenlotse import Assessment, Case, InvalidCase, assess

BASE: dict[str, Any] = {"age": 40, "regions": ["low_back"], "duration_weeks": 2}


def test_public_names_are_exactly_the_api() -> None:
    assert set(rueckenlotse.__all__) == {
        "LANGUAGES", "Assessment", "Case", "FieldError", "InvalidCase", "__version__", "assess",
    }  # fmt: skip


def test_assess_mapping_and_case_give_the_same_result() -> None:
    from_mapping = assess(BASE)
    from_case = assess(Case.model_validate(BASE))
    assert isinstance(from_mapping, Assessment)
    assert from_mapping == from_case
    dumped = from_mapping.model_dump(mode="json")
    assert dumped["contract_version"] == "2" and dumped["triage"] == "self_care"


@pytest.mark.safety("SR-LANG-1")
def test_language_changes_only_texts() -> None:
    de, en = assess(BASE), assess(BASE, lang="en")
    assert de.triage == en.triage and [r.id for r in de.recommendations] == [r.id for r in en.recommendations]
    assert de.recommendations[0].text != en.recommendations[0].text


def test_unknown_language_is_rejected() -> None:
    with pytest.raises(ValueError, match="lang"):
        assess(BASE, lang="fr")


@pytest.mark.safety("SR-IN-1")
def test_invalid_case_is_a_value_error_listing_fields() -> None:
    with pytest.raises(InvalidCase) as info:
        assess({**BASE, "age": "40", "fever": 1, "extra": True})
    assert isinstance(info.value, ValueError)
    fields = {e.field for e in info.value.errors}
    assert fields == {"age", "fever", "extra"}


@pytest.mark.safety("SR-IN-1")
@pytest.mark.parametrize(
    ("patch", "field", "kind"),
    [
        ({"age": 40.0}, "age", "int_type"),
        ({"age": True}, "age", "int_type"),
        ({"age": -1}, "age", "greater_than_equal"),
        ({"age": 121}, "age", "less_than_equal"),
        ({"duration_weeks": "2"}, "duration_weeks", "float_type"),
        ({"duration_weeks": -0.5}, "duration_weeks", "greater_than_equal"),
        ({"duration_weeks": float("nan")}, "duration_weeks", "finite_number"),
        ({"duration_weeks": float("inf")}, "duration_weeks", "finite_number"),
        ({"pain_intensity": 11}, "pain_intensity", "less_than_equal"),
        ({"pain_intensity": 5.5}, "pain_intensity", "int_type"),
        ({"pain_intensity": None}, "pain_intensity", "null_not_allowed"),
        ({"fever": "true"}, "fever", "bool_type"),
        ({"fever": 1}, "fever", "bool_type"),
        ({"trauma": "severe"}, "trauma", "literal_error"),
        ({"sex": "f"}, "sex", "literal_error"),
        ({"regions": []}, "regions", "too_short"),
        ({"regions": ["neck", "neck"]}, "regions", "duplicate"),
        ({"regions": ["back"]}, "regions[0]", "literal_error"),
        ({"regions": "neck"}, "regions", "list_type"),
        ({"imaging_findings": ["disc_bulge", "disc_bulge"]}, "imaging_findings", "duplicate"),
        ({"startback": {"leg_pain_recent": True}}, "startback.bothersomeness", "missing"),
        ({"neuroplastic": {"stress": True}}, "neuroplastic.stress", "extra_forbidden"),
        ({"neuroplastic": "many"}, "neuroplastic", "model_type"),
        ({"unknown_field": 1}, "unknown_field", "extra_forbidden"),
    ],
)
def test_every_field_type_rejects_bad_values(patch: dict[str, Any], field: str, kind: str) -> None:
    with pytest.raises(InvalidCase) as info:
        assess({**BASE, **patch})
    errors = {(e.field, e.type) for e in info.value.errors}
    assert (field, kind) in errors, errors
    assert all(e.message and "{" not in e.message for e in info.value.errors)


@pytest.mark.safety("SR-IN-1")
def test_missing_required_fields_are_named() -> None:
    with pytest.raises(InvalidCase) as info:
        assess({})
    assert {e.field for e in info.value.errors} == {"age", "regions", "duration_weeks"}


@pytest.mark.safety("SR-IN-1")
def test_not_a_mapping_is_rejected() -> None:
    with pytest.raises(InvalidCase):
        assess([1, 2, 3])  # type: ignore[arg-type]


@pytest.mark.safety("SR-LANG-1", "SR-IN-1")
def test_messages_follow_the_language() -> None:
    with pytest.raises(InvalidCase) as de:
        assess({**BASE, "age": 200})
    with pytest.raises(InvalidCase) as en:
        assess({**BASE, "age": 200}, lang="en")
    assert de.value.errors[0].message != en.value.errors[0].message


def test_trace_names_case_fields_for_rules() -> None:
    a = assess({**BASE, "fever": True, "iv_drug_use": True})
    by_rule = {t.rule: t.because for t in a.trace}
    assert by_rule["infection_fever"] == ["fever"]
    assert by_rule["infection_fever_neuro_or_risk"] == ["iv_drug_use"]
    flag = next(f for f in a.red_flags if f.condition == "spinal_infection")
    assert {"fever", "iv_drug_use"} <= set(flag.evidence)
