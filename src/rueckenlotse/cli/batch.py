"""`rueckenlotse batch INPUT -o OUTPUT`: a whole file assessed as one compiled SQL query.

Thin: parses options, shows a progress bar and a summary, and calls rueckenlotse.batch.pipeline. DuckDB,
pyarrow and the engines are imported inside the command, so `rueckenlotse --help` stays fast.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import EXIT_INVALID, Lang, cli_text

if TYPE_CHECKING:
    from ..batch.pipeline import Summary
    from ..core.kb import KnowledgeBase


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


def register(app: typer.Typer) -> None:
    app.command()(batch)
