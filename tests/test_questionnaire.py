"""The questionnaire: data checks, reachability, adaptivity, Case building and typed-answer parsing."""

from __future__ import annotations

import copy
import json
import random
import re
from collections.abc import Callable, Mapping
from typing import Any

import pytest
import textstat
import yaml

from rueckenlotse import assess
from rueckenlotse.core.models import Case
from rueckenlotse.questionnaire import (
    AnswerError,
    Question,
    Questionnaire,
    QuestionnaireError,
    active_questions,
    answers_to_case,
    asked_in_case,
    case_field_paths,
    effective_answers,
    load_questionnaire,
    missing_required,
    next_question,
    parse_answer,
    parse_questionnaire,
    previous_question,
    provisional_case,
    record_answer,
    unsure_fields,
    unsure_notes,
    without_answer,
)
from rueckenlotse.questionnaire.flow import PLACEHOLDERS
from rueckenlotse.questionnaire.model import NOT_ASKED, UNSURE

QN = load_questionnaire()
WALKS = 400
AGES = (0, 4, 10, 15, 16, 25, 35, 44, 45, 50, 55, 56, 65, 70, 85, 120)
WEEKS = (0.0, 0.3, 1.0, 1.5, 2.0, 4.0, 6.0, 11.9, 12.0, 13.0, 26.0, 52.0, 104.0, 520.0)
EMERGENCY_PROMPT = {
    "saddle_numbness",
    "bladder_dysfunction",
    "bowel_incontinence",
    "sexual_dysfunction_new",
    "chest_pain_or_breathlessness",
    "pain_with_exertion_sweating_or_nausea",
    "sudden_tearing_pain",
    "headache_or_neuro_sudden",
}
# Asked in every region (contract 2: legs and arms apart, whatever the region).
ANY_REGION = (
    "leg_pain",
    "arm_pain",
    "numbness_or_tingling",
    "weakness",
    "neuro_bilateral_legs",
    "neuro_bilateral_arms",
    "cannot_walk",
    "gait_unsteady",
)


# ---- helpers ---------------------------------------------------------------------------------------
def random_value(q: Question, rng: random.Random) -> Any:
    """A valid answer value for ``q`` (biased to the thresholds the flow and rules care about)."""
    if q.unsure and rng.random() < 0.1:  # "not sure" now and then, in every kind that offers it
        return {f: UNSURE for f in q.fields if rng.random() < 0.3} if q.kind == "multi_flags" else UNSURE
    if q.kind == "bool":
        return rng.random() < 0.5
    if q.kind == "choice":
        return rng.choice(q.options).value
    if q.kind == "multi_flags":
        return [f for f in q.fields if rng.random() < 0.2]
    if q.kind in ("multi_regions", "multi_choice"):
        values = [o.value for o in q.options if rng.random() < 0.4]
        return values or ([rng.choice(q.options).value] if q.kind == "multi_regions" else [])
    if q.field == "age":
        return rng.choice(AGES)
    if q.kind == "int":
        assert isinstance(q.min, int) and isinstance(q.max, int)
        return rng.randint(q.min, q.max)
    return rng.choice(WEEKS)


def walk(
    rng: random.Random, pick: Callable[[Question, random.Random], Any] = random_value
) -> tuple[dict[str, Any], list[str]]:
    """Answer questions until the flow is complete; returns the answers and the question ids asked."""
    answers: dict[str, Any] = {}
    asked: list[str] = []
    while (q := next_question(answers)) is not None:
        assert q.id not in asked, f"{q.id} asked twice"
        asked.append(q.id)
        answers = record_answer(answers, q, pick(q, rng))
    return answers, asked


def walks() -> list[tuple[dict[str, Any], list[str]]]:
    rng = random.Random(20261101)
    return [walk(rng) for _ in range(WALKS)]


Walks = list[tuple[dict[str, Any], list[str]]]


@pytest.fixture(scope="module")
def walk_results() -> Walks:
    # Walked when a test asks, not at import: collecting the suite stays fast.
    return walks()


def strict_case(case: Mapping[str, Any]) -> Case:
    Case.model_validate_json(json.dumps(case), strict=True)  # the JSON path (CLI, web) agrees
    return Case.model_validate(case, strict=True)


def answered(**answers: Any) -> dict[str, Any]:
    """Answers given through the flow in order, so multi_flags fields are filled as the interview would."""
    result: dict[str, Any] = {}
    for field, value in answers.items():
        question = next(q for q in QN.questions if field in q.fields)
        if question.kind == "multi_flags":
            result.update({f: bool(value) if f == field else result.get(f, False) for f in question.fields})
        else:
            result = record_answer(result, question, value)
    return result


def raw_questionnaire() -> list[dict[str, Any]]:
    from importlib import resources

    text = (
        resources.files("rueckenlotse.knowledge")
        .joinpath("data")
        .joinpath("questionnaire.yaml")
        .read_text("utf-8")
    )
    data = yaml.safe_load(text)
    assert isinstance(data, list)
    return data


# ---- the data ---------------------------------------------------------------------------------------
def test_every_case_field_is_covered_by_a_question() -> None:
    assert QN.case_fields == case_field_paths() - NOT_ASKED
    assert len([f for f in QN.case_fields if f.startswith("startback.")]) == 9
    assert len([f for f in QN.case_fields if f.startswith("neuroplastic.")]) == 13
    for field in (
        "sex",
        "pain_intensity",
        "recurrent",
        "trauma",
        "injury_checked_by_doctor",
        "anticoagulants",
        "nsaid_risk",
        "pregnant",
        "physiotherapy_weeks",
        "physiotherapy_helped",
        "home_exercise",
        "imaging_findings",
    ):
        assert field in QN.case_fields


def test_every_text_is_there_in_german_and_english() -> None:
    for q in QN.questions:
        texts = [q.text, *([q.help] if q.help else []), *(o.label for o in q.options)]
        for text in texts:
            assert text.de.strip() and text.en.strip(), q.id
            assert text.de != text.en or len(text.de) < 12, f"{q.id}: not translated: {text.de!r}"


def test_yaml_strings_are_quoted_so_no_value_turned_into_a_boolean() -> None:
    for item in raw_questionnaire():
        for option in item.get("options", []):
            assert not isinstance(option.get("value"), bool), item["id"]


def flesch_de(text: str) -> float:
    textstat.set_lang("de")
    return float(textstat.flesch_reading_ease(text))


def test_german_question_texts_are_easy_to_read() -> None:
    scores = {q.id: flesch_de(q.text.de) for q in QN.questions}
    hard = {k: round(v, 1) for k, v in scores.items() if v < 45}
    assert not hard, f"German Flesch reading ease below 45: {hard}"
    mean = sum(scores.values()) / len(scores)
    assert mean >= 65, f"mean German Flesch reading ease {mean:.1f} < 65"


def test_german_help_texts_are_easy_to_read() -> None:
    hard = {
        q.id: round(flesch_de(q.help.de), 1) for q in QN.questions if q.help and flesch_de(q.help.de) < 45
    }
    assert not hard


def test_order_regions_then_the_emergency_signs() -> None:
    first, second, third = QN.questions[:3]
    assert first.field == "regions" and first.kind == "multi_regions" and first.ask_if is None
    assert second.kind == "multi_flags" and set(second.fields) == EMERGENCY_PROMPT and second.ask_if is None
    assert third.kind == "multi_flags" and third.ask_if is None
    ids = [q.id for q in QN.questions]
    assert ids.index("age") == 3
    assert (
        ids.index("age")
        < ids.index("duration_weeks")
        < ids.index("trauma")
        < ids.index("injury_checked_by_doctor")
    )
    # the neurological questions come after the duration: the emergency check needs it for them
    assert all(ids.index("duration_weeks") < ids.index(f) for f in ANY_REGION)


def test_only_trauma_defers_the_emergency_check_to_its_follow_up() -> None:
    assert [q.id for q in QN.questions if q.defer_check] == ["trauma"]
    answers = answered(regions=["neck"], saddle_numbness=False, fever=False, age=70, sex="male")
    answers = answered(**answers, duration_weeks=0.5, pain_intensity=3, recurrent=False, trauma="minor")
    assert next_question(answers) == QN.get("injury_checked_by_doctor")


def test_after_regions_the_next_prompt_is_the_emergency_signs() -> None:
    answers = answered(regions=["thoracic"])
    question = next_question(answers)
    assert question is not None and set(question.fields) == EMERGENCY_PROMPT


# ---- reachability -----------------------------------------------------------------------------------
def test_every_question_is_reached_by_some_walk(walk_results: Walks) -> None:
    reached = {qid for _, asked in walk_results for qid in asked}
    assert reached == {q.id for q in QN.questions}


def test_every_option_is_chosen_in_some_valid_case(walk_results: Walks) -> None:
    seen: set[tuple[str, Any]] = set()
    for answers, _ in walk_results:
        case = answers_to_case(answers)
        strict_case(case)
        for q in QN.questions:
            for f in q.fields:
                if f in effective_answers(answers):
                    value = effective_answers(answers)[f]
                    for v in value if isinstance(value, list) else [value]:
                        seen.add((f, v))
    for q in QN.questions:
        if q.kind == "multi_flags":
            assert all((f, True) in seen for f in q.fields), q.id
        elif q.options:
            assert all((q.field, o.value) in seen for o in q.options), q.id


def test_complete_walks_give_valid_cases_the_engine_accepts(walk_results: Walks) -> None:
    for answers, _ in walk_results[:150]:
        case = answers_to_case(answers)
        assert missing_required(answers) == []
        strict_case(case)
        assert assess(case).triage in {"emergency", "urgent", "soon", "routine", "self_care"}


# ---- adaptivity ----------------------------------------------------------------------------------------
def _onset_before_45(a: Mapping[str, Any]) -> bool:
    return bool(a["age"] - a["duration_weeks"] / 52 < 45)


def _can_be_pregnant(a: Mapping[str, Any]) -> bool:
    return a.get("sex") != "male" and 12 <= a["age"] <= 55


def _yes(value: Any) -> bool:
    """An answer that counts as yes: true, or "not sure"."""
    return value is True or value == UNSURE


# field -> when it must be asked (over the effective answers before it)
RULES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "hand_clumsiness": lambda a: "neck" in a["regions"],
    "injury_checked_by_doctor": lambda a: a["trauma"] in ("minor", "major"),
    "physiotherapy_helped": lambda a: a["physiotherapy_weeks"] > 0,
    "pregnant": _can_be_pregnant,
    "pregnancy_week": lambda a: _can_be_pregnant(a) and a["pregnant"] is True,
    "pregnancy_warning_signs": lambda a: _can_be_pregnant(a) and a["pregnant"] is True,
    "gave_birth_recently": lambda a: _can_be_pregnant(a) and a["pregnant"] is False,
    "cancer_active": lambda a: _yes(a["cancer_history"]),
    # STarT Back is validated for low back pain: never for neck pain alone
    "offer.startback": lambda a: a["duration_weeks"] >= 2 and a["regions"] != ["neck"],
    "offer.neuroplastic": lambda a: a["duration_weeks"] >= 12,
    "imaging_findings": lambda a: a["offer.imaging"],
    **dict.fromkeys(
        (
            "morning_stiffness_over_30min",
            "better_with_movement_not_rest",
            "wakes_second_half_of_night",
            "associated_inflammatory_disease",
        ),
        lambda a: a["duration_weeks"] >= 12 and _onset_before_45(a),
    ),
    **{
        f: (lambda a: a["duration_weeks"] >= 2 and a["regions"] != ["neck"] and a["offer.startback"])
        for f in QN.case_fields
        if f.startswith("startback.")
    },
    **{
        f: (lambda a: a["duration_weeks"] >= 12 and a["offer.neuroplastic"])
        for f in QN.case_fields
        if f.startswith("neuroplastic.")
    },
}


def test_a_question_is_asked_exactly_when_it_matters(walk_results: Walks) -> None:
    for answers, _ in walk_results:
        given = effective_answers(answers)
        for field, rule in RULES.items():
            assert (field in given) == rule(given), (field, given)


def test_questions_for_every_region_are_always_asked(walk_results: Walks) -> None:
    for answers, _ in walk_results:
        given = effective_answers(answers)
        for field in (
            *ANY_REGION,
            *EMERGENCY_PROMPT,
            "age",
            "duration_weeks",
            "trauma",
            "fever",
            "cancer_history",
        ):
            assert field in given, field


@pytest.mark.safety("SR-Q-2")
def test_legs_and_arms_are_asked_apart_in_every_region() -> None:
    for regions in (["neck"], ["thoracic"], ["low_back"], ["neck", "low_back"]):
        rng = random.Random(len(regions))

        def pick(q: Question, r: random.Random, regions: list[str] = regions) -> Any:
            return regions if q.field == "regions" else random_value(q, r)

        for _ in range(10):
            _, asked = walk(rng, pick)
            for qid in ("leg_pain", "arm_pain", "neuro_bilateral_legs", "neuro_bilateral_arms"):
                assert qid in asked, (regions, qid)
            assert ("hand_clumsiness" in asked) == ("neck" in regions)
    assert "neuro_bilateral" not in QN.answer_fields  # version 1's "legs or arms" is no longer asked


def test_a_changed_answer_drops_the_answers_that_no_longer_apply() -> None:
    answers = answered(
        regions=["neck"], age=50, duration_weeks=3.0, trauma="minor", injury_checked_by_doctor=True
    )
    answers = record_answer(answers, QN.get("hand_clumsiness"), True)
    answers = record_answer(answers, QN.get("regions"), ["low_back"])
    answers = record_answer(answers, QN.get("trauma"), "strain")
    case = answers_to_case(answers)
    assert "hand_clumsiness" not in case and "injury_checked_by_doctor" not in case
    assert case["regions"] == ["low_back"] and case["trauma"] == "strain"
    question = next_question(answers)
    assert question is not None and question.field != "hand_clumsiness"


# ---- building the Case --------------------------------------------------------------------------------
def _startback_answers(count: int) -> dict[str, Any]:
    answers = answered(regions=["low_back"], age=30, duration_weeks=8.0)
    answers["offer.startback"] = True
    for q in [q for q in QN.questions if q.id.startswith("startback_")][:count]:
        answers = record_answer(answers, q, 3 if q.kind == "choice" else True)
    return answers


def test_startback_is_grouped_only_when_all_nine_are_answered() -> None:
    assert "startback" not in answers_to_case(_startback_answers(8))
    case = answers_to_case(_startback_answers(9))
    assert case["startback"]["bothersomeness"] == 3 and len(case["startback"]) == 9
    assert not any("." in key for key in case)


def test_declining_the_startback_offer_drops_its_answers() -> None:
    answers = _startback_answers(9)
    answers["offer.startback"] = False
    assert "startback" not in answers_to_case(answers)


def test_neuroplastic_answers_are_grouped() -> None:
    answers = answered(regions=["low_back"], age=60, duration_weeks=30.0)
    answers["offer.neuroplastic"] = True
    answers = record_answer(answers, QN.get("neuroplastic_worse_with_stress"), True)
    case = answers_to_case(answers)
    assert case["neuroplastic"] == {"worse_with_stress": True}
    assert "offer.neuroplastic" not in case


def test_no_answer_for_sex_leaves_the_field_out() -> None:
    answers = answered(regions=["neck"], saddle_numbness=False, fever=False, age=30, sex=None)
    assert "sex" in answers and "sex" not in answers_to_case(answers)
    assert next_question(answers) == QN.get("duration_weeks")


def test_provisional_case_fills_required_fields_with_placeholders() -> None:
    case = provisional_case({})
    strict_case(case)
    assert case["age"] == PLACEHOLDERS["age"] == 40 and case["duration_weeks"] == 0
    answers = answered(regions=["neck"], saddle_numbness=True)
    case = provisional_case(answers)
    strict_case(case)
    assert case["regions"] == ["neck"] and case["saddle_numbness"] is True
    assert assess(case).triage == "emergency"
    assert missing_required(answers) == ["age", "duration_weeks"]


def test_unknown_answer_fields_are_an_error_not_silently_dropped() -> None:
    with pytest.raises(ValueError, match="saddle_numbnes"):
        answers_to_case({"regions": ["neck"], "saddle_numbnes": True})


def test_record_answer_rejects_values_that_do_not_fit() -> None:
    with pytest.raises(ValueError):
        record_answer({}, QN.get("regions"), [])
    with pytest.raises(ValueError):
        record_answer({}, QN.get("trauma"), "huge")
    with pytest.raises(ValueError):
        record_answer({}, QN.get("age"), 121)
    with pytest.raises(ValueError):
        record_answer({}, QN.get("age"), True)
    with pytest.raises(ValueError):
        record_answer({}, QN.get("emergency_signs"), ["fever"])
    with pytest.raises(ValueError):
        record_answer({}, QN.get("startback_bothersomeness"), True)


def test_multi_flags_set_every_option_field() -> None:
    answers = record_answer({}, QN.get("emergency_signs"), ["sudden_tearing_pain"])
    assert answers == {f: f == "sudden_tearing_pain" for f in EMERGENCY_PROMPT}
    mapped = record_answer({}, QN.get("emergency_signs"), {"sudden_tearing_pain": True})
    assert mapped == answers


# ---- going back -----------------------------------------------------------------------------------------
def test_previous_question() -> None:
    assert previous_question({}, "regions") is None
    answers = answered(regions=["low_back"], age=30, duration_weeks=1.0, trauma="strain")
    assert previous_question(answers, "emergency_signs") == QN.get("regions")
    assert previous_question(answers, "leg_pain") == QN.get("trauma")  # skips injury_checked_by_doctor
    full, asked = walk(random.Random(3))
    last = previous_question(full, None)
    assert last is not None and last.id == asked[-1]
    with pytest.raises(ValueError):
        previous_question({}, "no_such_question")


def test_going_back_asks_that_question_again() -> None:
    answers = answered(regions=["low_back"], saddle_numbness=False, fever=False, age=30)
    current = next_question(answers)
    assert current is not None
    previous = previous_question(answers, current.id)
    assert previous is not None and previous.field == "age"
    again = next_question(without_answer(answers, previous))
    assert again == previous


def test_active_questions_follow_the_answers() -> None:
    ids = [q.id for q in active_questions(answered(regions=["low_back"]))]
    assert "arm_pain" in ids and "hand_clumsiness" not in ids


# ---- loading errors name the question ------------------------------------------------------------------
def _broken(change: Callable[[list[dict[str, Any]]], None]) -> list[dict[str, Any]]:
    data = copy.deepcopy(raw_questionnaire())
    change(data)
    return data


def _by_id(data: list[dict[str, Any]], qid: str) -> dict[str, Any]:
    return next(item for item in data if item["id"] == qid)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: _by_id(d, "age").update(field="years"), r"'age'.*not a Case field"),
        (
            lambda d: _by_id(d, "hand_clumsiness").update(ask_if={"has": ["regionz", "neck"]}),
            r"'hand_clumsiness'.*unknown name",
        ),
        (
            lambda d: _by_id(d, "hand_clumsiness").update(ask_if={"has": ["regions"]}),
            r"'hand_clumsiness'.*ask_if",
        ),
        (lambda d: _by_id(d, "gait_unsteady").update(field="neuro_bilateral"), r"no longer asked"),
        (lambda d: _by_id(d, "weakness").pop("unsure_as"), r"'weakness'.*unsure_as"),
        (lambda d: _by_id(d, "weakness").update(unsure_as="huge"), r"'weakness'.*unsure_as"),
        (lambda d: _by_id(d, "cannot_walk").pop("short"), r"'cannot_walk'.*short"),
        (lambda d: _by_id(d, "age").update(unsure=True), r"'age'.*cannot offer 'unsure'"),
        (lambda d: _by_id(d, "age").update(ask_if={"gt": ["duration_weeks", 1]}), r"'age'.*not asked before"),
        (lambda d: _by_id(d, "trauma")["options"][1].update(value="huge"), r"'trauma'.*does not fit"),
        (
            lambda d: _by_id(d, "physiotherapy_helped")["options"][0].update(value=True),
            r"'physiotherapy_helped'",
        ),
        (lambda d: _by_id(d, "sex").update(id="age"), r"'age'.*twice"),
        (lambda d: _by_id(d, "recurrent").update(field="trauma"), r"'trauma'.*already filled by 'recurrent'"),
        (lambda d: _by_id(d, "recurrent")["text"].pop("en"), r"'recurrent'"),
        (lambda d: _by_id(d, "pain_intensity").pop("max"), r"'pain_intensity'"),
        (lambda d: _by_id(d, "recurrent").update(kind="int", min=0, max=3), r"'recurrent'.*does not fit"),
    ],
)
def test_a_broken_questionnaire_fails_loudly_naming_the_question(
    change: Callable[[list[dict[str, Any]]], None], message: str
) -> None:
    with pytest.raises(QuestionnaireError, match=message):
        parse_questionnaire(_broken(change))


def test_the_packaged_questionnaire_parses_again_unchanged() -> None:
    again = parse_questionnaire(raw_questionnaire())
    assert isinstance(again, Questionnaire) and again.questions == QN.questions


# ---- typed answers ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("qid", "raw", "expected"),
    [
        ("recurrent", "j", True),
        ("recurrent", " Nein ", False),
        ("recurrent", "y", True),
        ("age", "35", 35),
        ("age", "0", 0),
        ("duration_weeks", "1", 1.0),
        ("duration_weeks", "0,5", 0.5),
        ("duration_weeks", "2.5", 2.5),
        ("duration_weeks", "3 Tage", 0.43),
        ("duration_weeks", "7 days", 1.0),
        ("duration_weeks", "2 Monate", 8.67),
        ("duration_weeks", "1 Jahr", 52.0),
        ("duration_weeks", "6 Wochen", 6.0),
        ("trauma", "2", "strain"),
        ("trauma", "3", "minor"),
        ("trauma", "4", "major"),
        ("sex", "4", None),
        ("startback_bothersomeness", "5", 4),
        ("regions", "1, 3", ["neck", "low_back"]),
        ("regions", "3 1 3", ["neck", "low_back"]),
        ("emergency_signs", "", []),
        ("emergency_signs", "0", []),
        ("emergency_signs", "1 8", ["saddle_numbness", "headache_or_neuro_sudden"]),
        ("emergency_signs", "1?, 7", {"saddle_numbness": UNSURE, "sudden_tearing_pain": True}),
        ("numbness_or_tingling", "?", UNSURE),
        ("numbness_or_tingling", "nicht sicher", UNSURE),
        ("numbness_or_tingling", "Not sure", UNSURE),
        ("numbness_or_tingling", "j", True),
        ("weakness", "4", UNSURE),
        ("weakness", "3", "severe_or_progressive"),
        ("imaging_findings", "4;8", ["disc_bulge", "spondylolisthesis"]),
    ],
)
def test_parse_answer(qid: str, raw: str, expected: Any) -> None:
    assert parse_answer(QN.get(qid), raw) == expected


@pytest.mark.parametrize(
    ("qid", "raw", "message"),
    [
        ("recurrent", "vielleicht", "j (ja) oder n (nein)"),
        ("recurrent", "", "j (ja) oder n (nein)"),
        ("age", "121", "ganze Zahl von 0 bis 120"),
        ("age", "-1", "ganze Zahl von 0 bis 120"),
        ("age", "3.5", "ganze Zahl"),
        ("age", "²", "ganze Zahl"),
        ("duration_weeks", "-2", "Zeit in Wochen"),
        ("duration_weeks", "drei", "Wochen"),
        ("duration_weeks", "3 Stunden", "Wochen"),
        ("physiotherapy_weeks", "abc", "Zeit in Wochen"),
        ("pain_intensity", "11", "von 0 bis 10"),
        ("trauma", "5", "Nummer von 1 bis 4"),
        ("trauma", "", "Nummer von 1 bis 4"),
        ("weakness", "5", "Nummer von 1 bis 4"),
        ("recurrent", "?", "j (ja) oder n (nein)."),  # not a warning sign: no "not sure"
        ("numbness_or_tingling", "vielleicht", "? (nicht sicher)"),
        ("emergency_signs", "2 2?", "? hinter der Nummer"),
        ("emergency_signs", "9?", "Nummern von 1 bis 8"),
        ("inflammatory_signs", "1?", "Nummern von 1 bis 4"),  # no "not sure" offered there
        ("regions", "", "mindestens einen Bereich"),
        ("regions", "0", "mindestens einen Bereich"),
        ("emergency_signs", "0 1", "Nummern von 1 bis 8"),
        ("emergency_signs", "9", "Nummern von 1 bis 8"),
    ],
)
def test_parse_answer_errors_are_clear_german(qid: str, raw: str, message: str) -> None:
    with pytest.raises(AnswerError, match=re.escape(message)):
        parse_answer(QN.get(qid), raw)


def test_parse_answer_errors_in_english() -> None:
    with pytest.raises(AnswerError, match="y \\(yes\\) or n \\(no\\)"):
        parse_answer(QN.get("recurrent"), "ja?", lang="en")
    with pytest.raises(AnswerError, match="whole number from 0 to 120"):
        parse_answer(QN.get("age"), "x", lang="en")


# ---- "nicht sicher": counts as the sign being present, and the result says so ---------------------------
# Warning-sign fields a person simply knows: "not sure" is not offered (for the injury check it would
# have to mean "no", the worse answer, which a bool answered "not sure" never means here).
KNOWN_FACTS = frozenset({"leg_pain", "arm_pain", "trauma", "injury_checked_by_doctor", "pregnant"})


@pytest.mark.safety("SR-Q-1")
def test_every_warning_sign_question_offers_not_sure() -> None:
    from rueckenlotse.knowledge.loader import default_knowledge
    from rueckenlotse.reports.documents.signs import warning_sign_fields

    signs = warning_sign_fields(default_knowledge()) & QN.case_fields
    assert len(signs) > 30  # the engine's red-flag rules read them: an empty set would prove nothing
    for field in sorted(signs - KNOWN_FACTS):
        assert QN.owner(field).unsure, field


@pytest.mark.safety("SR-Q-1")
@pytest.mark.parametrize("field", sorted(EMERGENCY_PROMPT))
def test_not_sure_about_an_emergency_sign_triages_as_a_yes(field: str) -> None:
    base = answered(regions=["thoracic"], age=60, duration_weeks=0.5)
    question = QN.owner(field)
    yes = record_answer(base, question, [field])
    unsure = record_answer(base, question, {field: UNSURE})
    assert unsure[field] == UNSURE and answers_to_case(unsure)[field] is True
    assert assess(provisional_case(unsure)).triage == assess(provisional_case(yes)).triage
    assert unsure_fields(unsure) == [field]


@pytest.mark.safety("SR-Q-1")
def test_not_sure_saddle_numbness_is_an_emergency_with_a_note() -> None:
    answers = record_answer(
        answered(regions=["low_back"]), QN.get("emergency_signs"), {"saddle_numbness": UNSURE}
    )
    assert assess(provisional_case(answers)).triage == "emergency"
    (note,) = unsure_notes(answers, "de")
    assert "Abwischen" in note and "nicht sicher" in note and "davon aus, dass es zutrifft" in note
    (note_en,) = unsure_notes(answers, "en")
    assert "not sure" in note_en and "wipe" in note_en


@pytest.mark.safety("SR-Q-1")
def test_not_sure_about_weakness_counts_as_the_worse_value() -> None:
    answers = answered(regions=["neck"], age=40, duration_weeks=1.0, weakness=UNSURE)
    assert answers["weakness"] == UNSURE
    assert answers_to_case(answers)["weakness"] == "severe_or_progressive"
    (note,) = unsure_notes(answers, "de")
    assert "Schwäche" in note and "vom Schlimmeren aus: Ja, sehr schwach" in note


@pytest.mark.safety("SR-Q-1")
def test_not_sure_opens_the_follow_up_as_a_yes_would() -> None:
    answers = answered(regions=["low_back"], age=50, duration_weeks=3.0)
    answers = record_answer(answers, QN.get("medical_history"), {"cancer_history": UNSURE})
    assert "cancer_active" in [q.field for q in active_questions(answers)]
    answers = record_answer(answers, QN.get("cancer_active"), UNSURE)
    case = answers_to_case(answers)
    assert case["cancer_history"] is True and case["cancer_active"] is True
    assert unsure_fields(answers) == ["cancer_history", "cancer_active"]


def test_not_sure_is_refused_where_it_is_not_offered() -> None:
    for qid, value in (("recurrent", UNSURE), ("sex", UNSURE), ("inflammatory_signs", {"fever": UNSURE})):
        with pytest.raises(ValueError):
            record_answer({}, QN.get(qid), value)
    with pytest.raises(ValueError):
        record_answer({}, QN.get("inflammatory_signs"), {"morning_stiffness_over_30min": UNSURE})
    with pytest.raises(ValueError):
        record_answer({}, QN.get("emergency_signs"), {"saddle_numbness": "maybe"})


def test_a_changed_answer_drops_the_not_sure() -> None:
    answers = answered(regions=["neck"], age=40, duration_weeks=1.0, numbness_or_tingling=UNSURE)
    assert unsure_fields(answers) == ["numbness_or_tingling"]
    answers = record_answer(answers, QN.get("numbness_or_tingling"), False)
    assert unsure_fields(answers) == [] and unsure_notes(answers, "de") == []


# ---- pregnancy: only for people who can be pregnant ----------------------------------------------------
def _until(answers: dict[str, Any], stop: str) -> list[str]:
    """The question ids asked from here on, answering no / nothing / the first option, up to ``stop``."""
    asked: list[str] = []
    while (q := next_question(answers)) is not None and q.id != stop:
        asked.append(q.id)
        value: Any = {"bool": False, "multi_flags": []}.get(q.kind)
        if value is None:
            value = (
                q.options[0].value
                if q.kind == "choice"
                else (q.min if q.kind != "multi_regions" else ["neck"])
            )
        answers = record_answer(answers, q, value)
    return asked


@pytest.mark.safety("SR-Q-2")
@pytest.mark.parametrize(
    ("sex", "age", "asked"),
    [
        ("male", 30, False),
        ("female", 30, True),
        ("diverse", 30, True),
        (None, 30, True),
        ("female", 60, False),
        ("female", 11, False),
        ("female", 12, True),
        ("female", 55, True),
    ],
)
def test_pregnancy_is_asked_only_of_people_who_can_be_pregnant(
    sex: str | None, age: int, asked: bool
) -> None:
    answers = answered(regions=["low_back"], age=age, sex=sex, duration_weeks=1.0)
    ids = _until(answers, "inflammatory_signs")
    assert ("pregnant" in ids) == asked and ("gave_birth_recently" in ids) == asked
    assert "pregnancy_week" not in ids and "pregnancy_warning_signs" not in ids


@pytest.mark.safety("SR-Q-2")
def test_pregnant_asks_the_week_and_the_warning_signs() -> None:
    answers = answered(regions=["low_back"], age=30, sex="female", duration_weeks=1.0, pregnant=True)
    ids = _until(answers, "physiotherapy_weeks")
    at = ids.index("pregnant") if "pregnant" in ids else ids.index("pregnancy_week") - 1
    assert ids[at + 1 : at + 3] == ["pregnancy_week", "pregnancy_warning_signs"]
    assert "gave_birth_recently" not in ids
    answers = record_answer(answers, QN.get("pregnancy_week"), 30)
    answers = record_answer(answers, QN.get("pregnancy_warning_signs"), UNSURE)
    case = answers_to_case(answers)
    assert (
        case["pregnant"] is True and case["pregnancy_week"] == 30 and case["pregnancy_warning_signs"] is True
    )
    assert "gave_birth_recently" not in case
    assert assess(provisional_case(answers)).triage == "emergency"  # obstetric emergency, also when unsure
    with pytest.raises(ValueError):
        record_answer(answers, QN.get("pregnancy_week"), 43)


# ---- the wording contract 2 asks for -------------------------------------------------------------------
def _all_german() -> list[str]:
    texts = []
    for q in QN.questions:
        texts += [q.text.de, *([q.help.de] if q.help else []), *(o.label.de for o in q.options)]
        texts += [q.short.de] if q.short else []
    return texts


@pytest.mark.safety("SR-Q-2")
def test_contract_2_wording() -> None:
    label = {o.field: o.label for q in QN.questions if q.kind == "multi_flags" for o in q.options}
    assert "Abwischen nach der Toilette" in label["saddle_numbness"].de
    bladder = label["bladder_dysfunction"].de
    assert "kein Wasser lassen, obwohl die Blase voll ist" in bladder and "Urin geht ab" in bladder
    assert "Husten oder Niesen gehören nicht dazu" in QN.get("emergency_signs").help.de  # type: ignore[union-attr]
    assert QN.get("recurrent").text.de == "Hatten Sie solche Rückenschmerzen schon früher?"
    assert "Heller Hautkrebs" in label["cancer_history"].de and "zählt" in label["cancer_history"].de
    assert "5 Jahren" in QN.get("cancer_active").text.de
    assert "nicht beim Heben" in label["sudden_tearing_pain"].de
    nsaid = label["nsaid_risk"].de
    for word in ("Herzinfarkt", "Schlaganfall", "Angina", "Adern in den Beinen", "Leberzirrhose"):
        assert word in nsaid, word
    trauma = {o.value: o.label.de for o in QN.get("trauma").options}
    assert "Ohne Sturz und ohne Schlag" in trauma["strain"] and "Sturz aus dem Stand" in trauma["minor"]
    for qid in (
        "numbness_or_tingling",
        "weakness",
        "neuro_bilateral_legs",
        "neuro_bilateral_arms",
        "gait_unsteady",
        "hand_clumsiness",
    ):
        assert "neu seit diesen Schmerzen, oder es wird schlimmer" in QN.get(qid).help.de, qid  # type: ignore[union-attr]
    assert "Diabetes" in QN.get("numbness_or_tingling").help.de  # type: ignore[union-attr]
    for text in _all_german():  # no bare jargon
        assert not re.search(r"\b(Sex|Job)\b", text), text
        assert "Flanke" not in text or "seitlich am Rücken" in text, text


@pytest.mark.safety("SR-TRI-4")
def test_the_questions_asked_can_be_told_from_the_stored_case(walk_results: Walks) -> None:
    """The practice's view and the clinician report say "not asked" for what the interview skipped; they
    only have the Case as stored (every flag present). Walking it must name exactly the questions asked."""
    offers = {q.id for q in QN.questions if any(f.startswith("offer.") for f in q.fields)}
    for answers, asked in walk_results:
        case = strict_case(answers_to_case(answers))
        stored = Case.model_validate_json(case.model_dump_json(exclude_none=True))
        expected = set(asked)
        if answers.get("offer.imaging") is True and not answers.get("imaging_findings"):
            # A report offered but no finding ticked: the Case holds what a refused offer holds.
            expected.discard("imaging_findings")
        assert asked_in_case(stored) == expected, sorted(expected ^ asked_in_case(stored))
        assert offers & set(asked) <= asked_in_case(stored)
