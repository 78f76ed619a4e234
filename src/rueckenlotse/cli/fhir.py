"""FHIR commands: fhir export (a Case as a FHIR R4B Bundle), fhir import (a QuestionnaireResponse as a Case).

Thin: each command reads a file, calls rueckenlotse.reports.fhir and prints JSON. The FHIR modules are
imported inside the commands, so they cost no start-up time for the other commands. Every error a user
can cause exits with code 2 and a message on stderr, never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import Lang, cli_text, command_group, fail, storage_message

fhir_app = command_group(
    "FHIR R4 (R4B): einen Fall als Bundle ausgeben, Antworten einlesen "
    "(export a Case as a Bundle, import a QuestionnaireResponse as a Case).",
)


TextLangOption = Annotated[Lang, typer.Option("--lang", help="Language of the texts: de or en.")]


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"fhir.{key}", lang.value, **values)


def _read(path: Path, lang: Lang) -> str:
    """The file's text; too large, empty, not UTF-8 or unreadable ends the command with one message."""
    from ..input_limits import InputRejected, read_text_file

    try:
        return read_text_file(path)
    except InputRejected as e:
        fail(_t("error", lang), [e.message(lang.value)])
    except OSError as e:
        fail(_t("error", lang), [_t("read", lang, path=path, why=e.strerror or type(e).__name__)])


def parse_at(text: str | None, lang: Lang) -> dt.datetime:
    """The --at time (ISO 8601; without a time zone it is UTC), or now (UTC, whole seconds)."""
    if text is None:
        return dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        from ..reports.fhir.importing import shown

        fail(_t("invalid_input", lang), [_t("bad_at", lang, got=shown(text))])
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def fhir_export(
    file: Annotated[Path, typer.Argument(help="A Case as JSON.")],
    lang: TextLangOption = Lang.de,
    at: Annotated[
        str | None, typer.Option("--at", help="Time stamp of the resources, ISO 8601 (default: now).")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file, not stdout.")
    ] = None,
) -> None:
    """Export a Case as a FHIR R4 Bundle (JSON): Questionnaire, answers, risk, pain, care plan.

    Example: rueckenlotse fhir export fall.json --at 2026-11-27T09:00:00Z -o fall.fhir.json
    """
    from ..core.errors import InvalidCase
    from ..knowledge.loader import default_knowledge
    from ..reports.fhir import build_bundle
    from ..validation import parse_case_json

    moment = parse_at(at, lang)
    kb = default_knowledge()
    try:
        case = parse_case_json(_read(file, lang), kb, lang.value)
    except InvalidCase as e:
        fail(_t("invalid_input", lang), [str(err) for err in e.errors])
    text = json.dumps(build_bundle(case, at=moment, lang=lang.value, kb=kb), ensure_ascii=False, indent=2)
    if output is None:
        sys.stdout.write(text + "\n")
        return
    from ..private_files import write_private

    try:
        write_private(output, (text + "\n").encode("utf-8"))
    except OSError as e:
        why = _t("write", lang, path=output, why=e.strerror or type(e).__name__)
        fail(_t("error", lang), [storage_message(e, lang.value) or why])


def fhir_import(
    file: Annotated[Path, typer.Argument(help="A FHIR QuestionnaireResponse to our intake, as JSON.")],
    lang: TextLangOption = Lang.de,
) -> None:
    """Read a FHIR QuestionnaireResponse and print the Case (JSON).

    Example: rueckenlotse fhir import antworten.json > fall.json
    """
    from ..knowledge.loader import default_knowledge
    from ..reports.fhir import InvalidResponse, parse_response_json

    kb = default_knowledge()
    try:
        case = parse_response_json(_read(file, lang), kb, lang.value)
    except InvalidResponse as e:
        fail(_t("invalid_input", lang), [str(err) for err in e.errors])
    data = case.model_dump(mode="json", exclude_defaults=True)
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def register(app: typer.Typer) -> None:
    fhir_app.command("export")(fhir_export)
    fhir_app.command("import")(fhir_import)
    app.add_typer(fhir_app, name="fhir")
