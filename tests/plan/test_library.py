"""The exercise library and the education modules: coverage, translations, sources, readability, errors."""

from __future__ import annotations

import re
import shutil
import statistics
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import textstat
import yaml

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.knowledge import DATA_DIR
from rueckenlotse.plan.library import (
    AVOID_IF_FIELDS,
    LEVELS,
    REGIONS,
    Library,
    LibraryError,
    LocalText,
    default_library,
    load_library,
)

MIN_EACH = 45
MIN_AVERAGE = 60
REQUIRED_MODULES = {
    "movement_and_bed_rest",
    "mri_findings",
    "pain_and_nervous_system",
    "medication_facts",
    "when_to_seek_care",
    "physiotherapy_not_helping",
    "surgery_and_second_opinion",
    "rehabilitation_and_insurance",
    "back_friendly_workplace",
    "supports_and_braces",
}
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


@pytest.fixture(scope="module")
def lib() -> Library:
    return default_library()


def german_flesch(texts: list[str]) -> list[float]:
    textstat.set_lang("de")
    return [textstat.flesch_reading_ease(t) for t in texts]


def local_texts(lib: Library) -> Iterator[tuple[str, LocalText]]:
    for e in [*lib.exercises.values(), *lib.comfort.values()]:
        yield f"{e.id}.title", e.title
        yield f"{e.id}.feel", e.feel
        yield f"{e.id}.stop_if", e.stop_if
        for n, step in enumerate(e.how):
            yield f"{e.id}.how[{n}]", step
    for m in lib.modules.values():
        yield f"{m.id}.title", m.title
        for n, passage in enumerate(m.passages):
            yield f"{m.id}.passages[{n}]", passage
    for key, text in lib.ui.items():
        yield f"plan_ui.{key}", text


# --- exercises -------------------------------------------------------------------------------------
def test_at_least_24_exercises(lib: Library) -> None:
    assert len(lib.exercises) >= 24


@pytest.mark.parametrize("region", REGIONS)
@pytest.mark.parametrize("level", LEVELS)
def test_every_region_and_level_has_exercises_with_an_alternative(
    lib: Library, region: str, level: int
) -> None:
    exercises = lib.exercises_for(region, level)
    assert exercises, (region, level)
    for exercise in exercises:
        same_region = [a for a in exercise.alternatives if region in lib.exercises[a].regions]
        assert same_region, f"{exercise.id} has no alternative for {region}"


def test_alternatives_resolve_and_share_a_region(lib: Library) -> None:
    for exercise in lib.exercises.values():
        assert exercise.alternatives
        for alt in exercise.alternatives:
            assert alt in lib.exercises and alt != exercise.id
            assert set(lib.exercises[alt].regions) & set(exercise.regions), (exercise.id, alt)


def test_exercise_fields(lib: Library) -> None:
    for exercise in lib.exercises.values():
        assert re.fullmatch(r"[a-z][a-z0-9_]*", exercise.id)
        assert set(exercise.regions) <= set(REGIONS)
        assert (exercise.minutes is None) != (exercise.repetitions is None), exercise.id
        assert len(exercise.how) >= 2, exercise.id
        assert set(exercise.avoid_if) <= AVOID_IF_FIELDS


@pytest.mark.safety("SR-INF-1")
def test_every_exercise_says_when_to_stop_and_seek_help(lib: Library) -> None:
    for exercise in lib.exercises.values():
        de, en = exercise.stop_if.de, exercise.stop_if.en
        assert "Hören Sie auf" in de and ("112" in de or "Arzt" in de), exercise.id
        assert "Stop" in en and ("112" in en or "doctor" in en), exercise.id


def test_prone_and_loaded_flexion_exercises_are_ruled_out_where_unsafe(lib: Library) -> None:
    prone = [e for e in lib.exercises.values() if "Bauchlage" in e.title.de]
    assert prone and all("pregnant" in e.avoid_if for e in prone)
    assert {"osteoporosis", "long_term_steroids"} <= set(lib.exercises["curl_up"].avoid_if)


def test_heat_and_relaxation_items(lib: Library) -> None:
    kinds = [c.kind for c in lib.comfort.values()]
    assert kinds.count("heat") >= 1 and kinds.count("relaxation") >= 2
    heat_warnings = " ".join(c.stop_if.de for c in lib.comfort.values() if c.kind == "heat")
    assert "taub" in heat_warnings  # no heat on numb skin: burns go unnoticed


# --- education -------------------------------------------------------------------------------------
def test_every_required_topic_has_a_module(lib: Library) -> None:
    assert len(lib.modules) >= 10
    assert REQUIRED_MODULES <= set(lib.modules)


@pytest.mark.parametrize(
    ("module", "facts"),
    [
        ("mri_findings", ["37 von 100", "80 von 100", "84 von 100"]),
        ("pain_and_nervous_system", ["Pain Reprocessing Therapy", "66 von 100", "20", "10 von 100", "151"]),
        ("movement_and_bed_rest", ["Bettruhe hilft nicht"]),
        ("medication_facts", ["Ibuprofen", "Paracetamol", "Metamizol", "Opioide", "Spritze"]),
        ("when_to_seek_care", ["112", "116117", "Blase"]),
        ("physiotherapy_not_helping", ["zu Hause", "Nervensystem", "Arzt"]),
        ("surgery_and_second_opinion", ["zweite Meinung", "Krankenkasse", "112"]),
        (
            "rehabilitation_and_insurance",
            ["Rehasport", "Funktionstraining", "verordnen", "Krankenkasse", "Reha"],
        ),
        ("back_friendly_workplace", ["Haltung", "Heben", "Arbeit"]),
        ("supports_and_braces", ["Korsett", "kurz"]),
    ],
)
def test_modules_carry_their_key_facts(lib: Library, module: str, facts: list[str]) -> None:
    text = " ".join(p.de for p in lib.modules[module].passages)
    for fact in facts:
        assert fact in text, (module, fact)


def test_passages_are_two_to_five_sentences(lib: Library) -> None:
    for module in lib.modules.values():
        for n, passage in enumerate(module.passages):
            for lang in ("de", "en"):
                sentences = [s for s in SENTENCE_END.split(passage.get(lang).strip()) if s]
                assert 2 <= len(sentences) <= 5, (module.id, n, lang)


@pytest.mark.safety("SR-INF-2")
def test_every_module_source_resolves(lib: Library, kb: KnowledgeBase) -> None:
    for module in lib.modules.values():
        assert module.sources
        assert set(module.sources) <= set(kb.sources), module.id


@pytest.mark.safety("SR-INF-2")
def test_facts_beyond_the_brief_have_unchecked_sources(kb: KnowledgeBase) -> None:
    for source in ("sgb-v-27b", "sgb-v-20", "sgb-ix-64", "sgb-vi-15"):
        assert kb.sources[source].status == "unchecked"


@pytest.mark.safety("SR-INF-3")
def test_bed_rest_is_never_advised(lib: Library) -> None:
    for key, text in local_texts(lib):
        for lang in ("de", "en"):
            value = text.get(lang)
            if re.search(r"Bettruhe|bed rest", value):
                assert re.search(r"nicht|ab\b|not|against", value), key


# --- languages and readability ---------------------------------------------------------------------
@pytest.mark.safety("SR-LANG-1")
def test_every_text_exists_in_german_and_english(lib: Library) -> None:
    for key, text in local_texts(lib):
        assert text.de.strip() and text.en.strip(), key
        if ".passages[" in key or ".title" in key:
            assert text.de != text.en, f"{key}: not translated"


def test_ui_placeholders_agree_between_languages(lib: Library) -> None:
    for key, text in lib.ui.items():
        de, en = (set(re.findall(r"\{(\w+)\}", text.get(lang))) for lang in ("de", "en"))
        assert de == en, key


@pytest.mark.safety("SR-LANG-2")
def test_german_passages_are_easy_to_read(lib: Library) -> None:
    passages = [p.de for m in lib.modules.values() for p in m.passages]
    scores = german_flesch(passages)
    average = statistics.mean(scores)
    print(f"education passages: n={len(scores)}, average {average:.1f}, minimum {min(scores):.1f}")
    assert min(scores) >= MIN_EACH
    assert average >= MIN_AVERAGE


@pytest.mark.safety("SR-LANG-2")
def test_german_exercise_texts_are_easy_to_read(lib: Library) -> None:
    items = [*lib.exercises.values(), *lib.comfort.values()]
    texts = [t for e in items for t in (e.feel.de, e.stop_if.de, " ".join(s.de for s in e.how))]
    scores = german_flesch(texts)
    average = statistics.mean(scores)
    print(f"exercise texts: n={len(scores)}, average {average:.1f}, minimum {min(scores):.1f}")
    assert min(scores) >= MIN_EACH
    assert average >= MIN_AVERAGE


# --- loading errors name the exercise or module ----------------------------------------------------
def broken_copy(tmp_path: Path, filename: str, mutate: Callable[[Any], None]) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _exercise(data: Any, exercise_id: str) -> dict[str, Any]:
    return next(e for e in data["exercises"] if e["id"] == exercise_id)  # type: ignore[no-any-return]


def _module(data: Any, module_id: str) -> dict[str, Any]:
    return next(m for m in data["modules"] if m["id"] == module_id)  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("filename", "mutate", "message"),
    [
        ("exercises.yaml", lambda d: _exercise(d, "bridge")["alternatives"].append("no_such"), "bridge"),
        (
            "exercises.yaml",
            lambda d: _exercise(d, "bridge")["alternatives"].append("neck_turns"),
            "shares no region",
        ),
        ("exercises.yaml", lambda d: _exercise(d, "cat_cow")["title"].pop("en"), "cat_cow"),
        ("exercises.yaml", lambda d: _exercise(d, "cat_cow").update(colour="red"), "cat_cow"),
        ("exercises.yaml", lambda d: _exercise(d, "cat_cow").update(minutes=3), "cat_cow"),
        ("exercises.yaml", lambda d: _exercise(d, "cat_cow").update(level="1"), "cat_cow"),
        ("exercises.yaml", lambda d: _exercise(d, "curl_up").update(avoid_if=["flying"]), "curl_up"),
        ("exercises.yaml", lambda d: _exercise(d, "curl_up").update(regions=["legs"]), "curl_up"),
        ("exercises.yaml", lambda d: _exercise(d, "curl_up").update(alternatives=[]), "curl_up"),
        ("exercises.yaml", lambda d: _exercise(d, "curl_up").update(id="bridge"), "bridge"),
        (
            "education.yaml",
            lambda d: _module(d, "mri_findings")["sources"].append("no-such-source"),
            "mri_findings",
        ),
        ("education.yaml", lambda d: _module(d, "flare_ups")["passages"][0].pop("de"), "flare_ups"),
        ("education.yaml", lambda d: _module(d, "flare_ups")["passages"][0].update(de=True), "flare_ups"),
        ("education.yaml", lambda d: d["plan_ui"]["plan.title"].update(en="Plan"), "plan.title"),
    ],
)
def test_loading_fails_naming_the_culprit(
    tmp_path: Path, filename: str, mutate: Callable[[Any], None], message: str
) -> None:
    with pytest.raises(LibraryError, match=re.escape(message)):
        load_library(broken_copy(tmp_path, filename, mutate))


def test_a_region_without_a_level_fails(tmp_path: Path) -> None:
    def drop_neck_level_3(data: Any) -> None:
        data["exercises"] = [e for e in data["exercises"] if not ("neck" in e["regions"] and e["level"] == 3)]
        for e in data["exercises"]:
            e["alternatives"] = [a for a in e["alternatives"] if any(x["id"] == a for x in data["exercises"])]

    with pytest.raises(LibraryError, match="region neck at level 3"):
        load_library(broken_copy(tmp_path, "exercises.yaml", drop_neck_level_3))


def test_default_library_is_loaded_once() -> None:
    assert default_library() is default_library()
