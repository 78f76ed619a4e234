"""CLI commands of the self-management plan: `ask QUESTION` and `plan preview CASE.json`.

``register(app)`` adds them to the main Typer app. ``plan_app`` is the `plan` sub-command group, so
that further plan commands (e.g. `plan show PERSON` on top of the store) can be added to it.
Heavy imports (BM25, the library) happen inside the commands, so `rueckenlotse --help` stays light.
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import Lang, command_group

EXIT_INVALID = 2


plan_app = command_group(
    "Selbsthilfe-Plan: Bewegung, Übungen, Wissen (self-management plan).",
    name="plan",
)


def _fail(lines: list[str]) -> typer.Exit:
    sys.stderr.write("\n".join(lines) + "\n")
    return typer.Exit(EXIT_INVALID)


def ask_command(
    question: Annotated[str, typer.Argument(help='Ihre Frage, z. B. "Brauche ich ein MRT?"')],
    lang: Annotated[Lang, typer.Option("--lang", help="Sprache / language: de or en.")] = Lang.de,
    k: Annotated[int, typer.Option("-k", "--k", help="Wie viele Antworten (1-20).")] = 3,
) -> None:
    """Eine Frage an das Wissen stellen (search the education modules).

    Example: rueckenlotse ask "Brauche ich ein MRT?"
    """
    from rich.console import Console

    from ..plan.ask import MAX_K, ask_screened
    from ..plan.library import default_library
    from ..reports.ask_screen_text import render_screen
    from ..reports.plan_text import render_answers

    library = default_library()
    if not question.strip():
        raise _fail([library.text("ask.blank", lang.value)])
    if not 1 <= k <= MAX_K:
        raise _fail([library.text("ask.bad_k", lang.value)])
    # Warning signs first (contract 2, invariant 9): no passage is printed before the seek-care text.
    found, hits = ask_screened(question, lang=lang.value, k=k)
    console = Console()
    console.print(render_screen(found, lang.value))
    console.print(render_answers(hits, lang.value, question=question.strip()))


def preview_command(
    file: Annotated[Path, typer.Argument(help="Ein Fall als .json (a Case file).")],
    lang: Annotated[Lang, typer.Option("--lang", help="Sprache / language: de or en.")] = Lang.de,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="Übung ausschließen (exercise id); mehrfach möglich."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Beginn des Plans, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Den Plan für einen Fall zeigen, ohne zu speichern (preview a plan from a Case file).

    Example: rueckenlotse plan preview fall.json --exclude bridge
    """
    from rich.console import Console

    from .. import assess
    from ..core.errors import InvalidCase
    from ..knowledge.loader import default_knowledge
    from ..plan.builder import build_plan
    from ..plan.library import default_library
    from ..reports.plan_text import render_plan
    from ..validation import parse_case_json

    kb = default_knowledge()
    library = default_library()
    try:
        begin = dt.date.fromisoformat(start) if start is not None else dt.date.today()
    except ValueError:
        raise _fail([library.text("preview.bad_date", lang.value, value=start)]) from None
    exclusions = list(dict.fromkeys(exclude or []))
    known = ", ".join(library.exercises)
    unknown = [x for x in exclusions if x not in library.exercises]
    if unknown:
        raise _fail(
            [library.text("preview.unknown_exercise", lang.value, id=x, known=known) for x in unknown]
        )
    heading = kb.text("ui.invalid_input", lang.value)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _fail([heading, f"  {file}: {e.strerror if isinstance(e, OSError) else e}"]) from None
    try:
        case = parse_case_json(text, kb, lang.value)
    except InvalidCase as e:
        raise _fail([heading, *(f"  {err}" for err in e.errors)]) from None
    assessment = assess(case, lang=lang.value)
    plan = build_plan(case, assessment, start=begin, exclusions=exclusions, lang=lang.value)
    Console().print(render_plan(plan, lang.value))


def register(app: typer.Typer) -> None:
    """Add `ask` and the `plan` group (with `plan preview`) to the main app."""
    app.command("ask")(ask_command)
    plan_app.command("preview")(preview_command)
    app.add_typer(plan_app, name="plan")
