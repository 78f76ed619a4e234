"""The outcome measures (measures.yaml) as validated data: one generic format for every measure.

A measure has items (a scale with labelled ends, a choice, yes/no, or an activity the person names and
rates), a scoring (mean, sum, the single item's value, or values the engine derives over the intake's Case,
as for STarT Back), a score range and direction, its minimal important change as a ``core.measures``
``ChangeRule``, and a schedule of episode weeks. ``build_measures`` checks everything a file can get wrong
and refuses the file with a KnowledgeError naming the measure; the knowledge loader calls it with what the
other files define (the questionnaire, the source ids, the derived values, the follow-up checkpoints).

Pure data: the scoring is ``plan.measures``; the store keeps responses, the services decide what is due.
The model is meant to be easy to export (FHIR Questionnaire / QuestionnaireResponse / Observation): every
measure and item has a stable id, its texts in every language, and LOINC codes where they exist.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..core.kb import KnowledgeError
from ..core.measures import ChangeKind, ChangeRule, Direction
from ..core.models import RegionValue
from ..i18n import LocalText
from .errors import validation_error
from .questionnaire import Question, Questionnaire

MEASURES_FILE = "measures.yaml"

LicenceCode = Literal["public_domain", "free_with_attribution", "needs_licence"]
ItemKind = Literal["scale", "choice", "yes_no", "named_scale"]
ScoringKind = Literal["mean", "sum", "value", "derived"]

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]
Loinc = Annotated[str, Field(pattern=r"^\d{1,7}-\d$")]
# The longest activity name the person may give for a named item (PSFS), and what it must hold: a character
# that is no space in Python's sense nor in JSON Schema's (ECMAScript's), so the API's schema and the check
# agree on every name.
NAME_LENGTH = 80
NAME_PATTERN = re.compile("[^\\s\\u001c-\\u001f\\u0085\\ufeff]")
# Weeks of the pain episode a measure can be asked at (0 = at the intake).
MAX_WEEK = 104

_SPEC = ConfigDict(extra="forbid", frozen=True, strict=True)
_LISTS = ConfigDict(extra="forbid", frozen=True)  # YAML gives lists where the model keeps tuples

# Every key the measure code reads from ``texts``.
REQUIRED_TEXTS = (
    "error.required",
    "error.range",
    "error.choice",
    "error.yes_no",
    "error.name",
    "error.count",
    "error.unknown",
    "error.not_scored",
    "answer.yes",
    "answer.no",
    "change.better",
    "change.same",
    "change.worse",
    "change.baseline",
    "week.0",
    "week.n",
)


class Scale(BaseModel):
    """Whole numbers from ``min`` to ``max``; the words at both ends."""

    model_config = _SPEC
    min: int
    max: int
    min_label: LocalText
    max_label: LocalText

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min >= self.max:
            raise ValueError("a scale needs min < max")
        return self


class ChoiceOption(BaseModel):
    model_config = _SPEC
    value: int
    label: LocalText


class Repeat(BaseModel):
    """How many activities a named item takes: at least ``min``, at most ``max``; the form offers
    ``offered`` fields."""

    model_config = _SPEC
    min: Annotated[int, Field(ge=1, le=10)]
    max: Annotated[int, Field(ge=1, le=10)]
    offered: Annotated[int, Field(ge=1, le=10)]

    @model_validator(mode="after")
    def _ordered(self) -> Repeat:
        if not self.min <= self.offered <= self.max:
            raise ValueError("repeat needs min <= offered <= max")
        return self


class MeasureItem(BaseModel):
    """One item. Its answer: a whole number (scale, choice), true / false (yes_no), or a list of
    ``{"name": ..., "value": ...}`` (named_scale)."""

    model_config = _LISTS
    id: Id
    kind: ItemKind
    text: LocalText
    help: LocalText | None = None
    loinc: Loinc | None = None
    scale: Scale | None = None
    options: tuple[ChoiceOption, ...] = ()
    repeat: Repeat | None = None
    name_label: LocalText | None = None

    @model_validator(mode="after")
    def _shape(self) -> MeasureItem:
        needs_scale = self.kind in ("scale", "named_scale")
        if needs_scale != (self.scale is not None):
            raise ValueError(f"a {self.kind} item {'needs' if needs_scale else 'has no'} 'scale'")
        if (self.kind == "choice") != bool(self.options):
            raise ValueError("a choice item needs options; other kinds have none")
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("option values repeat")
        named = self.kind == "named_scale"
        if named != (self.repeat is not None) or named != (self.name_label is not None):
            raise ValueError("a named_scale item needs 'repeat' and 'name_label'; other kinds have neither")
        return self

    @property
    def values(self) -> tuple[int, ...]:
        """Every value the item can give (yes_no: 1 and 0)."""
        if self.scale is not None:
            return tuple(range(self.scale.min, self.scale.max + 1))
        if self.kind == "yes_no":
            return (0, 1)
        return tuple(o.value for o in self.options)

    def option_label(self, value: int) -> LocalText | None:
        return next((o.label for o in self.options if o.value == value), None)


class ItemsFrom(BaseModel):
    """The items are the intake questionnaire's questions of one nested Case field (e.g. ``startback``)."""

    model_config = _SPEC
    questionnaire: Id


class DerivedScore(BaseModel):
    """The score is a derived value of derived.yaml (a category), mapped to numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    score: Id
    categories: dict[str, int]


class Subscale(BaseModel):
    """A part score: the mean or sum of some items, or (derived scoring) a derived value."""

    model_config = _LISTS
    id: Id
    title: LocalText
    items: tuple[Id, ...] = ()
    kind: Literal["mean", "sum"] = "sum"
    derived: Id | None = None

    @model_validator(mode="after")
    def _one_source(self) -> Subscale:
        if bool(self.items) == (self.derived is not None):
            raise ValueError("a subscale needs either 'items' or 'derived'")
        return self


class Scoring(BaseModel):
    model_config = _LISTS
    kind: ScoringKind
    decimals: Annotated[int, Field(ge=0, le=4)] = 2
    subscales: tuple[Subscale, ...] = ()
    derived: DerivedScore | None = None

    @model_validator(mode="after")
    def _derived(self) -> Scoring:
        if (self.kind == "derived") != (self.derived is not None):
            raise ValueError("scoring 'derived' needs 'derived'; other kinds have none")
        return self


class ScoreRange(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> ScoreRange:
        if self.min >= self.max:
            raise ValueError("range needs min < max")
        return self


class Change(BaseModel):
    """The minimal important change, as ``core.measures.ChangeRule`` states it, with its sources."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=False)
    kind: ChangeKind
    mic_points: Annotated[float, Field(gt=0)] | None = None
    mic_fraction: Annotated[float, Field(gt=0, lt=1)] | None = None
    better: tuple[int, ...] = ()
    worse: tuple[int, ...] = ()
    sources: Annotated[tuple[str, ...], Field(min_length=1)]
    explain: LocalText
    # The same for a practice reading a shared course, where ``explain`` speaks to the person ("Sie …").
    practice_explain: LocalText | None = None

    @model_validator(mode="after")
    def _complete(self) -> Change:
        if self.kind == "difference" and (self.better or self.worse):
            raise ValueError("a difference rule has no 'better' / 'worse' values")
        if self.kind == "category" and (self.mic_points is not None or self.mic_fraction is not None):
            raise ValueError("a category rule has no mic_points / mic_fraction")
        return self


class Schedule(BaseModel):
    model_config = _LISTS
    weeks: Annotated[tuple[Annotated[int, Field(ge=0, le=MAX_WEEK)], ...], Field(min_length=1)]
    # The weeks are asked only when the diary's check of that week (followup.yaml) found no meaningful
    # improvement (NVL: a risk re-screen after 4 weeks without enough improvement).
    only_without_improvement: bool = False

    @model_validator(mode="after")
    def _rising(self) -> Schedule:
        if list(self.weeks) != sorted(set(self.weeks)):
            raise ValueError("schedule weeks must rise and not repeat")
        return self


class LoincCodes(BaseModel):
    model_config = _SPEC
    panel: Loinc | None = None
    score: Loinc | None = None


class Measure(BaseModel):
    """One outcome measure. ``items`` holds the resolved items (``items_from`` filled in by the loader)."""

    model_config = _LISTS
    id: Id
    title: LocalText
    # The measure's name for a practice, where the person's title is a question or speaks as the person
    # ("Meine wichtigen Tätigkeiten"); the person's title otherwise.
    practice_title: LocalText | None = None
    short: LocalText
    intro: LocalText
    sources: Annotated[tuple[str, ...], Field(min_length=1)]
    licence: LicenceCode
    licence_note: LocalText
    loinc: LoincCodes | None = None
    regions: tuple[RegionValue, ...] = ()
    items: tuple[MeasureItem, ...] = ()
    items_from: ItemsFrom | None = None
    scoring: Scoring
    range: ScoreRange
    direction: Direction
    score_labels: dict[int, LocalText] = {}
    change: Change
    schedule: Schedule

    def wording(self, *, for_practice: bool) -> tuple[LocalText, LocalText]:
        """The measure's title and the sentence on what "better / worse" means, for the person or, with
        ``for_practice``, for a practice (and the command line): its own wording where it has one."""
        if not for_practice:
            return self.title, self.change.explain
        return self.practice_title or self.title, self.change.practice_explain or self.change.explain

    @property
    def change_rule(self) -> ChangeRule:
        """The rule ``core.measures.judge_change`` judges this measure's change by."""
        c = self.change
        return ChangeRule(
            kind=c.kind,
            direction=self.direction,
            mic_points=c.mic_points,
            mic_fraction=c.mic_fraction,
            better=frozenset(c.better),
            worse=frozenset(c.worse),
        )

    def item(self, item_id: str) -> MeasureItem:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"measure {self.id!r} has no item {item_id!r}")

    def score_label(self, value: float) -> LocalText | None:
        """The word for a score value: its own label, or (a single choice item) the option's label."""
        if not float(value).is_integer():
            return None
        whole = int(value)
        if whole in self.score_labels:
            return self.score_labels[whole]
        if self.scoring.kind == "value" and len(self.items) == 1:
            return self.items[0].option_label(whole)
        return None


class MeasureCatalogue(BaseModel):
    """The whole file: the measures in the order they are asked, and the texts the measure code shows."""

    model_config = _LISTS
    measures: Annotated[tuple[Measure, ...], Field(min_length=1)]
    texts: dict[str, LocalText]

    def get(self, measure_id: str) -> Measure:
        for measure in self.measures:
            if measure.id == measure_id:
                return measure
        raise KeyError(f"unknown measure {measure_id!r}")

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(m.id for m in self.measures)

    def text(self, key: str, lang: str, **values: object) -> str:
        try:
            entry = self.texts[key]
        except KeyError:
            raise KnowledgeError(f"{MEASURES_FILE}: text {key!r} is missing") from None
        return entry.get(lang).format(**values)


# ---- building and checking ---------------------------------------------------------------------------
def _error(measure: str, message: str) -> KnowledgeError:
    return KnowledgeError(f"{MEASURES_FILE}: {measure}: {message}")


def build_measures(
    raw: Any,
    *,
    questionnaire: Questionnaire,
    known_sources: Collection[str],
    derived_names: Collection[str],
    checkpoint_weeks: Collection[int],
) -> MeasureCatalogue:
    """Validate the parsed measures.yaml against the other knowledge files; items_from resolved."""
    try:
        catalogue = MeasureCatalogue.model_validate(raw)
    except ValidationError as e:
        raise validation_error(MEASURES_FILE, raw, e) from None
    _check_texts(catalogue)
    ids = catalogue.ids
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise KnowledgeError(f"{MEASURES_FILE}: measure ids used twice: {', '.join(twice)}")
    resolved = []
    for measure in catalogue.measures:
        measure = _resolve_items(measure, questionnaire)
        _check_measure(measure, known_sources, derived_names, checkpoint_weeks)
        resolved.append(measure)
    return catalogue.model_copy(update={"measures": tuple(resolved)})


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def _check_texts(catalogue: MeasureCatalogue) -> None:
    for key in REQUIRED_TEXTS:
        if key not in catalogue.texts:
            raise KnowledgeError(f"{MEASURES_FILE}: text {key!r} is missing")
    for key, entry in catalogue.texts.items():
        if _placeholders(entry.de) != _placeholders(entry.en):
            raise KnowledgeError(f"{MEASURES_FILE}: text {key!r}: placeholders differ between de and en")


def _resolve_items(measure: Measure, questionnaire: Questionnaire) -> Measure:
    if (measure.items_from is None) == (not measure.items):
        raise _error(measure.id, "give either 'items' or 'items_from'")
    if measure.items_from is None:
        return measure
    group = measure.items_from.questionnaire
    questions = [q for q in questionnaire.questions if q.field and q.field.startswith(group + ".")]
    if not questions:
        raise _error(measure.id, f"items_from: the questionnaire asks nothing of {group!r}")
    items = tuple(_item_of(measure.id, group, q) for q in questions)
    return measure.model_copy(update={"items": items})


def _item_of(measure: str, group: str, question: Question) -> MeasureItem:
    """A questionnaire question as a measure item: the same id (the Case field's name) and words."""
    assert question.field is not None
    item_id = question.field.removeprefix(group + ".")
    if question.kind == "bool":
        return MeasureItem(id=item_id, kind="yes_no", text=question.text, help=question.help)
    if question.kind == "choice" and all(isinstance(o.value, int) for o in question.options):
        options = tuple(ChoiceOption(value=int(o.value or 0), label=o.label) for o in question.options)
        return MeasureItem(id=item_id, kind="choice", text=question.text, help=question.help, options=options)
    raise _error(measure, f"items_from: question {question.id!r} is a {question.kind}; only bool and "
                 "choice questions with whole-number values can be asked again")  # fmt: skip


def _check_measure(
    measure: Measure,
    known_sources: Collection[str],
    derived_names: Collection[str],
    checkpoint_weeks: Collection[int],
) -> None:
    item_ids = [i.id for i in measure.items]
    if len(set(item_ids)) != len(item_ids):
        raise _error(measure.id, "item ids repeat")
    missing = sorted((set(measure.sources) | set(measure.change.sources)) - set(known_sources))
    if missing:
        raise _error(measure.id, f"unknown source ids {missing}")
    _check_scoring(measure, derived_names)
    _check_change(measure)
    _check_schedule(measure, checkpoint_weeks)


def _check_scoring(measure: Measure, derived_names: Collection[str]) -> None:
    scoring = measure.scoring
    if scoring.kind == "derived":
        assert scoring.derived is not None
        if measure.items_from is None:
            raise _error(measure.id, "derived scoring needs 'items_from' (the engine scores the Case)")
        names = [scoring.derived.score] + [s.derived for s in scoring.subscales if s.derived]
        unknown = sorted(set(names) - set(derived_names))
        if unknown:
            raise _error(measure.id, f"scoring: not a derived value of derived.yaml: {unknown}")
        if any(s.items for s in scoring.subscales):
            raise _error(measure.id, "derived scoring takes derived subscales only")
        values = sorted(scoring.derived.categories.values())
        if not values or values[0] < measure.range.min or values[-1] > measure.range.max:
            raise _error(measure.id, "the categories' numbers must lie within the range")
        return
    if any(s.derived for s in scoring.subscales):
        raise _error(measure.id, "only derived scoring takes derived subscales")
    for subscale in scoring.subscales:
        unknown = sorted(set(subscale.items) - {i.id for i in measure.items})
        if unknown:
            raise _error(measure.id, f"subscale {subscale.id!r}: unknown items {unknown}")
    if scoring.kind == "value" and (len(measure.items) != 1 or measure.items[0].kind == "named_scale"):
        raise _error(measure.id, "scoring 'value' takes exactly one item that is not named")
    low, high = _reachable(measure)
    if (low, high) != (measure.range.min, measure.range.max):
        raise _error(measure.id, f"range must be what the scoring can reach: {low:g} to {high:g}")


def _reachable(measure: Measure) -> tuple[float, float]:
    """The lowest and highest score the items and the scoring can give."""
    lows = [min(i.values) for i in measure.items]
    highs = [max(i.values) for i in measure.items]
    if measure.scoring.kind == "sum":
        # A named item counts once per activity: the sum reaches from min to max activities.
        low = sum(min(i.values) * (i.repeat.min if i.repeat else 1) for i in measure.items)
        high = sum(max(i.values) * (i.repeat.max if i.repeat else 1) for i in measure.items)
        return float(low), float(high)
    return float(min(lows)), float(max(highs))


def _check_change(measure: Measure) -> None:
    try:
        rule = measure.change_rule
    except ValueError as e:
        raise _error(measure.id, f"change: {e}") from None
    if rule.kind == "category":
        possible = set(measure.items[0].values) if measure.scoring.kind == "value" else set()
        if not possible or not (rule.better | rule.worse) <= possible:
            raise _error(measure.id, "change: category values must be values of the measure's single item")
        if 0 in measure.schedule.weeks:
            raise _error(
                measure.id, "schedule: a measure that rates the change itself is not asked at week 0"
            )
    if rule.mic_points is not None and rule.mic_points > measure.range.max - measure.range.min:
        raise _error(measure.id, "change: mic_points exceed the range")


def _check_schedule(measure: Measure, checkpoint_weeks: Collection[int]) -> None:
    schedule = measure.schedule
    if schedule.only_without_improvement:
        loose = sorted(set(schedule.weeks) - set(checkpoint_weeks))
        if loose:
            raise _error(
                measure.id,
                f"schedule: weeks {loose} are no checkpoint of followup.yaml (only_without_improvement)",
            )
