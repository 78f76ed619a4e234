"""Guard: every safety requirement of the hazard log that names a warning sign (a Case field) has a test
marked with that requirement whose source names the field.

A requirement names a field when its text holds the field's identifier (`aortic_aneurysm_known`), the
field's English evidence label from the knowledge ("blood thinners"), or every word of the field's name
within one sentence, allowing for inflection ("feeling systemically unwell" for
feels_systemically_unwell, "a known aortic aneurysm" for aortic_aneurysm_known). Prose that shares no
word with the field (a "recent birth" for gave_birth_recently) escapes the guard. The companion plants a
requirement about a sign that no test marked with it names.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import default_knowledge

from .guards import ROOT, ParsedTest, parse_tests, project_tests

HAZARD_LOG = ROOT / "docs" / "safety" / "hazard-log.md"
SR_HEADING = re.compile(r"^### (SR-[A-Z]+-\d+)\s*$", re.MULTILINE)
# Words that join a field name's parts and say nothing about the sign.
JOINERS = {"a", "an", "and", "by", "in", "of", "on", "or", "over", "the", "to", "with"}
SENTENCE = re.compile(r"[.;:()\u2014]\s*|,\s")


def requirement_texts(log: str) -> dict[str, str]:
    """SR id -> its text (up to the next heading)."""
    parts = SR_HEADING.split(log)
    return {parts[i]: re.split(r"^##", parts[i + 1], flags=re.MULTILINE)[0] for i in range(1, len(parts), 2)}


def _stem(word: str) -> str:
    word = word.lower()
    return word[:-1] if len(word) > 3 and word.endswith("s") else word


def _same_word(field_word: str, text_word: str) -> bool:
    """Equal up to a plural or a short ending (feels/feeling, pregnant/pregnancy), or the field's word
    abbreviates the text's (neuro/neurological), never the other way round (start is not startback)."""
    a, b = _stem(field_word), _stem(text_word)
    if a == b or (len(a) >= 4 and b.startswith(a)):
        return True
    common = 0
    while common < min(len(a), len(b)) and a[common] == b[common]:
        common += 1
    return common >= 4 and len(a) - common <= 3 and len(b) - common <= 3


def names_field(text: str, field: str, label: str | None) -> bool:
    flat = " ".join(text.split())
    if re.search(rf"(?<!\w){re.escape(field)}(?!\w)", flat):
        return True
    if label and label.lower() in flat.lower():
        return True
    words = [w for w in field.split("_") if w not in JOINERS]
    for sentence in SENTENCE.split(flat):
        tokens = re.findall(r"[A-Za-z0-9]+", sentence)
        if all(any(_same_word(w, t) for t in tokens) for w in words):
            return True
    return False


def sign_claims(log: str, fields: Collection[str], labels: Mapping[str, str]) -> dict[str, set[str]]:
    """SR id -> the Case fields its text names (requirements naming none are left out)."""
    claims = {}
    for sr, text in requirement_texts(log).items():
        named = {f for f in fields if names_field(text, f, labels.get(f))}
        if named:
            claims[sr] = named
    return claims


def unbacked_claims(claims: Mapping[str, Collection[str]], tests: Collection[ParsedTest]) -> list[str]:
    """Claims about a sign that no test marked with the requirement names."""
    out = []
    for sr, fields in sorted(claims.items()):
        marked = [t for t in tests if sr in t.safety]
        for field in sorted(fields):
            if not any(field in t.names for t in marked):
                out.append(f"{sr} names {field}, but no test marked {sr} does")
    return out


def _labels() -> dict[str, str]:
    texts = default_knowledge().spec.texts
    return {k.removeprefix("evidence."): v["en"] for k, v in texts.items() if k.startswith("evidence.")}


def test_every_claim_about_a_sign_has_a_marked_test_that_names_it() -> None:
    claims = sign_claims(HAZARD_LOG.read_text(encoding="utf-8"), list(Case.model_fields), _labels())
    # the guard reads the claims it is there for (the code review's example first)
    assert "aortic_aneurysm_known" in claims["SR-RF-4"]
    assert {
        "saddle_numbness",
        "bladder_dysfunction",
        "bowel_incontinence",
        "sexual_dysfunction_new",
    } <= claims["SR-RF-1"]
    assert {"osteoporosis", "trauma"} <= claims["SR-RF-2"] and "anticoagulants" in claims["SR-RF-6"]
    assert unbacked_claims(claims, project_tests()) == []


def test_a_planted_claim_that_no_marked_test_names_is_reported() -> None:
    log = (
        "# Log\n\n## Safety requirements\n\n### SR-X-1\nA known aortic aneurysm gives `emergency`.\n\n"
        "### SR-X-2\nFeeling systemically unwell and blood thinners count; `night_sweats` too.\n\n"
        "### SR-X-3\nThe page has a title.\n\n## Verifying tests\n"
    )
    claims = sign_claims(log, list(Case.model_fields), _labels())
    assert claims == {
        "SR-X-1": {"aortic_aneurysm_known"},
        "SR-X-2": {"feels_systemically_unwell", "anticoagulants", "night_sweats"},
    }
    source = """
import pytest

CASE = {"age": 70, "feels_systemically_unwell": True}


@pytest.mark.safety("SR-X-1")
def test_marked_but_silent() -> None:
    assert True


@pytest.mark.safety("SR-X-2")
def test_names_two_through_a_table(anticoagulants: bool) -> None:
    assert CASE


def test_names_the_aneurysm_but_is_not_marked() -> None:
    assert {"aortic_aneurysm_known": True}
"""
    tests = parse_tests(source, "t.py")
    assert unbacked_claims(claims, tests) == [
        "SR-X-1 names aortic_aneurysm_known, but no test marked SR-X-1 does",
        "SR-X-2 names night_sweats, but no test marked SR-X-2 does",
    ]
