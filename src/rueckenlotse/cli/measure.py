"""Outcome measure commands: measure due, record, show (the questionnaires asked over time).

Thin: each command opens the store and calls one use case of ``services.measures``, which the web pages and
the API use too. User errors exit with code 2 and a field-level message on stderr (nothing written).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from .common import (
    DbOption,
    Lang,
    LangOption,
    cli_text,
    command_group,
    fail,
    make_console,
    open_store,
    record_access,
    user_errors,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..knowledge.measures import Measure, MeasureItem
    from ..plan.measures import MeasureSeries

measure_app = command_group("Fragebögen zum Verlauf: offen, ausfüllen, Verlauf (outcome measures).")

PersonOption = Annotated[str, typer.Option("--person", help="Person id.")]


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"measure.{key}", lang.value, **values)


# ---- measure due -----------------------------------------------------------------------------------------
def measure_due(person: PersonOption, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Show the questionnaires open now, each with the week it answers and its fields for `measure record`.

    Example: rueckenlotse measure due --person 3f2a…
    """
    from rich.table import Table

    from ..i18n.formatting import format_day
    from ..plan.measures import default_measures, week_label
    from ..services.measures import due_for, next_due

    with user_errors(lang), open_store(db) as store:
        due = due_for(store, person)
        upcoming = next_due(store, person)
    console = make_console()
    if not due:
        console.print(_t("none", lang))
        if upcoming is not None:
            console.print(_t("next", lang, date=format_day(upcoming, lang.value)))
        return
    table = Table(title=_t("due_heading", lang))
    for key in ("col_measure", "col_week", "col_since", "col_fields"):
        table.add_column(_t(key, lang))
    for item in due:
        table.add_row(
            f"{item.measure.title.get(lang.value)} ({item.measure.id})",
            week_label(default_measures(), item.week, lang.value),
            format_day(item.since, lang.value),
            ", ".join(_fields(item.measure)),
        )
    console.print(table)


def _fields(measure: Measure) -> list[str]:
    """The --answer names of a measure: an item's id, or <item>-<n>-name / -value for named activities."""
    names: list[str] = []
    for item in measure.items:
        if item.kind == "named_scale":
            names += [f"{item.id}-1-name", f"{item.id}-1-value", "…"]
        else:
            names.append(item.id)
    return names


# ---- measure record --------------------------------------------------------------------------------------
def _pairs(values: list[str] | None, lang: Lang) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, raw = value.partition("=")
        if not sep or not name.strip():
            fail(_t("bad_pair", lang, value=value), [])
        pairs[name.strip()] = raw.strip()
    return pairs


def _ask(console: Console, prompt: str) -> str:
    return console.input(f"[bold]{prompt}[/bold]: ").strip()


def _ask_item(console: Console, item: MeasureItem, lang: Lang, yes: str, no: str) -> str:
    """One answer typed in the terminal, as the form's field would carry it."""
    text = item.text.get(lang.value)
    if item.scale is not None:
        low, high = item.scale.min_label.get(lang.value), item.scale.max_label.get(lang.value)
        console.print(f"  {item.scale.min} = {low}, {item.scale.max} = {high}")
        return _ask(console, f"{text} ({item.scale.min}–{item.scale.max})")
    if item.kind == "yes_no":
        answer = _ask(console, f"{text} ({yes}/{no})").lower()
        return "yes" if answer in (yes.lower(), "j", "y") else "no" if answer in (no.lower(), "n") else answer
    for option in item.options:
        console.print(f"  {option.value:>2}  {option.label.get(lang.value)}")
    return _ask(console, text)


def _answers_interactively(measure: Measure, lang: Lang) -> dict[str, str]:
    from ..plan.measures import default_measures

    catalogue = default_measures()
    yes, no = catalogue.text("answer.yes", lang.value), catalogue.text("answer.no", lang.value)
    console = make_console()
    console.print(f"[bold]{measure.title.get(lang.value)}[/bold]")
    console.print(measure.intro.get(lang.value))
    fields: dict[str, str] = {}
    for item in measure.items:
        if item.kind != "named_scale":
            fields[item.id] = _ask_item(console, item, lang, yes, no)
            continue
        assert item.repeat is not None and item.name_label is not None
        for n in range(1, item.repeat.max + 1):
            name = _ask(console, f"{item.name_label.get(lang.value)} ({n}; {_t('blank_ends', lang)})")
            if not name:
                break
            fields[f"{item.id}-{n}-name"] = name
            fields[f"{item.id}-{n}-value"] = _ask_item(console, item, lang, yes, no)
    return fields


def measure_record(
    person: PersonOption,
    measure: Annotated[str, typer.Option("--measure", help="The questionnaire: peg, psfs, pgic, startback.")],
    answer: Annotated[
        list[str] | None,
        typer.Option(
            "--answer",
            help="One answer, NAME=VALUE: pain=5; yes/no items take yes or no; an activity "
            "activity-1-name=Treppen activity-1-value=3 (see `measure due` for the names).",
        ),
    ] = None,
    week: Annotated[
        int | None, typer.Option("--week", help="The due week it answers (default: the due one).")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Answer a questionnaire that is open now (asks in the terminal when no --answer is given).

    Example: rueckenlotse measure record --person 3f2a… --measure peg --answer pain=6 --answer enjoyment=4
    --answer activity=5
    """
    from ..plan.measures import default_measures, form_answers, score_text, week_label
    from ..services.measures import record_response

    catalogue = default_measures()
    if measure not in catalogue.ids:
        fail(_t("unknown_measure", lang, measure=measure, known=", ".join(catalogue.ids)), [])
    chosen = catalogue.get(measure)
    if answer:
        fields = _pairs(answer, lang)
    elif sys.stdin.isatty():
        fields = _answers_interactively(chosen, lang)
    else:
        fail(_t("no_answers", lang), [])
    answers, _ = form_answers(chosen, fields.get)
    known = {name for item in chosen.items for name in _field_names(item)}
    unknown = sorted(set(fields) - known)
    extra: dict[str, Any] = {name: fields[name] for name in unknown}
    with user_errors(lang), open_store(db) as store:
        result = record_response(store, person, measure, {**answers, **extra}, week=week, lang=lang.value)
    value = score_text(chosen, result.score, lang.value)
    when = week_label(catalogue, result.week, lang.value)
    make_console().print(_t("saved", lang, title=chosen.title.get(lang.value), week=when, value=value))
    sys.stderr.write(_t("saved_id", lang, id=result.id) + "\n")


def _field_names(item: MeasureItem) -> list[str]:
    if item.repeat is None:
        return [item.id]
    return [f"{item.id}-{n}-{part}" for n in range(1, item.repeat.max + 1) for part in ("name", "value")]


# ---- measure show ----------------------------------------------------------------------------------------
def series_table(series: MeasureSeries, lang: Lang) -> RenderableType:
    from rich.table import Table

    from ..i18n.formatting import format_day
    from ..plan.measures import change_text, default_measures, score_text, week_label

    catalogue = default_measures()
    measure = series.measure
    # The command line is read by staff, never by the person: the practice's wording where there is one.
    title, explain = measure.wording(for_practice=True)
    table = Table(title=title.get(lang.value), caption=explain.get(lang.value))
    column = "col_rating" if measure.change.kind == "category" else "col_change"
    for key in ("col_week", "col_date", "col_value", column):
        table.add_column(_t(key, lang))
    styles = {"better": "green", "worse": "bold red"}
    for point in series.points:
        value = score_text(measure, point.score, lang.value)
        if point.subscales:
            parts = [
                f"{s.title.get(lang.value)}: {point.subscales[s.id]:g}" for s in measure.scoring.subscales
            ]
            value += f" ({'; '.join(parts)})"
        change = change_text(catalogue, point.change, lang.value, baseline=point.baseline)
        table.add_row(
            week_label(catalogue, point.week, lang.value),
            format_day(point.recorded_at.date(), lang.value),
            value,
            f"[{styles[point.change]}]{change}[/]" if point.change in styles else change,
        )
    return table


def measure_show(person: PersonOption, db: DbOption = None, lang: LangOption = Lang.de) -> None:
    """Show every questionnaire answered so far: each value, and better / same / worse against the first.

    Example: rueckenlotse measure show --person 3f2a…
    """
    from ..services.measures import series_for

    with user_errors(lang), open_store(db) as store:
        series = series_for(store, person)
        record_access(store, "read.measures", person)
    console = make_console()
    if not series:
        console.print(_t("no_values", lang))
    for one in series:
        console.print(series_table(one, lang))


def measure_fhir(
    person: PersonOption,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write to this file (private, 0600), not stdout.")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Export every questionnaire answered as a FHIR R4 Bundle (JSON): questionnaires, answers and scores
    (LOINC codes where the measure has them, e.g. PEG).

    Example: rueckenlotse measure fhir --person 3f2a… -o verlauf.fhir.json
    """
    from ..services.measures import measures_fhir
    from ..store.audit import SYSTEM_CLI

    with user_errors(lang), open_store(db) as store:
        bundle = measures_fhir(store, person, actor=SYSTEM_CLI, lang=lang.value)
    text = json.dumps(bundle, ensure_ascii=False, indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    from ..private_files import write_private

    try:
        write_private(output, text.encode("utf-8"))
    except OSError as e:
        fail(_t("write_failed", lang, path=output, why=e.strerror or type(e).__name__), [])


def register(app: typer.Typer) -> None:
    """Add the `measure` group (due, record, show, fhir) to the main application."""
    measure_app.command("due")(measure_due)
    measure_app.command("record")(measure_record)
    measure_app.command("show")(measure_show)
    measure_app.command("fhir")(measure_fhir)
    app.add_typer(measure_app, name="measure")


__all__ = ["register"]
