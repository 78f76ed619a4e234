"""Practice commands: practice new, practice clinician, practice token, practice purge.

Thin: each command opens the store and calls one method of ``Practices`` / ``Accounts``. Passwords are
read with getpass (twice) or from stdin, never from the command line (it would end up in the shell's
history and the process list). Errors exit with code 2 and a message on stderr.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from .common import DbOption, Lang, LangOption, cli_text, command_group, fail, open_store, user_errors

practice_app = command_group(
    "Practices: create one, add clinicians, make API tokens, purge old intakes.",
)


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"practice.{key}", lang.value, **values)


def practice_new(
    name: Annotated[str, typer.Argument(help="The practice's name.")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Create a practice and print its id and intake link.

    Example: rueckenlotse practice new "Praxis am Markt"
    """
    from ..store.practices import Practices

    with user_errors(lang), open_store(db) as store:
        practice = Practices(store).create_practice(name)
    sys.stdout.write(_t("practice_created", lang, id=practice.id, code=practice.intake_code) + "\n")


def _read_password(lang: Lang, from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_t("password", lang))
    second = getpass.getpass(_t("password_again", lang))
    if first != second:
        fail(_t("error", lang), [_t("password_mismatch", lang)])
    return first


def practice_clinician(
    practice_id: Annotated[str, typer.Argument(help="The practice's id.")],
    email: Annotated[str, typer.Argument(help="The clinician's e-mail address (the sign-in name).")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Create a clinician account in a practice (asks for the password twice).

    Example: rueckenlotse practice clinician 3f2a… arzt@praxis.de
    """
    from ..services.auth import Argon2Passwords
    from ..store.accounts import Accounts

    password = _read_password(lang, password_stdin)
    with user_errors(lang), open_store(db) as store:
        account = Accounts(store, Argon2Passwords()).create_clinician(email, password, practice_id)
    sys.stdout.write(_t("clinician_created", lang, email=account.email) + "\n")


def practice_token(
    practice_id: Annotated[str, typer.Argument(help="The practice's id.")],
    name: Annotated[str, typer.Argument(help="A name for the token, e.g. the program that uses it.")],
    days: Annotated[
        int, typer.Option("--days", min=1, max=5 * 365, help="Days until the token expires (default 365).")
    ] = 365,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Create an API token for the practice and print it once. It expires after --days days
    (`admin tokens` lists them, `admin revoke-token` ends one early).

    Example: rueckenlotse practice token 3f2a… praxissoftware --days 90
    """
    from datetime import timedelta

    from ..store.practices import Practices

    with user_errors(lang), open_store(db) as store:
        _record, raw = Practices(store).create_api_token(practice_id, name, lifetime=timedelta(days=days))
    sys.stderr.write(_t("token_created", lang) + "\n")
    sys.stdout.write(raw + "\n")


def practice_purge(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would be deleted; delete nothing.")
    ] = False,
    days: Annotated[
        int | None,
        typer.Option(
            "--days", min=1, help="Retention in days (default: RUECKENLOTSE_INTAKE_RETENTION_DAYS, 365)."
        ),
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Delete intakes that a practice reviewed longer ago than the retention time, and the pseudonymous
    persons made only for them. A patient account's own data is never touched. Recorded in the audit
    trail as done by the system.

    Example: rueckenlotse practice purge --dry-run
    """
    from ..services.data_rights import purge_reviewed
    from ..settings import Settings

    retention = days if days is not None else Settings().intake_retention_days
    with user_errors(lang), open_store(db) as store:
        counts = purge_reviewed(store, retention, dry_run=dry_run)
    key = "purge_dry_run" if dry_run else "purged"
    message = _t(
        key, lang, intakes=counts.intakes, days=retention, persons=counts.persons, kept=counts.kept_patients
    )
    sys.stdout.write(message + "\n")


def register(app: typer.Typer) -> None:
    practice_app.command("new")(practice_new)
    practice_app.command("clinician")(practice_clinician)
    practice_app.command("token")(practice_token)
    practice_app.command("purge")(practice_purge)
    app.add_typer(practice_app, name="practice")
