"""The `rueckenlotse` command line: a thin Typer layer over the library.

One module per command group (assess, interview, person, diary, measure, plan, data, practice, admin, keys,
report, fhir, batch, serve); what they share (options, errors, exit codes, the store, progress) is in
``common``. This module builds the app and holds ``main``, the console script's entry point.
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup

from .assess import register as register_assess
from .common import EXIT_INVALID, HelpGroup, command_group
from .interview import register as register_interview

# Start-up: `rueckenlotse --help` imports Typer, this module, common, assess and interview only (assess and
# interview are registered at once). The other command groups are registered by register_all() when one of
# their commands is called; the listing comes from LAZY_COMMANDS. Each command imports what it needs
# (Pydantic models, the knowledge base, store, web, PDF) inside its body. tests/test_cli_startup.py keeps
# it that way.

# What `rueckenlotse --help` lists for the groups of register_all, in this order, without importing them.
LAZY_COMMANDS: dict[str, str] = {
    "export": "Export all data of one person as JSON, and the diary as CSV if asked.",
    "erase": "Delete every row of one person in every table, then verify that nothing is left.",
    "backup": "Back up the whole database into one file (SQLite copy, or a pg_dump archive for PostgreSQL).",
    "restore": "Replace the whole database by a backup, after checking it completely.",
    "check": "Check the database: engine checks, references, documents, an escalation per warning sign.",
    "ask": "Eine Frage an das Wissen stellen (search the education modules).",
    "plot": "Draw pain per region and activity over time, with milestones and escalations (SVG and/or PNG).",
    "serve": "Start the web app: the assessment in the browser, German with an English switch.",
    "report": "Write a patient summary or a clinician intake report as HTML or PDF.",
    "person": "Personen (pseudonym: eine erzeugte ID, optional ein Name) / persons.",
    "plan": "Selbsthilfe-Plan: Bewegung, Übungen, Wissen (self-management plan).",
    "diary": "Schmerz- und Bewegungstagebuch (pain and activity diary).",
    "measure": "Fragebögen zum Verlauf: offen, ausfüllen, Verlauf (outcome measures).",
    "practice": "Practices: create one, add clinicians, make API tokens, purge old intakes, shared courses.",
    "admin": "Administration: API tokens, intake link, members, disable accounts, sessions, second factor.",
    "keys": "Data keys: make a new one, show which key each stored secret needs, rotate.",
    "fhir": "FHIR R4 (R4B): einen Fall als Bundle ausgeben, Antworten einlesen "
    "(export a Case as a Bundle, import a QuestionnaireResponse as a Case).",
    "batch": "Ganze Dateien auf einmal: Fälle bewerten, Kohorten-Ergebnisse zählen "
    "(whole files: assess Cases, count cohort results).",
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
register_assess(app)
register_interview(app)


def register_all(app: typer.Typer) -> None:
    """Add every command group to ``app``. Runs only when one of them is called, never for ``--help``.

    A new group: add it here and its name with its one-line help to LAZY_COMMANDS above
    (tests/test_cli_startup.py fails when the two disagree).
    """
    from . import admin, batch, data, diary, fhir, keys, measure, person, plan, practice, report, serve

    for group in (person, data, plan, diary, measure, serve, practice, admin, keys, report, fhir, batch):
        group.register(app)


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
