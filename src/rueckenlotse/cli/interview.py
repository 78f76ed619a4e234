"""The ``interview`` command: the questions in the terminal, then the assessment.

Registered at start-up (it is listed in `rueckenlotse --help`), so this module imports only Typer; the
terminal loop (``interview_loop``, with rich and the engine) is imported inside the command.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import Lang


def interview(
    lang: Annotated[Lang, typer.Option("--lang", help="Language: de or en.")] = Lang.de,
    save: Annotated[Path | None, typer.Option("--save", help="Save the answers as a Case JSON file.")] = None,
) -> None:
    """Answer the questions in the terminal and get an assessment.

    Example: rueckenlotse interview --save mein-fall.json
    """
    from .interview_loop import run_interview

    raise typer.Exit(run_interview(lang=lang.value, save=save))


def register(app: typer.Typer) -> None:
    app.command()(interview)
