"""`ask`: BM25 over the education passages with German (or English) stemming, offline."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.plan import ask as ask_module
from rueckenlotse.plan.ask import MAX_K, ask


@pytest.mark.parametrize(
    ("question", "lang", "module"),
    [
        ("Brauche ich ein MRT?", "de", "mri_findings"),
        ("Hilft Bettruhe?", "de", "movement_and_bed_rest"),
        ("Soll ich mich ins Bett legen und schonen?", "de", "movement_and_bed_rest"),
        ("Was bedeutet eine Vorwölbung der Bandscheibe im MRT?", "de", "mri_findings"),
        ("Wie funktioniert Pain Reprocessing Therapy?", "de", "pain_and_nervous_system"),
        ("Warum tut es immer noch weh, obwohl alles verheilt ist?", "de", "pain_and_nervous_system"),
        ("Darf ich Ibuprofen nehmen?", "de", "medication_facts"),
        ("Hilft Paracetamol?", "de", "medication_facts"),
        ("Wann muss ich den Notarzt rufen?", "de", "when_to_seek_care"),
        ("Die Physiotherapie hilft nicht, was nun?", "de", "physiotherapy_not_helping"),
        (
            "Mein Arzt will operieren. Soll ich eine Zweitmeinung einholen?",
            "de",
            "surgery_and_second_opinion",
        ),
        ("Zahlt die Krankenkasse Rehasport?", "de", "rehabilitation_and_insurance"),
        ("Was zahlt die Kasse für einen Rückenkurs?", "de", "rehabilitation_and_insurance"),
        ("Wie richte ich meinen Schreibtisch im Büro ein?", "de", "back_friendly_workplace"),
        ("Hilft ein Korsett?", "de", "supports_and_braces"),
        ("Hilft eine Wärmflasche?", "de", "heat_and_relaxation"),
        ("Do I need an MRI?", "en", "mri_findings"),
        ("Does bed rest help?", "en", "movement_and_bed_rest"),
        ("Should I take ibuprofen?", "en", "medication_facts"),
        ("When should I call an ambulance?", "en", "when_to_seek_care"),
        ("My surgeon suggests an operation. Can I get a second opinion?", "en", "surgery_and_second_opinion"),
        ("Will health insurance pay for rehab sport?", "en", "rehabilitation_and_insurance"),
        ("Should I wear a back brace?", "en", "supports_and_braces"),
        ("How does pain reprocessing therapy work?", "en", "pain_and_nervous_system"),
    ],
)
def test_questions_find_their_module_first(question: str, lang: str, module: str) -> None:
    hits = ask(question, lang=lang)
    assert hits, question
    assert hits[0].module_id == module, [(h.module_id, h.score) for h in hits]


def test_mri_answer_is_the_do_i_need_an_mri_passage() -> None:
    hits = ask("Brauche ich ein MRT?")
    assert hits[0].text.startswith("Brauche ich ein MRT?")
    assert "brinjikji-2015" in hits[0].sources


def test_stemming_finds_other_word_forms() -> None:
    # "Bandscheiben" (plural) finds passages that only say "Bandscheibe".
    hits = ask("Bandscheiben", k=5)
    assert hits
    assert any("Bandscheibe" in h.text and "Bandscheiben" not in h.text for h in hits)
    analyse = ask_module._index("de").analyse
    assert analyse("Bandscheiben")[0] == analyse("Bandscheibe")[0]
    assert analyse("Schmerzen")[0] == analyse("Schmerz")[0]


def test_german_compounds_are_split_into_known_parts() -> None:
    analyse = ask_module._index("de").analyse
    tokens = analyse("Bandscheibenvorfall")
    assert analyse("Bandscheibe")[0] in tokens
    assert ask("Bandscheibenvorfall", k=1)


def test_english_uses_english_stemming() -> None:
    analyse = ask_module._index("en").analyse
    assert analyse("scans")[0] == analyse("scan")[0]
    assert ask("scans", lang="en", k=1)[0].module_id == "mri_findings"


@pytest.mark.parametrize("question", ["", "   ", "?!", "xyzzy quux", "der die das und"])
def test_empty_or_unknown_questions_get_no_answer(question: str) -> None:
    assert ask(question) == []
    assert ask(question, lang="en") == []


@pytest.mark.parametrize("k", [1, 2, 5, MAX_K])
def test_at_most_k_hits_best_first(k: int) -> None:
    hits = ask("Rückenschmerzen Bewegung Arzt", k=k)
    assert 1 <= len(hits) <= k
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)


@pytest.mark.safety("SR-INF-2")
def test_hits_carry_module_title_and_resolving_sources(kb: KnowledgeBase) -> None:
    for lang in ("de", "en"):
        for hit in ask("Schmerz pain", lang=lang, k=MAX_K):
            assert hit.module_title and hit.text and hit.sources
            assert set(hit.sources) <= set(kb.sources)


def test_language_switches_the_passages() -> None:
    de = ask("MRT", k=1)[0]
    en = ask("MRI", lang="en", k=1)[0]
    assert de.module_id == en.module_id and de.text != en.text


@pytest.mark.parametrize(
    ("kwargs", "message"), [({"k": 0}, "k must"), ({"k": 99}, "k must"), ({"lang": "fr"}, "lang")]
)
def test_bad_arguments_are_rejected(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ask("MRT", **kwargs)


def test_the_index_is_built_once_per_language() -> None:
    assert ask_module._index("de") is ask_module._index("de")
    assert ask_module._index("de") is not ask_module._index("en")


def test_works_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise OSError("network access in a test")

    ask_module._index.cache_clear()
    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    try:
        assert ask("Brauche ich ein MRT?")[0].module_id == "mri_findings"
        assert ask("Do I need an MRI?", lang="en")[0].module_id == "mri_findings"
    finally:
        ask_module._index.cache_clear()
