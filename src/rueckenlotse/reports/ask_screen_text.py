"""Terminal rendering of the `ask` warning-sign screen (Rich): shown before any education passage."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from ..knowledge.ask_screen import AskScreenSpec
from ..knowledge.loader import default_ask_screen
from ..plan.ask_screen import Screen

_BORDER = {"emergency": "bold red", "urgent": "red", "soon": "yellow"}


def render_screen(result: Screen, lang: str, *, spec: AskScreenSpec | None = None) -> RenderableType:
    """The seek-care texts (highest level first) and the way to the assessment; nothing without hits."""
    if not result.hits or result.level is None:
        return Group()
    frame = (spec or default_ask_screen()).frame
    body = Group(
        *(Text(hit.text, style="bold" if hit.level == "emergency" else "") for hit in result.hits),
        Text(frame.assessment_cli.get(lang)),
    )
    title = Text(frame.heading.get(lang), style="bold")
    return Group(
        Panel(body, title=title, title_align="left", border_style=_BORDER[result.level]),
        Text(frame.general_answers.get(lang), style="dim"),
    )
