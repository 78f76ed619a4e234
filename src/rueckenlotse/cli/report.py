"""The report command: a patient summary or a clinician intake report as HTML or PDF.

From a Case file, or (``--person``) from a stored person's latest assessment and diary. Thin: the work is in
``rueckenlotse.reports.documents``, which is imported inside the command (WeasyPrint and matplotlib are slow
to load). User errors exit with code 2 and a message on stderr; the output file is written atomically.
"""

from __future__ import annotations

import datetime as dt
import sys
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from .common import DbOption, Lang, LangOption, cli_text, fail, open_store, record_access, user_errors

if TYPE_CHECKING:
    from ..core.models import Assessment, Case
    from ..plan.plan_model import Plan
    from ..reports.documents import ReportDiary


class ReportKind(StrEnum):
    patient = "patient"
    clinician = "clinician"


class ReportFormat(StrEnum):
    html = "html"
    pdf = "pdf"


def _t(key: str, lang: Lang, **values: object) -> str:
    return cli_text(f"report.{key}", lang.value, **values)


def _from_case_file(case_file: Path, lang: Lang) -> tuple[Case, Assessment]:
    from ..core.engine import evaluate
    from ..input_limits import read_text_file
    from ..knowledge.loader import default_knowledge
    from ..validation import parse_case_json

    kb = default_knowledge()
    case = parse_case_json(read_text_file(case_file), kb, lang.value)
    return case, evaluate(kb, case, lang.value)


def _from_store(
    person: str, db: str | None, kind: ReportKind, lang: Lang, fmt: ReportFormat
) -> tuple[Case, Assessment, str | None, ReportDiary | None, Plan | None]:
    from ..core.engine import evaluate
    from ..knowledge.loader import default_knowledge
    from ..reports.documents.diary import CHART_FOR
    from ..services.followup import NoIntake, current_plan, latest_of
    from ..services.report_diary import diary_from_store

    kb = default_knowledge()
    with open_store(db) as store:
        display_name = store.get_person(person).display_name  # an unknown id: "not found", not "no intake"
        record = latest_of(store, person)
        record_access(store, "read.report", person)
        assessment = record.assessment
        # Same knowledge, same result: evaluate again only to have the texts in the language asked for.
        if record.knowledge_version == kb.version:
            assessment = evaluate(kb, record.case, lang.value)
        if kind is ReportKind.clinician:
            # pseudonymous on purpose: the practice sees the id, never the name kept on this device
            chart = CHART_FOR[fmt.value]
            return (
                record.case,
                assessment,
                person,
                diary_from_store(store, person, lang=lang.value, chart=chart),
                None,
            )
        try:  # the summary shows the plan as `plan` and the plan page show it (exclusions, review date)
            plan = current_plan(store, person, lang=lang.value)
        except NoIntake:
            plan = None
        return record.case, assessment, display_name, None, plan


def report(
    output: Annotated[Path, typer.Option("-o", "--output", help="The file to write.", show_default=False)],
    case_file: Annotated[
        Path | None, typer.Argument(help="A Case as .json (leave out with --person).", show_default=False)
    ] = None,
    kind: Annotated[
        ReportKind, typer.Option("--kind", help="patient (summary) or clinician (intake report).")
    ] = ReportKind.patient,
    output_format: Annotated[
        ReportFormat | None, typer.Option("--format", help="html or pdf (default: from the file name).")
    ] = None,
    person: Annotated[
        str | None, typer.Option("--person", help="A stored person's id: latest assessment and diary.")
    ] = None,
    db: DbOption = None,
    lang: LangOption = Lang.de,
) -> None:
    """Write a patient summary or a clinician intake report as HTML or PDF.

    Example: rueckenlotse report fall.json --kind clinician --format pdf -o bericht.pdf
    """
    if (case_file is None) == (person is None):
        fail(_t("error", lang), [_t("one_source", lang)])
    if db is not None and person is None:
        fail(_t("error", lang), [_t("db_needs_person", lang)])
    fmt = output_format or (ReportFormat.pdf if output.suffix.lower() == ".pdf" else ReportFormat.html)
    from ..private_files import write_private
    from ..reports.documents import render_report

    label: str | None = None
    diary: ReportDiary | None = None
    plan: Plan | None = None
    with user_errors(lang):
        if case_file is not None:
            case, assessment = _from_case_file(case_file, lang)
        else:
            assert person is not None
            case, assessment, label, diary, plan = _from_store(person, db, kind, lang, fmt)
        data = render_report(
            kind.value,
            case,
            assessment,
            lang=lang.value,
            fmt=fmt.value,
            person_label=label,
            diary=diary,
            generated_at=dt.datetime.now(dt.UTC),
            plan=plan,
        )
        # Private (0600), whole, never through a link: readers see the old file or the new one.
        write_private(output, data)
    sys.stderr.write(_t("written", lang, path=output) + "\n")


def register(app: typer.Typer) -> None:
    app.command("report")(report)


__all__ = ["register"]
