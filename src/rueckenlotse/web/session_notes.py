"""The notes that say what the session's ratings changed in a plan week (session page and plan page)."""

from __future__ import annotations

from typing import Any

from ..plan.library import default_library
from ..plan.plan_model import Plan, PlanExercise


def adjustment_notes(items: list[PlanExercise], texts: Any, lang: str, *, next_week: bool) -> dict[str, str]:
    """What an adjusted exercise says, by exercise id: in this week's session or in next week's preview."""
    lib = default_library()
    notes: dict[str, str] = {}
    for item in items:
        if item.adjusted is None:
            continue
        instead = lib.exercises[item.instead_of].title.get(lang) if item.instead_of else ""
        kind: str = item.adjusted
        if kind == "pain_after" and item.instead_of is None:
            kind = "pain_after_held"
        if next_week:
            notes[item.id] = texts.format(
                f"session.next_week.{kind}", lang, title=item.title, instead=instead
            )
        else:
            key = {"too_hard": "too_hard_now", "pain_after": "pain_after_now"}.get(kind, kind)
            notes[item.id] = texts.format(f"session.note.{key}", lang, title=instead)
    return notes


def next_week_of(plan: Plan) -> list[PlanExercise]:
    """The exercises of the week after the current one (the preview); none under a red flag or after the
    plan's last week."""
    if plan.current_week is None:
        return []
    return next((w.exercises for w in plan.weeks if w.number == plan.current_week + 1), [])
