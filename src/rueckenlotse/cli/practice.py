"""Practice commands: practice new, practice clinician, practice token, practice purge.

Thin: each command opens the store and calls one method of ``Practices`` / ``Accounts``. Passwords are
read with getpass (twice) or from stdin, never from the command line (it would end up in the shell's
history and the process list). Errors exit with code 2 and a message on stderr.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated, Any

import typer

from .common import DbOption, Lang, LangOption, cli_text, command_group, fail, open_store, user_errors

practice_app = command_group(
    "Practices: create one, add clinicians, make API tokens, purge old intakes, shared courses.",
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


PersonOption = Annotated[str, typer.Option("--person", help="The person's id.")]
PracticeOption = Annotated[str, typer.Option("--practice", help="The practice's id.")]


def practice_share(
    person: PersonOption, practice: PracticeOption, db: DbOption = None, lang: LangOption = Lang.de
) -> None:
    """Share a person's course (diary, measures, plan, escalations) with a practice they sent an intake to,
    as the person asked (recorded in the audit trail as done on the command line).

    Example: rueckenlotse practice share --person 3f2a… --practice 9c1d…
    """
    from ..services import sharing
    from ..store.audit import SYSTEM_CLI
    from ..store.practices import Practices

    with user_errors(lang), open_store(db) as store:
        name = Practices(store).practice(practice).name
        store.get_person(person)
        record = sharing.grant(store, SYSTEM_CLI, person, practice)
    since = record.granted_at.date().isoformat()
    sys.stdout.write(_t("shared", lang, person=person, practice=name, since=since) + "\n")


def practice_unshare(
    person: PersonOption, practice: PracticeOption, db: DbOption = None, lang: LangOption = Lang.de
) -> None:
    """Stop sharing a person's course with a practice, at once (its changes to the plan no longer apply).

    Example: rueckenlotse practice unshare --person 3f2a… --practice 9c1d…
    """
    from ..services import sharing
    from ..store.audit import SYSTEM_CLI
    from ..store.practices import Practices

    with user_errors(lang), open_store(db) as store:
        name = Practices(store).practice(practice).name
        store.get_person(person)
        changed = sharing.revoke(store, SYSTEM_CLI, person, practice)
    key = "unshared" if changed else "not_shared_before"
    sys.stdout.write(_t(key, lang, person=person, practice=name) + "\n")


def practice_course(
    practice: PracticeOption, person: PersonOption, db: DbOption = None, lang: LangOption = Lang.de
) -> None:
    """Show the course a person shares with the practice: weekly diary values, warning signs and
    escalations, the plan as it stands and the practice's adjustments (recorded as read.course).

    Example: rueckenlotse practice course --practice 9c1d… --person 3f2a…
    """
    from ..reports.plan_text import render_plan
    from ..services import sharing
    from ..store.audit import SYSTEM_CLI
    from ..store.practices import Practices
    from .common import make_console
    from .measure import series_table

    with user_errors(lang), open_store(db) as store:
        name = Practices(store).practice(practice).name
        store.get_person(person)
        course = sharing.read_course(store, SYSTEM_CLI, practice, person, lang=lang.value)
    console = make_console()
    for line in course_lines(course, name, lang):
        console.print(line, highlight=False, markup=False)
    # Each outcome measure as `measure show` prints it: every value, better / same / worse vs the first.
    for series in course.measures:
        console.print(series_table(series, lang))
    if course.plan is not None:
        console.print(render_plan(course.plan, lang.value))


def course_lines(course: Any, practice_name: str, lang: Lang) -> list[str]:
    """The course as plain lines (the plan follows, rendered as `plan show` does)."""
    from ..i18n.formatting import decimal, format_day
    from ..knowledge.loader import default_knowledge
    from ..plan.followup_texts import render as followup_text
    from ..plan.library import default_library

    code = lang.value
    kb = default_knowledge()

    def day(value: Any) -> str:
        return format_day(value, code)

    def number(value: float | None) -> str:
        return "–" if value is None else decimal(f"{value:.1f}", code)

    shared = course.course
    person = shared.display_name or shared.reference or shared.person_id[:8]
    lines = [_t("course.title", lang, person=person, practice=practice_name)]
    lines.append(_t("course.since", lang, date=day(shared.granted_at.date())))
    if course.latest_triage:
        lines.append(_t("course.triage", lang, triage=kb.text(f"triage.{course.latest_triage}.title", code)))
    lines.append("")
    lines.append(_t("course.weeks", lang))
    report = course.report
    if report is None or not report.days:
        lines.append(_t("course.no_diary", lang))
    else:
        header = [_t(f"course.col.{c}", lang) for c in ("week", "days", "pain", "function")]
        lines.append(" | ".join(header))
        for w in report.weeks:
            lines.append(" | ".join([day(w.start), str(w.days), number(w.mean_pain), number(w.function)]))
    lines.append("")
    lines.append(_t("course.signs", lang))
    signs: list[tuple[Any, str]] = []
    if report is not None:
        for d in report.days:
            if d.warning_signs:
                labels = ", ".join(followup_text(f"sign.{s}.label", code) for s in d.warning_signs)
                signs.append((d.day, _t("course.sign_day", lang, date=day(d.day), signs=labels)))
        for e in report.escalations:
            signs.append((e.on, _t("course.escalation", lang, date=day(e.on), title=e.title.get(code))))
    for r in course.rescreens:
        conditions = ", ".join(kb.render(f"condition.{c}.label", code) for c in r.conditions)
        triage = kb.text(f"triage.{r.triage}.title", code)
        text = _t("course.rescreen", lang, date=day(r.at.date()), triage=triage, conditions=conditions)
        signs.append((r.at.date(), text.rstrip()))
    signs.sort(key=lambda item: item[0])
    lines += [f"• {text}" for _, text in signs] or [_t("course.no_signs", lang)]
    lines.append("")
    lines.append(_t("course.changes", lang))
    if not course.adjustments:
        lines.append(_t("course.no_changes", lang))
    library = default_library()
    for a in course.adjustments:
        what = ""
        if a.exercise_id:
            exercise = library.exercises.get(a.exercise_id)
            what = exercise.title.get(code) if exercise is not None else a.exercise_id
        elif a.level is not None:
            what = str(a.level)
        state = (
            _t("course.undone", lang, date=day(a.undone_at.date()))
            if a.undone_at is not None
            else _t("course.active", lang)
        )
        lines.append(
            _t(
                "course.change",
                lang,
                date=day(a.created_at.date()),
                kind=_t(f"course.kind.{a.kind}", lang),
                what=what,
                state=state,
            )
        )
        if a.note:
            lines.append(_t("course.note", lang, note=a.note))
    lines.append("")
    return lines


def register(app: typer.Typer) -> None:
    practice_app.command("new")(practice_new)
    practice_app.command("clinician")(practice_clinician)
    practice_app.command("token")(practice_token)
    practice_app.command("purge")(practice_purge)
    practice_app.command("share")(practice_share)
    practice_app.command("unshare")(practice_unshare)
    practice_app.command("course")(practice_course)
    app.add_typer(practice_app, name="practice")
