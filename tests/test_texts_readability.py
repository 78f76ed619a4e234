"""German patient texts are plain: German Flesch reading ease (textstat) average >= 60, none below 40."""

from __future__ import annotations

import statistics

import pytest
import textstat

from rueckenlotse.core.kb import KnowledgeBase

# Whole-sentence texts a patient reads; labels and templates of a few words are not scored.
PATIENT_TEXT_PREFIXES = (
    "triage.",
    "condition.",
    "rule.",
    "rec.",
    "imaging.",
    "neuroplastic.",
    "ui.disclaimer",
)
MIN_EACH = 40
MIN_AVERAGE = 60


def patient_texts(kb: KnowledgeBase) -> dict[str, str]:
    return {
        key: entry["de"]
        for key, entry in kb.spec.texts.items()
        if key.startswith(PATIENT_TEXT_PREFIXES) and not key.endswith(".label")
    }


def scores(texts: dict[str, str]) -> dict[str, float]:
    textstat.set_lang("de")
    return {key: textstat.flesch_reading_ease(text) for key, text in texts.items()}


@pytest.mark.safety("SR-LANG-2")
def test_german_patient_texts_are_easy_to_read(kb: KnowledgeBase) -> None:
    measured = scores(patient_texts(kb))
    assert len(measured) >= 80
    too_hard = {k: round(v) for k, v in measured.items() if v < MIN_EACH}
    assert not too_hard
    average = statistics.mean(measured.values())
    print(f"German Flesch reading ease: average {average:.1f}, minimum {min(measured.values()):.1f}")
    assert average >= MIN_AVERAGE


@pytest.mark.safety("SR-LANG-2")
def test_the_measure_can_tell_hard_from_easy_text() -> None:
    hard = (
        "Die interdisziplinäre multimodale Schmerztherapie berücksichtigt biopsychosoziale "
        "Chronifizierungsfaktoren einschließlich arbeitsplatzbezogener Belastungskonstellationen."
    )
    easy = "Bleiben Sie in Bewegung. Gehen Sie jeden Tag ein Stück."
    result = scores({"hard": hard, "easy": easy})
    assert result["hard"] < MIN_EACH < result["easy"]
