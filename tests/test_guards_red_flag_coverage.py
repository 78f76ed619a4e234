"""Guard: every Case field a red-flag rule reads is combined by the exhaustive combination test or left
out on purpose, with a reason and a test that names it (NOT_COMBINED).

The fields are read from the rules as loaded (their conditions and escalations, through the derived
values they use, as the knowledge compiler resolves them), never listed by hand. The companions plant a
rule that reads a field nobody lists, and exclusions without a reason or a covering test.
"""

from __future__ import annotations

import inspect
from collections.abc import Collection, Mapping

from rueckenlotse.core.conditions import referenced_names
from rueckenlotse.core.kb import KnowledgeBase, RuleSpec
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import default_knowledge

from . import test_red_flag_combinations as combos
from .guards import ParsedTest, project_tests


def red_flag_fields(kb: KnowledgeBase) -> dict[str, set[str]]:
    """Case field -> ids of the red-flag rules that read it (a derived value counts as the fields it uses)."""
    names = kb.compiler.names
    known = frozenset(names)
    read: dict[str, set[str]] = {}
    for rule in kb.spec.rules:
        if rule.suspect not in kb.red_flag_conditions:
            continue
        for expr in [rule.when, *(e.when for e in rule.escalate)]:
            for name in referenced_names(expr, known):
                for field in names[name]:
                    top = field.split(".")[0]
                    if top in Case.model_fields:
                        read.setdefault(top, set()).add(rule.id)
    return read


def coverage_problems(
    read: Mapping[str, Collection[str]],
    combined: Collection[str],
    not_combined: Mapping[str, tuple[str, tuple[str, ...]]],
    oracle_source: str,
    tests: Mapping[str, ParsedTest],
) -> list[str]:
    """What keeps the combination test from covering every field the red-flag rules read."""
    problems = []
    for field in sorted(set(read) - set(combined) - set(not_combined)):
        problems.append(f"{field}: read by {sorted(read[field])}, neither combined nor in NOT_COMBINED")
    for field in sorted(set(not_combined) - set(read)):
        problems.append(f"{field}: in NOT_COMBINED but no red-flag rule reads it")
    for field in sorted(set(not_combined) & set(combined)):
        problems.append(f"{field}: combined and in NOT_COMBINED")
    for field in sorted(set(combined) - set(read)):
        problems.append(f"{field}: combined but no red-flag rule reads it")
    for field in sorted(combined):
        if f'"{field}"' not in oracle_source:
            problems.append(f"{field}: combined but the oracle (policy_minimum) sets no minimum for it")
    for field, (reason, nodeids) in sorted(not_combined.items()):
        if not reason.strip():
            problems.append(f"{field}: in NOT_COMBINED without a reason")
        missing = [n for n in nodeids if n not in tests]
        if missing or not nodeids:
            problems.append(f"{field}: NOT_COMBINED names no test or tests that do not exist: {missing}")
        elif not any(field in tests[n].names for n in nodeids):
            problems.append(f"{field}: none of its NOT_COMBINED tests names it")
    return problems


def _combined() -> set[str]:
    return {sign for _, signs in combos.FAMILIES.values() for sign in signs}


def _oracle_source() -> str:
    return "".join(
        inspect.getsource(f)
        for f in (
            combos._neuro,
            combos._nerve_and_cord,
            combos._fracture_and_bleeding,
            combos._infection_and_cancer,
            combos._vascular_and_other,
        )
    )


def _tests() -> dict[str, ParsedTest]:
    return {t.nodeid: t for t in project_tests()}


def test_every_field_a_red_flag_rule_reads_is_combined_or_left_out_with_a_reason() -> None:
    read = red_flag_fields(default_knowledge())
    assert {"saddle_numbness", "aortic_aneurysm_known", "age", "neuro_bilateral"} <= set(read)
    assert coverage_problems(read, _combined(), combos.NOT_COMBINED, _oracle_source(), _tests()) == []


def test_a_planted_rule_reading_an_unlisted_field_is_reported() -> None:
    kb = default_knowledge()
    # diabetes is read by no red-flag rule; here it is, alone and through a derived value (neuro_sign).
    planted = RuleSpec(
        id="planted_diabetic_neuropathy",
        when={"all": ["diabetes", "neuro_sign"]},
        suspect="spinal_infection",
        triage="urgent",
        sources=[kb.spec.rules[0].sources[0]],
    )
    texts = {**kb.spec.texts, "rule.planted_diabetic_neuropathy.reason": {"de": "x", "en": "x"}}
    planted_kb = KnowledgeBase(
        kb.spec.model_copy(update={"rules": [*kb.spec.rules, planted], "texts": texts})
    )
    read = red_flag_fields(planted_kb)
    assert read["diabetes"] == {"planted_diabetic_neuropathy"}
    assert "planted_diabetic_neuropathy" in read["hand_clumsiness"]  # through neuro_sign
    problems = coverage_problems(read, _combined(), combos.NOT_COMBINED, _oracle_source(), _tests())
    assert problems == [
        "diabetes: read by ['planted_diabetic_neuropathy'], neither combined nor in NOT_COMBINED"
    ]


def test_planted_gaps_in_the_lists_are_reported() -> None:
    read = {"fever": {"r1"}, "age": {"r2"}, "recurrent": {"r3"}, "night_pain": {"r4"}}
    tests = {
        "t.py::test_age": ParsedTest("t.py::test_age", frozenset(), frozenset({"age"})),
        "t.py::test_other": ParsedTest("t.py::test_other", frozenset(), frozenset({"fever"})),
    }
    not_combined = {
        "age": ("a number", ("t.py::test_age",)),
        "recurrent": ("", ("t.py::test_other",)),  # no reason, and its test does not name it
        "weakness": ("graded", ("t.py::test_gone",)),  # read by no rule, and its test does not exist
    }
    oracle = '"fever"'  # the oracle knows fever, not night pain
    problems = coverage_problems(read, ["fever", "night_pain", "sepsis_signs"], not_combined, oracle, tests)
    assert problems == [
        "weakness: in NOT_COMBINED but no red-flag rule reads it",
        "sepsis_signs: combined but no red-flag rule reads it",
        "night_pain: combined but the oracle (policy_minimum) sets no minimum for it",
        "sepsis_signs: combined but the oracle (policy_minimum) sets no minimum for it",
        "recurrent: in NOT_COMBINED without a reason",
        "recurrent: none of its NOT_COMBINED tests names it",
        "weakness: NOT_COMBINED names no test or tests that do not exist: ['t.py::test_gone']",
    ]
    assert coverage_problems(read, ["fever", "night_pain"], {}, '"fever" "night_pain"', tests) == [
        "age: read by ['r2'], neither combined nor in NOT_COMBINED",
        "recurrent: read by ['r3'], neither combined nor in NOT_COMBINED",
    ]
