"""The `rueckenlotse` command line: a thin Typer layer over the library."""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from .cli_common import Lang
from .core.engine import evaluate
from .core.errors import InvalidCase
from .core.kb import KnowledgeBase
from .core.models import Assessment, Case
from .knowledge.loader import default_knowledge
from .validation import parse_case_json

app = typer.Typer(
    name="rueckenlotse",
    help="Rückenlotse – Orientierung bei Rücken- und Nackenschmerzen (guidance, not a diagnosis).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_INVALID = 2


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def _fail(kb: KnowledgeBase | None, lang: str, lines: list[str]) -> typer.Exit:
    heading = kb.text("ui.invalid_input", lang) if kb is not None else "Invalid input:"
    sys.stderr.write(heading + "\n" + "\n".join(f"  {line}" for line in lines) + "\n")
    return typer.Exit(EXIT_INVALID)


def _read_cases(path: Path, kb: KnowledgeBase, lang: str) -> list[Case]:
    """All cases of a .json (one) or .jsonl (one per line) file; every invalid line is reported."""
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
    kb = default_knowledge()
    cases = _read_cases(file, kb, lang.value)
    assessments = [evaluate(kb, case, lang.value) for case in cases]
    if output_format is OutputFormat.json:
        _print_json(assessments, one_per_line=file.suffix.lower() == ".jsonl")
        return
    from rich.console import Console
    from rich.rule import Rule

    from .reports.text import print_report

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
    from .interview import run_interview

    raise typer.Exit(run_interview(lang=lang.value, save=save))


from .cli_store import register as _register_store_commands  # noqa: E402  (after the core commands in --help)

_register_store_commands(app)

from .cli_plan import register as _register_plan_commands  # noqa: E402  (after the core commands in --help)

_register_plan_commands(app)

from .cli_followup import register as _register_followup_commands  # noqa: E402
from .cli_plan import plan_app as _plan_app  # noqa: E402

_register_followup_commands(app, _plan_app)

from .cli_web import register as _register_web_commands  # noqa: E402

_register_web_commands(app)

from .cli_practice import register as _register_practice_commands  # noqa: E402

_register_practice_commands(app)

from .cli_report import register as _register_report_commands  # noqa: E402

_register_report_commands(app)

from .cli_fhir import register as _register_fhir_commands  # noqa: E402

_register_fhir_commands(app)


def main() -> None:
    app()
