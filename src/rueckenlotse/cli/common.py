"""What every command group of the CLI shares: the language choice and the plain help listing."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import typer
from typer.core import TyperGroup

from .. import LANGUAGES


class Lang(StrEnum):
    """The --lang choice of every command (the texts exist in German and English)."""

    de = "de"
    en = "en"


assert tuple(Lang) == LANGUAGES


class HelpGroup(TyperGroup):
    """A command group whose plain help lists every command with its whole first help line, wrapped.

    The CLI's help is plain text (rich_markup_mode=None): drawing it with rich costs more start-up time
    than everything else `rueckenlotse --help` does, and plain help would cut the descriptions off.
    """

    # Typed loosely: recent Typer versions bring their own copy of Click's classes.
    def format_commands(self, ctx: Any, formatter: Any) -> None:
        rows = []
        for name in self.list_commands(ctx):
            command = self.get_command(ctx, name)
            if command is not None and not command.hidden:
                lines = (command.help or "").strip().splitlines()
                rows.append((name, lines[0] if lines else ""))
        if rows:
            with formatter.section("Befehle / Commands"):
                formatter.write_dl(rows)


def command_group(help: str, *, cls: type[TyperGroup] = HelpGroup, **settings: Any) -> typer.Typer:
    """A Typer app of the CLI: plain help listed by HelpGroup (or a subclass), help when called bare."""
    return typer.Typer(cls=cls, help=help, rich_markup_mode=None, no_args_is_help=True, **settings)
