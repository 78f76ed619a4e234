"""The `rueckenlotse` command line: a thin Typer layer over the library."""

from __future__ import annotations

import sys
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from .common import HelpGroup, Lang, command_group

if TYPE_CHECKING:
    from ..core.kb import KnowledgeBase
    from ..core.models import Assessment, Case

# Start-up: `rueckenlotse --help` imports Typer and this module only. The command groups (cli_*.py) are
# registered by register_all() when one of their commands is called; the listing comes from LAZY_COMMANDS.
# Each command imports what it needs (Pydantic models, the knowledge base, store, web, PDF) inside its
# body. tests/test_cli_startup.py keeps it that way.

EXIT_INVALID = 2

# What `rueckenlotse --help` lists for the groups of register_all, in this order, without importing them.
LAZY_COMMANDS: dict[str, str] = {
    "export": "Export all data of one person as JSON, and the diary as CSV if asked.",
    "erase": "Delete every row of one person in every table, then verify that nothing is left.",
    "backup": "Back up the whole database into one file (SQLite copy, or a pg_dump archive for PostgreSQL).",
    "restore": "Replace the whole database by a backup, then check its integrity.",
    "ask": "Eine Frage an das Wissen stellen (search the education modules).",
    "plot": "Draw pain per region and activity over time, with milestones and escalations (SVG and/or PNG).",
    "serve": "Start the web app: the assessment in the browser, German with an English switch.",
    "report": "Write a patient summary or a clinician intake report as HTML or PDF.",
    "batch": "Eine ganze Datei mit Fällen bewerten (assess a whole file of Cases as one compiled query).",
    "person": "Personen (pseudonym: eine erzeugte ID, optional ein Name) / persons.",
    "plan": "Selbsthilfe-Plan: Bewegung, Übungen, Wissen (self-management plan).",
    "diary": "Schmerz- und Bewegungstagebuch (pain and activity diary).",
    "practice": "Practices: create one, add clinicians, make API tokens, purge old intakes.",
    "fhir": "FHIR R4 (R4B): einen Fall als Bundle ausgeben, Antworten einlesen "
    "(export a Case as a Bundle, import a QuestionnaireResponse as a Case).",
}


class _Placeholder(TyperCommand):
    """Stands in a lazy command's place in the listing; never runs (the real command replaces it)."""

    def invoke(self, ctx: Any) -> None:
        sys.stderr.write(f"{self.name}: Befehl nicht verfügbar (command not available)\n")
        raise typer.Exit(EXIT_INVALID)


class _LazyGroup(HelpGroup):
    """The root group: lists the lazy commands from LAZY_COMMANDS and loads them when one is called."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        for name, help_text in LAZY_COMMANDS.items():
            self.commands.setdefault(name, _Placeholder(name, help=help_text))

    # Typed loosely: recent Typer versions bring their own copy of Click's classes.
    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and isinstance(self.commands.get(args[0]), _Placeholder):
            real = typer.main.get_command(full_app())
            assert isinstance(real, TyperGroup)
            for name, command in self.commands.items():
                if isinstance(command, _Placeholder) and name in real.commands:
                    self.commands[name] = real.commands[name]
        return super().resolve_command(ctx, args)


_ROOT = {"name": "rueckenlotse", "add_completion": False, "pretty_exceptions_enable": False}
HELP = "Rückenlotse – Orientierung bei Rücken- und Nackenschmerzen (guidance, not a diagnosis)."

app = command_group(HELP, cls=_LazyGroup, **_ROOT)


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(kb: KnowledgeBase | None, lang: str, lines: list[str]) -> typer.Exit:
    heading = kb.text("ui.invalid_input", lang) if kb is not None else "Invalid input:"
    sys.stderr.write(heading + "\n" + "\n".join(f"  {line}" for line in lines) + "\n")
    return typer.Exit(EXIT_INVALID)


def _read_cases(path: Path, kb: KnowledgeBase, lang: str) -> list[Case]:
    """All cases of a .json (one) or .jsonl (one per line) file; every invalid line is reported."""
    from ..core.errors import InvalidCase
    from ..validation import parse_case_json

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise _fail(kb, lang, [f"{path}: {e.strerror if isinstance(e, OSError) else e}"]) from None
    if path.suffix.lower() != ".jsonl":
        try:
            return [parse_case_json(text, kb, lang)]
        except InvalidCase as e:
            raise _fail(kb, lang, [str(err) for err in e.errors]) from None
    cases: list[Case] = []
    problems: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            cases.append(parse_case_json(line, kb, lang))
        except InvalidCase as e:
            where = kb.text("ui.line", lang).format(line=number)
            problems += [f"{where}: {err}" for err in e.errors]
    if problems:
        raise _fail(kb, lang, problems)
    return cases


def _print_json(assessments: list[Assessment], one_per_line: bool) -> None:
    import json

    for a in assessments:
        data = a.model_dump(mode="json")
        text = json.dumps(data, ensure_ascii=False, indent=None if one_per_line else 2)
        sys.stdout.write(text + "\n")


@app.command()
def assess(
    file: Annotated[Path, typer.Argument(help="A Case as .json, or many Cases as .jsonl (one per line).")],
    output_format: Annotated[OutputFormat, typer.Option("--format", help="json or text")] = OutputFormat.text,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the texts: de or en.")] = Lang.de,
) -> None:
    """Assess a Case file and print the Assessment.

    Example: rueckenlotse assess fall.json --format json
    """
    from ..core.engine import evaluate
    from ..knowledge.loader import default_knowledge

    kb = default_knowledge()
    cases = _read_cases(file, kb, lang.value)
    assessments = [evaluate(kb, case, lang.value) for case in cases]
    if output_format is OutputFormat.json:
        _print_json(assessments, one_per_line=file.suffix.lower() == ".jsonl")
        return
    from rich.console import Console
    from rich.rule import Rule

    from ..reports.text import print_report

    console = Console()
    for index, assessment in enumerate(assessments):
        if index:
            console.print(Rule())
        print_report(console, kb, assessment, lang.value)


@app.command()
def interview(
    lang: Annotated[Lang, typer.Option("--lang", help="Language: de or en.")] = Lang.de,
    save: Annotated[Path | None, typer.Option("--save", help="Save the answers as a Case JSON file.")] = None,
) -> None:
    """Answer the questions in the terminal and get an assessment.

    Example: rueckenlotse interview --save mein-fall.json
    """
    from .interview_loop import run_interview

    raise typer.Exit(run_interview(lang=lang.value, save=save))


def register_all(app: typer.Typer) -> None:
    """Add every command group to ``app``. Runs only when one of them is called, never for ``--help``.

    A new group: add its two lines here and its name with its one-line help to LAZY_COMMANDS below
    (tests/test_cli_startup.py fails when the two disagree).
    """
    from .data import register as _register_store_commands

    _register_store_commands(app)

    from .plan import register as _register_plan_commands

    _register_plan_commands(app)

    from .diary import register as _register_followup_commands
    from .plan import plan_app as _plan_app

    _register_followup_commands(app, _plan_app)

    from .serve import register as _register_web_commands

    _register_web_commands(app)

    from .practice import register as _register_practice_commands

    _register_practice_commands(app)

    from .report import register as _register_report_commands

    _register_report_commands(app)

    from .fhir import register as _register_fhir_commands

    _register_fhir_commands(app)

    from .batch import register as _register_batch_commands

    _register_batch_commands(app)


@cache
def full_app() -> typer.Typer:
    """The whole command tree, every group imported and registered (once per process)."""
    # The same listing; with every command registered, _LazyGroup has nothing left to load.
    full = command_group(HELP, cls=_LazyGroup, **_ROOT)
    full.registered_commands.extend(app.registered_commands)
    full.registered_groups.extend(app.registered_groups)
    register_all(full)
    return full


def main() -> None:
    app()
