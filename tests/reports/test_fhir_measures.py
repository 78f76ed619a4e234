"""FHIR export of the outcome measures (reports/fhir/measures.py) and reading it back (measures_import.py).

- every resource is valid FHIR R4B (``fhir.resources``: each resource, and the whole Bundle);
- generated valid answers of every measure, scored by ``plan.measures.score_response``, come back with every
  score, subscale, answer, week and time exactly (also names with any characters, times in any offset);
- LOINC codes stand exactly where measures.yaml gives them, nowhere else;
- a golden Bundle pins one PEG series; to write it anew, run with RUECKENLOTSE_UPDATE_GOLDEN=1 and review:

      RUECKENLOTSE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_fhir_measures.py

- a crafted Bundle (wrong types, no score, unknown measure, answers that do not give the score) is refused
  with errors at their fields, in German and English, and arbitrary damage never ends in a traceback.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
from collections.abc import Callable, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import default_knowledge, packaged_knowledge
from rueckenlotse.knowledge.measures import MAX_WEEK, NAME_LENGTH, Measure
from rueckenlotse.plan.measures import default_measures, score_response
from rueckenlotse.reports.fhir import (
    InvalidMeasureBundle,
    MeasureRecord,
    build_measure_questionnaire,
    intake_layout,
    measures_bundle,
    parse_measure_bundle,
    parse_measure_bundle_json,
)
from rueckenlotse.reports.fhir.common import LOINC, TRANSLATION, codesystem
from rueckenlotse.reports.fhir.measures import (
    CHANGE_SYSTEM,
    EPISODE_WEEK,
    MAX_OCCURS,
    MEASURE_SYSTEM,
    MIN_OCCURS,
    option_system,
)

GOLDEN = Path(__file__).parent / "golden" / "fhir" / "measures-peg-series.de.json"
UPDATE = os.environ.get("RUECKENLOTSE_UPDATE_GOLDEN") == "1"
AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
PERSON = "person-7f3a"
CATALOGUE = default_measures()
VERSION = packaged_knowledge().version
INTAKE = Case.model_validate({"age": 45, "regions": ["low_back"], "duration_weeks": 3})

Json = dict[str, Any]


def resources(bundle: Json, kind: str | None = None) -> list[Json]:
    every = [entry["resource"] for entry in bundle["entry"]]
    return [r for r in every if kind is None or r["resourceType"] == kind]


def record(
    measure_id: str, answers: dict[str, Any], *, week: int | None, at: dt.datetime, kb: KnowledgeBase
) -> MeasureRecord:
    scored = score_response(CATALOGUE, measure_id, answers, case=INTAKE, kb=kb)
    return MeasureRecord.of(scored, week=week, recorded_at=at)


def peg(pain: int, enjoyment: int, activity: int) -> dict[str, int]:
    return {"pain": pain, "enjoyment": enjoyment, "activity": activity}


def peg_series(kb: KnowledgeBase) -> list[MeasureRecord]:
    """Weeks 0 to 12: better at week 2, the same at 4 and 6 (small ups and downs), better at 12."""
    values = {0: peg(7, 6, 6), 2: peg(4, 4, 3), 4: peg(5, 5, 4), 6: peg(6, 5, 5), 12: peg(2, 1, 2)}
    return [
        record("peg", answers, week=week, at=AT + dt.timedelta(weeks=week), kb=kb)
        for week, answers in values.items()
    ]


def mixed(kb: KnowledgeBase) -> list[MeasureRecord]:
    """A response of every measure: PEG at week 0 and 2, PSFS, PGIC and STarT Back again at week 4."""
    startback = dict.fromkeys(
        (i.id for i in CATALOGUE.get("startback").items if i.kind == "yes_no"), False
    ) | {"leg_pain_recent": True, "worrying_thoughts": True, "unsafe_to_be_active": True, "bothersomeness": 3}
    psfs = {"activity": [{"name": "Treppen steigen", "value": 3}, {"name": "Eine Stunde sitzen", "value": 6}]}
    return [
        record("peg", peg(6, 7, 4), week=0, at=AT, kb=kb),
        record("psfs", psfs, week=0, at=AT, kb=kb),
        record("peg", peg(3, 4, 2), week=2, at=AT + dt.timedelta(weeks=2), kb=kb),
        record("pgic", {"change": 2}, week=2, at=AT + dt.timedelta(weeks=2), kb=kb),
        record("startback", startback, week=4, at=AT + dt.timedelta(weeks=4), kb=kb),
    ]


def canonical(records: Sequence[MeasureRecord]) -> list[tuple[Any, ...]]:
    """Everything a record holds, exactly (the time with its offset), for comparing in any order."""
    return sorted(
        (
            r.measure_id,
            repr(r.week),
            r.recorded_at.isoformat(),
            repr(r.score),
            sorted((k, repr(v)) for k, v in r.subscales.items()),
            json.dumps(r.answers, sort_keys=True, ensure_ascii=False),
        )
        for r in records
    )


def round_trip(records: Sequence[MeasureRecord], lang: str = "de") -> list[MeasureRecord]:
    bundle = measures_bundle(PERSON, records, at=AT, lang=lang, catalogue=CATALOGUE, version=VERSION)
    return parse_measure_bundle_json(json.dumps(bundle, ensure_ascii=False), catalogue=CATALOGUE, lang=lang)


def dumped(bundle: Json) -> str:
    return json.dumps(bundle, sort_keys=True, ensure_ascii=False, indent=2) + "\n"


# ---- valid FHIR R4B ------------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["de", "en"])
def test_every_resource_and_the_bundle_parse_with_fhir_resources(kb: KnowledgeBase, lang: str) -> None:
    bundle = measures_bundle(PERSON, mixed(kb), at=AT, lang=lang)
    Bundle.model_validate(bundle)
    kinds = [r["resourceType"] for r in resources(bundle)]
    assert kinds == ["Patient"] + ["Questionnaire"] * 4 + ["QuestionnaireResponse", "Observation"] * 5
    for resource in resources(bundle):
        parsed = get_fhir_model_class(resource["resourceType"]).model_validate(resource)
        assert parsed.model_dump(mode="json", by_alias=True, exclude_none=True) == resource


def test_every_reference_resolves_inside_the_bundle(kb: KnowledgeBase) -> None:
    bundle = measures_bundle(PERSON, mixed(kb), at=AT)
    full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
    for response in resources(bundle, "QuestionnaireResponse"):
        assert response["questionnaire"] == response["questionnaire"].split("|")[0] + f"|{VERSION}"
        assert response["questionnaire"].split("|")[0] in full_urls
        assert response["subject"]["reference"] in full_urls
    for observation in resources(bundle, "Observation"):
        assert observation["subject"]["reference"] in full_urls
        (derived,) = observation["derivedFrom"]
        assert derived["reference"] in full_urls


def test_questionnaires_in_german_with_english_and_the_knowledge_version() -> None:
    for measure in CATALOGUE.measures:
        questionnaire = build_measure_questionnaire(measure, version=VERSION)
        assert questionnaire["url"].endswith(f"/Questionnaire/measure-{measure.id}")
        assert (questionnaire["version"], questionnaire["language"]) == (VERSION, "de")
        assert questionnaire["title"] == measure.title.de
        assert questionnaire["copyright"] == measure.licence_note.de

        def walk(items: list[Json]) -> list[Json]:
            return [x for i in items for x in [i, *walk(i.get("item", []))]]

        items = walk(questionnaire["item"])
        for item in items:
            (ext,) = item["_text"]["extension"]
            assert ext["url"] == TRANSLATION
        asked = [i for i in items if i["type"] != "display"]
        assert all(i.get("required") for i in asked)
        top = [i["linkId"] for i in questionnaire["item"]]
        assert top == [i.id for i in measure.items]


def test_psfs_is_a_repeating_group_of_name_and_rating() -> None:
    psfs = CATALOGUE.get("psfs")
    (group,) = build_measure_questionnaire(psfs, version=VERSION)["item"]
    assert (group["type"], group["repeats"], group["linkId"]) == ("group", True, "activity")
    occurs = {e["url"]: e["valueInteger"] for e in group["extension"]}
    assert occurs == {MIN_OCCURS: 1, MAX_OCCURS: 5}
    asked = {i["linkId"]: i for i in group["item"] if i["type"] != "display"}
    assert asked["activity.name"]["type"] == "string" and asked["activity.name"]["maxLength"] == NAME_LENGTH
    assert asked["activity.value"]["type"] == "integer"
    bounds = {e["url"].rsplit("/", 1)[1]: e["valueInteger"] for e in asked["activity.value"]["extension"]}
    assert bounds == {"minValue": 0, "maxValue": 10}
    labels = [i["text"] for i in asked["activity.value"]["item"]]
    assert labels == ["kann ich gar nicht", "so gut wie vor den Schmerzen"]


def test_startback_answers_keep_the_intakes_code_systems() -> None:
    startback = CATALOGUE.get("startback")
    bothersomeness = startback.item("bothersomeness")
    assert (
        option_system(startback, bothersomeness) == intake_layout().fields["startback.bothersomeness"].system
    )
    pgic = CATALOGUE.get("pgic")
    assert option_system(pgic, pgic.item("change")) == codesystem("measure.pgic.change")


# ---- LOINC exactly where measures.yaml has it ---------------------------------------------------------
def _loinc_codes(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [str(node["code"])] if node.get("system") == LOINC else []
        return own + [c for v in node.values() for c in _loinc_codes(v)]
    if isinstance(node, list):
        return [c for v in node for c in _loinc_codes(v)]
    return []


def _loinc(measure: Measure, kind: str) -> str | None:
    return getattr(measure.loinc, kind) if measure.loinc is not None else None


def test_loinc_codes_where_measures_yaml_has_them(kb: KnowledgeBase) -> None:
    bundle = measures_bundle(PERSON, mixed(kb), at=AT)
    by_url = {m.id: m for m in CATALOGUE.measures}
    for questionnaire in resources(bundle, "Questionnaire"):
        measure = by_url[questionnaire["id"].removeprefix("measure-")]
        panel = _loinc(measure, "panel")
        assert questionnaire.get("code") == ([{"system": LOINC, "code": panel}] if panel else None)
        for item, built in zip(measure.items, questionnaire["item"], strict=True):
            assert built.get("code") == ([{"system": LOINC, "code": item.loinc}] if item.loinc else None)
    for observation in resources(bundle, "Observation"):
        ours = next(c for c in observation["code"]["coding"] if c["system"] == MEASURE_SYSTEM)
        measure = CATALOGUE.get(ours["code"])
        score = _loinc(measure, "score")
        assert [c["code"] for c in observation["code"]["coding"] if c["system"] == LOINC] == (
            [score] if score else []
        )
        for component in observation.get("component", []):
            item_code = next(
                (
                    c["code"]
                    for c in component["code"]["coding"]
                    if c["system"] == codesystem(f"measure.{measure.id}")
                ),
                None,
            )
            expected = measure.item(item_code).loinc if item_code else None
            assert _loinc_codes(component) == ([expected] if expected else [])
    # and nowhere else: every LOINC code in the Bundle is one measures.yaml names
    named = {
        code
        for m in CATALOGUE.measures
        for code in [_loinc(m, "panel"), _loinc(m, "score"), *(i.loinc for i in m.items)]
        if code
    }
    found = _loinc_codes(bundle)
    assert set(found) == named == {"91148-7", "91147-9", "75893-8", "91145-3", "91146-1"}


def test_peg_observation_is_the_score_with_its_items(kb: KnowledgeBase) -> None:
    bundle = measures_bundle(PERSON, peg_series(kb)[:1], at=AT)
    (observation,) = resources(bundle, "Observation")
    assert observation["code"]["coding"][0] == {"system": LOINC, "code": "91147-9"}
    assert observation["category"][0]["coding"][0]["code"] == "survey"
    assert observation["valueQuantity"] == {
        "value": 6.33,
        "unit": "{score}",
        "system": "http://unitsofmeasure.org",
        "code": "{score}",
    }
    assert [c["valueInteger"] for c in observation["component"]] == [7, 6, 6]
    assert observation["extension"] == [{"url": EPISODE_WEEK, "valueInteger": 0}]
    assert observation["effectiveDateTime"] == "2026-11-27T09:30:00Z"


# ---- the change against the baseline ------------------------------------------------------------------
def _changes(bundle: Json) -> list[str | None]:
    out = []
    for observation in resources(bundle, "Observation"):
        codings = [c for i in observation.get("interpretation", []) for c in i["coding"]]
        assert all(c["system"] == CHANGE_SYSTEM for c in codings)
        out.append(codings[0]["code"] if codings else None)
    return out


def test_peg_series_interpreted_against_the_baseline(kb: KnowledgeBase) -> None:
    bundle = measures_bundle(PERSON, peg_series(kb), at=AT, lang="en")
    # 6.33 at first; 3.67 is 42 % less, 4.67 and 5.33 less than 30 %, 1.67 is 74 % less
    assert _changes(bundle) == ["baseline", "better", "same", "same", "better"]
    notes = [o["note"][0]["text"] for o in resources(bundle, "Observation")]
    assert notes == [f"Point in the course: {w}" for w in ("Start", "Week 2", "Week 4", "Week 6", "Week 12")]


def test_pgic_judges_itself_without_baseline(kb: KnowledgeBase) -> None:
    records = [
        record("pgic", {"change": v}, week=w, at=AT + dt.timedelta(weeks=w), kb=kb)
        for w, v in ((2, 4), (4, 2), (6, 7))
    ]
    assert _changes(measures_bundle(PERSON, records, at=AT)) == ["same", "better", "worse"]


# ---- golden, deterministic ----------------------------------------------------------------------------
def test_golden_peg_series(kb: KnowledgeBase) -> None:
    text = dumped(measures_bundle(PERSON, peg_series(kb), at=AT + dt.timedelta(weeks=12)))
    if UPDATE:
        GOLDEN.write_text(text, encoding="utf-8")
    assert GOLDEN.exists(), f"no golden file {GOLDEN.name}: run with RUECKENLOTSE_UPDATE_GOLDEN=1"
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_same_input_same_bundle_in_any_order(kb: KnowledgeBase) -> None:
    records = mixed(kb)
    first = measures_bundle(PERSON, records, at=AT)
    assert first == measures_bundle(PERSON, list(reversed(records)), at=AT)
    later = measures_bundle(PERSON, records, at=AT + dt.timedelta(days=1))
    assert [r["id"] for r in resources(first)] == [r["id"] for r in resources(later)]
    assert first["id"] != later["id"]
    other = measures_bundle("someone-else", records, at=AT)
    assert resources(other, "Patient")[0]["id"] != resources(first, "Patient")[0]["id"]
    assert PERSON not in json.dumps(first)  # the pseudonym only as the source of a one-way id


def test_the_same_response_twice_stays_twice(kb: KnowledgeBase) -> None:
    twice = [record("peg", peg(5, 5, 5), week=2, at=AT, kb=kb)] * 2
    bundle = measures_bundle(PERSON, twice, at=AT)
    assert len({r["id"] for r in resources(bundle)}) == len(resources(bundle))
    assert canonical(round_trip(twice)) == canonical(twice)


def test_a_time_without_zone_is_utc(kb: KnowledgeBase) -> None:
    naive = record("peg", peg(1, 2, 3), week=0, at=dt.datetime(2026, 11, 27, 9, 30), kb=kb)
    (back,) = round_trip([naive])
    assert back.recorded_at == AT and back.recorded_at.tzinfo is not None


# ---- round trip ---------------------------------------------------------------------------------------
def _answers(measure: Measure) -> st.SearchStrategy[dict[str, Any]]:
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for item in measure.items:
        if item.kind == "yes_no":
            fields[item.id] = st.booleans()
        elif item.kind == "choice":
            fields[item.id] = st.sampled_from(item.values)
        elif item.kind == "scale":
            fields[item.id] = st.integers(min(item.values), max(item.values))
        else:
            assert item.repeat is not None
            name = st.text(min_size=1, max_size=NAME_LENGTH).filter(lambda s: s.strip() != "")
            row = st.fixed_dictionaries(
                {"name": name, "value": st.integers(min(item.values), max(item.values))}
            )
            fields[item.id] = st.lists(row, min_size=item.repeat.min, max_size=item.repeat.max)
    return st.fixed_dictionaries(fields)


# Any offset FHIR allows (whole minutes, -14:00 to +14:00), microseconds included.
_zones = st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
_times = st.datetimes(dt.datetime(2000, 1, 2), dt.datetime(2099, 12, 30), timezones=_zones)
_weeks = st.none() | st.integers(0, MAX_WEEK)


def _records(kb: KnowledgeBase) -> st.SearchStrategy[MeasureRecord]:
    def one(measure: Measure) -> st.SearchStrategy[MeasureRecord]:
        return st.builds(
            lambda answers, week, at: record(measure.id, answers, week=week, at=at, kb=kb),
            _answers(measure),
            _weeks,
            _times,
        )

    return st.one_of([one(m) for m in CATALOGUE.measures])


@pytest.mark.parametrize("measure_id", CATALOGUE.ids)
def test_round_trip_of_generated_answers_of_each_measure(kb: KnowledgeBase, measure_id: str) -> None:
    measure = CATALOGUE.get(measure_id)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(answers=st.lists(st.tuples(_answers(measure), _weeks, _times), min_size=1, max_size=3))
    def check(answers: list[tuple[dict[str, Any], int | None, dt.datetime]]) -> None:
        records = [record(measure_id, a, week=w, at=t, kb=kb) for a, w, t in answers]
        back = round_trip(records)
        assert canonical(back) == canonical(records)
        for got in back:
            assert isinstance(got.score, float) and got.recorded_at.utcoffset() is not None
        if measure.scoring.subscales:
            assert all(set(r.subscales) == {s.id for s in measure.scoring.subscales} for r in back)

    check()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_round_trip_of_a_mixed_course_in_english(kb: KnowledgeBase, data: st.DataObject) -> None:
    records = data.draw(st.lists(_records(kb), min_size=1, max_size=6))
    assert canonical(round_trip(records, lang="en")) == canonical(records)


def test_round_trip_keeps_every_measure_of_the_example(kb: KnowledgeBase) -> None:
    records = mixed(kb)
    back = round_trip(records)
    assert canonical(back) == canonical(records)
    startback = next(r for r in back if r.measure_id == "startback")
    # 4 of 9, 3 of 5 psychosocial: medium risk (Hill 2008), as at the intake
    assert (startback.score, dict(startback.subscales)) == (1.0, {"total": 4.0, "psychosocial": 3.0})


# ---- crafted input: clear errors at their fields, never a traceback -----------------------------------
@pytest.fixture
def bundle(kb: KnowledgeBase) -> Json:
    return measures_bundle(PERSON, mixed(kb), at=AT)


def _index(bundle: Json, kind: str, measure_id: str) -> int:
    """The entry index of a measure's Observation or QuestionnaireResponse."""
    for index, entry in enumerate(bundle["entry"]):
        resource = entry["resource"]
        if resource["resourceType"] != kind:
            continue
        if kind == "Observation" and resource["code"]["coding"][-1]["code"] == measure_id:
            return index
        if kind == "QuestionnaireResponse" and resource["questionnaire"].split("|")[0].endswith(
            f"-{measure_id}"
        ):
            return index
    raise AssertionError(f"no {kind} of {measure_id}")


def _errors(bundle: Any, lang: str = "de") -> list[tuple[str, str]]:
    with pytest.raises(InvalidMeasureBundle) as caught:
        parse_measure_bundle(bundle, catalogue=CATALOGUE, lang=lang)
    return [(e.field, e.type) for e in caught.value.errors]


def _obs(bundle: Json, measure_id: str = "peg") -> tuple[str, Json]:
    index = _index(bundle, "Observation", measure_id)
    return f"entry[{index}].resource", bundle["entry"][index]["resource"]


def _qr(bundle: Json, measure_id: str = "peg") -> tuple[str, Json]:
    index = _index(bundle, "QuestionnaireResponse", measure_id)
    return f"entry[{index}].resource", bundle["entry"][index]["resource"]


def test_missing_score(bundle: Json) -> None:
    where, observation = _obs(bundle)
    del observation["valueQuantity"]
    observation["valueString"] = "5.67"
    assert _errors(bundle) == [(f"{where}.valueQuantity", "missing_score")]


def test_unknown_measure(bundle: Json) -> None:
    where, observation = _obs(bundle, "pgic")
    observation["code"]["coding"][-1]["code"] = "odi"
    qr_where, _ = _qr(bundle, "pgic")
    # the Observation names no measure we know, and so the PGIC answers have no score
    assert _errors(bundle) == [(f"{where}.code", "unknown_measure"), (qr_where, "no_observation")]


def test_a_response_without_its_observation(bundle: Json) -> None:
    where, _ = _qr(bundle, "psfs")
    index = _index(bundle, "Observation", "psfs")
    del bundle["entry"][index]
    assert _errors(bundle) == [(where, "no_observation")]


def test_an_observation_without_its_response(bundle: Json) -> None:
    where, observation = _obs(bundle)
    observation["derivedFrom"] = [{"reference": "urn:uuid:00000000-0000-0000-0000-000000000000"}]
    qr_where, _ = _qr(bundle)
    assert _errors(bundle) == [(f"{where}.derivedFrom", "missing_response"), (qr_where, "no_observation")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # a number as text: fhir.resources takes "6" as an integer, we do not
        (lambda qr: qr["item"][0]["answer"][0].update(valueInteger="6"), "wrong_type"),
        (lambda qr: qr["item"][0]["answer"].__setitem__(0, {"valueString": "6"}), "wrong_type"),
        (lambda qr: qr["item"][0]["answer"].__setitem__(0, {"valueBoolean": True}), "wrong_type"),
        (lambda qr: qr["item"][0]["answer"].__setitem__(0, {"valueInteger": 11}), "range"),
        (lambda qr: qr["item"].pop(1), "required"),
        (
            lambda qr: qr["item"].append({"linkId": "sleep", "answer": [{"valueInteger": 3}]}),
            "unknown_link_id",
        ),
        (lambda qr: qr["item"].append(copy.deepcopy(qr["item"][0])), "twice"),
        (lambda qr: qr["item"][0]["answer"].append({"valueInteger": 3}), "too_many"),
        (lambda qr: qr.update(status="in-progress"), "status"),
        (lambda qr: qr.update(questionnaire="https://example.org/Questionnaire/odi|1"), "questionnaire"),
        (lambda qr: qr.update(authored="2026-11-28T09:30:00Z"), "time_mismatch"),
        (lambda qr: qr["extension"][0].update(valueInteger=3), "week_mismatch"),
    ],
)
def test_wrong_answers_at_their_field(bundle: Json, change: Callable[[Json], Any], expected: str) -> None:
    where, response = _qr(bundle)
    change(response)
    errors = _errors(bundle)
    assert expected in {kind for _, kind in errors}, errors
    assert all(field.startswith(where) for field, _ in errors), errors


def test_wrong_psfs_activity_at_its_field(bundle: Json) -> None:
    where, response = _qr(bundle, "psfs")
    response["item"][1]["item"][1]["answer"][0]["valueInteger"] = 12
    response["item"][0]["item"].pop(0)  # the first activity without its name
    assert _errors(bundle) == [
        (f"{where}.item.activity[0].name", "name"),
        (f"{where}.item.activity[1].value", "range"),
    ]


def test_unknown_pgic_answer_code(bundle: Json) -> None:
    where, response = _qr(bundle, "pgic")
    response["item"][0]["answer"][0]["valueCoding"]["code"] = "8"
    assert _errors(bundle) == [(f"{where}.item[0].answer[0]", "unknown_code")]


@pytest.mark.parametrize(
    ("change", "field", "expected"),
    [
        (lambda o: o["valueQuantity"].update(value=6.0), ".valueQuantity.value", "score_mismatch"),
        (lambda o: o["valueQuantity"].update(value=10.5), ".valueQuantity.value", "out_of_range"),
        (lambda o: o.update(effectiveDateTime="2026-11-27"), ".effectiveDateTime", "bad_time"),
        # a time without zone is no FHIR dateTime: refused by the structure check, at the same field
        (lambda o: o.update(effectiveDateTime="2026-11-27T09:30:00"), ".effectiveDateTime", "fhir_invalid"),
        (lambda o: o["extension"][0].update(valueInteger=-1), ".extension[0]", "bad_week"),
        (lambda o: o["extension"].append(dict(o["extension"][0])), ".extension[1]", "twice"),
    ],
)
def test_wrong_score_time_or_week_at_their_field(
    bundle: Json, change: Callable[[Json], Any], field: str, expected: str
) -> None:
    where, observation = _obs(bundle)
    change(observation)
    assert (where + field, expected) in _errors(bundle)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda o: o["valueQuantity"].update(value=1.5), "not_a_value"),
        (lambda o: o["component"].pop(), "missing_subscale"),
        (lambda o: o["component"][-1]["code"]["coding"][0].update(code="worry"), "unknown_subscale"),
        (lambda o: o["component"][-1].update(valueQuantity={"unit": "x"}), "wrong_type"),
    ],
)
def test_wrong_startback_scores(bundle: Json, change: Callable[[Json], Any], expected: str) -> None:
    _, observation = _obs(bundle, "startback")
    change(observation)
    assert expected in {kind for _, kind in _errors(bundle)}


def test_structure_errors_name_their_field(bundle: Json) -> None:
    where, observation = _obs(bundle)
    observation["valueQuantity"]["value"] = "viel"
    assert _errors(bundle) == [(f"{where}.valueQuantity.value", "fhir_invalid")]
    observation["valueQuantity"]["value"] = 5.67
    del observation["status"]
    assert _errors(bundle) == [(f"{where}.status", "fhir_invalid")]


def test_messages_in_german_and_english(bundle: Json) -> None:
    _, observation = _obs(bundle)
    del observation["valueQuantity"]
    for lang, words in (("de", "Der Wert fehlt"), ("en", "The score is missing")):
        with pytest.raises(InvalidMeasureBundle) as caught:
            parse_measure_bundle(bundle, catalogue=CATALOGUE, lang=lang)
        assert words in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("not json", "json_invalid"),
        ('{"resourceType": "Bundle", "resourceType": "Bundle"}', "json_invalid"),
        ('{"resourceType": "Bundle", "type": "collection", "total": NaN}', "json_invalid"),
        ("[]", "not_an_object"),
        ('{"resourceType": "Observation"}', "resource_type"),
        ('{"resourceType": "Bundle"}', "fhir_invalid"),
        ("[" * 100_000 + "]" * 100_000, "json_invalid"),
    ],
)
def test_not_a_bundle(text: str, expected: str) -> None:
    with pytest.raises(InvalidMeasureBundle) as caught:
        parse_measure_bundle_json(text, catalogue=CATALOGUE)
    assert [e.type for e in caught.value.errors][0] == expected


@pytest.mark.parametrize(
    ("path", "value", "field", "expected"),
    [
        # a resource type fhir.resources does not know (it would fail with a TypeError / KeyError)
        (
            (5, "resource", "resourceType"),
            "Beobachtung",
            "entry[5].resource.resourceType",
            "unknown_resource_type",
        ),
        (
            (5, "resource", "contained"),
            [{"resourceType": None}],
            "entry[5].resource.contained[0].resourceType",
            "unknown_resource_type",
        ),  # fmt: skip
        # a string where an element is expected: fhir.resources reads it as JSON and trips over it
        ((1, "resource", "_title"), "5", "(bundle)", "fhir_unreadable"),
    ],
)
def test_what_trips_fhir_resources_is_refused_too(
    bundle: Json, path: tuple[Any, ...], value: Any, field: str, expected: str
) -> None:
    parent: Any = bundle["entry"]
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    assert _errors(bundle) == [(field, expected)]


def test_hostile_text_is_shown_escaped(bundle: Json) -> None:
    _, observation = _obs(bundle)
    observation["code"]["coding"][-1]["code"] = "x\u202e<script>" + "y" * 200
    (message,) = [e.message for e in _catch(bundle) if e.type == "unknown_measure"]
    assert "\u202e" not in message and "\\u202e" in message and len(message) < 300


def _catch(bundle: Json) -> list[Any]:
    with pytest.raises(InvalidMeasureBundle) as caught:
        parse_measure_bundle(bundle, catalogue=CATALOGUE)
    return list(caught.value.errors)


def _paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [path] + [p for k, v in node.items() for p in _paths(v, (*path, k))]
    if isinstance(node, list):
        return [path] + [p for i, v in enumerate(node) for p in _paths(v, (*path, i))]
    return [path]


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=6,
)


@cache
def _undamaged() -> Json:
    return measures_bundle(PERSON, mixed(default_knowledge()), at=AT)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_damage_anywhere_is_read_or_refused_never_a_traceback(data: st.DataObject) -> None:
    damaged = copy.deepcopy(_undamaged())
    for _ in range(data.draw(st.integers(1, 3))):
        paths = [p for p in _paths(damaged) if p]
        if not paths:
            break
        path = data.draw(st.sampled_from(paths))
        parent = damaged
        for key in path[:-1]:
            parent = parent[key]
        if data.draw(st.booleans()):
            parent[path[-1]] = copy.deepcopy(data.draw(_json))  # never change what Hypothesis drew
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    try:
        records = parse_measure_bundle_json(json.dumps(damaged), catalogue=CATALOGUE)
    except InvalidMeasureBundle as e:
        assert e.errors and all(err.field and err.message for err in e.errors)
    else:
        # what is read is what the answers give: never a score that does not fit them
        for got in records:
            measure = CATALOGUE.get(got.measure_id)
            if measure.scoring.kind != "derived":
                assert score_response(CATALOGUE, measure, got.answers).score == got.score
