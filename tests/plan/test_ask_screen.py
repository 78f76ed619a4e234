"""`ask` screens every question for warning signs first (contract 2 "Follow-up", invariant 9; SR-ASK-1).

The expected levels below are the contract-2 triage minimum of the sign alone (or of the signs together),
written here from the contract, not read from ask_screen.yaml.
"""

from __future__ import annotations

import shutil
import statistics
from pathlib import Path

import pytest
import textstat
import yaml

from rueckenlotse.core.kb import KnowledgeError
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import DATA_DIR
from rueckenlotse.knowledge.ask_screen import SCREEN_LEVELS, fold
from rueckenlotse.knowledge.loader import default_ask_screen, load_ask_screen
from rueckenlotse.plan.ask import ask_screened
from rueckenlotse.plan.ask_screen import screen

# (question, lang, level the screen must find)
PHRASINGS: list[tuple[str, str, str]] = [
    # the examples
    ("Ich kann nicht mehr pinkeln", "de", "emergency"),
    ("Ich kann den Urin nicht mehr halten", "de", "emergency"),
    ("numb between my legs", "en", "emergency"),
    ("Druck auf der Brust", "de", "emergency"),
    ("Fieber nach der Spritze in den Rücken", "de", "emergency"),
    # bladder, bowel, saddle, sexual function: 112
    ("Seit gestern kann ich kaum noch Wasser lassen", "de", "emergency"),
    ("Ich habe mir in die Hose gemacht, ohne es zu merken", "de", "emergency"),
    ("Bin plötzlich inkontinent, ist das vom Rücken?", "de", "emergency"),
    ("Ich bin taub beim Abwischen", "de", "emergency"),
    ("Am Po ist alles taub", "de", "emergency"),
    ("Taubheit im Intimbereich seit heute", "de", "emergency"),
    ("Ich spüre nichts beim Abwischen", "de", "emergency"),
    ("Ich kann den Stuhl nicht mehr halten", "de", "emergency"),
    ("Seit dem Bandscheibenvorfall keine Erektion mehr", "de", "emergency"),
    ("I can't pee since this morning", "en", "emergency"),
    ("I cant urinate", "en", "emergency"),
    ("I wet myself and did not notice", "en", "emergency"),
    ("My bum feels numb when I wipe", "en", "emergency"),
    ("I lost control of my bowels", "en", "emergency"),
    # both legs, paralysis, walking, hands
    ("Beide Beine sind taub", "de", "emergency"),
    ("Taubheit in beiden Beinen", "de", "emergency"),
    ("Meine Beine sind ganz schwach", "de", "emergency"),
    ("My legs are weak and numb", "en", "emergency"),
    ("Mein Fuß hängt beim Gehen", "de", "emergency"),
    ("Fuss haengt", "de", "emergency"),
    ("Ich habe eine Lähmung im Bein", "de", "emergency"),
    ("Ich kann den Fuß nicht mehr heben", "de", "emergency"),
    ("I have foot drop since yesterday", "en", "emergency"),
    ("Schmerzen strahlen in beide Beine aus", "de", "urgent"),
    ("pain going down both legs", "en", "urgent"),
    ("Schwäche im Bein", "de", "urgent"),
    ("Ich kann vor Schmerzen nicht laufen", "de", "urgent"),
    ("Kann nicht mehr gehen", "de", "urgent"),
    ("I cannot walk because of the pain", "en", "urgent"),
    ("Mein Gang ist so unsicher", "de", "urgent"),
    ("Ich bekomme die Knöpfe nicht mehr zu", "de", "urgent"),
    ("Kribbeln in beiden Händen", "de", "urgent"),
    ("Mein Bein kribbelt", "de", "soon"),
    # stroke-like, chest, breath, tearing pain, aorta, heart pattern: 112
    ("Ich sehe Doppelbilder und habe Nackenschmerzen", "de", "emergency"),
    ("Plötzlich stärkste Kopfschmerzen", "de", "emergency"),
    ("My speech is slurred", "en", "emergency"),
    ("Schmerzen in der Brust beim Treppensteigen", "de", "emergency"),
    ("Brustschmerzen und Rückenschmerzen", "de", "emergency"),
    ("Brust", "de", "emergency"),
    ("I have chest pressure and back pain", "en", "emergency"),
    ("Ich habe Atemnot", "de", "emergency"),
    ("Ich kriege keine Luft", "de", "emergency"),
    ("I am short of breath", "en", "emergency"),
    ("Plötzlich reißender Schmerz im Rücken", "de", "emergency"),
    ("Ich habe ein Aneurysma der Bauchschlagader", "de", "emergency"),
    ("Rückenschmerzen mit kaltem Schweiß", "de", "emergency"),
    ("back pain with a cold sweat", "en", "emergency"),
    # infection and sepsis
    ("Fieber und Rückenschmerzen", "de", "urgent"),
    ("Ich habe 39 Grad", "de", "urgent"),
    ("I have a fever", "en", "urgent"),
    ("Schüttelfrost", "de", "urgent"),
    ("Schuettelfrost seit gestern", "de", "urgent"),
    ("I have shaking chills", "en", "urgent"),
    ("Ich fühle mich schwer krank", "de", "urgent"),
    ("Fieber nach der OP am Rücken", "de", "emergency"),
    ("fever after my epidural injection", "en", "emergency"),
    ("Fieber und ein taubes Bein", "de", "emergency"),
    ("Ich bin umgekippt und habe Rückenschmerzen", "de", "emergency"),
    ("Seit der Spritze in den Rücken tut es mehr weh", "de", "soon"),
    ("Ich spritze Drogen", "de", "soon"),
    # cancer, weight, night, pattern of the pain
    ("Ich hatte Brustkrebs", "de", "soon"),
    ("Krebs", "de", "soon"),
    ("I had prostate cancer", "en", "soon"),
    ("Ich habe Krebs und das Bein ist schwach", "de", "emergency"),
    ("Ich hatte Krebs und nachts starke Schmerzen", "de", "urgent"),
    ("Gewichtsverlust", "de", "soon"),
    ("Ich habe 8 Kilo verloren ohne Diät", "de", "soon"),
    ("I lost weight without trying", "en", "soon"),
    ("Nachtschweiß und Rückenschmerzen", "de", "soon"),
    ("Die Schmerzen werden immer schlimmer", "de", "soon"),
    ("Keine Position hilft, immer gleich stark", "de", "soon"),
    # injuries, bones, blood thinners
    ("Nach einem Sturz tut der Rücken weh", "de", "soon"),
    ("Ich bin auf der Treppe hingefallen", "de", "soon"),
    ("I fell on the ice", "en", "soon"),
    ("Nach einem Unfall habe ich Nackenschmerzen", "de", "urgent"),
    ("Schmerzen seit dem Autounfall", "de", "urgent"),
    ("Ich nehme Marcumar und bin gestürzt", "de", "urgent"),
    ("Nach dem Sturz kann ich nicht mehr laufen", "de", "emergency"),
    ("I fell and now I cannot walk", "en", "emergency"),
    ("Ich habe Osteoporose", "de", "soon"),
    # urine, shingles
    ("Blut im Urin", "de", "soon"),
    ("Es brennt beim Pinkeln", "de", "soon"),
    ("blood in my pee", "en", "soon"),
    ("Gürtelrose", "de", "urgent"),
    ("Ein brennender Ausschlag wie ein Gürtel", "de", "urgent"),
    ("I have shingles on my back", "en", "urgent"),
    # pregnancy and after birth
    ("Ich bin schwanger und habe eine Blutung", "de", "emergency"),
    ("Schwanger, 30. SSW, Rückenschmerzen in Wellen", "de", "emergency"),
    ("Ich habe Wehen und Rückenschmerzen", "de", "emergency"),
    ("Mir läuft Fruchtwasser raus", "de", "emergency"),
    ("I am pregnant and bleeding", "en", "emergency"),
    ("my waters broke and my back hurts", "en", "emergency"),
    ("Ich bin schwanger und es brennt beim Wasserlassen", "de", "emergency"),
]

# Everyday questions without a warning sign: the screen must stay silent.
NO_HIT = [
    ("Brustwirbelsäule", "de"),
    ("Ich habe Schmerzen in der Brustwirbelsäule", "de"),
    ("Schmerzen in der Brust-Wirbelsäule", "de"),
    ("Was hilft bei Schmerzen in der BWS?", "de"),
    ("BWS", "de"),
    ("Was hilft bei Rückenschmerzen?", "de"),
    ("Brauche ich ein MRT?", "de"),
    ("Hilft Bettruhe?", "de"),
    ("Darf ich Ibuprofen nehmen?", "de"),
    ("Welcher Stuhl ist gut für den Rücken?", "de"),
    ("Hilft Entzündungshemmer bei Rückenschmerzen?", "de"),
    ("Soll ich abnehmen, um den Rücken zu entlasten?", "de"),
    ("Tut mir das Bein weh, weil ich viel sitze?", "de"),
    ("Is heat good?", "en"),
    ("Do I need an MRI?", "en"),
    ("Should I take ibuprofen?", "en"),
    ("I fall asleep on the sofa, is that bad for my back?", "en"),
    ("Can I go to work with back pain?", "en"),
]

# A denied sign keeps its level, but is worded as a condition.
DENIED = [
    ("Ich habe kein Fieber", "de", "fever", "Falls Sie Fieber haben: "),
    ("Fieber habe ich keins, hilft Wärme?", "de", "fever", "Falls Sie Fieber haben: "),
    ("Rückenschmerzen ohne Fieber", "de", "fever", "Falls Sie Fieber haben: "),
    ("no fever, is heat good?", "en", "fever", "If you have a fever: "),
    ("I don't have chest pain", "en", "chest", "If you have new pain, pressure or tightness in your chest: "),
    ("Keine Taubheit beim Abwischen", "de", "saddle_numbness", "Falls Sie zwischen den Beinen"),
    ("Was mache ich, wenn ich nicht mehr pinkeln kann?", "de", "bladder", "Falls Sie den Urin nicht"),
]


@pytest.mark.safety("SR-ASK-1")
def test_there_are_enough_phrasings() -> None:
    assert len(PHRASINGS) >= 60
    assert {lang for _, lang, _ in PHRASINGS} == {"de", "en"}


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(("question", "lang", "level"), PHRASINGS)
def test_warning_words_find_their_level_and_the_seek_care_text_comes_first(
    question: str, lang: str, level: str
) -> None:
    found, passages = ask_screened(question, lang=lang)
    assert found.level == level, [(h.id, h.level) for h in found.hits]
    levels = [SCREEN_LEVELS.index(h.level) for h in found.hits]
    assert levels == sorted(levels, reverse=True)  # highest first
    first = found.hits[0]
    assert first.level == level
    if level == "emergency":
        # the first sentence of the text (after the "Falls Sie …:" of a condition) names 112
        body = first.text if first.stated else first.text.split(": ", 1)[1]
        assert "112" in body.split(". ")[0], first.text
    if found.stated and level == "emergency":
        # after a stated emergency sign, no passage may talk the 112 down
        assert all("112" in p.text for p in passages), [p.text for p in passages]


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(("question", "lang"), NO_HIT)
def test_everyday_questions_have_no_screen_hit(question: str, lang: str) -> None:
    result = screen(question, lang=lang)
    assert result.hits == [] and result.level is None, [(h.id, h.level) for h in result.hits]


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(("question", "lang", "sign", "start"), DENIED)
def test_a_denied_sign_still_comes_first_worded_as_a_condition(
    question: str, lang: str, sign: str, start: str
) -> None:
    result = screen(question, lang=lang)
    hit = next(h for h in result.hits if h.id == sign)
    assert not hit.stated
    assert hit.text.startswith(start), hit.text
    assert result.level is not None and result.hits[0].level == result.level


@pytest.mark.safety("SR-ASK-1")
def test_stated_and_denied_signs_are_worded_differently() -> None:
    stated = screen("Ich habe Fieber")
    denied = screen("Ich habe kein Fieber")
    assert stated.level == denied.level == "urgent"
    assert stated.hits[0].stated and not denied.hits[0].stated
    assert denied.hits[0].text == f"Falls Sie Fieber haben: {stated.hits[0].text}"


@pytest.mark.safety("SR-ASK-1")
def test_a_topic_word_is_always_a_condition_and_keeps_its_level() -> None:
    # "schwanger" alone is no warning sign, but the signs that make it one must be read first.
    result = screen("Ich bin schwanger, welche Übungen sind gut?")
    assert result.level == "emergency" and not result.stated
    assert result.hits[0].text.startswith("Falls Sie schwanger sind und Wehen")
    assert "112" in result.hits[0].text


@pytest.mark.safety("SR-ASK-1")
def test_english_and_german_texts_follow_lang() -> None:
    german = screen("I can't pee", lang="de").hits[0].text
    english = screen("Ich kann nicht pinkeln", lang="en").hits[0].text
    assert german.startswith("Rufen Sie jetzt den Notruf 112 an.")
    assert english.startswith("Call 112 now.")


def test_folding_treats_umlauts_sharp_s_and_hyphens_alike() -> None:
    assert fold("Fuß HÄNGT") == fold("fuss haengt") == "fuss haengt"
    assert fold("Brust-Wirbelsäule") == "brust wirbelsaeule"
    for spelling in ("Gürtelrose", "Guertelrose", "Gurtelrose", "GÜRTELROSE"):
        assert screen(spelling).level == "urgent", spelling


# ---- the lexicon covers every warning sign of the contract -------------------------------------
# Case fields that are warning signs (alone or as part of a contract-2 triage rule), from the contract.
WARNING_SIGN_FIELDS = {
    "trauma",
    "weakness",
    "numbness_or_tingling",
    "neuro_bilateral",
    "neuro_bilateral_legs",
    "neuro_bilateral_arms",
    "saddle_numbness",
    "bladder_dysfunction",
    "bowel_incontinence",
    "sexual_dysfunction_new",
    "gait_unsteady",
    "hand_clumsiness",
    "cannot_walk",
    "headache_or_neuro_sudden",
    "fever",
    "rigors",
    "feels_systemically_unwell",
    "sepsis_signs",
    "unexplained_weight_loss",
    "night_sweats",
    "cancer_history",
    "cancer_active",
    "night_pain",
    "pain_worse_lying_or_straining",
    "pain_progressive",
    "pain_unaffected_by_movement",
    "immunosuppression",
    "iv_drug_use",
    "recent_infection_or_spinal_procedure",
    "recent_spinal_procedure",
    "osteoporosis",
    "long_term_steroids",
    "anticoagulants",
    "chest_pain_or_breathlessness",
    "pain_with_exertion_sweating_or_nausea",
    "sudden_tearing_pain",
    "aortic_aneurysm_known",
    "urinary_symptoms",
    "band_like_rash_or_burning",
    "pregnant",
    "pregnancy_warning_signs",
    "gave_birth_recently",
}
# Case fields that are not warning signs; together the two sets must name every Case field, so a new
# field fails this test until someone decides whether `ask` must screen for it.
NOT_WARNING_SIGNS = {
    "age",
    "sex",
    "regions",
    "duration_weeks",
    "pain_intensity",
    "recurrent",
    "injury_checked_by_doctor",
    "leg_pain",
    "arm_pain",
    "morning_stiffness_over_30min",
    "better_with_movement_not_rest",
    "wakes_second_half_of_night",
    "associated_inflammatory_disease",
    "nsaid_risk",
    "diabetes",
    "pregnancy_week",
    "startback",
    "neuroplastic",
    "physiotherapy_weeks",
    "physiotherapy_helped",
    "home_exercise",
    "imaging_findings",
}


@pytest.mark.safety("SR-ASK-1")
def test_every_case_field_is_classified() -> None:
    fields = set(Case.model_fields)
    assert WARNING_SIGN_FIELDS | NOT_WARNING_SIGNS == fields, sorted(
        fields ^ (WARNING_SIGN_FIELDS | NOT_WARNING_SIGNS)
    )
    assert not WARNING_SIGN_FIELDS & NOT_WARNING_SIGNS


@pytest.mark.safety("SR-ASK-1")
def test_every_warning_sign_field_has_a_lexicon_entry_that_shows_a_text() -> None:
    spec = default_ask_screen()
    covered = {f for entry in spec.entries if entry.kind != "part" for f in entry.fields}
    assert WARNING_SIGN_FIELDS <= covered, sorted(WARNING_SIGN_FIELDS - covered)


# Contract words the lexicon must know, each with the field it stands for.
CONTRACT_WORDS = [
    ("kann nicht pinkeln", "bladder_dysfunction"),
    ("Urin nicht halten", "bladder_dysfunction"),
    ("taub beim Abwischen", "saddle_numbness"),
    ("Fuß hängt", "weakness"),
    ("kann nicht laufen", "cannot_walk"),
    ("Krebs", "cancer_history"),
    ("Fieber", "fever"),
    ("Schüttelfrost", "rigors"),
    ("Brust", "chest_pain_or_breathlessness"),
    ("Atemnot", "chest_pain_or_breathlessness"),
    ("Blut im Urin", "urinary_symptoms"),
    ("nach der Spritze", "recent_spinal_procedure"),
    ("Sturz", "trauma"),
    ("Unfall", "trauma"),
    ("schwanger und Blutung", "pregnancy_warning_signs"),
    ("Lähmung", "weakness"),
    ("beide Beine", "neuro_bilateral_legs"),
    ("Gewichtsverlust", "unexplained_weight_loss"),
    ("Gürtelrose", "band_like_rash_or_burning"),
    ("Wehen", "pregnancy_warning_signs"),
    ("Fruchtwasser", "pregnancy_warning_signs"),
]


@pytest.mark.safety("SR-ASK-1")
@pytest.mark.parametrize(("words", "field"), CONTRACT_WORDS)
def test_the_contract_words_are_screened(words: str, field: str) -> None:
    result = screen(words)
    assert any(field in hit.fields for hit in result.hits), [(h.id, h.fields) for h in result.hits]


# ---- the texts ----------------------------------------------------------------------------------
@pytest.mark.safety("SR-ASK-1")
def test_emergency_texts_name_112_in_the_first_sentence() -> None:
    spec = default_ask_screen()
    items = [*spec.entries, *spec.combinations]
    for item in items:
        if item.level != "emergency" or item.text is None:
            continue
        for lang in ("de", "en"):
            first_sentence = item.text.get(lang).split(". ")[0]
            assert "112" in first_sentence, (item.id, lang)


@pytest.mark.safety("SR-LANG-2")
def test_german_screen_texts_are_easy_to_read() -> None:
    spec = default_ask_screen()
    texts = {item.id: item.text.de for item in [*spec.entries, *spec.combinations] if item.text is not None}
    textstat.set_lang("de")
    scores = {key: textstat.flesch_reading_ease(text) for key, text in texts.items()}
    assert not {k: round(v) for k, v in scores.items() if v < 40}
    assert statistics.mean(scores.values()) >= 55


@pytest.mark.safety("SR-LANG-1")
def test_texts_are_translated() -> None:
    spec = default_ask_screen()
    for item in [*spec.entries, *spec.combinations]:
        if item.text is not None and item.condition is not None:
            assert item.text.de != item.text.en and item.condition.de != item.condition.en, item.id


# ---- loading fails fast, naming the bad entry ----------------------------------------------------
def broken_copy(tmp_path: Path, change: object) -> Path:
    shutil.copy(DATA_DIR / "ask_screen.yaml", tmp_path / "ask_screen.yaml")
    path = tmp_path / "ask_screen.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert callable(change)
    change(raw)
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["entries"][1]["patterns"]["de"].append("(unclosed"), "bladder"),
        (lambda d: d["entries"][0].update(fields=["saddle_numbnes"]), "not a Case field: saddle_numbnes"),
        (lambda d: d["entries"][2].update(level="later"), "bladder_topic"),
        (lambda d: d["entries"][0]["text"].update(de="Gehen Sie bald zum Arzt."), "112"),
        (lambda d: d["entries"][0]["condition"].update(de="Wenn Sie taub sind"), "Falls"),
        (lambda d: d["combinations"][0]["all_of"][0].append("no_such_entry"), "no_such_entry"),
        (lambda d: d["entries"].append(dict(d["entries"][0])), "id used twice: saddle_numbness"),
    ],
)
def test_a_broken_lexicon_stops_loading_and_names_the_entry(
    tmp_path: Path, change: object, message: str
) -> None:
    directory = broken_copy(tmp_path, change)
    with pytest.raises(KnowledgeError, match="ask_screen.yaml") as error:
        load_ask_screen(directory)
    assert message in str(error.value)


def test_the_packaged_lexicon_loads() -> None:
    spec = load_ask_screen()
    assert len(spec.entries) >= 40 and spec.combinations
