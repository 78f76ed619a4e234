"""Outcome measures (knowledge measures.yaml) as FHIR R4B: a Questionnaire per measure, each response as a
QuestionnaireResponse and its score as an Observation, all of one person in one ``collection`` Bundle.

- Questionnaire ``{BASE}/Questionnaire/measure-<id>``, version = the knowledge version, German texts with
  the English translation extension (as the intake's); ``code`` the LOINC panel and each item's ``code``
  its LOINC code where measures.yaml gives one (only codes checked there). A scale is an integer item with
  minValue / maxValue and its two end labels as display items (item control "lower" / "upper"); a choice
  has coded answer options; a named scale (PSFS) is a repeating group of the activity's name (string) and
  its rating (integer), with minOccurs / maxOccurs.
- QuestionnaireResponse: the answers as kept (``plan.measures``), ``authored`` = the time recorded, the
  episode week as an extension of ours (absent when the response has no week).
- Observation of the total score, category survey. ``code``: the measure's LOINC *score* code where it has
  one (LOINC practice: the panel code names the set of questions — here the Questionnaire's code — and the
  total score is an observation of its own code, as PHQ-9's 44261-6 within the panel 44249-1), and always
  our own coding (CodeSystem ``measure``, code = measure id). ``valueQuantity`` with the UCUM unit
  ``{score}``: Observation has no valueDecimal, and a Quantity's decimal keeps every digit of the score.
  One ``component`` per item (its LOINC code where given, always our code; a named activity has the name
  the person gave as the code's ``text``: one component per activity carries name and rating together),
  one per subscale (valueQuantity); ``derivedFrom`` the response; ``interpretation`` the change against the
  baseline by the measure's minimal important change (``plan.measures.build_series``) in a CodeSystem of
  our own — HL7's "B" / "W" compare with the previous result, ours with the baseline, and HL7 has no
  "same"; the episode week as the same extension and as a note in words.

Ids are UUIDv5 over the pseudonym and each response's content: the same input gives the same Bundle.
Reading a Bundle back is ``measures_import``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ...i18n import LocalText
from ...knowledge.loader import packaged_knowledge
from ...knowledge.measures import NAME_LENGTH, Measure, MeasureCatalogue, MeasureItem
from ...plan.measures import MeasureScore, Recorded, build_series, week_label
from .common import (
    BASE,
    LOINC,
    MAX_VALUE,
    MIN_VALUE,
    UCUM,
    Json,
    codesystem,
    coding,
    instant,
    reference,
    translation,
    urn,
    uuid_for,
    validated,
)
from .texts import fhir_texts

MEASURE_QUESTIONNAIRE = f"{BASE}/Questionnaire/measure-"
EPISODE_WEEK = f"{BASE}/StructureDefinition/episode-week"
MEASURE_SYSTEM = codesystem("measure")
CHANGE_SYSTEM = codesystem("outcome-change")
MIN_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-minOccurs"
MAX_OCCURS = "http://hl7.org/fhir/StructureDefinition/questionnaire-maxOccurs"
NAME_SUFFIX = ".name"
VALUE_SUFFIX = ".value"
_ITEM_CONTROL = "http://hl7.org/fhir/questionnaire-item-control"
_ITEM_CONTROL_EXT = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"
_CONTROLS = {"flyover": "Fly-over", "lower": "Lower-bound label", "upper": "Upper-bound label"}
_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_SURVEY = {"coding": [coding(_CATEGORY, "survey", "Survey")]}
SCORE_UNIT: Json = {"unit": "{score}", "system": UCUM, "code": "{score}"}


class RecordedMeasure(Protocol):
    """What the export reads of one scored response: a ``MeasureRecord`` or any object with these
    attributes (the store's row type once it has the subscales)."""

    @property
    def measure_id(self) -> str: ...
    @property
    def week(self) -> int | None: ...
    @property
    def recorded_at(self) -> dt.datetime: ...
    @property
    def score(self) -> float: ...
    @property
    def subscales(self) -> Mapping[str, float]: ...
    @property
    def answers(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class MeasureRecord:
    """One scored response of a person: what the export takes and what reading a Bundle gives back."""

    measure_id: str
    week: int | None
    recorded_at: dt.datetime
    score: float
    subscales: Mapping[str, float]
    answers: Mapping[str, Any]

    @classmethod
    def of(cls, scored: MeasureScore, *, week: int | None, recorded_at: dt.datetime) -> MeasureRecord:
        """A response as ``plan.measures.score_response`` scored it, with its week and time."""
        return cls(scored.measure_id, week, recorded_at, scored.score, dict(scored.subscales), scored.answers)


def _t(key: str, lang: str, **values: object) -> str:
    return fhir_texts().format(f"fhir.measures.{key}", lang, **values)


def _local(key: str) -> LocalText:
    return LocalText(de=_t(key, "de"), en=_t(key, "en"))


# ---- names: urls, code systems, ids --------------------------------------------------------------------
def slug(measure_id: str) -> str:
    """The measure id as a FHIR id part (no underscores)."""
    return measure_id.replace("_", "-")


def measure_questionnaire_url(measure: Measure) -> str:
    return f"{MEASURE_QUESTIONNAIRE}{slug(measure.id)}"


def item_system(measure: Measure) -> str:
    """Our CodeSystem of a measure's items (components of the score Observation)."""
    return codesystem(f"measure.{measure.id}")


def subscale_system(measure: Measure) -> str:
    return codesystem(f"measure.{measure.id}.subscale")


def option_system(measure: Measure, item: MeasureItem) -> str:
    """The CodeSystem of a choice item's answers: an item the intake asks as well (STarT Back) keeps the
    intake's (the Case field path), so both answers compare; the others one per measure and item."""
    if measure.items_from is not None:
        return codesystem(f"{measure.items_from.questionnaire}.{item.id}")
    return codesystem(f"measure.{measure.id}.{item.id}")


def _record_key(person: str, record: RecordedMeasure) -> str:
    content = {
        "person": person,
        "measure": record.measure_id,
        "week": record.week,
        "at": instant(record.recorded_at),
        "score": record.score,
        "subscales": dict(record.subscales),
        "answers": dict(record.answers),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


# ---- Questionnaire ------------------------------------------------------------------------------------
def _texts(key: str, text: LocalText) -> Json:
    return {key: text.de, f"_{key}": translation(text.en)}


def _display(link_id: str, text: LocalText, control: str) -> Json:
    concept = {"coding": [coding(_ITEM_CONTROL, control, _CONTROLS[control])]}
    return {
        "linkId": link_id,
        "type": "display",
        **_texts("text", text),
        "extension": [{"url": _ITEM_CONTROL_EXT, "valueCodeableConcept": concept}],
    }


def _help(link_id: str, text: LocalText | None) -> list[Json]:
    return [] if text is None else [_display(f"{link_id}.help", text, "flyover")]


def _scale_item(item: MeasureItem, link_id: str, text: LocalText) -> Json:
    assert item.scale is not None
    scale = item.scale
    return {
        "linkId": link_id,
        "type": "integer",
        **_texts("text", text),
        "required": True,
        "extension": [
            {"url": MIN_VALUE, "valueInteger": scale.min},
            {"url": MAX_VALUE, "valueInteger": scale.max},
        ],
        "item": [
            _display(f"{link_id}.lower", scale.min_label, "lower"),
            _display(f"{link_id}.upper", scale.max_label, "upper"),
        ],
    }


def _question(measure: Measure, item: MeasureItem) -> Json:
    if item.kind == "named_scale":
        assert item.repeat is not None and item.name_label is not None
        name: Json = {
            "linkId": item.id + NAME_SUFFIX,
            "type": "string",
            **_texts("text", item.name_label),
            "required": True,
            "maxLength": NAME_LENGTH,
        }
        value = _scale_item(item, item.id + VALUE_SUFFIX, _local("named-value"))
        return {
            "linkId": item.id,
            "type": "group",
            **_texts("text", item.text),
            "required": True,
            "repeats": True,
            "extension": [
                {"url": MIN_OCCURS, "valueInteger": item.repeat.min},
                {"url": MAX_OCCURS, "valueInteger": item.repeat.max},
            ],
            "item": [*_help(item.id, item.help), name, value],
        }
    if item.kind == "scale":
        out = _scale_item(item, item.id, item.text)
        out["item"] = _help(item.id, item.help) + out["item"]
    elif item.kind == "yes_no":
        out = {"linkId": item.id, "type": "boolean", **_texts("text", item.text), "required": True}
        if item.help is not None:
            out["item"] = _help(item.id, item.help)
    else:
        system = option_system(measure, item)
        out = {
            "linkId": item.id,
            "type": "choice",
            **_texts("text", item.text),
            "required": True,
            "answerOption": [
                {
                    "valueCoding": {
                        **coding(system, str(o.value), o.label.de),
                        "_display": translation(o.label.en),
                    }
                }
                for o in item.options
            ],
        }
        if item.help is not None:
            out["item"] = _help(item.id, item.help)
    if item.loinc is not None:
        out["code"] = [coding(LOINC, item.loinc)]
    return out


def _name(measure: Measure) -> str:
    return "RueckenlotseMeasure" + "".join(part.capitalize() for part in measure.id.split("_"))


def measure_canonical(measure: Measure, version: str) -> str:
    return f"{measure_questionnaire_url(measure)}|{version}"


def build_measure_questionnaire(measure: Measure, *, version: str) -> Json:
    """The Questionnaire of one measure; ``version`` is the knowledge version. Texts in German with the
    English translation extension, like the intake's Questionnaire (a Questionnaire is not per person)."""
    questionnaire: Json = {
        "resourceType": "Questionnaire",
        "id": f"measure-{slug(measure.id)}",
        "language": "de",
        "url": measure_questionnaire_url(measure),
        "version": version,
        "name": _name(measure),
        **_texts("title", measure.title),
        "status": "active",
        "subjectType": ["Patient"],
        **_texts("description", measure.intro),
        **_texts("copyright", measure.licence_note),
        "item": [_question(measure, item) for item in measure.items],
    }
    if measure.loinc is not None and measure.loinc.panel is not None:
        questionnaire["code"] = [coding(LOINC, measure.loinc.panel)]
    return validated(questionnaire)


# ---- QuestionnaireResponse ----------------------------------------------------------------------------
def _week_extension(week: int | None) -> list[Json]:
    return [] if week is None else [{"url": EPISODE_WEEK, "valueInteger": week}]


def _answer(measure: Measure, item: MeasureItem, value: Any, lang: str) -> Json:
    if item.kind == "yes_no":
        return {"valueBoolean": value}
    if item.kind == "choice":
        label = item.option_label(value)
        shown = label.get(lang) if label is not None else None
        return {"valueCoding": coding(option_system(measure, item), str(value), shown)}
    return {"valueInteger": value}


def _response_items(measure: Measure, answers: Mapping[str, Any], lang: str) -> list[Json]:
    out: list[Json] = []
    for item in measure.items:
        value = answers.get(item.id)
        if value is None:
            continue
        if item.kind != "named_scale":
            answer = [_answer(measure, item, value, lang)]
            out.append({"linkId": item.id, "text": item.text.get(lang), "answer": answer})
            continue
        assert item.name_label is not None
        for row in value:
            name = {
                "linkId": item.id + NAME_SUFFIX,
                "text": item.name_label.get(lang),
                "answer": [{"valueString": row["name"]}],
            }
            rating = {
                "linkId": item.id + VALUE_SUFFIX,
                "text": _t("named-value", lang),
                "answer": [{"valueInteger": row["value"]}],
            }
            out.append({"linkId": item.id, "text": item.text.get(lang), "item": [name, rating]})
    return out


def build_measure_response(
    measure: Measure,
    record: RecordedMeasure,
    *,
    response_id: str,
    patient: Json,
    version: str,
    lang: str = "de",
) -> Json:
    """The QuestionnaireResponse of one recorded response; item and option texts in ``lang``."""
    response: Json = {
        "resourceType": "QuestionnaireResponse",
        "id": response_id,
        "language": lang,
        "questionnaire": measure_canonical(measure, version),
        "status": "completed",
        "subject": reference(patient),
        "authored": instant(record.recorded_at),
        "item": _response_items(measure, record.answers, lang),
    }
    week = _week_extension(record.week)
    if week:
        response["extension"] = week
    return validated(response)


# ---- Observation --------------------------------------------------------------------------------------
def _quantity(value: float) -> Json:
    return {"value": value, **SCORE_UNIT}


def _item_code(measure: Measure, item: MeasureItem, lang: str, text: str | None = None) -> Json:
    ours = coding(item_system(measure), item.id, item.text.get(lang))
    codings = ([coding(LOINC, item.loinc)] if item.loinc else []) + [ours]
    return {"coding": codings, "text": text if text is not None else item.text.get(lang)}


def _components(measure: Measure, record: RecordedMeasure, lang: str) -> list[Json]:
    out: list[Json] = []
    for item in measure.items:
        value = record.answers.get(item.id)
        if value is None:
            continue
        if item.kind == "named_scale":
            # One component per activity: the name as the person gave it is the code's text.
            out += [
                {"code": _item_code(measure, item, lang, row["name"]), "valueInteger": row["value"]}
                for row in value
            ]
        elif item.kind == "choice":
            label = item.option_label(value)
            shown = label.get(lang) if label else str(value)
            concept = {"coding": [coding(option_system(measure, item), str(value), shown)], "text": shown}
            out.append({"code": _item_code(measure, item, lang), "valueCodeableConcept": concept})
        else:
            key = "valueBoolean" if item.kind == "yes_no" else "valueInteger"
            out.append({"code": _item_code(measure, item, lang), key: value})
    for subscale in measure.scoring.subscales:
        if subscale.id in record.subscales:
            title = subscale.title.get(lang)
            code = {"coding": [coding(subscale_system(measure), subscale.id, title)], "text": title}
            out.append({"code": code, "valueQuantity": _quantity(record.subscales[subscale.id])})
    return out


def _score_code(measure: Measure, lang: str) -> Json:
    title = measure.title.get(lang)
    loinc = measure.loinc.score if measure.loinc is not None else None
    codings = ([coding(LOINC, loinc)] if loinc else []) + [coding(MEASURE_SYSTEM, measure.id, title)]
    return {"coding": codings, "text": title}


def build_measure_observation(
    measure: Measure,
    record: RecordedMeasure,
    *,
    observation_id: str,
    patient: Json,
    response: Json,
    lang: str = "de",
    change: str | None = None,
    catalogue: MeasureCatalogue | None = None,
) -> Json:
    """The Observation of one response's total score. ``change``: "baseline", "better", "same" or
    "worse" against the baseline (None: not judged); its words and the week's come from ``catalogue``'s
    texts (measures.yaml; default: the packaged measures)."""
    texts = catalogue or packaged_knowledge().measures
    observation: Json = {
        "resourceType": "Observation",
        "id": observation_id,
        "language": lang,
        "status": "final",
        "category": [_SURVEY],
        "code": _score_code(measure, lang),
        "subject": reference(patient),
        "effectiveDateTime": instant(record.recorded_at),
        "valueQuantity": _quantity(record.score),
        "derivedFrom": [reference(response)],
    }
    if change is not None:
        word = texts.text(f"change.{change}", lang)
        observation["interpretation"] = [{"coding": [coding(CHANGE_SYSTEM, change, word)], "text": word}]
    if record.week is not None:
        observation["extension"] = _week_extension(record.week)
        label = week_label(texts, record.week, lang)
        observation["note"] = [{"text": _t("week-note", lang, label=label)}]
    components = _components(measure, record, lang)
    if components:
        observation["component"] = components
    return validated(observation)


# ---- the Bundle ---------------------------------------------------------------------------------------
def _changes(
    catalogue: MeasureCatalogue, records: Sequence[tuple[str, RecordedMeasure]]
) -> dict[str, str | None]:
    """Each response's change against its measure's baseline, by response id."""
    out: dict[str, str | None] = {}
    for measure in catalogue.measures:
        own = [
            Recorded(week=r.week, recorded_at=r.recorded_at, score=r.score, response_id=rid)
            for rid, r in records
            if r.measure_id == measure.id
        ]
        for point in build_series(measure, own).points:
            assert point.response_id is not None
            out[point.response_id] = "baseline" if point.baseline else point.change
    return out


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def build_measure_patient(person_pseudonym_id: str) -> Json:
    """The person as a Patient with nothing but an id derived from the pseudonym (one-way, stable: the
    same person's exports share it)."""
    return validated({"resourceType": "Patient", "id": uuid_for(f"Patient/measures:{person_pseudonym_id}")})


def measures_bundle(
    person_pseudonym_id: str,
    responses: Sequence[RecordedMeasure],
    *,
    at: dt.datetime,
    lang: str = "de",
    catalogue: MeasureCatalogue | None = None,
    version: str | None = None,
) -> Json:
    """One person's measure responses as a ``collection`` Bundle: the Patient (pseudonymous), the
    Questionnaire of each measure answered (in the catalogue's order), then each response's
    QuestionnaireResponse and score Observation, oldest first (equal times in the catalogue's order).
    Texts of responses and Observations in ``lang``; ``version`` the knowledge version (default: the
    packaged knowledge's, as ``catalogue`` defaults to the packaged measures)."""
    knowledge = packaged_knowledge()  # its parts are read when first used, then kept
    catalogue = catalogue or knowledge.measures
    version = version or knowledge.version
    order = {m: n for n, m in enumerate(catalogue.ids)}
    unknown = sorted({r.measure_id for r in responses} - set(order))
    if unknown:
        raise ValueError(f"responses of unknown measures: {', '.join(unknown)}")
    ordered = sorted(
        responses, key=lambda r: (_aware(r.recorded_at), order[r.measure_id], r.week is None, r.week or 0)
    )
    patient = build_measure_patient(person_pseudonym_id)
    keyed: list[tuple[str, RecordedMeasure]] = []
    seen: dict[str, int] = {}
    for record in ordered:
        key = _record_key(person_pseudonym_id, record)
        seen[key] = seen.get(key, 0) + 1  # the same response twice still gets two ids
        keyed.append((f"{seen[key]}:{key}", record))
    ids = {key: uuid_for(f"QuestionnaireResponse/measure:{key}") for key, _ in keyed}
    changes = _changes(catalogue, [(ids[key], r) for key, r in keyed])
    answered = {r.measure_id for r in responses}
    questionnaires = [
        build_measure_questionnaire(m, version=version) for m in catalogue.measures if m.id in answered
    ]
    entries: list[Json] = [{"fullUrl": urn(patient["id"]), "resource": patient}]
    entries += [{"fullUrl": q["url"], "resource": q} for q in questionnaires]
    for key, record in keyed:
        measure = catalogue.get(record.measure_id)
        response = build_measure_response(
            measure, record, response_id=ids[key], patient=patient, version=version, lang=lang
        )
        observation = build_measure_observation(
            measure,
            record,
            observation_id=uuid_for(f"Observation/measure:{key}"),
            patient=patient,
            response=response,
            lang=lang,
            change=changes.get(ids[key]),
            catalogue=catalogue,
        )
        entries += [{"fullUrl": urn(r["id"]), "resource": r} for r in (response, observation)]
    bundle_key = "|".join([lang, instant(at), version, *(key for key, _ in keyed)])
    return validated(
        {
            "resourceType": "Bundle",
            "id": uuid_for(f"Bundle/measures:{person_pseudonym_id}:{bundle_key}"),
            "type": "collection",
            "timestamp": instant(at),
            "entry": entries,
        }
    )
