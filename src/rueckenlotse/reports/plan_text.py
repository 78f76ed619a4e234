"""Terminal rendering of a self-management plan and of `ask` answers (Rich), German first.

Texts come from the plan (titles already in its language), the library (exercise steps, module titles,
plan_ui strings) and the knowledge base (triage titles).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache
from typing import TYPE_CHECKING

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ..i18n.catalogue import Catalogue, load_catalogue
from ..i18n.formatting import decimal, format_day
from ..knowledge.loader import default_knowledge
from ..plan.library import Library, default_library
from ..plan.plan_model import ComfortEntry, Plan, PlanExercise

if TYPE_CHECKING:
    # Only a type here: `plan show` needs no search library (the `ask` extra).
    from ..plan.ask import AskHit

_TRIAGE_STYLE = {
    "emergency": "bold white on red",
    "urgent": "bold red",
    "soon": "bold yellow",
    "routine": "bold cyan",
    "self_care": "bold green",
}


def _date(day: dt.date, lang: str) -> str:
    return format_day(day, lang)


def _number(value: float, lang: str) -> str:
    return decimal(f"{value:.1f}", lang)


def _sign_label(sign: str, lang: str) -> str:
    """A diary warning sign's short label from the follow-up texts, or its id."""
    try:
        from ..plan.followup_texts import render

        return render(f"sign.{sign}.label", lang)
    except (ImportError, KeyError, ValueError):
        return sign


def _short_title(title: str) -> str:
    """A source title up to its first comma outside parentheses, e.g. "Brinjikji et al."."""
    depth = 0
    for i, char in enumerate(title):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "," and depth == 0:
            return title[:i]
    return title


def _source_line(lib: Library, source_id: str, lang: str) -> str:
    text = _short_title(lib.source_titles.get(source_id, source_id))
    if lib.source_status.get(source_id) == "unchecked":
        text += f" ({lib.text('ask.unchecked', lang)})"
    return text


def _heading(text: str) -> Text:
    return Text(text, style="bold underline")


def _standing_text(plan: Plan, lang: str) -> str:
    from ..plan.followup_texts import render

    since = min(f.since for f in plan.standing_flags)
    return render(
        "red_flag.standing",
        lang,
        conditions=", ".join(f.label for f in plan.standing_flags),
        since=_date(since, lang),
    )


@cache
def _share_texts() -> Catalogue:
    """The texts of a practice's changes (reports/texts_share.yaml)."""
    return load_catalogue("rueckenlotse.reports", ["texts_share.yaml"])


class _PlanView:
    def __init__(self, plan: Plan, lang: str, library: Library) -> None:
        self.plan = plan
        self.lang = lang
        self.lib = library

    def t(self, key: str, **values: object) -> str:
        return self.lib.text(key, self.lang, **values)

    def dose(self, item: PlanExercise | ComfortEntry) -> str:
        if isinstance(item, PlanExercise) and item.repetitions is not None:
            return self.t("plan.dose.repetitions", count=item.repetitions)
        return self.t("plan.dose.minutes", count=item.minutes)

    def header(self) -> RenderableType:
        plan = self.plan
        kb = default_knowledge()
        triage = plan.triage.value
        title = Text(kb.text(f"triage.{triage}.title", self.lang), style=_TRIAGE_STYLE[triage])
        heading = (
            self.t("plan.title_red_flag") if plan.red_flag else self.t("plan.title", weeks=len(plan.weeks))
        )
        body: list[RenderableType] = [
            Text(heading, style="bold"),
            Text(self.t("plan.started", date=_date(plan.start, self.lang))),
            title,
        ]
        return Panel(Group(*body), border_style="red" if plan.red_flag else "green")

    def red_flag(self) -> list[RenderableType]:
        plan = self.plan
        lines: list[RenderableType] = [Text(self.t("plan.red_flag"), style="bold red")]
        if plan.diary_warning_signs:
            signs = ", ".join(_sign_label(s, self.lang) for s in plan.diary_warning_signs)
            lines.append(Text(self.t("plan.diary_warning", signs=signs), style="bold red"))
        if plan.standing_flags:
            lines.append(Text(_standing_text(plan, self.lang), style="bold red"))
        return lines

    def follow_up(self) -> list[RenderableType]:
        """Contract 2: a step back asks to check the warning signs again; too few entries keep the level."""
        from ..plan.followup_texts import render

        lines: list[RenderableType] = []
        if self.plan.rescreen_advised:
            lines.append(Text(render("plan.rescreen_advised", self.lang), style="bold yellow"))
        if self.plan.too_few_entries:
            lines.append(Text(render("plan.too_few_entries", self.lang, count=3), style="yellow"))
        return lines

    def st(self, key: str, **values: object) -> str:
        return _share_texts().get(f"share.{key}", self.lang, **values)

    def practice(self) -> list[RenderableType]:
        """The changes of the practices the person shares their course with (only those that apply; under
        a red flag only notes, and a line that the others wait)."""
        changes = [c for c in self.plan.practice_changes if c.applied]
        waiting = any(c.not_applied == "red_flag" for c in self.plan.practice_changes)
        if not changes and not waiting:
            return []
        lines: list[RenderableType] = [_heading(self.st("heading"))]
        for change in changes:
            date = _date(change.on, self.lang)
            if change.kind == "note":
                lines.append(Text("• " + self.st("note", practice=change.practice, date=date), style="bold"))
            elif change.kind == "level":
                text = self.st("level", practice=change.practice, level=change.level, date=date)
                lines.append(Text("• " + text, style="bold"))
            else:
                title = change.title or change.exercise_id or ""
                text = self.st(change.kind, practice=change.practice, title=title, date=date)
                lines.append(Text("• " + text, style="bold"))
            if change.note:
                lines.append(Text(f"  {change.note}"))
        if waiting:
            lines.append(Text(self.st("waiting"), style="yellow"))
        return lines

    def advice(self) -> list[RenderableType]:
        if not self.plan.advice:
            return []
        lines: list[RenderableType] = [_heading(self.t("plan.heading.seek_care"))]
        lines += [Text(f"• {a.text}") for a in self.plan.advice]
        return lines

    def exercise(self, item: PlanExercise) -> RenderableType:
        exercise = self.lib.exercises[item.id]
        head = Text(f"{item.title} – {self.dose(item)}", style="bold")
        if item.replaces is not None:
            replaced = self.lib.exercises[item.replaces].title.get(self.lang)
            said = (
                self.st("replaces", title=replaced)
                if item.by_practice
                else self.t("plan.replaces", title=replaced)
            )
            head.append(f"  ({said})", style="dim")
        if item.by_practice:
            head.append(f"  [{self.st('item_mark')}]", style="bold")
        body: list[RenderableType] = [head, Text(self.t("plan.how") + ":", style="italic")]
        body += [Text(f"  {n}. {step.get(self.lang)}") for n, step in enumerate(exercise.how, start=1)]
        body.append(Text(f"{self.t('plan.feel')}: {exercise.feel.get(self.lang)}"))
        body.append(Text(f"{self.t('plan.stop_if')}: {exercise.stop_if.get(self.lang)}", style="yellow"))
        return Group(*body)

    def this_week(self) -> list[RenderableType]:
        plan = self.plan
        if plan.current_week is None or plan.current_level is None:
            return []
        level_name = self.t(f"plan.level.{plan.current_level}")
        lines: list[RenderableType] = [
            _heading(self.t("plan.this_week", week=plan.current_week)),
            Text("• " + self.t("plan.activity_line", minutes=plan.activity_minutes)),
            Text(
                "• "
                + self.t("plan.level_line", level=plan.current_level, name=level_name)
                + (f" ({self.st('level_mark')})" if plan.level_by_practice else "")
            ),
            Text(""),
            _heading(self.t("plan.heading.exercises")),
        ]
        for item in plan.exercises:
            lines += [self.exercise(item), Text("")]
        for missing in plan.no_alternative:
            mark = f" [{self.st('item_mark')}]" if missing.by_practice else ""
            lines.append(Text(self.t("plan.no_alternative", title=missing.title) + mark, style="yellow"))
        lines.append(Panel(Text(self.t("plan.stop_general")), border_style="yellow"))
        return lines

    def weeks(self) -> list[RenderableType]:
        plan = self.plan
        if not plan.weeks:
            return []
        table = Table(show_header=True, header_style="bold")
        for key in ("week", "from", "walking", "level", "step", "pain"):
            table.add_column(self.t(f"plan.col.{key}"))
        for week in plan.weeks:
            style = "bold" if week.number == plan.current_week else None
            pain = "–" if week.pain_average is None else _number(week.pain_average, self.lang)
            table.add_row(
                str(week.number),
                _date(week.starts, self.lang),
                str(week.activity_minutes),
                str(week.level),
                self.t(f"plan.step.{week.step}"),
                pain,
                style=style,
            )
        return [_heading(self.t("plan.heading.weeks")), table, Text(self.t("plan.progression_rule"))]

    def comfort(self, key: str, items: Sequence[ComfortEntry]) -> list[RenderableType]:
        if not items:
            return []
        lines: list[RenderableType] = [_heading(self.t(key))]
        for item in items:
            detail = self.lib.comfort[item.id]
            lines.append(Text(f"{item.title} – {self.dose(item)}", style="bold"))
            lines += [Text(f"  {n}. {s.get(self.lang)}") for n, s in enumerate(detail.how, start=1)]
            lines.append(Text(f"{self.t('plan.stop_if')}: {detail.stop_if.get(self.lang)}", style="yellow"))
        return lines

    def education(self) -> list[RenderableType]:
        lines: list[RenderableType] = [_heading(self.t("plan.heading.education"))]
        for module_id in self.plan.education:
            lines.append(Text(f"• {self.lib.modules[module_id].title.get(self.lang)}"))
        lines.append(Text(self.t("plan.education_hint"), style="dim"))
        return lines

    def milestones(self) -> list[RenderableType]:
        lines: list[RenderableType] = []
        if self.plan.milestones:
            lines.append(_heading(self.t("plan.heading.milestones")))
            for m in self.plan.milestones:
                lines.append(Text(f"• {_date(m.on, self.lang)}: {m.text}"))
        lines.append(Text(self.t("plan.review_on", date=_date(self.plan.review_on, self.lang))))
        if self.plan.ignored_exclusions:
            ids = ", ".join(self.plan.ignored_exclusions)
            lines.append(Text(self.t("plan.ignored_exclusions", ids=ids), style="dim"))
        return lines

    def render(self) -> RenderableType:
        plan = self.plan
        sections: list[list[RenderableType]] = []
        if plan.red_flag:
            sections += [self.red_flag(), self.advice(), self.practice()]
        else:
            sections += [
                self.practice(),
                self.advice(),
                self.follow_up(),
                self.this_week(),
                self.comfort("plan.heading.heat", plan.heat),
                self.comfort("plan.heading.relaxation", plan.relaxation),
                self.weeks(),
            ]
        sections += [self.education(), self.milestones()]
        parts: list[RenderableType] = [self.header()]
        for section in sections:
            if section:
                parts += [Text(""), *section]
        return Group(*parts)


def render_plan(plan: Plan, lang: str | None = None, *, library: Library | None = None) -> RenderableType:
    """The plan as a Rich renderable (``lang`` defaults to the plan's language)."""
    return _PlanView(plan, lang or plan.lang, library or default_library()).render()


def render_answers(
    hits: Sequence[AskHit],
    lang: str,
    *,
    question: str | None = None,
    library: Library | None = None,
    read_more: Callable[[AskHit], str] | None = None,
) -> RenderableType:
    """Answers of `ask` with their module titles and sources, or the "no matching passage" text.

    ``read_more``: a line under each answer that says where its whole module can be read (its web page).
    """
    lib = library or default_library()
    parts: list[RenderableType] = []
    if question is not None:
        parts.append(Text(lib.text("ask.heading", lang, question=question), style="bold"))
    if not hits:
        parts.append(Text(lib.text("ask.no_match", lang), style="yellow"))
        return Group(*parts)
    for hit in hits:
        sources = "; ".join(_source_line(lib, s, lang) for s in hit.sources)
        lines = [Text(hit.text), Text(f"{lib.text('ask.sources', lang)}: {sources}", style="dim")]
        if read_more is not None:
            lines.append(Text(read_more(hit)))
        body = Group(*lines)
        parts.append(Panel(body, title=Text(hit.module_title, style="bold"), title_align="left"))
    parts.append(Text(lib.text("ask.disclaimer", lang), style="dim"))
    return Group(*parts)
