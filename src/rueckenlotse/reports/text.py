"""A readable terminal report of one Assessment: triage first, then why, then what to do."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ..core.kb import KnowledgeBase
from ..core.models import Assessment, Triage
from .advice import KIND_ORDER
from .reasons import reasons

_TRIAGE_STYLE = {
    Triage.emergency: "bold white on red",
    Triage.urgent: "bold red",
    Triage.soon: "bold yellow",
    Triage.routine: "bold cyan",
    Triage.self_care: "bold green",
}


class TextReport:
    """Builds the sections of the report from an Assessment and the knowledge base's texts."""

    def __init__(self, kb: KnowledgeBase, lang: str) -> None:
        self.kb = kb
        self.lang = lang

    def t(self, key: str, **values: object) -> str:
        return self.kb.render(key, self.lang, **values)

    def header(self, a: Assessment) -> RenderableType:
        style = _TRIAGE_STYLE[a.triage]
        body = Text(self.kb.triage_action(a, self.lang))
        title = Text(self.t(f"triage.{a.triage.value}.title"), style=style)
        label = f"triage.{a.triage.value}.label"  # German in the frame too, never "self_care"
        if a.triage is Triage.emergency:
            banner = Text(self.t("ui.emergency_banner"), style="bold white on red", justify="center")
            return Panel(Group(banner, title, body), border_style="red", title=Text(self.t(label)))
        return Panel(Group(title, body), border_style=style.split()[-1], title=Text(self.t(label)))

    def reasons(self, a: Assessment) -> list[RenderableType]:
        lines: list[RenderableType] = [Text(self.t("ui.heading.reasons"), style="bold underline")]
        lines += [Text(f"• {reason}") for reason in reasons(self.kb, a, self.lang)]
        if not a.red_flags:
            lines.append(Text(self.t("ui.no_red_flags"), style="green"))
        return lines

    def classification(self, a: Assessment) -> list[RenderableType]:
        lines: list[RenderableType] = [Text(self.t("ui.heading.classification"), style="bold underline")]
        lines.append(Text(self.t("ui.phase_line", phase=self.t(f"phase.{a.phase.value}.label"))))
        lines.append(
            Text(self.t("ui.pain_type_line", pain_type=self.t(f"pain_type.{a.pain_type.value}.label")))
        )
        lines.append(
            Text(f"{self.t('ui.heading.risk')}: {self.t(f'risk.{a.chronification_risk.value}.label')}")
        )
        if a.startback is not None:
            group = self.t(f"risk.{a.startback.group.value}.label")
            values = {"total": a.startback.total, "psychosocial": a.startback.psychosocial, "group": group}
            lines.append(Text(self.t("ui.startback_line", **values)))
        if a.neuroplastic_indicators is not None:
            n = a.neuroplastic_indicators
            lines.append(Text(self.t("ui.neuroplastic_line", count=n.count, of=n.of)))
            lines.append(Text(self.t(f"neuroplastic.{n.level.value}.explain")))
        return lines

    def imaging(self, a: Assessment) -> list[RenderableType]:
        lines: list[RenderableType] = [Text(self.t("ui.heading.imaging"), style="bold underline")]
        key = f"imaging.{a.imaging.value}"
        lines.append(Text(f"{self.t(key + '.label')}: {self.t(key + '.explain')}"))
        if a.imaging_context:
            lines.append(Text(self.t("ui.heading.mri_context"), style="bold"))
            for row in a.imaging_context:
                label = self.t(f"finding.{row.finding.value}.label")
                percent = f"{row.prevalence_pain_free_percent:g}"
                lines.append(
                    Text(
                        "• "
                        + self.t("ui.mri_context_line", label=label, percent=percent, age_band=row.age_band)
                    )
                )
        return lines

    def advice(self, a: Assessment) -> list[RenderableType]:
        lines: list[RenderableType] = [Text(self.t("ui.heading.advice"), style="bold underline")]
        for kind in KIND_ORDER:
            recs = [r for r in a.recommendations if r.kind is kind]
            if not recs:
                continue
            lines.append(Text(self.t(f"kind.{kind.value}.label"), style="bold"))
            for rec in recs:
                line = Text(f"• {rec.text} ")
                line.append(f"[{self.t('ui.sources_for')}: {', '.join(rec.sources)}]", style="dim")
                lines.append(line)
        return lines

    def footer(self, a: Assessment) -> list[RenderableType]:
        review = self.kb.review_text(a.review_in_days, self.lang)
        return [Text(review), Panel(Text(self.t("ui.disclaimer")), border_style="dim")]

    def render(self, a: Assessment) -> RenderableType:
        parts: list[RenderableType] = [Text(self.t("ui.title"), style="bold"), self.header(a)]
        for section in (self.reasons, self.advice, self.classification, self.imaging, self.footer):
            parts += [Text(""), *section(a)]
        return Group(*parts)


def print_report(console: Console, kb: KnowledgeBase, assessment: Assessment, lang: str = "de") -> None:
    console.print(TextReport(kb, lang).render(assessment))
