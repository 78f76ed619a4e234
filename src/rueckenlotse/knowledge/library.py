"""The exercise library and the education modules: exercises.yaml and education.yaml, strictly validated.

Loading fails fast with a LibraryError that names the exercise or module at fault: unknown fields, a
missing language, an alternative that does not exist or shares no region, a source id that is not in
sources.yaml, a region without exercises at some level. The knowledge loader reads the files and calls
``build_library``; ``plan.library`` re-exports this module for the plan's callers.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ..core.kb import KnowledgeError
from ..core.models import Case, RegionValue
from ..i18n import BUILTIN_LANGUAGES
from .drawings import DRAWINGS_FILE, Drawing, DrawingsFile
from .errors import validation_error
from .wording import STRICT as _STRICT
from .wording import Id, LocalText

REGIONS: tuple[str, ...] = get_args(RegionValue)
Level = Literal[1, 2, 3]
LEVELS: tuple[int, ...] = get_args(Level)
ComfortKind = Literal["heat", "relaxation"]

EXERCISES_FILE = "exercises.yaml"
EDUCATION_FILE = "education.yaml"
SOURCES_FILE = "sources.yaml"

# Case fields an exercise may be ruled out by: the boolean fields of the Case (pregnant, osteoporosis …).
AVOID_IF_FIELDS: frozenset[str] = frozenset(
    name for name, field in Case.model_fields.items() if field.annotation is bool
)

_PLACEHOLDER = re.compile(r"\{(\w+)\}")


# One error class for every knowledge file (kept under its old name for the callers that use it).
LibraryError = KnowledgeError


class _Practice(BaseModel):
    """What exercises and comfort items share: title, steps, what to feel, when to stop."""

    model_config = _STRICT
    id: Id
    title: LocalText
    how: Annotated[list[LocalText], Field(min_length=1, max_length=8)]
    feel: LocalText
    stop_if: LocalText


class Exercise(_Practice):
    """One exercise: where it helps, how hard it is, its dose, and what replaces it when excluded."""

    regions: Annotated[list[RegionValue], Field(min_length=1)]
    level: Level
    minutes: Annotated[int, Field(ge=1, le=60)] | None = None
    repetitions: Annotated[int, Field(ge=1, le=50)] | None = None
    alternatives: Annotated[list[Id], Field(min_length=1)]
    avoid_if: list[str] = []

    @field_validator("regions", "alternatives", "avoid_if")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("duplicate entries are not allowed")
        return value

    @field_validator("avoid_if")
    @classmethod
    def _known_case_fields(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - AVOID_IF_FIELDS)
        if unknown:
            raise ValueError(f"not a boolean Case field: {', '.join(unknown)}")
        return value

    @model_validator(mode="after")
    def _one_dose(self) -> Exercise:
        if (self.minutes is None) == (self.repetitions is None):
            raise ValueError("give exactly one of minutes or repetitions")
        if self.id in self.alternatives:
            raise ValueError("an exercise cannot be its own alternative")
        return self

    def avoided_for(self, case: Case) -> bool:
        """True when one of the Case fields in avoid_if is set for this person."""
        return any(getattr(case, name) is True for name in self.avoid_if)


class ComfortItem(_Practice):
    """A heat or relaxation item."""

    kind: ComfortKind
    minutes: Annotated[int, Field(ge=1, le=60)]


class Module(BaseModel):
    """One education module: short passages with the sources behind them."""

    model_config = _STRICT
    id: Id
    title: LocalText
    keywords: LocalText | None = None
    sources: Annotated[list[str], Field(min_length=1)]
    passages: Annotated[list[LocalText], Field(min_length=1)]


class _ExercisesFile(BaseModel):
    model_config = _STRICT
    exercises: Annotated[list[Exercise], Field(min_length=1)]
    comfort: list[ComfortItem]


class _EducationFile(BaseModel):
    model_config = _STRICT
    modules: Annotated[list[Module], Field(min_length=1)]
    plan_ui: dict[str, LocalText]


class Library(BaseModel):
    """The validated library: exercises, comfort items and modules by id (file order kept), UI texts."""

    model_config = ConfigDict(frozen=True)
    exercises: dict[str, Exercise]
    comfort: dict[str, ComfortItem]
    modules: dict[str, Module]
    ui: dict[str, LocalText]
    source_titles: dict[str, str]
    source_status: dict[str, str]
    drawings: dict[str, Drawing] = {}
    drawings_version: str = ""  # a short hash of the drawings: image addresses change when they change

    def drawing(self, practice_id: str) -> Drawing:
        """The line drawing of an exercise or comfort item (every one has one: checked when loading)."""
        return self.drawings[practice_id]

    def picture_alt(self, practice_id: str, lang: str) -> str:
        """The alt text of the drawing of an exercise or comfort item in ``lang``."""
        return self.drawings[practice_id].alt.get(lang)

    def text(self, key: str, lang: str, **values: object) -> str:
        """A plan_ui text in ``lang``, with its {placeholders} filled in."""
        entry = self.ui.get(key)
        if entry is None:
            raise KeyError(f"plan_ui has no text {key!r}")
        raw = entry.get(lang)
        return raw.format(**values) if values else raw

    def exercises_for(self, region: str, level: int) -> list[Exercise]:
        """The exercises of one region and level in file order."""
        return [e for e in self.exercises.values() if region in e.regions and e.level == level]


def _validate(
    model: type[_ExercisesFile] | type[_EducationFile] | type[DrawingsFile], raw: Any, filename: str
) -> Any:
    try:
        return model.model_validate(raw)
    except ValidationError as e:
        raise validation_error(filename, raw, e) from None


def _duplicates(ids: list[str]) -> list[str]:
    return sorted({i for i in ids if ids.count(i) > 1})


def _check_exercises(data: _ExercisesFile) -> None:
    by_id = {e.id: e for e in data.exercises}
    dup = _duplicates([e.id for e in data.exercises] + [c.id for c in data.comfort])
    if dup:
        raise LibraryError(f"{EXERCISES_FILE}: id used twice: {', '.join(dup)}")
    for exercise in data.exercises:
        for alt in exercise.alternatives:
            other = by_id.get(alt)
            if other is None:
                raise LibraryError(
                    f"{EXERCISES_FILE}: exercise {exercise.id}: alternative {alt!r} does not exist"
                )
            if not set(other.regions) & set(exercise.regions):
                raise LibraryError(
                    f"{EXERCISES_FILE}: exercise {exercise.id}: alternative {alt!r} shares no region with it"
                )
    for region in REGIONS:
        for level in LEVELS:
            if not any(region in e.regions and e.level == level for e in data.exercises):
                raise LibraryError(f"{EXERCISES_FILE}: no exercise for region {region} at level {level}")


def _check_education(data: _EducationFile, source_ids: set[str]) -> None:
    dup = _duplicates([m.id for m in data.modules])
    if dup:
        raise LibraryError(f"{EDUCATION_FILE}: module id used twice: {', '.join(dup)}")
    for module in data.modules:
        missing = [s for s in module.sources if s not in source_ids]
        if missing:
            raise LibraryError(
                f"{EDUCATION_FILE}: module {module.id}: unknown source id(s): {', '.join(missing)}"
            )
    for key, entry in data.plan_ui.items():
        de, en = (set(_PLACEHOLDER.findall(entry.get(lang))) for lang in BUILTIN_LANGUAGES)
        if de != en:
            raise LibraryError(f"{EDUCATION_FILE}: plan_ui {key}: placeholders differ between de and en")


def _check_drawings(data: _ExercisesFile, drawings: DrawingsFile) -> None:
    """Every exercise and comfort item has one drawing (with its alt text); no drawing is left over."""
    drawn = [d.id for d in drawings.drawings]
    dup = _duplicates(drawn)
    if dup:
        raise LibraryError(f"{DRAWINGS_FILE}: drawing given twice: {', '.join(dup)}")
    practices = [e.id for e in data.exercises] + [c.id for c in data.comfort]
    missing = [p for p in practices if p not in drawn]
    if missing:
        raise LibraryError(
            f"{DRAWINGS_FILE}: no drawing with alt text for: {', '.join(missing)} "
            f"(every exercise and comfort item of {EXERCISES_FILE} needs one)"
        )
    unknown = sorted(set(drawn) - set(practices))
    if unknown:
        raise LibraryError(f"{DRAWINGS_FILE}: drawing of an unknown exercise: {', '.join(unknown)}")


def _sources(raw: Any) -> list[Mapping[str, Any]]:
    if not isinstance(raw, list):
        raise LibraryError(f"{SOURCES_FILE}: expected a list of sources")
    return [s for s in raw if isinstance(s, Mapping) and "id" in s]


def build_library(exercises_raw: Any, education_raw: Any, sources_raw: Any, drawings_raw: Any) -> Library:
    """Validate the parsed exercises.yaml, education.yaml (source ids checked against sources.yaml) and
    exercise_drawings.yaml (a drawing with alt text for every exercise and comfort item)."""
    exercises = _validate(_ExercisesFile, exercises_raw, EXERCISES_FILE)
    drawings = _validate(DrawingsFile, drawings_raw, DRAWINGS_FILE)
    education = _validate(_EducationFile, education_raw, EDUCATION_FILE)
    sources = _sources(sources_raw)
    titles = {str(s["id"]): str(s.get("title", s["id"])) for s in sources}
    _check_exercises(exercises)
    _check_drawings(exercises, drawings)
    _check_education(education, set(titles))
    return Library(
        exercises={e.id: e for e in exercises.exercises},
        comfort={c.id: c for c in exercises.comfort},
        modules={m.id: m for m in education.modules},
        ui=dict(education.plan_ui),
        source_titles=titles,
        source_status={str(s["id"]): str(s.get("status", "unchecked")) for s in sources},
        drawings={d.id: d for d in drawings.drawings},
        drawings_version=hashlib.sha256(
            json.dumps(drawings_raw, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()[:12],
    )
