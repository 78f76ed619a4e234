"""A Bundle of outcome-measure responses (``measures.measures_bundle``) read back into scored responses.

Each Observation with a coding of our CodeSystem ``measure`` is one response: the measure (its code), the
score (``valueQuantity.value``), the subscales (components of the measure's subscale CodeSystem), the time
(``effectiveDateTime``) and the episode week (our extension; absent: no week); its ``derivedFrom`` names the
QuestionnaireResponse in the same Bundle that holds the answers. Other resources (Patient, Questionnaires,
anything not ours) are passed over.

Checked in this order, every problem reported per field (``entry[3].resource.valueQuantity``, an answer as
``entry[2].resource.item.activity[0].value``): JSON, FHIR R4B structure (``fhir.resources``), then each
Observation and its response: a measure we know, a number as score within the measure's range, every
subscale once, a date-time with time zone, a week from 0 to the last, the response to our Questionnaire of
that measure, completed, of the same time and week, its answers as ``plan.measures.validate_answers`` keeps
them, and — for a measure scored from its answers alone (not STarT Back, which needs the intake's Case) —
the score and subscales the answers give. A response no score points to is an error too: its score would
be lost. Text from the input shown in a message is made safe as in the intake's import (``shown``).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from typing import Any, TypeGuard

from fhir.resources.R4B.bundle import Bundle

from ...core.errors import FieldError, InvalidInput
from ...input_limits import MAX_NESTING_DEPTH, InputRejected, check_json
from ...knowledge.measures import MAX_WEEK, Measure, MeasureCatalogue, MeasureItem
from ...plan.measures import default_measures, score_response, validate_answers
from .importing import _no_duplicate_keys, _reject_constant, shown, structure_problems
from .measures import (
    EPISODE_WEEK,
    MEASURE_QUESTIONNAIRE,
    MEASURE_SYSTEM,
    NAME_SUFFIX,
    VALUE_SUFFIX,
    MeasureRecord,
    measure_questionnaire_url,
    option_system,
    subscale_system,
)
from .texts import fhir_texts

_STATUSES = ("completed", "amended")
_BAD = object()  # marks a value already reported as wrong


class InvalidMeasureBundle(InvalidInput):
    """The Bundle cannot be read as measure responses; ``errors`` lists every problem."""


def _error(field: str, kind: str, lang: str, **values: object) -> FieldError:
    return FieldError(
        field=field, type=kind, message=fhir_texts().format(f"fhir.measures.{kind}", lang, **values)
    )


def _number(value: object) -> TypeGuard[int | float]:
    """A JSON number (not true / false, not a string of digits)."""
    return type(value) in (int, float)


def _list(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _map(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


class _Reader:
    """Reads the Bundle's entries and collects every problem."""

    def __init__(self, catalogue: MeasureCatalogue, lang: str) -> None:
        self.catalogue = catalogue
        self.lang = lang
        self.errors: list[FieldError] = []
        self.by_url = {measure_questionnaire_url(m): m for m in catalogue.measures}

    def fail(self, field: str, kind: str, **values: object) -> None:
        self.errors.append(_error(field, kind, self.lang, **values))

    # ---- the Bundle ---------------------------------------------------------------------------------
    def read(self, bundle: Mapping[str, Any]) -> list[MeasureRecord]:
        entries = _list(bundle.get("entry"))
        responses: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for index, entry in enumerate(entries):
            resource = _map(_map(entry).get("resource"))
            url = _map(entry).get("fullUrl")
            if resource.get("resourceType") != "QuestionnaireResponse" or not isinstance(url, str):
                continue
            if url in responses:
                self.fail(f"entry[{index}].fullUrl", "twice")
            responses[url] = (f"entry[{index}].resource", resource)
        records: list[MeasureRecord] = []
        used: set[str] = set()
        for index, entry in enumerate(entries):
            resource = _map(_map(entry).get("resource"))
            if resource.get("resourceType") != "Observation":
                continue
            record = self._observation(f"entry[{index}].resource", resource, responses, used)
            if record is not None:
                records.append(record)
        for url, (where, response) in responses.items():
            if url not in used and self._ours(response):
                self.fail(where, "no_observation")
        return records

    def _ours(self, response: Mapping[str, Any]) -> bool:
        canonical = response.get("questionnaire")
        return isinstance(canonical, str) and canonical.startswith(MEASURE_QUESTIONNAIRE)

    # ---- one Observation and its response -----------------------------------------------------------
    def _observation(
        self,
        where: str,
        obs: Mapping[str, Any],
        responses: Mapping[str, tuple[str, Mapping[str, Any]]],
        used: set[str],
    ) -> MeasureRecord | None:
        codings = [_map(c) for c in _list(_map(obs.get("code")).get("coding"))]
        ours = [c for c in codings if c.get("system") == MEASURE_SYSTEM]
        if not ours:
            return None  # not one of our measure scores
        measure_id = ours[0].get("code")
        if measure_id not in self.catalogue.ids:
            self.fail(
                f"{where}.code", "unknown_measure", got=shown(measure_id), known=", ".join(self.catalogue.ids)
            )
            return None
        measure = self.catalogue.get(str(measure_id))
        before = len(self.errors)
        score = self._score(where, obs, measure)
        subscales = self._subscales(where, obs, measure)
        at = self._time(f"{where}.effectiveDateTime", obs.get("effectiveDateTime"))
        week_ok, week = self._week(where, obs)
        answers = self._response(where, obs, measure, responses, used, at, week if week_ok else _BAD)
        if len(self.errors) > before or score is None or at is None or answers is None:
            return None
        if not self._check_score(where, measure, score, subscales, answers):
            return None
        return MeasureRecord(measure.id, week, at, score, subscales, answers)

    def _score(self, where: str, obs: Mapping[str, Any], measure: Measure) -> float | None:
        quantity = obs.get("valueQuantity")
        if not isinstance(quantity, Mapping) or "value" not in quantity:
            self.fail(f"{where}.valueQuantity", "missing_score")
            return None
        value = quantity["value"]
        if not _number(value):
            self.fail(f"{where}.valueQuantity.value", "wrong_type", expected="number")
            return None
        low, high = measure.range.min, measure.range.max
        if not low <= value <= high:
            self.fail(
                f"{where}.valueQuantity.value",
                "out_of_range",
                got=shown(value),
                min=f"{low:g}",
                max=f"{high:g}",
            )
            return None
        derived = measure.scoring.derived
        if derived is not None and value not in derived.categories.values():
            allowed = ", ".join(str(v) for v in sorted(set(derived.categories.values())))
            self.fail(f"{where}.valueQuantity.value", "not_a_value", got=shown(value), allowed=allowed)
            return None
        return float(value)

    def _subscales(self, where: str, obs: Mapping[str, Any], measure: Measure) -> dict[str, float]:
        system = subscale_system(measure)
        known = [s.id for s in measure.scoring.subscales]
        out: dict[str, float] = {}
        for index, component in enumerate(_list(obs.get("component"))):
            here = f"{where}.component[{index}]"
            codings = [_map(c) for c in _list(_map(_map(component).get("code")).get("coding"))]
            code = next((c.get("code") for c in codings if c.get("system") == system), None)
            if code is None:
                continue  # an item's component: the answers are read from the response
            if code not in known:
                self.fail(f"{here}.code", "unknown_subscale", got=shown(code), known=", ".join(known) or "-")
                continue
            if code in out:
                self.fail(f"{here}.code", "twice")
                continue
            value = _map(_map(component).get("valueQuantity")).get("value")
            if not _number(value):
                self.fail(f"{here}.valueQuantity.value", "wrong_type", expected="number")
                continue
            out[str(code)] = float(value)
        for subscale in known:
            if subscale not in out:
                self.fail(f"{where}.component", "missing_subscale", name=subscale)
        return {s: out[s] for s in known if s in out}

    def _time(self, where: str, value: object) -> dt.datetime | None:
        moment = None
        if isinstance(value, str) and "T" in value:
            try:
                moment = dt.datetime.fromisoformat(value)
            except ValueError:
                moment = None
        if moment is None or moment.tzinfo is None:
            self.fail(where, "bad_time", got=shown(value))
            return None
        return moment

    def _week(self, where: str, resource: Mapping[str, Any]) -> tuple[bool, int | None]:
        """(False, None) when the week is given wrongly (reported), else (True, the week or None)."""
        extensions = [_map(e) for e in _list(resource.get("extension"))]
        found = [(i, e) for i, e in enumerate(extensions) if e.get("url") == EPISODE_WEEK]
        if not found:
            return True, None
        index, extension = found[-1]
        if len(found) > 1:
            self.fail(f"{where}.extension[{index}]", "twice")
            return False, None
        value = extension.get("valueInteger")
        if type(value) is not int or not 0 <= value <= MAX_WEEK:
            self.fail(f"{where}.extension[{index}]", "bad_week", got=shown(value), max=MAX_WEEK)
            return False, None
        return True, value

    def _response(
        self,
        where: str,
        obs: Mapping[str, Any],
        measure: Measure,
        responses: Mapping[str, tuple[str, Mapping[str, Any]]],
        used: set[str],
        at: dt.datetime | None,
        week: object,
    ) -> dict[str, Any] | None:
        """The answers of the response the Observation is derived from (``week``: _BAD when the
        Observation's own is wrong)."""
        refs = [_map(r).get("reference") for r in _list(obs.get("derivedFrom"))]
        url = next((r for r in refs if isinstance(r, str) and r in responses), None)
        if url is None:
            self.fail(f"{where}.derivedFrom", "missing_response")
            return None
        if url in used:
            self.fail(f"{where}.derivedFrom", "used_twice")
            return None
        used.add(url)
        here, response = responses[url]
        before = len(self.errors)
        canonical = response.get("questionnaire")
        expected = measure_questionnaire_url(measure)
        if not isinstance(canonical, str) or canonical.split("|", 1)[0] != expected:
            self.fail(f"{here}.questionnaire", "questionnaire", url=expected, got=shown(canonical))
        if response.get("status") not in _STATUSES:
            self.fail(f"{here}.status", "status", got=shown(response.get("status")))
        authored = self._time(f"{here}.authored", response.get("authored"))
        if authored is not None and at is not None and authored != at:
            got, expected = shown(response.get("authored")), shown(obs.get("effectiveDateTime"))
            self.fail(f"{here}.authored", "time_mismatch", got=got, expected=expected)
        week_ok, response_week = self._week(here, response)
        if week_ok and week is not _BAD and response_week != week:
            self.fail(f"{here}.extension", "week_mismatch", got=shown(response_week), expected=shown(week))
        answers = self._answers(here, measure, _list(response.get("item")))
        if len(self.errors) > before:
            return None
        try:
            return validate_answers(self.catalogue, measure, answers, lang=self.lang)
        except InvalidInput as e:
            self.errors += [FieldError(f"{here}.item.{err.field}", err.type, err.message) for err in e.errors]
            return None

    # ---- the answers --------------------------------------------------------------------------------
    def _answers(self, where: str, measure: Measure, items: list[Any]) -> dict[str, Any]:
        by_id = {item.id: item for item in measure.items}
        answers: dict[str, Any] = {}
        for index, raw in enumerate(items):
            here = f"{where}.item[{index}]"
            entry = _map(raw)
            link_id = entry.get("linkId")
            item = by_id.get(str(link_id)) if isinstance(link_id, str) else None
            if item is None:
                self.fail(here, "unknown_link_id", got=shown(link_id))
            elif item.kind == "named_scale":
                answers.setdefault(item.id, []).append(self._named(here, item, _list(entry.get("item"))))
            elif item.id in answers:
                self.fail(here, "twice")
            else:
                values = _list(entry.get("answer"))
                if len(values) > 1:
                    self.fail(here, "too_many")
                elif values:
                    answers[item.id] = self._value(f"{here}.answer[0]", measure, item, _map(values[0]))
        return answers

    def _named(self, where: str, item: MeasureItem, parts: list[Any]) -> dict[str, Any]:
        row: dict[str, Any] = {}
        names: dict[str, tuple[str, str, type]] = {
            item.id + NAME_SUFFIX: ("name", "valueString", str),
            item.id + VALUE_SUFFIX: ("value", "valueInteger", int),
        }
        for index, raw in enumerate(parts):
            here = f"{where}.item[{index}]"
            part = _map(raw)
            known = names.get(str(part.get("linkId")))
            if known is None:
                self.fail(here, "unknown_link_id", got=shown(part.get("linkId")))
                continue
            key, value_key, kind = known
            values = _list(part.get("answer"))
            if key in row:
                self.fail(here, "twice")
            elif len(values) > 1:
                self.fail(here, "too_many")
            elif values:
                value = _map(values[0]).get(value_key)
                if type(value) is not kind:
                    self.fail(f"{here}.answer[0]", "wrong_type", expected=value_key)
                else:
                    row[key] = value
        return {"name": row.get("name"), "value": row.get("value")}

    def _value(self, where: str, measure: Measure, item: MeasureItem, answer: Mapping[str, Any]) -> Any:
        if item.kind == "yes_no":
            value = answer.get("valueBoolean")
            if isinstance(value, bool):
                return value
            self.fail(where, "wrong_type", expected="valueBoolean")
            return _BAD
        if item.kind == "scale":
            value = answer.get("valueInteger")
            if type(value) is int:
                return value
            self.fail(where, "wrong_type", expected="valueInteger")
            return _BAD
        found = answer.get("valueCoding")
        if not isinstance(found, Mapping):
            self.fail(where, "wrong_type", expected="valueCoding")
            return _BAD
        system = option_system(measure, item)
        for option in item.options:
            if found.get("system") == system and found.get("code") == str(option.value):
                return option.value
        got = f"{shown(found.get('system'))}#{shown(found.get('code'))}"
        allowed = ", ".join(str(o.value) for o in item.options)
        self.fail(where, "unknown_code", got=got, allowed=allowed, system=system)
        return _BAD

    # ---- the score against the answers --------------------------------------------------------------
    def _check_score(
        self,
        where: str,
        measure: Measure,
        score: float,
        subscales: Mapping[str, float],
        answers: Mapping[str, Any],
    ) -> bool:
        """Whether score and subscales are what the answers give (a derived measure: not checked, it is
        scored over the intake's Case, which the Bundle does not carry)."""
        if measure.scoring.kind == "derived":
            return True
        expected = score_response(self.catalogue, measure, answers, lang=self.lang)
        pairs = [(f"{where}.valueQuantity.value", score, expected.score)]
        pairs += [
            (f"{where}.component.{s.id}", subscales[s.id], expected.subscales[s.id])
            for s in measure.scoring.subscales
        ]
        wrong = [(field, got, want) for field, got, want in pairs if got != want]
        for field, got, want in wrong:
            self.fail(field, "score_mismatch", got=f"{got:g}", expected=f"{want:g}")
        return not wrong


def _check_fhir(data: Mapping[str, Any], lang: str) -> list[FieldError]:
    return [_error(f, kind, lang, **values) for f, kind, values in structure_problems(Bundle, data)]


def parse_measure_bundle(
    data: object, *, catalogue: MeasureCatalogue | None = None, lang: str = "de"
) -> list[MeasureRecord]:
    """The scored responses of a Bundle (parsed JSON), in the order of their Observations;
    InvalidMeasureBundle lists every problem, each at its field, in ``lang``."""
    if not isinstance(data, Mapping):
        raise InvalidMeasureBundle([_error("(bundle)", "not_an_object", lang)])
    if data.get("resourceType") != "Bundle":
        raise InvalidMeasureBundle(
            [_error("resourceType", "resource_type", lang, got=shown(data.get("resourceType")))]
        )
    try:
        structural = _check_fhir(data, lang)
    except RecursionError:
        raise InvalidMeasureBundle([_error("(bundle)", "too_deep", lang, limit=MAX_NESTING_DEPTH)]) from None
    if structural:
        raise InvalidMeasureBundle(structural)
    reader = _Reader(catalogue or default_measures(), lang)
    records = reader.read(data)
    if reader.errors:
        raise InvalidMeasureBundle(reader.errors)
    return records


def parse_measure_bundle_json(
    text: str, *, catalogue: MeasureCatalogue | None = None, lang: str = "de"
) -> list[MeasureRecord]:
    """``parse_measure_bundle`` for JSON text (a key given twice, NaN or Infinity are errors)."""
    try:
        check_json(text)  # before the parser recurses into it
    except InputRejected as e:
        raise InvalidMeasureBundle([FieldError("(bundle)", "json_invalid", e.message(lang))]) from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_reject_constant)
    except ValueError as e:
        raise InvalidMeasureBundle([_error("(bundle)", "json_invalid", lang, msg=str(e))]) from None
    return parse_measure_bundle(data, catalogue=catalogue, lang=lang)
