"""Person commands: person new (a pseudonymous person), person intake (store an assessment, make the plan).

Thin: each command opens the store and calls one method or use case. Errors exit with code 2 and a message on
stderr, never a traceback. The store and the engine are imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    DbOption,
    Lang,
    LangOption,
    cli_text,
    command_group,
    make_console,
    open_store,
    parse_moment,
    say,
    user_errors,
)

person_app = command_group(
    "Personen (pseudonym: eine erzeugte ID, optional ein Name) / persons.",
)


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"person.{key}", lang.value, **values)


def person_new(
    name: Annotated[
        str | None, typer.Option("--name", help="Optional display name (kept on this device).")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Create a pseudonymous person and print the new id.

    Example: rueckenlotse person new --name Anna
    """
    with user_errors(lang), open_store(db) as store:
        person = store.create_person(name)
    sys.stdout.write(person.id + "\n")
    say(_t("person_created", lang))


def person_intake(
    person: Annotated[str, typer.Argument(help="Person id (from `person new`).")],
    case_file: Annotated[
        Path, typer.Argument(help="The answers as a Case .json file (e.g. from `interview --save`).")
    ],
    at: Annotated[
        str | None, typer.Option("--at", help="When the answers were given (ISO date-time).")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Store an assessment for a person and create the plan from it.

    Example: rueckenlotse person intake 3f2a… mein-fall.json
    """
    from ..input_limits import read_text_file
    from ..knowledge.loader import default_knowledge
    from ..reports.text import print_report
    from ..services.followup import record_intake
    from ..validation import parse_case_json

    kb = default_knowledge()
    moment = parse_moment(at, lang)
    with user_errors(lang):
        case = parse_case_json(read_text_file(case_file), kb, lang.value)
        with open_store(db) as store:
            result = record_intake(store, person, case, assessed_at=moment, lang=lang.value)
    print_report(make_console(), kb, result.record.assessment, lang.value)
    sys.stderr.write(
        _t(
            "intake_saved",
            lang,
            triage=kb.text(f"triage.{result.record.assessment.triage.value}.label", lang.value),
            person=person,
        )
        + "\n"
    )


def register(app: typer.Typer) -> None:
    """Add the `person` group (new, intake) to the main application."""
    person_app.command("new")(person_new)
    person_app.command("intake")(person_intake)
    app.add_typer(person_app, name="person")
