"""Turns a validated Case into an Assessment by running a compiled knowledge base. Pure: no I/O.

Speed: everything that depends only on the knowledge base (rule order, explanation functions, text keys,
enum look-ups) is derived once per base (``_plan``) and kept in ``kb.cache``; per case the engine runs the
compiled conditions, explains only what fired and builds the output models. The output models are still
built through their validating constructors: Pydantic's validation of already-typed values is faster than
``model_construct`` (measured 4 µs against 10 µs for an Assessment), and it keeps every guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar, get_args, get_origin

from pydantic import BaseModel

from .conditions import BoolFn, ExplainFn, ValueFn
from .kb import KnowledgeBase
from .models import (
    IMAGING_ORDER,
    TRIAGE_ORDER,
    Assessment,
    Case,
    ChronificationRisk,
    Imaging,
    ImagingContextRow,
    ImagingFinding,
    NeuroplasticResult,
    PainType,
    Phase,
    Recommendation,
    RecommendationKind,
    RedFlag,
    StartBackResult,
    TraceEntry,
    Triage,
)

E = TypeVar("E", bound=Enum)

_TRIAGE_RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}
_IMAGING_RANK = {m: i for i, m in enumerate(IMAGING_ORDER)}


def _case_shape() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The Case fields that hold a nested model, and those that hold a list (read from the annotations)."""
    nested: list[str] = []
    lists: list[str] = []
    for name, info in Case.model_fields.items():
        options = get_args(info.annotation) or (info.annotation,)
        if any(isinstance(o, type) and issubclass(o, BaseModel) for o in options):
            nested.append(name)
        if get_origin(info.annotation) is list:
            lists.append(name)
    return tuple(nested), tuple(lists)


_NESTED_FIELDS, _LIST_FIELDS = _case_shape()


def case_env(case: Case) -> dict[str, Any]:
    """The flat name -> value mapping that conditions read (nested answers as dotted names).

    Conditions look names up, never iterate the mapping, so the dotted names may come last.
    """
    env = dict(case.__dict__)  # a validated model's __dict__ holds exactly its fields
    for name in _NESTED_FIELDS:
        value = env[name]
        if isinstance(value, BaseModel):
            env[name] = True
            for child, child_value in value.__dict__.items():
                env[f"{name}.{child}"] = child_value
    for name in _LIST_FIELDS:
        if isinstance(env[name], list):
            env[name] = env[name] or None  # an empty list counts as not set
    return env


# ---- what the engine derives once per knowledge base ----------------------------------------------
@dataclass(frozen=True)
class _Escalation:
    id: str
    when: BoolFn
    explain: ExplainFn
    triage: Triage | None
    imaging: Imaging | None


@dataclass(frozen=True)
class _Rule:
    id: str
    when: BoolFn
    explain: ExplainFn
    triage: Triage
    imaging: Imaging | None
    suspect: str | None
    red_flag: bool
    escalations: tuple[_Escalation, ...]


@dataclass(frozen=True)
class _Rec:
    id: str
    kind: RecommendationKind
    sources: tuple[str, ...]
    when: BoolFn
    explain: ExplainFn
    key: str
    variants: tuple[tuple[str, BoolFn], ...]  # (text key, condition)


@dataclass(frozen=True)
class _Plan:
    derived: tuple[tuple[str, ValueFn], ...]
    rules: tuple[_Rule, ...]
    suspected_names: tuple[tuple[str, str], ...]  # (outcome name, condition id)
    outcome: tuple[tuple[str, ValueFn], ...]
    recommendations: tuple[_Rec, ...]
    imaging_when_emergency: Imaging
    review_in_days: dict[Triage, int]


def _plan(kb: KnowledgeBase) -> _Plan:
    plan: _Plan | None = kb.cache.get("engine")
    if plan is None:
        plan = kb.cache["engine"] = _make_plan(kb)
    return plan


def _make_plan(kb: KnowledgeBase) -> _Plan:
    explainer = kb.compiler.explainer
    rules = tuple(
        _Rule(
            id=r.spec.id,
            when=r.when,
            explain=explainer(r.spec.when),
            triage=r.spec.triage,
            imaging=r.spec.imaging,
            suspect=r.spec.suspect,
            red_flag=r.spec.suspect in kb.red_flag_conditions,
            escalations=tuple(
                _Escalation(e.spec.id, e.when, explainer(e.spec.when), e.spec.triage, e.spec.imaging)
                for e in r.escalations
            ),
        )
        for r in kb.rules
    )
    recs = tuple(
        _Rec(
            id=r.spec.id,
            kind=r.spec.kind,
            sources=tuple(r.spec.sources),
            when=r.when,
            explain=explainer(r.spec.when),
            key=f"rec.{r.spec.id}",
            variants=tuple((f"rec.{r.spec.id}.{vid}", vwhen) for vid, vwhen in r.variants),
        )
        for r in kb.recommendations
    )
    return _Plan(
        derived=tuple((d.name, d.fn) for d in kb.derived),
        rules=rules,
        suspected_names=tuple((f"suspected.{c.id}", c.id) for c in kb.spec.conditions),
        outcome=tuple((d.name, d.fn) for d in kb.outcome),
        recommendations=recs,
        imaging_when_emergency=kb.spec.policy.imaging_when_emergency,
        review_in_days=dict(kb.spec.policy.review_in_days),
    )


def _because(explain: ExplainFn, env: dict[str, Any]) -> list[str]:
    found: dict[str, None] = {}
    explain(env, found)
    return list(found)


# ---- per case -----------------------------------------------------------------------------------
@dataclass
class _Findings:
    """What the rules concluded, accumulated rule by rule."""

    triage: Triage = Triage.self_care
    imaging: Imaging = Imaging.not_indicated
    suspected: dict[str, None] = field(default_factory=dict)
    red_flags: list[RedFlag] = field(default_factory=list)
    trace: list[TraceEntry] = field(default_factory=list)

    def raise_to(self, triage: Triage | None, imaging: Imaging | None) -> None:
        if triage is not None and _TRIAGE_RANK[triage] > _TRIAGE_RANK[self.triage]:
            self.triage = triage
        if imaging is not None and _IMAGING_RANK[imaging] > _IMAGING_RANK[self.imaging]:
            self.imaging = imaging


def _apply_rules(plan: _Plan, env: dict[str, Any]) -> _Findings:
    found = _Findings()
    for rule in plan.rules:
        if not rule.when(env):
            continue
        because = _because(rule.explain, env)
        found.trace.append(TraceEntry(rule=rule.id, because=because))
        found.raise_to(rule.triage, rule.imaging)
        evidence = dict.fromkeys(because)
        for esc in rule.escalations:
            if esc.when(env):
                esc_because = _because(esc.explain, env)
                found.trace.append(TraceEntry(rule=esc.id, because=esc_because))
                found.raise_to(esc.triage, esc.imaging)
                evidence.update(dict.fromkeys(esc_because))
        if rule.suspect is not None:
            found.suspected.setdefault(rule.suspect, None)
            if rule.red_flag:
                found.red_flags.append(RedFlag(id=rule.id, condition=rule.suspect, evidence=list(evidence)))
    if found.triage is Triage.emergency:
        found.raise_to(None, plan.imaging_when_emergency)
    return found


def _outcome_env(plan: _Plan, env: dict[str, Any], found: _Findings) -> dict[str, Any]:
    out = dict(env)
    out["triage"] = found.triage.value
    out["imaging"] = found.imaging.value
    out["red_flag"] = bool(found.red_flags)
    suspected = found.suspected
    for name, condition in plan.suspected_names:
        out[name] = condition in suspected
    for name, fn in plan.outcome:
        out[name] = fn(out)
    return out


def _recommendations(
    kb: KnowledgeBase, plan: _Plan, env: dict[str, Any], lang: str, trace: list[TraceEntry]
) -> list[Recommendation]:
    texts = kb.spec.texts
    recs: list[Recommendation] = []
    for rec in plan.recommendations:
        if not rec.when(env):
            continue
        key = rec.key
        for variant_key, variant_when in rec.variants:
            if variant_when(env):
                key = variant_key
                break
        trace.append(TraceEntry(rule=key, because=_because(rec.explain, env)))
        recs.append(
            Recommendation(id=rec.id, kind=rec.kind, text=texts[key][lang], sources=list(rec.sources))
        )
    return recs


def _imaging_context(kb: KnowledgeBase, case: Case, env: dict[str, Any]) -> list[ImagingContextRow]:
    # The table is lumbar data from adults (contract 2): no rows for a child or without low back pain.
    if not env["imaging_context_applies"]:
        return []
    table = kb.spec.prevalence
    age_band = env["age_band"]
    column = table.columns.index(age_band)
    radicular = bool(env["suspected.radiculopathy"])
    return [
        ImagingContextRow(
            finding=ImagingFinding(finding),
            prevalence_pain_free_percent=table.rows[finding][column],
            age_band=age_band,
            source=table.source,
            may_match_symptoms=radicular and finding in table.may_match_radicular,
        )
        for finding in case.imaging_findings
    ]


def _startback(env: dict[str, Any]) -> StartBackResult | None:
    if env["startback_group"] is None:
        return None
    return StartBackResult(
        total=env["startback_total"], psychosocial=env["startback_psychosocial"], group=env["startback_group"]
    )


def _neuroplastic(env: dict[str, Any], items: int) -> NeuroplasticResult | None:
    # Pattern questions only make sense once serious causes, a nerve root and an inflammatory cause are
    # out of the way: the policy's outcome `neuroplastic_shown` says when.
    if not env["neuroplastic_shown"] or env["neuroplastic_level"] is None:
        return None
    return NeuroplasticResult(count=env["neuroplastic_count"], of=items, level=env["neuroplastic_level"])


def _member(enum: type[E], members: dict[Any, E], value: Any) -> E:
    # A dict look-up instead of the (slow) Enum call; an unknown value still fails as the call does.
    found = members.get(value)
    return found if found is not None else enum(value)


_PHASES = {m.value: m for m in Phase}
_PAIN_TYPES = {m.value: m for m in PainType}
_RISKS = {m.value: m for m in ChronificationRisk}


def derived_values(kb: KnowledgeBase, case: Case) -> dict[str, Any]:
    """The derived values of derived.yaml for one Case, by name: what the rules read (the STarT Back
    total, subscale and group among them). An outcome measure scored by the engine reads them here."""
    plan = _plan(kb)
    env = case_env(case)
    for name, fn in plan.derived:
        env[name] = fn(env)
    return {name: env[name] for name, _ in plan.derived}


def evaluate(kb: KnowledgeBase, case: Case, lang: str = "de") -> Assessment:
    """Assess one validated Case with the given knowledge base."""
    plan = _plan(kb)
    env = case_env(case)
    for name, fn in plan.derived:
        env[name] = fn(env)
    found = _apply_rules(plan, env)
    out = _outcome_env(plan, env, found)
    trace = list(found.trace)
    recommendations = _recommendations(kb, plan, out, lang, trace)
    return Assessment(
        knowledge_version=kb.version,
        triage=found.triage,
        red_flags=found.red_flags,
        suspected_conditions=list(found.suspected),
        phase=_member(Phase, _PHASES, env["phase"]),
        pain_type=_member(PainType, _PAIN_TYPES, out["pain_type"]),
        chronification_risk=_member(ChronificationRisk, _RISKS, env["chronification_risk"]),
        startback=_startback(env),
        imaging=found.imaging,
        imaging_context=_imaging_context(kb, case, out),
        neuroplastic_indicators=_neuroplastic(out, kb.neuroplastic_items),
        recommendations=recommendations,
        review_in_days=plan.review_in_days[found.triage],
        trace=trace,
    )
