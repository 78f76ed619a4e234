"""An Assessment as the result page shows it: the same sections and order rules as the terminal report."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.kb import KnowledgeBase
from ..core.models import Assessment, Triage
from ..reports.advice import AdviceGroup, advice_groups
from ..reports.reasons import reasons
from ..reports.sources import SourceRef, Sources


@dataclass(frozen=True)
class ConditionView:
    label: str
    explain: str | None


@dataclass(frozen=True)
class ResultView:
    triage: str
    emergency: bool
    title: str
    action: str
    call_text: str | None
    red_flag_conditions: tuple[ConditionView, ...]
    other_conditions: tuple[ConditionView, ...]
    reasons: tuple[str, ...]
    no_red_flags: bool
    advice: tuple[AdviceGroup, ...]
    imaging_label: str
    imaging_explain: str
    mri_lines: tuple[str, ...]
    mri_sources: tuple[SourceRef, ...]
    classification: tuple[str, ...]
    neuroplastic_explain: str | None
    review: str
    sources: tuple[SourceRef, ...]
    knowledge_version: str


class Presenter:
    def __init__(self, kb: KnowledgeBase, lang: str, *, for_patient: bool = False) -> None:
        """for_patient: the page a patient reads cites only checked sources (the practice sees them all,
        each with its status)."""
        self.kb = kb
        self.lang = lang
        self.for_patient = for_patient

    def t(self, key: str, **values: object) -> str:
        return self.kb.render(key, self.lang, **values)

    def condition(self, condition: str) -> ConditionView:
        explain_key = f"condition.{condition}.explain"
        explain = self.t(explain_key) if explain_key in self.kb.spec.texts else None
        return ConditionView(self.t(f"condition.{condition}.label"), explain)

    def call_text(self, a: Assessment) -> str | None:
        return next((r.text for r in a.recommendations if r.id == "call_emergency"), None)

    def red_flag_conditions(self, a: Assessment) -> tuple[ConditionView, ...]:
        return tuple(self.condition(c) for c in dict.fromkeys(flag.condition for flag in a.red_flags))

    def result(self, a: Assessment) -> ResultView:
        sources = Sources(self.kb, only_checked=self.for_patient)
        red = {flag.condition for flag in a.red_flags}
        advice = self.advice(a, sources)
        mri_sources = sources.cite([row.source for row in a.imaging_context])
        imaging = f"imaging.{a.imaging.value}"
        return ResultView(
            triage=a.triage.value,
            emergency=a.triage is Triage.emergency,
            title=self.t(f"triage.{a.triage.value}.title"),
            action=self.kb.triage_action(a, self.lang),
            call_text=self.call_text(a),
            red_flag_conditions=self.red_flag_conditions(a),
            other_conditions=tuple(self.condition(c) for c in a.suspected_conditions if c not in red),
            reasons=tuple(reasons(self.kb, a, self.lang)),
            no_red_flags=not a.red_flags,
            advice=advice,
            imaging_label=self.t(f"{imaging}.label"),
            imaging_explain=self.t(f"{imaging}.explain"),
            mri_lines=self.mri_lines(a),
            mri_sources=mri_sources,
            classification=self.classification(a),
            neuroplastic_explain=(
                self.t(f"neuroplastic.{a.neuroplastic_indicators.level.value}.explain")
                if a.neuroplastic_indicators is not None
                else None
            ),
            review=self.review(a),
            sources=tuple(sources.refs.values()),
            knowledge_version=a.knowledge_version,
        )

    def advice(self, a: Assessment, sources: Sources) -> tuple[AdviceGroup, ...]:
        return advice_groups(self.kb, a, sources, self.lang)

    def mri_lines(self, a: Assessment) -> tuple[str, ...]:
        return tuple(
            self.t(
                "ui.mri_context_line",
                label=self.t(f"finding.{row.finding.value}.label"),
                percent=f"{row.prevalence_pain_free_percent:g}",
                age_band=row.age_band,
            )
            for row in a.imaging_context
        )

    def classification(self, a: Assessment) -> tuple[str, ...]:
        lines = [
            self.t("ui.phase_line", phase=self.t(f"phase.{a.phase.value}.label")),
            self.t("ui.pain_type_line", pain_type=self.t(f"pain_type.{a.pain_type.value}.label")),
            f"{self.t('ui.heading.risk')}: {self.t(f'risk.{a.chronification_risk.value}.label')}",
        ]
        if a.startback is not None:
            group = self.t(f"risk.{a.startback.group.value}.label")
            values = {"total": a.startback.total, "psychosocial": a.startback.psychosocial, "group": group}
            lines.append(self.t("ui.startback_line", **values))
        if a.neuroplastic_indicators is not None:
            n = a.neuroplastic_indicators
            lines.append(self.t("ui.neuroplastic_line", count=n.count, of=n.of))
        return tuple(lines)

    def review(self, a: Assessment) -> str:
        return self.kb.review_text(a.review_in_days, self.lang)
