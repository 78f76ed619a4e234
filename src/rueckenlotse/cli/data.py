"""Data commands of the command line: export, erase, backup, restore, check.

Thin on purpose: every command opens the Store, calls one method and reports. Errors exit with code 2 and a
message on stderr, never a traceback. The store is imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from .common import (
    EXIT_DECLINED,
    DbOption,
    Lang,
    LangOption,
    YesOption,
    cli_text,
    confirm,
    has_cli_text,
    open_store,
    progress,
    record_access,
    say,
    user_errors,
)


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"data.{key}", lang.value, **values)


def export(
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the JSON here (default: stdout).")
    ] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the diary as CSV here.")] = None,
    measures_file: Annotated[
        Path | None, typer.Option("--measures-csv", help="Also write the outcome measures as CSV here.")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Export all data of one person as JSON, and the diary as CSV if asked.

    Example: rueckenlotse export 3f2a… -o daten.json --csv tagebuch.csv --measures-csv frageboegen.csv
    """
    from ..private_files import write_private
    from ..store.exporting import measures_csv
    from ..store.measures import MeasureResponses

    with user_errors(lang), open_store(db) as store:
        with progress(_t("export_progress", lang)) as update:
            data = store.export_person(person_id, progress=update)
            diary = store.diary_csv(person_id) if csv_file is not None else None
            answers = None
            if measures_file is not None:
                answers = measures_csv(MeasureResponses(store).of_person(person_id))
        record_access(store, "export", person_id)
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            write_private(output, text.encode("utf-8"))
            say(_t("export_written", lang, path=output))
        if csv_file is not None and diary is not None:
            # utf-8-sig: spreadsheet programs read umlauts correctly only with the byte order mark.
            write_private(csv_file, diary.encode("utf-8-sig"))
            say(_t("csv_written", lang, path=csv_file))
        if measures_file is not None and answers is not None:
            write_private(measures_file, answers.encode("utf-8-sig"))
            say(_t("measures_csv_written", lang, path=measures_file))


def erase(
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    yes: YesOption = False,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Delete every row of one person in every table, then verify that nothing is left.

    Example: rueckenlotse erase 3f2a… --yes
    """
    from ..services import data_rights
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        store.get_person(person_id)  # an unknown id is an error before anyone is asked anything
        if not yes and not confirm(_t("erase_confirm", lang, person=person_id), lang):
            say(_t("erase_declined", lang))
            raise typer.Exit(EXIT_DECLINED)
        counts = data_rights.erase_account(store, SYSTEM_CLI, person_id)  # recorded without the person
    lines = [_t("erased", lang)]
    for table, count in counts.items():
        lines.append("  " + _t("erase_rows", lang, table=_table_label(table, lang), count=count))
    lines += [_t("erase_verified", lang), _t("erase_backups", lang)]
    sys.stdout.write("\n".join(lines) + "\n")


def _backup_key() -> bytes:
    """RUECKENLOTSE_BACKUP_KEY, or the key kept in the data folder (made on first use)."""
    from ..i18n.errors import DomainError
    from ..settings import Settings

    try:
        return Settings().effective_backup_key()
    except ValueError as e:
        raise DomainError("backup_key_invalid", detail=str(e)) from None


def _table_label(table: str, lang: Lang) -> str:
    key = f"data.table.{table}"
    return cli_text(key, lang.value) if has_cli_text(key) else table


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (replaced if it exists).")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Back up the whole database into one file (SQLite copy, or a pg_dump archive for PostgreSQL).

    Beside it, FILE.manifest.json: what the backup holds, signed with the backup key (keep both together).

    Example: rueckenlotse backup sicherung.db
    """
    from ..store.backup_manifest import manifest_path

    with user_errors(lang):
        key = _backup_key()
        with open_store(db) as store:
            with progress(_t("backup_progress", lang)) as update:
                store.backup(file, key, progress=update)
            # Recorded after the copy was made: the backup holds every person, the trail says who made it.
            record_access(store, "backup")
    lines = [_t("backup_written", lang, path=file), _t("backup_manifest", lang, path=manifest_path(file))]
    sys.stdout.write("\n".join(lines) + "\n")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `rueckenlotse backup`.")],
    yes: YesOption = False,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Replace the whole database by a backup, after checking it completely.

    Checked first, in a private copy: the signature, the schema, the integrity. A refused backup changes
    nothing.

    Example: rueckenlotse restore sicherung.db --yes
    """
    from ..store import StoreError
    from ..store.backup_manifest import manifest_path

    with user_errors(lang):
        key = _backup_key()
        with open_store(db) as store:
            # Checked before asking, so nobody confirms a restore that cannot run.
            if not file.is_file():
                raise StoreError("file_not_found", path=str(file))
            if not manifest_path(file).is_file():
                raise StoreError("backup_manifest_missing", path=str(file), manifest=str(manifest_path(file)))
            question = _t("restore_confirm", lang, db=store.engine.url.render_as_string(), path=file)
            if not yes and not confirm(question, lang):
                say(_t("restore_declined", lang))
                raise typer.Exit(EXIT_DECLINED)
            with progress(_t("restore_progress", lang)) as update:
                counts = store.restore(file, key, progress=update)
    lines = [_t("restored", lang, path=file)]
    lines += ["  " + _t("erase_rows", lang, table=_table_label(t, lang), count=n) for t, n in counts.items()]
    lines.append(_t("restored_sessions", lang))
    sys.stdout.write("\n".join(lines) + "\n")


def check(db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Check the database: engine checks, references, documents, an escalation per warning sign.

    Exit code 1 when a problem is found, each listed on its own line.

    Example: rueckenlotse check
    """
    with user_errors(lang), open_store(db) as store:
        with progress(_t("check_progress", lang)):
            problems = store.integrity_check()
    if problems:
        sys.stdout.write(_t("check_problems", lang, count=len(problems)) + "\n")
        sys.stdout.writelines(f"- {problem}\n" for problem in problems)
        raise typer.Exit(1)
    sys.stdout.write(_t("check_clean", lang) + "\n")


def register(app: typer.Typer) -> None:
    """Add the data commands to the main application."""
    for command in (export, erase, backup, restore, check):
        app.command()(command)
