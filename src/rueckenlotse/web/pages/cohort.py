"""The practice's results (/praxis/ergebnisse): over the courses shared with the practice, how many improved
by the minimal important change at weeks 4 and 12, how many escalated, how many stopped keeping the diary,
as a table and a chart, and the table as CSV (/praxis/ergebnisse.csv).

For a clinician past the second factor, who may read the practice's intakes (``can_read_intake``); one
section per practice of the clinician. Only counts are shown, small ones suppressed (``services.cohort``):
no name, id or date of a person. Each view and each download is audited with the practice.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from ...core.cohort import PARTS
from ...reports.cohort_svg import ChartBar, ChartText, Segment, cohort_svg
from ...services import cohort, data_rights
from ...services.auth import Principal, can_read_intake
from ...services.cohort import CohortTable, TableRow
from ...store.account_records import PracticeRecord
from ..deps import NotAllowed, signed_in_clinician, store_of
from ..i18n import WebTexts, request_lang
from ..render import PageError, render, web_of
from ..security.session import practices_of

router = APIRouter(include_in_schema=False)

PAGE = "/praxis/ergebnisse"
MAX_ID = 64


@dataclass(frozen=True)
class Section:
    practice: PracticeRecord
    table: CohortTable
    chart: Markup | None  # the SVG, drawn here (reports.cohort_svg); none without courses


def _practice_ids(principal: Principal) -> list[str]:
    return [p for p in sorted(principal.practice_ids) if can_read_intake(principal, p)]


@router.get(PAGE)
def practice_results(request: Request) -> Response:
    """The results of every practice of the clinician (a plain ``def``: run in the thread pool)."""
    try:
        principal = signed_in_clinician(request)
    except NotAllowed as e:
        return e.response
    lang = request_lang(request)
    texts = web_of(request).texts
    actor = data_rights.actor_of(principal, "web")
    practices = practices_of(request)
    sections = []
    for index, practice_id in enumerate(_practice_ids(principal)):
        table = cohort.practice_results(store_of(request), actor, practice_id, lang=lang)
        chart = Markup(_chart(table, texts, lang, f"cohort-{index}")) if table.courses else None
        sections.append(Section(practices.practice(practice_id), table, chart))
    sections.sort(key=lambda s: (s.practice.name, s.practice.id))
    spec = cohort.cohort_spec()
    columns = {
        name: spec.text(f"column.{name}", lang) for name in ("item", "week", *PARTS, "n", "count", "of")
    }
    return render(request, "practice_results.html", {"sections": sections, "columns": columns}, lang=lang)


@router.get(PAGE + ".csv")
async def practice_results_csv(request: Request) -> Response:
    """The table of one practice (``?praxis=<id>``; the first of the clinician's without it) as CSV."""
    try:
        principal = await run_in_threadpool(signed_in_clinician, request)
    except NotAllowed as e:
        return e.response
    allowed = _practice_ids(principal)
    wanted = request.query_params.get("praxis") or (allowed[0] if allowed else "")
    if not wanted or len(wanted) > MAX_ID or wanted not in allowed:
        raise PageError(404, "404")  # another practice's, like one that does not exist
    lang = request_lang(request)
    actor = data_rights.actor_of(principal, "web")

    def made() -> tuple[str, CohortTable]:
        table = cohort.practice_results(
            store_of(request), actor, wanted, lang=lang, action="export.cohort_csv"
        )
        return cohort.csv_text(table, lang), table

    text, table = await run_in_threadpool(made)
    name = f"ergebnisse-{table.as_of.isoformat()}.csv"
    headers = {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}
    return Response(text, media_type="text/csv; charset=utf-8", headers=headers)


def _bar(row: TableRow, texts: WebTexts, lang: str) -> ChartBar:
    shown = row.shown
    keep = "\u00a0"  # a no-break space: "Woche 4" and "(n = 44)" stay on one line of the chart
    label = f"{row.label}, {row.week_label.replace(' ', keep)}" if row.week_label else row.label
    n = shown.cell("n")
    if n == "small":
        return ChartBar(
            label, None, (), texts.get("cohort.chart.too_few", lang, small=row.cells["n"] or row.cells["of"])
        )
    if not isinstance(n, int) or n == 0:
        return ChartBar(label, 0, (), texts.get("cohort.chart.none", lang))
    if "count" in shown.cells:
        count = shown.cell("count")
        if isinstance(count, int):
            segments = (Segment("event", count, str(count)), Segment("rest", n - count, str(n - count)))
        else:
            segments = (Segment("event", None, ""), Segment("rest", None, ""))
        return ChartBar(f"{label}: {row.cells['count']} / {row.cells['of']}", n, segments)
    parts = []
    for kind in PARTS:
        cell = shown.cell(kind)
        parts.append(Segment(kind, cell if isinstance(cell, int) else None, row.cells[kind]))
    return ChartBar(f"{label}{keep}(n{keep}={keep}{row.cells['n']})", n, parts)


def _chart(table: CohortTable, texts: WebTexts, lang: str, prefix: str) -> str:
    spec = cohort.cohort_spec()
    legend = [(kind, spec.text(f"column.{kind}", lang)) for kind in PARTS]
    legend += [(kind, texts.get(f"cohort.chart.{kind}", lang)) for kind in ("event", "rest", "hidden")]
    text = ChartText(
        title=texts.get("cohort.chart.title", lang),
        description=texts.get("cohort.chart.description", lang),
        legend=legend,
    )
    return cohort_svg([_bar(row, texts, lang) for row in table.rows if row.item != "courses"], text, prefix)
