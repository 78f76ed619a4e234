"""The knowledge base as typed, validated objects (built by rueckenlotse.knowledge from YAML).

Construction validates everything and compiles every condition once; an error names the rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from .conditions import BoolFn, Compiler, ConditionError, ValueFn, referenced_names
from .models import Assessment, Case, Imaging, RecommendationKind, Triage

_SPEC = ConfigDict(extra="forbid", frozen=True)
# The languages every knowledge text has unless the loader passes its list (rueckenlotse.i18n.languages).
BUILTIN_LANGS: tuple[str, ...] = ("de", "en")


class KnowledgeError(ValueError):
    """The knowledge base is inconsistent; the message names the offending rule or key."""


class Source(BaseModel):
    model_config = _SPEC
    id: str
    title: str
    status: str = Field(pattern="^(checked|secondary|unchecked)$")
    note: str | None = None


class DerivedSpec(BaseModel):
    model_config = _SPEC
    name: str
    when: Any = None
    value: Any = None


class EscalationSpec(BaseModel):
    model_config = _SPEC
    id: str
    when: Any
    triage: Triage | None = None
    imaging: Imaging | None = None


class RuleSpec(BaseModel):
    model_config = _SPEC
    id: str
    when: Any
    suspect: str | None = None
    triage: Triage
    imaging: Imaging | None = None
    sources: list[str] = Field(min_length=1)
    escalate: list[EscalationSpec] = []


class ConditionSpec(BaseModel):
    model_config = _SPEC
    id: str
    red_flag: bool


class VariantSpec(BaseModel):
    model_config = _SPEC
    id: str
    when: Any


class RecommendationSpec(BaseModel):
    model_config = _SPEC
    id: str
    kind: RecommendationKind
    when: Any
    sources: list[str] = Field(min_length=1)
    variants: list[VariantSpec] = []


class PrevalenceTable(BaseModel):
    model_config = _SPEC
    source: str
    columns: list[str]
    rows: dict[str, list[float]]
    # Findings that may be the cause of radicular pain rather than a bystander (rows of the table).
    may_match_radicular: tuple[str, ...] = ()


class PolicySpec(BaseModel):
    model_config = _SPEC
    review_in_days: dict[Triage, int]
    imaging_when_emergency: Imaging
    outcome: list[DerivedSpec]


class KnowledgeSpec(BaseModel):
    """Everything the YAML files hold, before compilation."""

    model_config = _SPEC
    knowledge_version: str
    sources: list[Source]
    derived: list[DerivedSpec]
    conditions: list[ConditionSpec]
    rules: list[RuleSpec]
    policy: PolicySpec
    recommendations: list[RecommendationSpec]
    prevalence: PrevalenceTable
    texts: dict[str, dict[str, str]]
    # Every language each text must exist in (the loader passes the translation layer's list).
    languages: list[str] = Field(default_factory=lambda: list(BUILTIN_LANGS))


@dataclass(frozen=True)
class CompiledDerived:
    name: str
    fn: ValueFn
    spec: DerivedSpec


@dataclass(frozen=True)
class CompiledEscalation:
    spec: EscalationSpec
    when: BoolFn


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    when: BoolFn
    escalations: tuple[CompiledEscalation, ...]


@dataclass(frozen=True)
class CompiledRecommendation:
    spec: RecommendationSpec
    when: BoolFn
    variants: tuple[tuple[str, BoolFn], ...]


LANGS = BUILTIN_LANGS
# The word joining the last two items of a list; a language added by a deployer joins with English "and".
_AND = {"de": "und", "en": "and"}
CHILD_CONDITION = "paediatric_back_pain"


def _join(items: list[str], lang: str) -> str:
    """'a', 'a und b', 'a, b und c' (English: 'and')."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {_AND.get(lang, _AND['en'])} {items[-1]}"


# The derived value that counts the neuroplastic-pattern answers; its sum's operands are the items.
NEUROPLASTIC_COUNT = "neuroplastic_count"


# Texts every interface relies on besides those named by rules (labels, headings, error messages).
FIXED_TEXT_KEYS = (
    *(f"ui.{k}" for k in (
        "title", "disclaimer", "emergency_banner", "no_red_flags", "review_in_days", "review_today",
        "mri_context_line", "startback_line", "neuroplastic_line", "phase_line", "pain_type_line",
        "sources_for", "invalid_input", "line",
    )),
    *(f"ui.heading.{k}" for k in (
        "reasons", "advice", "imaging", "mri_context", "risk", "neuroplastic", "sources", "classification",
    )),
    *(f"phase.{k}.label" for k in ("acute", "subacute", "chronic")),
    *(f"pain_type.{k}.label" for k in ("nonspecific", "radicular", "specific_suspected")),
    *(f"imaging.{k}.{part}" for k in ("emergency", "prompt", "consider", "not_indicated")
      for part in ("label", "explain")),
    *(f"risk.{k}.label" for k in ("low", "medium", "high", "unknown")),
    *(f"neuroplastic.{k}.explain" for k in ("few", "some", "many")),
    *(f"region.{k}.label" for k in ("neck", "thoracic", "low_back")),
    *(f"kind.{k}.label" for k in ("seek_care", "do", "avoid", "info")),
    *(f"error.{k}" for k in (
        "missing", "extra_forbidden", "int_type", "bool_type", "float_type", "string_type", "list_type",
        "model_type", "literal_error", "greater_than_equal", "less_than_equal", "too_short", "finite_number",
        "value_error", "json_invalid", "duplicate", "null_not_allowed", "not_an_object", "unknown",
    )),
)  # fmt: skip
OUTCOME_NAMES = ("triage", "imaging", "red_flag")


def case_input_names() -> dict[str, frozenset[str]]:
    """Every Case field usable in a condition, nested answers as dotted names."""
    names: dict[str, frozenset[str]] = {}
    for name, info in Case.model_fields.items():
        names[name] = frozenset({name})
        nested = info.annotation
        for sub in getattr(nested, "__args__", (nested,)):
            if isinstance(sub, type) and issubclass(sub, BaseModel):
                for child in sub.model_fields:
                    names[f"{name}.{child}"] = frozenset({f"{name}.{child}"})
    return names


@dataclass
class KnowledgeBase:
    """A compiled knowledge base: what the engine runs."""

    spec: KnowledgeSpec
    compiler: Compiler = field(init=False)
    derived: tuple[CompiledDerived, ...] = field(init=False)
    rules: tuple[CompiledRule, ...] = field(init=False)
    outcome: tuple[CompiledDerived, ...] = field(init=False)
    recommendations: tuple[CompiledRecommendation, ...] = field(init=False)
    red_flag_conditions: frozenset[str] = field(init=False)
    sources: Mapping[str, Source] = field(init=False)
    # How many neuroplastic-pattern items there are (the "of" of the result): counted from derived.yaml.
    neuroplastic_items: int = field(init=False)
    # Per-KB structures that users of the compiled base (the engine) derive once and keep here.
    cache: dict[str, Any] = field(init=False, default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = self.spec
        self.sources = {s.id: s for s in spec.sources}
        self.red_flag_conditions = frozenset(c.id for c in spec.conditions if c.red_flag)
        self.compiler = Compiler(case_input_names())
        self.derived = tuple(self._compile_derived(d) for d in spec.derived)
        self.rules = tuple(self._compile_rule(r) for r in spec.rules)
        self._add_outcome_names()
        self.outcome = tuple(self._compile_derived(d) for d in spec.policy.outcome)
        self.recommendations = tuple(self._compile_recommendation(r) for r in spec.recommendations)
        self.neuroplastic_items = self._count_neuroplastic_items()
        self._check_prevalence()
        self._check_texts()

    @property
    def version(self) -> str:
        return self.spec.knowledge_version

    def text(self, key: str, lang: str) -> str:
        return self.spec.texts[key][lang]

    def reason(self, rule_id: str, because: Iterable[str], lang: str) -> str:
        """Why a rule fired, naming the signs actually given (its trace's fields with an `evidence.` label)
        rather than every alternative the rule accepts. A reason without `{signs}` is shown as it is."""
        text = self.render(f"rule.{rule_id}.reason", lang)
        if "{signs}" not in text:
            return text
        labels = [
            self.text(f"evidence.{f}", lang)
            for f in dict.fromkeys(because)
            if f"evidence.{f}" in self.spec.texts
        ]
        return text.replace("{signs}", _join(labels or [self.text("evidence.fallback", lang)], lang))

    def triage_action(self, assessment: Assessment, lang: str) -> str:
        """What to do now; for a child (suspected paediatric back pain: under 16) spoken to the parents."""
        key = f"triage.{assessment.triage.value}.action"
        if CHILD_CONDITION in assessment.suspected_conditions and f"{key}.child" in self.spec.texts:
            key = f"{key}.child"
        return self.render(key, lang)

    def review_text(self, days: int, lang: str) -> str:
        """When to check again. Within a day it says "today" (never "in 1 Tagen"), matching the advice to
        see a doctor today."""
        if days <= 1:
            return self.render("ui.review_today", lang)
        return self.render("ui.review_in_days", lang, days=days)

    def render(self, key: str, lang: str, **values: object) -> str:
        """A text with its placeholders filled; an unknown key shows as itself rather than failing a page."""
        entry = self.spec.texts.get(key)
        if entry is None:
            return key
        return entry[lang].format(**values) if values else entry[lang]

    # ---- compilation, each failure names its rule ---------------------------------------
    def _compile_derived(self, d: DerivedSpec) -> CompiledDerived:
        if (d.when is None) == (d.value is None):
            raise KnowledgeError(f"derived {d.name!r}: give exactly one of 'when' or 'value'")
        if d.name in self.compiler.names:
            raise KnowledgeError(f"derived {d.name!r}: the name is already taken")
        try:
            fn = (
                self.compiler.compile_value(d.value) if d.when is None else self.compiler.compile_bool(d.when)
            )
        except ConditionError as e:
            raise KnowledgeError(f"derived {d.name!r}: {e}") from e
        expr = d.value if d.when is None else d.when
        deps: set[str] = set()
        for used in referenced_names(expr, frozenset(self.compiler.names)):
            deps |= self.compiler.names[used]
        self.compiler.names[d.name] = frozenset(deps)
        if d.when is not None:
            self.compiler.definitions[d.name] = d.when
        return CompiledDerived(d.name, fn, d)

    def _cond(self, owner: str, expr: object) -> BoolFn:
        try:
            return self.compiler.compile_bool(expr)
        except ConditionError as e:
            raise KnowledgeError(f"rule {owner!r}: {e}") from e

    def _check_sources(self, owner: str, ids: list[str]) -> None:
        missing = [s for s in ids if s not in self.sources]
        if missing:
            raise KnowledgeError(f"rule {owner!r}: unknown source ids {missing}")

    def _compile_rule(self, r: RuleSpec) -> CompiledRule:
        self._check_sources(r.id, r.sources)
        if r.suspect is not None and r.suspect not in {c.id for c in self.spec.conditions}:
            raise KnowledgeError(f"rule {r.id!r}: unknown condition {r.suspect!r}")
        escalations = tuple(CompiledEscalation(e, self._cond(e.id, e.when)) for e in r.escalate)
        return CompiledRule(r, self._cond(r.id, r.when), escalations)

    def _add_outcome_names(self) -> None:
        for name in OUTCOME_NAMES:
            self.compiler.names[name] = frozenset({name})
        for c in self.spec.conditions:
            self.compiler.names[f"suspected.{c.id}"] = frozenset({f"suspected.{c.id}"})

    def _compile_recommendation(self, r: RecommendationSpec) -> CompiledRecommendation:
        self._check_sources(f"rec.{r.id}", r.sources)
        variants = tuple((v.id, self._cond(f"rec.{r.id}.{v.id}", v.when)) for v in r.variants)
        return CompiledRecommendation(r, self._cond(f"rec.{r.id}", r.when), variants)

    def _count_neuroplastic_items(self) -> int:
        """The number of answers the derived neuroplastic_count adds up (one per pattern question)."""
        spec = next((d for d in self.spec.derived if d.name == NEUROPLASTIC_COUNT), None)
        value = spec.value if spec is not None else None
        items = value.get("sum") if isinstance(value, Mapping) else None
        if not isinstance(items, list) or not items:
            raise KnowledgeError(f"derived {NEUROPLASTIC_COUNT!r}: must be a sum over the pattern answers")
        return len(items)

    def _check_prevalence(self) -> None:
        table = self.spec.prevalence
        unknown = sorted(set(table.may_match_radicular) - set(table.rows))
        if unknown:
            raise KnowledgeError(f"prevalence table: may_match_radicular names no row: {', '.join(unknown)}")

    def required_text_keys(self) -> list[str]:
        keys = [f"rule.{r.id}.reason" for r in self.spec.rules]
        keys += [f"rule.{e.id}.reason" for r in self.spec.rules for e in r.escalate]
        keys += [f"condition.{c.id}.{part}" for c in self.spec.conditions for part in ("label", "explain")]
        keys += [f"rec.{r.id}" for r in self.spec.recommendations]
        keys += [f"rec.{r.id}.{v.id}" for r in self.spec.recommendations for v in r.variants]
        keys += [f"triage.{t.value}.{part}" for t in Triage for part in ("title", "action", "label")]
        keys += [f"finding.{f}.label" for f in self.spec.prevalence.rows]
        return keys + list(FIXED_TEXT_KEYS)

    def _check_texts(self) -> None:
        for key in self.required_text_keys():
            entry = self.spec.texts.get(key)
            if entry is None:
                raise KnowledgeError(f"text {key!r} is missing")
        for key, entry in self.spec.texts.items():
            missing = [lang for lang in self.spec.languages if not (entry.get(lang) or "").strip()]
            if missing:
                raise KnowledgeError(f"text {key!r} has no {' and '.join(missing)} version")
