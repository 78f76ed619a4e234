"""Store commands of the command line: person new, export, erase, backup, restore.

Thin on purpose: every command opens the Store, calls one method and reports. Errors exit with code 2 and a
message on stderr, never a traceback. The store is imported inside the commands so ``--help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from .common import Lang, command_group

if TYPE_CHECKING:
    from rich.progress import Progress

    from ..store import Store

EXIT_INVALID = 2
EXIT_DECLINED = 1

TEXTS: dict[str, dict[str, str]] = {
    "person_created": {
        "de": "Neue Person angelegt. Bitte die ID aufbewahren: Nur mit ihr sind die Daten wieder zu finden.",
        "en": "New person created. Keep the id: it is the only way to find the data again.",
    },
    "export_written": {"de": "Export geschrieben: {path}", "en": "Export written: {path}"},
    "csv_written": {"de": "Tagebuch (CSV) geschrieben: {path}", "en": "Diary (CSV) written: {path}"},
    "erase_confirm": {
        "de": "Alle Daten der Person {person} unwiderruflich löschen?",
        "en": "Delete all data of person {person} for good?",
    },
    "erase_declined": {"de": "Abgebrochen – nichts gelöscht.", "en": "Cancelled – nothing deleted."},
    "erased": {"de": "Gelöscht:", "en": "Deleted:"},
    "erase_rows": {"de": "{table}: {count} Zeile(n)", "en": "{table}: {count} row(s)"},
    "erase_verified": {
        "de": "Geprüft: In keiner Tabelle ist noch eine Zeile dieser Person gespeichert.",
        "en": "Verified: no table holds any row of this person any more.",
    },
    "erase_backups": {
        "de": "Hinweis: Früher angelegte Sicherungen enthalten diese Daten weiterhin.",
        "en": "Note: backups made earlier still contain this data.",
    },
    "backup_progress": {"de": "Sicherung", "en": "Backup"},
    "backup_written": {"de": "Sicherung geschrieben: {path}", "en": "Backup written: {path}"},
    "restore_confirm": {
        "de": "Alle Daten in {db} werden durch die Sicherung {path} ersetzt. Fortfahren?",
        "en": "All data in {db} will be replaced by the backup {path}. Continue?",
    },
    "restore_declined": {"de": "Abgebrochen – nichts verändert.", "en": "Cancelled – nothing changed."},
    "restore_progress": {"de": "Wiederherstellung", "en": "Restore"},
    "restored": {
        "de": "Wiederhergestellt aus {path}; die Integritätsprüfung fand keine Fehler.",
        "en": "Restored from {path}; the integrity check found no problems.",
    },
    "export_progress": {"de": "Export", "en": "Export"},
    "yes_no": {"de": "j/N", "en": "y/N"},
    "error": {"de": "Fehler:", "en": "Error:"},
    "invalid_input": {"de": "Ungültige Eingabe:", "en": "Invalid input:"},
    "database_error": {"de": "Datenbankfehler: {detail}", "en": "Database error: {detail}"},
    "file_error": {"de": "Datei {path}: {detail}", "en": "File {path}: {detail}"},
}

YES = frozenset({"j", "ja", "y", "yes"})

TABLE_NAMES: dict[str, dict[str, str]] = {
    "persons": {"de": "Personen", "en": "persons"},
    "assessments": {"de": "Einschätzungen", "en": "assessments"},
    "diary_entries": {"de": "Tagebucheinträge", "en": "diary entries"},
    "plans": {"de": "Pläne", "en": "plans"},
    "exclusions": {"de": "Ausgeschlossene Übungen", "en": "excluded exercises"},
    "accounts": {"de": "Konten", "en": "accounts"},
    "web_sessions": {"de": "Anmeldungen (Sitzungen)", "en": "sign-in sessions"},
    "practice_intakes": {"de": "An Praxen gesendete Einschätzungen", "en": "assessments sent to practices"},
    "login_attempts": {"de": "Anmeldeversuche", "en": "sign-in attempts"},
}


def _t(key: str, lang: Lang, **values: object) -> str:
    return TEXTS[key][lang.value].format(**values)


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: DATABASE_URL or the SQLite file in the data folder)."),
]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language of the messages: de or en.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def _fail(lang: Lang, heading: str, lines: list[str]) -> NoReturn:
    sys.stderr.write(heading + "\n" + "".join(f"  {line}\n" for line in lines))
    raise typer.Exit(EXIT_INVALID)


@contextmanager
def _user_errors(lang: Lang) -> Iterator[None]:
    """Everything a user can cause becomes a short message and exit code 2, never a traceback."""
    from sqlalchemy.exc import SQLAlchemyError

    from ..core.errors import InvalidInput
    from ..store import StoreError

    try:
        yield
    except StoreError as e:
        _fail(lang, _t("error", lang), e.message(lang.value).splitlines())
    except InvalidInput as e:
        _fail(lang, _t("invalid_input", lang), [str(err) for err in e.errors])
    except SQLAlchemyError as e:
        detail = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        _fail(lang, _t("error", lang), [_t("database_error", lang, detail=detail)])
    except OSError as e:
        detail = e.strerror or str(e)
        _fail(lang, _t("error", lang), [_t("file_error", lang, path=e.filename or "", detail=detail)])


def _database_url(db: str | None) -> str:
    if db is not None:
        return db
    from ..settings import Settings

    return Settings().database_url


@contextmanager
def _open_store(db: str | None) -> Iterator[Store]:
    from ..store import Store

    with Store.open(_database_url(db)) as store:
        yield store


@contextmanager
def _progress(label: str) -> Iterator[Callable[[int, int], None]]:
    """A Rich progress bar on stderr (stdout may carry the data); hidden when stderr is no terminal."""
    from rich.console import Console
    from rich.progress import Progress

    console = Console(stderr=True)
    with Progress(console=console, transient=False, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)
        yield _updater(bar, task)


def _updater(bar: Progress, task: Any) -> Callable[[int, int], None]:
    def update(done: int, total: int) -> None:
        bar.update(task, completed=done, total=total)

    return update


def _confirm(question: str, lang: Lang) -> bool:
    """Ask on stderr; only an explicit yes (j/ja in German, y/yes in both) counts, end of input is no."""
    sys.stderr.write(f"{question} [{_t('yes_no', lang)}]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in YES


def _say(text: str) -> None:
    sys.stderr.write(text + "\n")


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
    with _user_errors(lang), _open_store(db) as store:
        person = store.create_person(name)
    sys.stdout.write(person.id + "\n")
    _say(_t("person_created", lang))


def export(
    person_id: Annotated[str, typer.Argument(help="The person's id.")],
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the JSON here (default: stdout).")
    ] = None,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="Also write the diary as CSV here.")] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Export all data of one person as JSON, and the diary as CSV if asked.

    Example: rueckenlotse export 3f2a… -o daten.json --csv tagebuch.csv
    """
    from ..services import data_rights
    from ..store.audit import SYSTEM_CLI

    with _user_errors(lang), _open_store(db) as store:
        with _progress(_t("export_progress", lang)) as progress:
            data = store.export_person(person_id, progress=progress)
            diary = store.diary_csv(person_id) if csv_file is not None else None
        data_rights.record(store, SYSTEM_CLI, "export", person_id=person_id)  # who exported, never what
        text = json.dumps(data, ensure_ascii=False, indent=2) + "\n"
        if output is None:
            sys.stdout.write(text)
        else:
            output.write_text(text, encoding="utf-8")
            _say(_t("export_written", lang, path=output))
        if csv_file is not None and diary is not None:
            # utf-8-sig: spreadsheet programs read umlauts correctly only with the byte order mark.
            csv_file.write_text(diary, encoding="utf-8-sig", newline="")
            _say(_t("csv_written", lang, path=csv_file))


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

    with _user_errors(lang), _open_store(db) as store:
        store.get_person(person_id)  # an unknown id is an error before anyone is asked anything
        if not yes and not _confirm(_t("erase_confirm", lang, person=person_id), lang):
            _say(_t("erase_declined", lang))
            raise typer.Exit(EXIT_DECLINED)
        counts = data_rights.erase_account(store, SYSTEM_CLI, person_id)  # recorded without the person
    lines = [_t("erased", lang)]
    for table, count in counts.items():
        label = TABLE_NAMES.get(table, {}).get(lang.value, table)
        lines.append("  " + _t("erase_rows", lang, table=label, count=count))
    lines += [_t("erase_verified", lang), _t("erase_backups", lang)]
    sys.stdout.write("\n".join(lines) + "\n")


def backup(
    file: Annotated[Path, typer.Argument(help="Where to write the backup (replaced if it exists).")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Back up the whole database into one file (SQLite copy, or a pg_dump archive for PostgreSQL).

    Example: rueckenlotse backup sicherung.db
    """
    with _user_errors(lang), _open_store(db) as store:
        with _progress(_t("backup_progress", lang)) as progress:
            store.backup(file, progress=progress)
    sys.stdout.write(_t("backup_written", lang, path=file) + "\n")


def restore(
    file: Annotated[Path, typer.Argument(help="A backup made by `rueckenlotse backup`.")],
    yes: YesOption = False,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Replace the whole database by a backup, then check its integrity.

    Example: rueckenlotse restore sicherung.db --yes
    """
    with _user_errors(lang), _open_store(db) as store:
        if not file.is_file():  # checked before asking, so nobody confirms a restore that cannot run
            from ..store import StoreError

            raise StoreError(f"Datei nicht gefunden: {file}", f"File not found: {file}")
        question = _t("restore_confirm", lang, db=store.engine.url.render_as_string(), path=file)
        if not yes and not _confirm(question, lang):
            _say(_t("restore_declined", lang))
            raise typer.Exit(EXIT_DECLINED)
        with _progress(_t("restore_progress", lang)) as progress:
            store.restore(file, progress=progress)
    sys.stdout.write(_t("restored", lang, path=file) + "\n")


person_app = command_group(
    "Personen (pseudonym: eine erzeugte ID, optional ein Name) / persons.",
)


def register(app: typer.Typer) -> None:
    """Add the store commands to the main application."""
    person_app.command("new")(person_new)
    app.add_typer(person_app, name="person")
    for command in (export, erase, backup, restore):
        app.command()(command)
