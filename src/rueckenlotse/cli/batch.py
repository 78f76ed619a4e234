"""`rueckenlotse batch`: whole files at once.

* `rueckenlotse batch INPUT -o OUTPUT` (or `batch cases …`): a file of Cases assessed as one compiled SQL
  query (rueckenlotse.batch.pipeline);
* `rueckenlotse batch cohort FILE`: the cohort results of a file of courses, the same figures as a
  practice's results page (rueckenlotse.batch.courses, services.cohort);
* `rueckenlotse batch courses --count N --out FILE`: a file of generated courses, for trying and measuring.

Thin: parses options, shows a progress bar and a summary. DuckDB, pyarrow and the engines are imported
inside the commands, so `rueckenlotse --help` stays fast. A first argument that is no subcommand is the
INPUT of `batch cases` (so `batch faelle.jsonl -o out.jsonl` works as it always did; a file named like a
subcommand is given as `./cohort`).
"""

from __future__ import annotations

import json
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import EXIT_INVALID, HelpGroup, Lang, cli_text, command_group

if TYPE_CHECKING:
    from ..batch.pipeline import Summary
    from ..core.kb import KnowledgeBase
    from ..knowledge.cohort import CohortSpec
    from ..services.cohort import CohortTable


class Engine(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    spark = "spark"


class FileFormat(StrEnum):
    jsonl = "jsonl"
    csv = "csv"
    parquet = "parquet"


def _summary_table(summary: Summary, kb: KnowledgeBase, lang: str) -> object:
    from rich.table import Table

    def t(key: str) -> str:
        return cli_text(f"batch.{key}", lang)

    table = Table(title=t("title"), show_header=False)
    table.add_column()
    table.add_column(justify="right")
    table.add_row(t("rows"), f"{summary.rows:,}")
    table.add_row(t("assessed"), f"{summary.assessed:,}")
    for triage in ("emergency", "urgent", "soon", "routine", "self_care"):
        table.add_row(f"  {kb.text(f'triage.{triage}.title', lang)}", f"{summary.triage.get(triage, 0):,}")
    table.add_row(t("errors"), f"{summary.errors:,}")
    rate = summary.rows / summary.seconds if summary.seconds else 0.0
    table.add_row(t("time"), f"{summary.seconds:.2f} s ({rate:,.0f} {t('per_second')})")
    table.add_row(t("output"), str(summary.output))
    table.add_row(t("error_file"), str(summary.errors_path))
    return table


def batch(
    input_file: Annotated[Path, typer.Argument(help="Cases as .jsonl, .csv or .parquet.", metavar="INPUT")],
    output: Annotated[Path, typer.Option("-o", "--output", help="Results as .jsonl, .csv or .parquet.")],
    errors: Annotated[
        Path | None, typer.Option("--errors", help="Invalid rows (default: OUTPUT.errors.jsonl).")
    ] = None,
    input_format: Annotated[
        FileFormat | None, typer.Option("--input-format", help="Override the suffix.")
    ] = None,
    output_format: Annotated[
        FileFormat | None, typer.Option("--output-format", help="Override the suffix.")
    ] = None,
    engine: Annotated[
        Engine, typer.Option("--engine", help="duckdb (default), postgres or spark.")
    ] = Engine.duckdb,
    database_url: Annotated[
        str | None, typer.Option("--database-url", help="PostgreSQL URL for --engine postgres.")
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the summary: de or en.")] = Lang.de,
    max_output_mb: Annotated[
        int | None,
        typer.Option(
            "--max-output-mb",
            min=1,
            help="Stop when the output grows past this many MiB (default: 200 x the input, at least 256).",
        ),
    ] = None,
) -> None:
    """Eine ganze Datei mit Fällen bewerten (assess a whole file of Cases as one compiled query).

    Ungültige Zeilen: Zeilennummer und Grund in der Fehlerdatei (invalid rows: line and reason).

    Example: rueckenlotse batch faelle.jsonl -o ergebnisse.parquet
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from ..batch.engines import EngineError
    from ..batch.pipeline import BatchError, Callbacks, run_batch
    from ..i18n.errors import DomainError
    from ..knowledge.loader import default_knowledge

    console = Console(stderr=True)
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def stage(name: str, total: int) -> None:
            description = cli_text(f"batch.{name}", lang.value)
            progress.update(task, description=description, total=total or None, completed=0)

        callbacks = Callbacks(stage=stage, advance=lambda n: progress.advance(task, n))
        try:
            summary = run_batch(
                default_knowledge(),
                input_file,
                output,
                input_format=input_format.value if input_format else None,
                output_format=output_format.value if output_format else None,
                engine=engine.value,
                database_url=database_url,
                errors_path=errors,
                callbacks=callbacks,
                max_output_bytes=max_output_mb * 1024 * 1024 if max_output_mb is not None else None,
            )
        except (BatchError, EngineError) as e:
            progress.stop()
            sys.stderr.write(f"{e}\n")
            raise typer.Exit(EXIT_INVALID) from None
        except DomainError as e:  # an input over a limit (rueckenlotse.input_limits)
            progress.stop()
            sys.stderr.write(f"{e.message(lang.value)}\n")
            raise typer.Exit(EXIT_INVALID) from None
    Console().print(_summary_table(summary, default_knowledge(), lang.value))


class CourseFormat(StrEnum):
    jsonl = "jsonl"
    parquet = "parquet"


class TableFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def _as_of(value: str | None) -> date:
    from ..services.cohort import today

    if value is None:
        return today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        sys.stderr.write(f"--as-of: {value!r} ist kein Datum / is not a date (YYYY-MM-DD)\n")
        raise typer.Exit(EXIT_INVALID) from None


def cohort(
    input_file: Annotated[Path, typer.Argument(help="Courses as .jsonl or .parquet.", metavar="FILE")],
    output_format: Annotated[
        TableFormat, typer.Option("--format", help="table (default), json or csv, on standard output.")
    ] = TableFormat.table,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Reporting date YYYY-MM-DD (default: today, UTC).")
    ] = None,
    input_format: Annotated[
        CourseFormat | None, typer.Option("--input-format", help="Override the suffix.")
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the labels: de or en.")] = Lang.de,
) -> None:
    """Kohorten-Ergebnisse einer Datei mit Verläufen (cohort results of a file of courses).

    Dieselben Zahlen wie die Ergebnisseite einer Praxis, kleine Zahlen als "< 5"
    (the same figures as a practice's results page, small counts as "< 5").

    Example: rueckenlotse batch cohort verlaeufe.jsonl --format csv
    """
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from ..batch.courses import CourseFileError, cohort_of_file
    from ..services import cohort as service

    day = _as_of(as_of)
    spec = service.cohort_spec()
    rules = service.measure_rules()
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("", total=None)

        def stage(name: str) -> None:
            progress.update(task, description=cli_text(f"batch.cohort.{name}", lang.value))

        try:
            courses, rows = cohort_of_file(
                input_file,
                day,
                spec.params(),
                rules,
                fmt=input_format.value if input_format else None,
                stage=stage,
            )
        except CourseFileError as e:
            progress.stop()
            sys.stderr.write(f"{e}\n")
            raise typer.Exit(EXIT_INVALID) from None
    table = service.table_of(rows, rules, day, lang.value, spec)
    if output_format is TableFormat.json:
        sys.stdout.write(
            json.dumps(service.json_of(table, courses_in_file=courses), ensure_ascii=False, indent=2) + "\n"
        )
    elif output_format is TableFormat.csv:
        sys.stdout.write(service.csv_text(table, lang.value, spec))
    else:
        Console().print(_cohort_table(table, spec, lang.value, courses))


def _cohort_table(table: CohortTable, spec: CohortSpec, lang: str, courses: int) -> object:
    """Two tables as on the results page: the changes by week, then the urgency and the diary."""
    from rich.console import Group
    from rich.table import Table

    def column(name: str) -> str:
        return spec.text(f"column.{name}", lang)

    title = cli_text("batch.cohort.title", lang, date=table.as_of_label, courses=courses)
    change = Table(title=title, title_justify="left")
    change.add_column(column("item"))
    parts = ("better", "same", "worse", "no_baseline", "n")
    for name in parts:
        change.add_column(column(name), justify="right")
    for row in table.change_rows:
        change.add_row(f"{row.label}, {row.week_label}", *(row.cells[name] for name in parts))
    events = Table()
    events.add_column(column("item"))
    events.add_column(column("count"), justify="right")
    events.add_column(column("of"), justify="right")
    for row in table.event_rows:
        events.add_row(row.label, row.cells["count"], row.cells["of"])
    return Group(change, events)


def courses(
    count: Annotated[int, typer.Option("--count", min=1, help="How many courses.")],
    out: Annotated[Path, typer.Option("--out", help="The file: .jsonl or .parquet.")],
    seed: Annotated[int, typer.Option("--seed", help="Seed of the generator (same seed, same file).")] = 0,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Courses start around this date (default: today, UTC).")
    ] = None,
    lang: Annotated[Lang, typer.Option("--lang", help="Language of the messages: de or en.")] = Lang.de,
) -> None:
    """Eine Datei mit erzeugten Verläufen schreiben (write a file of generated courses).

    Plausible, erfundene Verläufe zum Ausprobieren und Messen (made-up courses for trying and measuring).

    Example: rueckenlotse batch courses --count 10000 --out verlaeufe.jsonl
    """
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    from ..batch.courses import CourseFileError, format_of, generate_courses, write_courses

    day = _as_of(as_of)
    try:
        format_of(out)
    except CourseFileError as e:
        sys.stderr.write(f"{e}\n")
        raise typer.Exit(EXIT_INVALID) from None
    columns = (TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(cli_text("batch.courses.write", lang.value), total=count)
        written = write_courses(
            out,
            generate_courses(count, seed=seed, as_of=day),
            advance=lambda n: progress.advance(task, n),
        )
    sys.stderr.write(cli_text("batch.courses.done", lang.value, count=f"{written:,}", path=out) + "\n")


class _BatchGroup(HelpGroup):
    """`batch`: a first argument that names no subcommand (nor asks for help) is the INPUT of `cases`."""

    # Typed loosely: recent Typer versions bring their own copy of Click's classes.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["cases", *args]
        parsed: list[str] = super().parse_args(ctx, args)
        return parsed


BATCH_HELP = (
    "Ganze Dateien auf einmal: Fälle bewerten, Kohorten-Ergebnisse zählen "
    "(whole files: assess Cases, count cohort results)."
)


def register(app: typer.Typer) -> None:
    group = command_group(BATCH_HELP, cls=_BatchGroup)
    group.command("cases")(batch)
    group.command("cohort")(cohort)
    group.command("courses")(courses)
    app.add_typer(group, name="batch")
