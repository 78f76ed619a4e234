"""Diary commands: diary add/import/show, and plot (the diary drawn over time).

Thin: each command opens the store and calls one use case of ``services.followup``. User errors exit
with code 2 and a field-level message on stderr (nothing written); output goes to stdout.
"""

from __future__ import annotations

import datetime as dt
import sys
from contextlib import ExitStack
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
    parse_moment,
    progress,
    record_access,
    user_errors,
)

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from ..plan.trends import Escalation, FollowUpReport
    from ..services.followup import EntryResult


REACH_BY_NUMBER = {"1": "back_only", "2": "buttock_thigh", "3": "below_knee"}

diary_app = command_group(
    "Schmerz- und Bewegungstagebuch (pain and activity diary).",
)


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"diary.{key}", lang.value, **values)


# ---- diary add ------------------------------------------------------------------------------------------


def _pairs(option: str, values: list[str] | None, lang: Lang) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for value in values or []:
        name, sep, raw = value.partition("=")
        if not sep or not name.strip() or not raw.strip():
            fail(_t("bad_pair", lang, option=option, value=value), [])
        pairs[name.strip()] = raw.strip()
    return pairs


def _int_pairs(option: str, values: list[str] | None, lang: Lang) -> dict[str, int]:
    out: dict[str, int] = {}
    for name, raw in _pairs(option, values, lang).items():
        try:
            out[name] = int(raw)
        except ValueError:
            fail(_t("bad_number", lang, option=option, value=raw), [])
    return out


def _entry_from_flags(
    *,
    pain: list[str] | None,
    reach: str | None,
    function: list[str] | None,
    activity: int,
    exercise: list[str] | None,
    note: str,
    warning: list[str] | None,
    at: str | None,
    lang: Lang,
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "recorded_at": parse_moment(at, lang) or dt.datetime.now().astimezone(),
        "pain": _int_pairs("--pain", pain, lang),
        "function": _int_pairs("--function", function, lang),
        "activity_minutes": activity,
        "exercises": [{"exercise_id": k, "felt": v} for k, v in _pairs("--exercise", exercise, lang).items()],
        "note": note,
        "warning_signs": list(dict.fromkeys(warning or [])),
    }
    if reach is not None:
        data["pain_reach"] = reach
    return data


def _ask(console: Console, prompt: str) -> str:
    return console.input(f"[bold]{prompt}[/bold]: ").strip()


def _ask_int(
    console: Console, prompt: str, low: int, high: int, lang: Lang, *, default: int | None = None
) -> int:
    while True:
        raw = _ask(console, prompt)
        if not raw and default is not None:
            return default
        if raw.isdigit() and low <= int(raw) <= high:
            return int(raw)
        console.print(_t("bad_answer", lang, detail=f"{low}–{high}"), style="red")


def _ask_signs(console: Console, lang: Lang) -> list[str]:
    from ..plan.followup_texts import render
    from ..plan.models import OFFERED_WARNING_SIGNS

    for number, sign in enumerate(OFFERED_WARNING_SIGNS, start=1):
        console.print(f"  {number:>2}  {render(f'sign.{sign}.label', lang.value)}")
    while True:
        words = _ask(console, _t("ask_signs", lang)).replace(",", " ").split()
        if not words or words == ["0"]:
            return []
        if all(w.isdigit() and 1 <= int(w) <= len(OFFERED_WARNING_SIGNS) for w in words):
            return [OFFERED_WARNING_SIGNS[int(w) - 1] for w in dict.fromkeys(words)]
        console.print(_t("bad_answer", lang, detail=f"1–{len(OFFERED_WARNING_SIGNS)}"), style="red")


def _entry_interactively(regions: list[str], lang: Lang) -> dict[str, Any]:
    """Ask for an entry in the terminal: pain per region, reach, activity, warning signs, a note."""
    from ..knowledge.loader import default_knowledge

    kb = default_knowledge()
    console = make_console()
    pain = {
        r: _ask_int(
            console, _t("ask_pain", lang, region=kb.text(f"region.{r}.label", lang.value)), 0, 10, lang
        )
        for r in regions
    }
    data: dict[str, Any] = {"recorded_at": dt.datetime.now().astimezone(), "pain": pain}
    if "low_back" in regions:
        while (raw := _ask(console, _t("ask_reach", lang))) not in ("", *REACH_BY_NUMBER):
            console.print(_t("bad_answer", lang, detail="1–3"), style="red")
        if raw:
            data["pain_reach"] = REACH_BY_NUMBER[raw]
    data["activity_minutes"] = _ask_int(console, _t("ask_activity", lang), 0, 1440, lang, default=0)
    data["warning_signs"] = _ask_signs(console, lang)
    data["note"] = _ask(console, _t("ask_note", lang))
    return data


def _show_entry_result(result: EntryResult, lang: Lang) -> None:
    from rich.panel import Panel
    from rich.text import Text

    from ..knowledge.loader import default_knowledge

    console = make_console()
    rescreen = result.rescreen
    body = Text("\n".join(r.get(lang.value) for r in rescreen.reasons))
    if rescreen.escalated:
        emergency = rescreen.assessment.triage.value == "emergency"
        style = "bold white on red" if emergency else "bold red"
        label = default_knowledge().text(f"triage.{rescreen.assessment.triage.value}.label", lang.value)
        title = Text(label, style=style)
        console.print(Panel(body, title=title, border_style="red"))
    else:
        console.print(body)
    for escalation in result.new_escalations:
        console.print(_escalation_panel(escalation, lang))
    sys.stderr.write(_t("entry_saved", lang, id=result.entry_id) + "\n")


def _escalation_panel(escalation: Escalation, lang: Lang) -> RenderableType:
    from rich.panel import Panel
    from rich.text import Text

    body = Text(f"{escalation.reason.get(lang.value)}\n{escalation.action.get(lang.value)}")
    heading = _t("escalation", lang, title=escalation.title.get(lang.value), week=escalation.due_week)
    return Panel(body, title=Text(heading, style="bold yellow"), border_style="yellow")


def diary_add(
    person: Annotated[str, typer.Argument(help="Person id.")],
    pain: Annotated[
        list[str] | None, typer.Option("--pain", help="Pain 0-10 per region, e.g. low_back=6.")
    ] = None,
    reach: Annotated[
        str | None,
        typer.Option("--reach", help="Where the pain reaches: back_only, buttock_thigh, below_knee."),
    ] = None,
    function: Annotated[
        list[str] | None,
        typer.Option(
            "--function", help="Difficulty 0-4: walking, sitting, sleeping, lifting, daily_tasks=N."
        ),
    ] = None,
    activity: Annotated[int, typer.Option("--activity", help="Minutes of activity.")] = 0,
    exercise: Annotated[
        list[str] | None, typer.Option("--exercise", help="Exercise done and how it felt: ID=good|ok|worse.")
    ] = None,
    note: Annotated[str, typer.Option("--note", help="A free note.")] = "",
    warning: Annotated[
        list[str] | None, typer.Option("--warning", help="A warning sign since the last entry, e.g. fever.")
    ] = None,
    at: Annotated[str | None, typer.Option("--at", help="When (ISO date-time; default: now).")] = None,
    examined: Annotated[
        bool,
        typer.Option(
            "--examined",
            help="Ein Arzt hat mich deswegen untersucht (a doctor has examined me for the warning signs).",
        ),
    ] = False,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Add a diary entry (asks in the terminal when no --pain is given); every entry is re-screened.

    Example: rueckenlotse diary add 3f2a… --pain low_back=5 --activity 30 --reach buttock_thigh
    """
    from ..services.followup import add_entry, intake_of

    with user_errors(lang), open_store(db) as store:
        if pain:
            data = _entry_from_flags(
                pain=pain, reach=reach, function=function, activity=activity, exercise=exercise,
                note=note, warning=warning, at=at, lang=lang,
            )  # fmt: skip
        elif sys.stdin.isatty():
            data = _entry_interactively(list(intake_of(store, person).case.regions), lang)
        else:
            fail(_t("no_pain", lang), [])
        if examined:
            data["examined_by_doctor"] = True
        result = add_entry(store, person, data, lang=lang.value)
    _show_entry_result(result, lang)


def diary_import(
    person: Annotated[str, typer.Argument(help="Person id.")],
    file: Annotated[Path, typer.Argument(help="Diary entries as JSON Lines, one entry per line.")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Import many diary entries (JSON Lines); all lines are checked before anything is written.

    Example: rueckenlotse diary import 3f2a… tagebuch.jsonl
    """
    from ..core.errors import InvalidInput
    from ..input_limits import jsonl_lines, read_text_file
    from ..knowledge.loader import default_knowledge
    from ..plan.models import DiaryEntry
    from ..services.followup import add_entry
    from ..validation import parse_model_json

    kb = default_knowledge()
    entries: list[DiaryEntry] = []
    problems: list[str] = []
    with user_errors(lang):
        lines = jsonl_lines(read_text_file(file), file)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            entries.append(parse_model_json(DiaryEntry, line, kb, lang.value))
        except InvalidInput as e:
            problems += [f"{_t('bad_line', lang, line=number)}: {err}" for err in e.errors]
    if problems:
        fail(kb.text("ui.invalid_input", lang.value), problems)
    results: list[EntryResult] = []
    with user_errors(lang), open_store(db) as store, progress(_t("import_progress", lang)) as update:
        # One unit of work: a stopped or failed import leaves none of its entries, so importing the file
        # again neither misses nor duplicates any.
        with store.atomic():
            for done, entry in enumerate(sorted(entries, key=lambda e: e.recorded_at), start=1):
                results.append(add_entry(store, person, entry, lang=lang.value))
                update(done, len(entries))
    for result in results:
        if result.rescreen.escalated or result.new_escalations:
            _show_entry_result(result, lang)
    sys.stderr.write(_t("imported", lang, count=len(entries)) + "\n")


def _diary_table(report: FollowUpReport, lang: Lang) -> RenderableType:
    from rich.table import Table

    from ..i18n.formatting import format_day
    from ..plan.followup_texts import fmt_number, render

    table = Table(title=_t("diary_heading", lang))
    for key in ("col_day", "col_pain", "col_activity", "col_reach", "col_signs"):
        table.add_column(_t(key, lang))
    for day in report.days:
        reach = render(f"reach.{day.pain_reach}.label", lang.value) if day.pain_reach else "–"
        signs = ", ".join(render(f"sign.{s}.label", lang.value) for s in day.warning_signs) or "–"
        table.add_row(
            format_day(day.day, lang.value),
            fmt_number(day.max_pain, lang.value),
            str(day.activity_minutes),
            reach,
            signs,
        )
    return table


def diary_show(
    person: Annotated[str, typer.Argument(help="Person id.")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Show the diary day by day with the 4-, 6- and 12-week checks and where the pain reaches.

    Example: rueckenlotse diary show 3f2a…
    """
    from rich.text import Text

    from ..plan.followup_texts import fmt_number
    from ..services.followup import report_for

    with user_errors(lang), open_store(db) as store:
        report = report_for(store, person)
        record_access(store, "read.diary", person)
    console = make_console()
    if report.red_flag_text is not None:
        # The standing red flag first: nothing reassuring comes before it.
        console.print(Text(report.red_flag_text.get(lang.value), style="bold red"))
        console.print(Text(_t("examined_hint", lang, person=person)))
    console.print(_diary_table(report, lang))
    if report.too_few is not None:
        console.print(Text(report.too_few.get(lang.value), style="yellow"))
    if report.baseline is not None:
        console.print(_t("baseline", lang, value=fmt_number(report.baseline, lang.value)))
    if report.centralisation is not None:
        style = "green" if report.centralisation.good_sign else "yellow"
        console.print(Text(report.centralisation.text.get(lang.value), style=style))
    if report.function is not None:
        console.print(report.function.text.get(lang.value))
    for escalation in report.escalations:
        line = _t(
            "escalation_line", lang, week=escalation.due_week, due=escalation.due_date, on=escalation.on
        )
        console.print(Text(line, style="bold"))
        console.print(_escalation_panel(escalation, lang))
    if not report.escalations:
        console.print(_t("no_escalation", lang))


# ---- plot ------------------------------------------------------------------------------------------------


def plot(
    person: Annotated[str, typer.Argument(help="Person id.")],
    output: Annotated[Path | None, typer.Option("-o", "--output", help="SVG file to write.")] = None,
    png: Annotated[Path | None, typer.Option("--png", help="PNG file to write.")] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Draw pain per region and activity over time, with milestones and escalations (SVG and/or PNG).

    Example: rueckenlotse plot 3f2a… -o verlauf.svg --png verlauf.png
    """
    from ..private_files import private_output
    from ..services.followup import plot_for, report_for

    if output is None and png is None:
        fail(_t("plot_needs_file", lang), [])
    with user_errors(lang), open_store(db) as store:
        if not report_for(store, person).days:
            fail(_t("plot_empty", lang), [])
        # Health data: each file private (0600), whole, never written through a link (private_files).
        with ExitStack() as files:
            svg_file = files.enter_context(private_output(output)) if output is not None else None
            png_file = files.enter_context(private_output(png)) if png is not None else None
            plot_for(store, person, svg_path=svg_file, png_path=png_file, lang=lang.value)
        record_access(store, "read.chart", person)
    for path in (output, png):
        if path is not None:
            sys.stderr.write(_t("plot_written", lang, path=path) + "\n")


def register(app: typer.Typer) -> None:
    """Add the `diary` group (add, import, show) and `plot` to the main application."""
    diary_app.command("add")(diary_add)
    diary_app.command("import")(diary_import)
    diary_app.command("show")(diary_show)
    app.add_typer(diary_app, name="diary")
    app.command("plot")(plot)


__all__ = ["register"]
