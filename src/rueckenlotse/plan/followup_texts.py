"""The follow-up rules and texts (knowledge/data/followup.yaml), loaded once and validated.

Every text has German and English with the same {placeholders}; every source id resolves in the
knowledge base's registry; every text key the follow-up code uses exists. A FollowUpError names the key.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..core.models import Region
from ..i18n import LocalText, languages
from ..i18n.formatting import decimal
from ..knowledge.loader import DATA_DIR, default_knowledge
from .models import DIARY_WARNING_SIGNS, PAIN_REACH_ORDER

FOLLOWUP_FILE = "followup.yaml"
EscalationKind = Literal["risk_screening", "see_clinician", "multidisciplinary"]
ESCALATION_KINDS: tuple[EscalationKind, ...] = ("risk_screening", "see_clinician", "multidisciplinary")

_SPEC = ConfigDict(extra="forbid", frozen=True, strict=True)


class FollowUpError(ValueError):
    """followup.yaml is inconsistent; the message names the key."""


class Checkpoint(BaseModel):
    model_config = _SPEC
    kind: EscalationKind
    week: Annotated[int, Field(ge=1, le=104)]
    sources: Annotated[list[str], Field(min_length=1)]
    note: str


class Improvement(BaseModel):
    model_config = _SPEC
    min_points: Annotated[float, Field(gt=0, le=10)]
    min_fraction: Annotated[float, Field(gt=0, lt=1)]
    nearly_pain_free: Annotated[float, Field(ge=0, le=10)]
    sources: Annotated[list[str], Field(min_length=1)]
    note: str


class CentralisationParams(BaseModel):
    model_config = _SPEC
    window_days: Annotated[int, Field(ge=1, le=60)]
    min_shift: Annotated[float, Field(gt=0, le=2)]


class FunctionParams(BaseModel):
    model_config = _SPEC
    window_days: Annotated[int, Field(ge=1, le=60)]
    min_change: Annotated[float, Field(gt=0, le=4)]


class Parameters(BaseModel):
    model_config = _SPEC
    checkpoints: Annotated[list[Checkpoint], Field(min_length=1)]
    improvement: Improvement
    baseline_days: Annotated[int, Field(ge=1, le=60)]
    recent_days: Annotated[int, Field(ge=1, le=60)]
    centralisation: CentralisationParams
    function: FunctionParams


class FollowUpSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    parameters: Parameters
    texts: dict[str, LocalText]

    def text(self, key: str) -> LocalText:
        try:
            return self.texts[key]
        except KeyError:
            raise FollowUpError(f"{FOLLOWUP_FILE}: text {key!r} is missing") from None


def required_text_keys() -> list[str]:
    """Every key the follow-up code reads."""
    keys = ["escalation.reason", "trend.improved"]
    keys += [f"escalation.{k}.{part}" for k in ESCALATION_KINDS for part in ("title", "action")]
    keys += [f"plot.escalation.{k}" for k in ESCALATION_KINDS]
    keys += [f"reach.{r}.label" for r in PAIN_REACH_ORDER]
    keys += [f"centralisation.{d}" for d in ("centralising", "peripheralising", "stable")]
    keys += ["centralisation.peripheralising_with_neuro"]
    keys += [f"function.{d}" for d in ("better", "worse", "same")]
    keys += [f"rescreen.{k}" for k in ("escalated", "new_concern", "noted", "unchanged", "changed_by_time")]
    keys += [f"rescreen.{k}" for k in ("held", "held_rule", "examined")]
    keys += [
        "exam.label",
        "red_flag.title",
        "red_flag.standing",
        "escalation.red_flag.action",
        "trend.too_few",
    ]
    keys += ["plan.too_few_entries", "plan.rescreen_advised"]
    keys += [f"sign.{s}.label" for s in (*DIARY_WARNING_SIGNS, "leg_pain_spread")]
    keys += [f"plot.{k}" for k in ("title", "axis.pain", "axis.activity", "axis.date", "warning")]
    keys += [f"plot.legend.{k}" for k in ("activity", "milestone", "escalation", "warning")]
    keys += [f"plot.region.{r.value}" for r in Region]
    return keys


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"\{(\w+)\}", text))


def _check(spec: FollowUpSpec, known_sources: set[str]) -> None:
    for key, entry in spec.texts.items():
        if _placeholders(entry.de) != _placeholders(entry.en):
            raise FollowUpError(f"{FOLLOWUP_FILE}: text {key!r}: placeholders differ between de and en")
    for key in required_text_keys():
        spec.text(key)
    params = spec.parameters
    for owner, ids in [(c.kind, c.sources) for c in params.checkpoints] + [
        ("improvement", params.improvement.sources)
    ]:
        missing = sorted(set(ids) - known_sources)
        if missing:
            raise FollowUpError(f"{FOLLOWUP_FILE}: {owner}: unknown source ids {missing}")
    weeks = [c.week for c in params.checkpoints]
    if weeks != sorted(set(weeks)) or len({c.kind for c in params.checkpoints}) != len(weeks):
        raise FollowUpError(f"{FOLLOWUP_FILE}: checkpoints must have rising weeks and distinct kinds")


def load_followup(path: Path | None = None, known_sources: set[str] | None = None) -> FollowUpSpec:
    """Read and validate followup.yaml (the packaged one unless a path is given)."""
    path = path or DATA_DIR / FOLLOWUP_FILE
    try:
        raw: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = FollowUpSpec.model_validate(raw)
    except (OSError, yaml.YAMLError) as e:
        raise FollowUpError(f"{path.name}: cannot read: {e}") from e
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise FollowUpError(f"{path.name}: {where}: {first['msg']}") from e
    if known_sources is None:
        known_sources = set(default_knowledge().sources)
    _check(spec, known_sources)
    return spec


@cache
def default_followup() -> FollowUpSpec:
    """The packaged follow-up rules and texts, loaded once per process."""
    return load_followup()


def fmt_number(value: float, lang: str) -> str:
    """One decimal, with a decimal comma in German (6,1) and a point in English (6.1)."""
    return decimal(f"{value:.1f}", lang)


def render(key: str, lang: str, **values: object) -> str:
    """The text under key in lang with its placeholders filled."""
    return default_followup().text(key).get(lang).format(**values)


def render_both(key: str, **values: object) -> LocalText:
    """The text under key in every language; callables among values are called with the language."""
    filled = {
        lang: default_followup()
        .text(key)
        .get(lang)
        .format(**{k: v(lang) if callable(v) else v for k, v in values.items()})
        for lang in languages()
    }
    return LocalText(**filled)
