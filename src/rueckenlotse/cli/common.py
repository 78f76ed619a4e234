"""What every command group of the CLI shares: options, exit codes, error handling, the store, progress.

Every error a user can cause exits with EXIT_INVALID and a short message on stderr, never a traceback.
Heavy libraries (rich, the store, SQLAlchemy) are imported inside the helpers, so that importing this
module costs `rueckenlotse --help` nothing beyond Typer.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from ..i18n.languages import languages

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from ..i18n.catalogue import Catalogue
    from ..store import Store

# Exit codes of every command.
EXIT_OK = 0
EXIT_DECLINED = 1  # the user answered no to a confirmation
EXIT_ERROR = 1  # the interview ended with an error or its input ended early
EXIT_INVALID = 2  # invalid input, a missing file, a database error: a message on stderr
EXIT_INTERRUPTED = 130  # stopped with Ctrl+C


if TYPE_CHECKING:

    class Lang(StrEnum):
        """The --lang choice of every command: the translation layer's language list."""

        de = "de"
        en = "en"

else:
    # German, English and the languages of RUECKENLOTSE_LOCALE_DIR (rueckenlotse.i18n).
    Lang = StrEnum("Lang", [(code, code) for code in languages()])


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


YES = frozenset({"j", "ja", "y", "yes"})


@cache
def _catalogue() -> Catalogue:
    """cli/texts.yaml and every cli/texts_<area>.yaml beside it (a key may be defined only once)."""
    import re
    from importlib import resources

    from ..i18n.catalogue import load_catalogue

    folder = resources.files("rueckenlotse.cli")
    areas = sorted(e.name for e in folder.iterdir() if re.fullmatch(r"texts_\w+\.yaml", e.name))
    return load_catalogue("rueckenlotse.cli", ["texts.yaml", *areas])


def cli_text(key: str, lang: str, /, **values: object) -> str:
    """A text of cli/texts.yaml (``<module>.<name>``) in ``lang`` with its placeholders filled."""
    return _catalogue().entries[key][lang].format(**values)


def cli_text_unformatted(key: str, lang: str) -> str:
    """A text of cli/texts.yaml as written (its braces kept): for a text shown without values."""
    return _catalogue().entries[key][lang]


def has_cli_text(key: str) -> bool:
    return key in _catalogue()


def text(key: str, lang: Lang, **values: object) -> str:
    """One of the shared messages (``common.<key>``) in the chosen language."""
    return cli_text(f"common.{key}", lang.value, **values)


DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database URL (default: DATABASE_URL or the SQLite file in the data folder)."),
]
LangOption = Annotated[Lang, typer.Option("--lang", help="Language of the messages: de or en.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")]


def fail(heading: str, lines: list[str]) -> NoReturn:
    """Write the heading and the indented lines to stderr and exit with EXIT_INVALID."""
    sys.stderr.write(heading + "\n" + "".join(f"  {line}\n" for line in lines))
    raise typer.Exit(EXIT_INVALID)


@contextmanager
def user_errors(lang: Lang) -> Iterator[None]:
    """Everything a user can cause becomes a short message and exit code 2, never a traceback."""
    try:
        yield
    except Exception as error:
        failure = _user_failure(error, lang)
        if failure is None:
            raise
        fail(*failure)


def _user_failure(error: Exception, lang: Lang) -> tuple[str, list[str]] | None:
    """The heading and lines for an error the user caused, or None for any other error (a bug).

    SQLAlchemy's errors are looked for only once its modules are loaded: a command that never opened the
    store may run without its extra (`store`), and then none of its errors can occur. The order matters:
    a typed error (the store's, an unsafe output path) can also be an OSError (Forbidden is a
    PermissionError).
    """
    from ..core.errors import InvalidInput
    from ..i18n.errors import DomainError

    if isinstance(error, DomainError):
        return text("error", lang), error.message(lang.value).splitlines()
    if isinstance(error, InvalidInput):
        return text("invalid_input", lang), [str(err) for err in error.errors]
    if "sqlalchemy.exc" in sys.modules:
        from sqlalchemy.exc import SQLAlchemyError

        if isinstance(error, SQLAlchemyError):
            detail = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
            return text("error", lang), [text("database_error", lang, detail=detail)]
    if isinstance(error, UnicodeDecodeError):  # a file read as UTF-8 that is not (UTF-16, binary)
        return text("error", lang), [text("not_utf8", lang)]
    if isinstance(error, OSError):
        storage = storage_message(error, lang.value)
        if storage is not None:
            return text("error", lang), storage.splitlines()
        detail = error.strerror or str(error)
        return text("error", lang), [text("file_error", lang, path=error.filename or "", detail=detail)]
    return None


def storage_message(error: OSError, lang: str) -> str | None:
    """For a full or read-only disk: its cause, where, and that nothing saved before is damaged; None for
    any other OSError."""
    from ..storage import from_os_error

    storage = from_os_error(error)
    return None if storage is None else storage.message(lang)


def record_access(store: Store, action: str, person_id: str | None = None) -> None:
    """The command line's access to a person's data (or, without a person, to everyone's) in the audit
    trail: who and what kind, never what was read."""
    from ..services import data_rights
    from ..store.audit import SYSTEM_CLI

    data_rights.record(store, SYSTEM_CLI, action, person_id=person_id)


def database_url(db: str | None) -> str:
    """The --db option, else the configured database (DATABASE_URL or SQLite in the data folder)."""
    if db is not None:
        return db
    from ..settings import Settings

    return Settings().database_url


@contextmanager
def open_store(db: str | None) -> Iterator[Store]:
    from ..store import Store

    with Store.open(database_url(db)) as store:
        yield store


@contextmanager
def progress(label: str) -> Iterator[Callable[[int, int], None]]:
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


def confirm(question: str, lang: Lang) -> bool:
    """Ask on stderr; only an explicit yes (j/ja in German, y/yes in both) counts, end of input is no."""
    sys.stderr.write(f"{question} [{text('yes_no', lang)}]: ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    if not answer.endswith("\n"):
        sys.stderr.write("\n")
    return answer.strip().lower() in YES


def say(message: str) -> None:
    """A message for the user on stderr (stdout carries the data)."""
    sys.stderr.write(message + "\n")


def make_console() -> Console:
    """A Rich console on stdout."""
    from rich.console import Console

    return Console()


def parse_moment(value: str | None, lang: Lang) -> dt.datetime | None:
    """An --at option (ISO date-time; without a time zone, the local one), or None when not given."""
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        fail(text("bad_time", lang, value=value), [])
    return moment if moment.tzinfo is not None else moment.astimezone()


def parse_day(value: str | None, lang: Lang) -> dt.date | None:
    """A --today option (YYYY-MM-DD), or None when not given."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        fail(text("bad_time", lang, value=value), [])
