"""Turns a validated Case into an Assessment by running a compiled knowledge base. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel

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
    RedFlag,
    StartBackResult,
    TraceEntry,
    Triage,
)

NEUROPLASTIC_ITEMS = 13
_TRIAGE_RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}
_IMAGING_RANK = {m: i for i, m in enumerate(IMAGING_ORDER)}


def case_env(case: Case) -> dict[str, Any]:
    """The flat name -> value mapping that conditions read (nested answers as dotted names)."""
    env: dict[str, Any] = {}
    for name in Case.model_fields:
        value = getattr(case, name)
        if isinstance(value, BaseModel):
            env[name] = True
            for child in type(value).model_fields:
                env[f"{name}.{child}"] = getattr(value, child)
        elif isinstance(value, list):
            env[name] = value or None  # an empty list counts as not set
        else:
            env[name] = value
    return env


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


def _apply_rules(kb: KnowledgeBase, env: dict[str, Any]) -> _Findings:
    found = _Findings()
    explain = kb.compiler.explain
    for rule in kb.rules:
        if not rule.when(env):
            continue
        spec = rule.spec
        because = explain(spec.when, env)
        found.trace.append(TraceEntry(rule=spec.id, because=because))
        found.raise_to(spec.triage, spec.imaging)
        evidence = dict.fromkeys(because)
        for esc in rule.escalations:
            if esc.when(env):
                esc_because = explain(esc.spec.when, env)
                found.trace.append(TraceEntry(rule=esc.spec.id, because=esc_because))
                found.raise_to(esc.spec.triage, esc.spec.imaging)
                evidence.update(dict.fromkeys(esc_because))
        if spec.suspect is not None:
            found.suspected.setdefault(spec.suspect, None)
            if spec.suspect in kb.red_flag_conditions:
                found.red_flags.append(RedFlag(id=spec.id, condition=spec.suspect, evidence=list(evidence)))
    if found.triage is Triage.emergency:
        found.raise_to(None, kb.spec.policy.imaging_when_emergency)
    return found


def _outcome_env(kb: KnowledgeBase, env: dict[str, Any], found: _Findings) -> dict[str, Any]:
    out = dict(env)
    out["triage"] = found.triage.value
    out["imaging"] = found.imaging.value
    out["red_flag"] = bool(found.red_flags)
    for cond in kb.spec.conditions:
        out[f"suspected.{cond.id}"] = cond.id in found.suspected
    for derived in kb.outcome:
        out[derived.name] = derived.fn(out)
    return out


def _recommendations(
    kb: KnowledgeBase, env: dict[str, Any], lang: str, trace: list[TraceEntry]
) -> list[Recommendation]:
    recs: list[Recommendation] = []
    for rec in kb.recommendations:
        spec = rec.spec
        if not rec.when(env):
            continue
        key = f"rec.{spec.id}"
        for variant_id, variant_when in rec.variants:
            if variant_when(env):
                key = f"{key}.{variant_id}"
                break
        trace.append(TraceEntry(rule=key, because=kb.compiler.explain(spec.when, env)))
        recs.append(Recommendation(id=spec.id, kind=spec.kind, text=kb.text(key, lang), sources=spec.sources))
    return recs


def _imaging_context(kb: KnowledgeBase, case: Case, age_band: str) -> list[ImagingContextRow]:
    table = kb.spec.prevalence
    column = table.columns.index(age_band)
    return [
        ImagingContextRow(
            finding=ImagingFinding(finding),
            prevalence_pain_free_percent=table.rows[finding][column],
            age_band=age_band,
            source=table.source,
        )
        for finding in case.imaging_findings
    ]


def _startback(env: dict[str, Any]) -> StartBackResult | None:
    if env["startback_group"] is None:
        return None
    return StartBackResult(
        total=env["startback_total"], psychosocial=env["startback_psychosocial"], group=env["startback_group"]
    )


def _neuroplastic(env: dict[str, Any], red_flag: bool) -> NeuroplasticResult | None:
    # Pattern questions only make sense once serious causes are excluded: withheld under a red flag.
    if red_flag or env["neuroplastic_level"] is None:
        return None
    return NeuroplasticResult(
        count=env["neuroplastic_count"], of=NEUROPLASTIC_ITEMS, level=env["neuroplastic_level"]
    )


def evaluate(kb: KnowledgeBase, case: Case, lang: str = "de") -> Assessment:
    """Assess one validated Case with the given knowledge base."""
    env = case_env(case)
    for derived in kb.derived:
        env[derived.name] = derived.fn(env)
    found = _apply_rules(kb, env)
    out = _outcome_env(kb, env, found)
    trace = list(found.trace)
    recommendations = _recommendations(kb, out, lang, trace)
    red_flag = bool(found.red_flags)
    return Assessment(
        knowledge_version=kb.version,
        triage=found.triage,
        red_flags=found.red_flags,
        suspected_conditions=list(found.suspected),
        phase=Phase(env["phase"]),
        pain_type=PainType(out["pain_type"]),
        chronification_risk=ChronificationRisk(env["chronification_risk"]),
        startback=_startback(env),
        imaging=found.imaging,
        imaging_context=_imaging_context(kb, case, env["age_band"]),
        neuroplastic_indicators=_neuroplastic(env, red_flag),
        recommendations=recommendations,
        review_in_days=kb.spec.policy.review_in_days[found.triage],
        trace=trace,
    )
