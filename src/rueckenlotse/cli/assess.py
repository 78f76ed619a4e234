"""The ``assess`` command: a Case file (or many, as JSON Lines) assessed and printed as text or JSON.

Registered at start-up (it is listed in `rueckenlotse --help`), so this module imports only Typer; the
engine, the knowledge base and rich are imported inside the command.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import Lang, cli_text, fail

if TYPE_CHECKING:
    from ..core.kb import KnowledgeBase
    from ..core.models import Assessment, Case


class OutputFormat(StrEnum):
    json = "json"
    text = "text"


def read_cases(path: Path, kb: KnowledgeBase, lang: str) -> list[Case]:
    """All cases of a .json (one) or .jsonl (one per line) file; every invalid line is reported.

    Bounded (rueckenlotse.input_limits): a file over the size limit is refused before a byte is read, one
    with too many lines before they are parsed; many cases at once are what `batch` is for.
    """
    from ..core.errors import InvalidCase
    from ..input_limits import InputRejected, jsonl_lines, read_text_file
    from ..validation import parse_case_json

    heading = kb.text("ui.invalid_input", lang)
    try:
        text = read_text_file(path)
        lines = jsonl_lines(text, path) if path.suffix.lower() == ".jsonl" else None
    except InputRejected as e:
        too_much = e.code in ("input_too_large", "input_too_many_lines")
        hint = [cli_text("assess.use_batch", lang)] if too_much else []
        fail(heading, [e.message(lang), *hint])
    except OSError as e:
        fail(heading, [f"{path}: {e.strerror or e}"])
    if lines is None:
        try:
            return [parse_case_json(text, kb, lang)]
        except InvalidCase as e:
            fail(heading, [str(err) for err in e.errors])
    cases: list[Case] = []
    problems: list[str] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            cases.append(parse_case_json(line, kb, lang))
        except InvalidCase as e:
            where = kb.text("ui.line", lang).format(line=number)
            problems += [f"{where}: {err}" for err in e.errors]
    if problems:
        fail(heading, problems)
    return cases


def _print_json(assessment: Assessment, one_per_line: bool) -> None:
    import json

    data = assessment.model_dump(mode="json")
    text = json.dumps(data, ensure_ascii=False, indent=None if one_per_line else 2)
    sys.stdout.write(text + "\n")


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
    cases = read_cases(file, kb, lang.value)
    # Each assessment is printed as soon as it is made, never all held at once: they are far larger than
    # their cases.
    if output_format is OutputFormat.json:
        for case in cases:
            _print_json(evaluate(kb, case, lang.value), one_per_line=file.suffix.lower() == ".jsonl")
        return
    from rich.console import Console
    from rich.rule import Rule

    from ..reports.text import print_report

    console = Console()
    for index, case in enumerate(cases):
        if index:
            console.print(Rule())
        print_report(console, kb, evaluate(kb, case, lang.value), lang.value)


def register(app: typer.Typer) -> None:
    app.command()(assess)
