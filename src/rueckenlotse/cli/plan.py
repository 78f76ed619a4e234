"""CLI commands of the self-management plan: `ask QUESTION`, `plan preview CASE.json`, and a stored
person's plan: `plan show`, `plan exclude`, `plan include`, and today's exercises: `plan session`.

``register(app)`` adds them to the main Typer app. Heavy imports (BM25, the library, the store) happen
inside the commands, so `rueckenlotse --help` stays light.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

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
    parse_day,
    record_access,
    user_errors,
)

if TYPE_CHECKING:
    from ..services.sessions import TodaySession

plan_app = command_group(
    "Selbsthilfe-Plan: Bewegung, Übungen, Wissen (self-management plan).",
    name="plan",
)


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"plan.{key}", lang.value, **values)


def _fail(lines: list[str]) -> NoReturn:
    """The lines as they are on stderr (the library's texts bring their own heading), exit code 2."""
    fail("\n".join(lines), [])


def ask_command(
    question: Annotated[str, typer.Argument(help='Ihre Frage, z. B. "Brauche ich ein MRT?"')],
    lang: Annotated[Lang, typer.Option("--lang", help="Sprache / language: de or en.")] = Lang.de,
    k: Annotated[int, typer.Option("-k", "--k", help="Wie viele Antworten (1-20).")] = 3,
) -> None:
    """Eine Frage an das Wissen stellen (search the education modules).

    Example: rueckenlotse ask "Brauche ich ein MRT?"
    """
    from rich.console import Console

    from ..plan.ask import MAX_K, AskHit, ask_screened
    from ..plan.library import default_library
    from ..reports.ask_screen_text import render_screen
    from ..reports.plan_text import render_answers
    from ..web.reading import reading_link

    library = default_library()
    if not question.strip():
        _fail([library.text("ask.blank", lang.value)])
    if not 1 <= k <= MAX_K:
        _fail([library.text("ask.bad_k", lang.value)])
    # Warning signs first (contract 2, invariant 9): no passage is printed before the seek-care text.
    found, hits = ask_screened(question, lang=lang.value, k=k)
    console = Console()
    console.print(render_screen(found, lang.value))
    # Each answer names its module's reading page: absolute with RUECKENLOTSE_PUBLIC_URL, else the path.
    # Read from the environment as Settings reads it: Settings needs the "store" extra, `ask` does not.
    public_url = os.environ.get("RUECKENLOTSE_PUBLIC_URL")

    def read_more(hit: AskHit) -> str:
        link = reading_link(hit.module_id, lang.value, public_url)
        return cli_text("plan.read_more", lang.value, link=link)

    console.print(render_answers(hits, lang.value, question=question.strip(), read_more=read_more))


def preview_command(
    file: Annotated[Path, typer.Argument(help="Ein Fall als .json (a Case file).")],
    lang: Annotated[Lang, typer.Option("--lang", help="Sprache / language: de or en.")] = Lang.de,
    exclude: Annotated[
        list[str] | None,
        typer.Option("--exclude", "-x", help="Übung ausschließen (exercise id); mehrfach möglich."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--start", help="Beginn des Plans, YYYY-MM-DD (default: today).")
    ] = None,
) -> None:
    """Den Plan für einen Fall zeigen, ohne zu speichern (preview a plan from a Case file).

    Example: rueckenlotse plan preview fall.json --exclude bridge
    """
    from rich.console import Console

    from .. import assess
    from ..core.errors import InvalidCase
    from ..input_limits import InputRejected, read_text_file
    from ..knowledge.loader import default_knowledge
    from ..plan.builder import build_plan
    from ..plan.library import default_library
    from ..reports.plan_text import render_plan
    from ..validation import parse_case_json

    kb = default_knowledge()
    library = default_library()
    try:
        begin = dt.date.fromisoformat(start) if start is not None else dt.date.today()
    except ValueError:
        _fail([library.text("preview.bad_date", lang.value, value=start)])
    exclusions = list(dict.fromkeys(exclude or []))
    known = ", ".join(library.exercises)
    unknown = [x for x in exclusions if x not in library.exercises]
    if unknown:
        _fail([library.text("preview.unknown_exercise", lang.value, id=x, known=known) for x in unknown])
    heading = kb.text("ui.invalid_input", lang.value)
    try:
        text = read_text_file(file)
    except InputRejected as e:
        _fail([heading, f"  {e.message(lang.value)}"])
    except OSError as e:
        _fail([heading, f"  {file}: {e.strerror or e}"])
    try:
        case = parse_case_json(text, kb, lang.value)
    except InvalidCase as e:
        _fail([heading, *(f"  {err}" for err in e.errors)])
    assessment = assess(case, lang=lang.value)
    plan = build_plan(case, assessment, start=begin, exclusions=exclusions, lang=lang.value)
    Console().print(render_plan(plan, lang.value))


# ---- a stored person's plan ------------------------------------------------------------------------------


def plan_show(
    person: Annotated[str, typer.Argument(help="Person id.")],
    today: Annotated[
        str | None, typer.Option("--today", help="Show the plan as of this day (YYYY-MM-DD).")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Show the person's self-management plan as it stands today (progression from the diary).

    Example: rueckenlotse plan show 3f2a…
    """
    from ..reports.plan_text import render_plan
    from ..services.followup import current_plan

    day = parse_day(today, lang)
    with user_errors(lang), open_store(db) as store:
        plan = current_plan(store, person, today=day, lang=lang.value)
        record_access(store, "read.plan", person)
    make_console().print(render_plan(plan, lang.value))


def _known_exercise(exercise_id: str, lang: Lang) -> None:
    from ..plan.library import default_library

    if exercise_id not in default_library().exercises:
        fail(_t("unknown_exercise", lang, id=exercise_id), [])


def plan_exclude(
    person: Annotated[str, typer.Argument(help="Person id.")],
    exercise_id: Annotated[str, typer.Argument(help="The exercise you cannot do.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (optional).")] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Exclude an exercise; the plan then offers an alternative.

    Example: rueckenlotse plan exclude 3f2a… bridge --reason "Knie"
    """
    from ..reports.plan_text import render_plan
    from ..services.followup import current_plan

    _known_exercise(exercise_id, lang)
    with user_errors(lang), open_store(db) as store:
        store.add_exclusion(person, exercise_id, reason)
        plan = current_plan(store, person, lang=lang.value)
    sys.stderr.write(_t("excluded", lang, id=exercise_id) + "\n")
    make_console().print(render_plan(plan, lang.value))


def plan_include(
    person: Annotated[str, typer.Argument(help="Person id.")],
    exercise_id: Annotated[str, typer.Argument(help="The exercise to bring back.")],
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Bring an excluded exercise back into the plan.

    Example: rueckenlotse plan include 3f2a… bridge
    """
    with user_errors(lang), open_store(db) as store:
        removed = store.remove_exclusion(person, exercise_id)
    sys.stderr.write(_t("included" if removed else "not_excluded", lang, id=exercise_id) + "\n")


# German aliases of the ratings (the web form's words, without spaces).
RATING_ALIASES = {
    "zu_leicht": "too_easy",
    "passt": "fits",
    "zu_schwer": "too_hard",
    "schmerz_danach": "pain_after",
    "naechste_stufe": "take_next",
}


def _rating_word(rating: str, lang: Lang) -> str:
    """A rating as the person typed it: the German alias in German, the id in English."""
    if lang is Lang.de:
        return next((alias for alias, value in RATING_ALIASES.items() if value == rating), rating)
    return rating


def _parse_ratings(values: list[str], lang: Lang) -> list[tuple[str, str]]:
    from ..plan.models import EXERCISE_RATINGS

    parsed: list[tuple[str, str]] = []
    for value in values:
        exercise_id, sep, rating = value.partition("=")
        rating = RATING_ALIASES.get(rating.strip().lower(), rating.strip().lower())
        if not sep or not exercise_id.strip() or rating not in EXERCISE_RATINGS:
            fail(_t("session_bad_rating", lang, value=value), [])
        parsed.append((exercise_id.strip(), rating))
    return parsed


def plan_session(
    person: Annotated[str, typer.Option("--person", help="Person id.")],
    done: Annotated[
        list[str] | None,
        typer.Option("--done", help="Übung erledigt (exercise id); mehrfach möglich."),
    ] = None,
    rating: Annotated[
        list[str] | None,
        typer.Option(
            "--rating",
            help="Wie war die Übung: ÜBUNG=zu_leicht|passt|zu_schwer|schmerz_danach (or too_easy, fits, "
            "too_hard, pain_after, take_next); mehrfach möglich.",
        ),
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Today's exercises with their dose; record them done (--done) and how they went (--rating).

    Example: rueckenlotse plan session --person 3f2a… --done pelvic_tilt --rating pelvic_tilt=zu_schwer
    """
    from ..services.sessions import record_feedback, today_session

    ratings = _parse_ratings(rating or [], lang)
    done_ids = list(dict.fromkeys(done or []))
    for exercise_id in [*done_ids, *(e for e, _ in ratings)]:
        _known_exercise(exercise_id, lang)
    rated = dict(ratings)
    with user_errors(lang), open_store(db) as store:
        # One row per exercise: done and its rating together, as the web form sends them.
        for exercise_id in dict.fromkeys([*done_ids, *rated]):
            record_feedback(
                store, person, exercise_id, done=exercise_id in done_ids, rating=rated.get(exercise_id)
            )
            what = ", ".join(
                [
                    *([_t("session_done", lang)] if exercise_id in done_ids else []),
                    _rating_word(rated.get(exercise_id, ""), lang),
                ]
            ).strip(", ")
            sys.stderr.write(_t("session_saved", lang, id=exercise_id, what=what) + "\n")
        session = today_session(store, person, lang=lang.value)
        record_access(store, "read.plan", person)
    _print_session(session, person, lang)


def _print_session(session: TodaySession, person: str, lang: Lang) -> None:
    from ..plan.library import default_library

    plan, lib = session.plan, default_library()
    out = make_console()
    if plan.red_flag or not plan.exercises:
        out.print(_t("session_none", lang, person=person))
        return
    out.print(
        _t(
            "session_title",
            lang,
            date=session.today.isoformat(),
            week=plan.current_week,
            level=plan.current_level,
        )
    )
    for item in plan.exercises:
        dose = (
            lib.text("plan.dose.repetitions", lang.value, count=item.repetitions)
            if item.repetitions is not None
            else lib.text("plan.dose.minutes", lang.value, count=item.minutes)
        )
        out.print(f"  {item.id}: {item.title} – {dose}", markup=False, highlight=False)
        status = [_t("session_done", lang)] if session.done.get(item.id) else []
        if item.id in session.ratings:
            status.append(_rating_word(session.ratings[item.id], lang))
        if status:
            out.print(_t("session_today", lang, status=", ".join(status)), markup=False, highlight=False)
        if item.adjusted is not None:
            note = _t(f"session_adjusted.{item.adjusted}", lang)
            out.print(_t("session_note", lang, note=note), markup=False, highlight=False)
        if item.next_level is not None:
            out.print(
                _t("session_offer", lang, id=item.next_level, exercise=item.id), markup=False, highlight=False
            )
    if session.next_week:
        out.print(_t("session_next_week", lang))
        for item in session.next_week:
            extra = f" ({_t(f'session_adjusted.{item.adjusted}', lang)})" if item.adjusted else ""
            out.print(f"  {item.id}: {item.title}{extra}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add `ask` and the `plan` group (preview, show, exclude, include, session) to the main app."""
    app.command("ask")(ask_command)
    plan_app.command("preview")(preview_command)
    plan_app.command("show")(plan_show)
    plan_app.command("exclude")(plan_exclude)
    plan_app.command("include")(plan_include)
    plan_app.command("session")(plan_session)
    app.add_typer(plan_app, name="plan")
