"""Benchmark (e): PDF report rendering against WeasyPrint's plain-text floor of the same page count.

Run from the repository: ``.venv/bin/python benchmarks/report_render.py [--runs N] [--check]``.
Prints a Markdown table with the date and the machine.

Inputs: a full case (the public vignette with sciatica and MRI findings, ``$SHARED_DIR/cases/v2``,
default ``../shared``) kept for a person in a temporary SQLite store with its plan and five weeks of diary
(notes, an escalation at the week-4 check, the chart): the patient summary and the clinician report with
diary, each made by ``render_report(..., fmt="pdf")`` as the web downloads make them. The reference is a
plain document of the same page count rendered by WeasyPrint in the same process, as WeasyPrint renders
by default (``HTML(string=...).write_pdf()``): paragraphs of text with the report's font, size, line height,
page margins and footer, filled until its last page is about half full. Each document is rendered once to
warm up, then ``--runs`` times, interleaved with its reference, each after a full garbage collection (so
that one rendering does not pay for collecting the garbage of the one before). The ratio compares the
best (fastest) run of each, as timeit does; the medians are shown beside it. Target (issue #13): every
report within 1.5x its reference (``--check`` exits 1 when one is not). The chart is drawn by matplotlib
before the rendering (``diary_from_store``); its time is given per format below the table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from assess_latency import machine_lines, shared_dir  # noqa: E402

TARGET = 1.5
AT = dt.datetime(2026, 4, 10, 8, 0, tzinfo=dt.UTC)
INTAKE_AT = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
VIGNETTE = "p45-sciatica-protrusion"
NOTES = (
    "Gut geschlafen, morgens steif",
    "Nach dem Spaziergang weniger Schmerz im Bein",
    "Langes Sitzen im Büro war schwer",
    "Übungen gemacht, danach etwas besser",
)

# A plain German text for the reference: ordinary words of ordinary length, no markup.
SENTENCES = (
    "Rückenschmerzen sind häufig und gehen meistens innerhalb weniger Wochen von selbst zurück.",
    "Bewegung im Alltag hilft dabei mehr als Schonung, auch wenn die ersten Schritte schwerfallen.",
    "Wer sich Sorgen macht, bespricht die Beschwerden mit der Hausärztin oder dem Hausarzt.",
    "Ein Tagebuch über Schmerz, Schlaf und Aktivität zeigt, wie sich die Beschwerden entwickeln.",
    "Wärme, kurze Pausen und eine gute Haltung beim Sitzen können die Schmerzen lindern.",
    "Bildgebung ist in den ersten Wochen selten nötig, wenn keine Warnzeichen vorliegen.",
    "Die Übungen sollen regelmäßig und ohne Hast gemacht werden, einige Minuten am Tag genügen.",
)


@dataclass(frozen=True)
class Document:
    name: str
    pages: int
    render: Callable[[], bytes]
    reference: Callable[[], bytes]


# ---- the reports ----------------------------------------------------------------------------------------
@contextmanager
def stored_person() -> Iterator[tuple[Any, str]]:
    """A person with the vignette as intake (plan kept) and five weeks of diary without improvement."""
    from rueckenlotse.core.models import Case
    from rueckenlotse.services.followup import add_entry, record_intake
    from rueckenlotse.store import Store

    path = shared_dir() / "cases" / "v2" / f"{VIGNETTE}.json"
    if not path.is_file():
        raise SystemExit(f"no vignette {path} (set SHARED_DIR)")
    case = Case.model_validate({**json.loads(path.read_text(encoding="utf-8"))["case"], "pain_intensity": 6})
    with tempfile.TemporaryDirectory(prefix="report-render-") as folder:
        with Store.open(f"sqlite:///{Path(folder) / 'rl.db'}") as store:
            person = store.create_person("Lotte Beispiel").id
            record_intake(store, person, case, assessed_at=INTAKE_AT)
            for offset in range(0, 36, 2):
                entry = {
                    "recorded_at": INTAKE_AT + dt.timedelta(days=offset, hours=10),
                    "pain": {"low_back": 6},
                    "activity_minutes": 20 + offset,
                    "note": NOTES[offset // 2 % len(NOTES)] if offset % 6 == 0 else "",
                }
                add_entry(store, person, entry)
            yield store, person


def report_renderers() -> list[tuple[str, Callable[[str], bytes]]]:
    """The two reports as the signed-in patient downloads them, each as a function of the format."""
    from rueckenlotse.reports.documents import render_report
    from rueckenlotse.reports.documents.diary import CHART_FOR
    from rueckenlotse.services.followup import latest_of
    from rueckenlotse.services.report_diary import diary_from_store

    with stored_person() as (store, person):
        record = latest_of(store, person)
        diaries = {
            fmt: diary_from_store(store, person, lang="de", chart=chart) for fmt, chart in CHART_FOR.items()
        }
    case, assessment = record.case, record.assessment

    def patient(fmt: Any) -> bytes:
        return render_report(
            "patient", case, assessment, fmt=fmt, person_label="Lotte Beispiel", generated_at=AT
        )

    def clinician(fmt: Any) -> bytes:
        return render_report(
            "clinician",
            case,
            assessment,
            fmt=fmt,
            person_label="Lotte Beispiel",
            diary=diaries[fmt],
            generated_at=AT,
        )

    return [("patient summary", patient), ("clinician report with diary", clinician)]


# ---- the plain reference --------------------------------------------------------------------------------
def plain_html(paragraphs: int) -> str:
    """Text only, in the report's font, size, line height, page margins and footer."""
    body = "\n".join(
        f"<p>{' '.join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(4))}</p>" for i in range(paragraphs)
    )
    return (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Referenz</title><style>'
        "@page { size: A4; margin: 18mm 16mm 20mm 16mm;"
        ' @bottom-left { content: "Rückenlotse · Referenz"; font-size: 8pt; }'
        ' @bottom-right { content: "Seite " counter(page) " von " counter(pages); font-size: 8pt; } }'
        'html { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 10pt;'
        " line-height: 1.4; }"
        "</style></head><body>" + body + "</body></html>"
    )


def page_count(html: str) -> int:
    from weasyprint import HTML

    return len(HTML(string=html).render().pages)


def plain_of_pages(pages: int) -> str:
    """The reference of ``pages`` pages whose last page is about half full."""

    def fewest(at_least: int) -> int:  # the fewest paragraphs that fill ``at_least`` pages
        low, high = 1, 8
        while page_count(plain_html(high)) < at_least:
            high *= 2
        while low < high:
            middle = (low + high) // 2
            if page_count(plain_html(middle)) >= at_least:
                high = middle
            else:
                low = middle + 1
        return low

    start, end = fewest(pages), fewest(pages + 1) - 1
    return plain_html((start + end) // 2)


def plain_pdf(html: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


# ---- timing ---------------------------------------------------------------------------------------------
def documents() -> list[Document]:
    made = []
    for name, render in report_renderers():
        pages = page_count(render("html").decode("utf-8"))
        reference = plain_of_pages(pages)
        assert page_count(reference) == pages
        made.append(Document(name, pages, partial(render, "pdf"), partial(plain_pdf, reference)))
    return made


def chart_lines(runs: int) -> list[str]:
    """What drawing the chart costs before the rendering (matplotlib, in diary_from_store), per format:
    the PDF's JPEG must not buy the table's speed with a slower chart."""
    from rueckenlotse.reports.documents.diary import CHART_FOR
    from rueckenlotse.services.report_diary import diary_from_store

    lines = ["", "| chart of the diary (matplotlib, before rendering) | median s |", "| --- | ---: |"]
    with stored_person() as (store, person):
        for fmt, chart in CHART_FOR.items():
            draw = partial(diary_from_store, store, person, lang="de", chart=chart)
            draw()
            timed = [seconds(draw)[0] for _ in range(runs)]
            lines.append(
                f"| {chart.upper()}, for the {fmt.upper()} report | {statistics.median(timed):.3f} |"
            )
    return lines


def seconds(work: Callable[[], object]) -> tuple[float, float]:
    """Wall-clock and CPU seconds of one rendering."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="timed renderings of each document")
    parser.add_argument("--check", action="store_true", help=f"exit 1 when a ratio is above {TARGET}")
    args = parser.parse_args()

    rows = []
    for document in documents():
        seconds(document.render), seconds(document.reference)  # warm-up: fonts, caches, imports
        own: list[float] = []
        plain: list[float] = []
        for _ in range(args.runs):  # interleaved, so that a change of load hits both alike
            own.append(seconds(document.render)[0])
            plain.append(seconds(document.reference)[0])
        rows.append((document, own, plain))

    lines = ["### PDF report rendering", "", *machine_lines()]
    lines += [
        f"- WeasyPrint {weasyprint_version()}; one process, 1 warm-up + {args.runs} timed renderings",
        "",
    ]
    lines += [
        "| document | pages | best s | plain best s | ratio | median s | plain median s | median ratio |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    failed = []
    for document, own, plain in rows:
        ratio = min(own) / min(plain)
        if ratio > TARGET:
            failed.append(document.name)
        best = f"{min(own):.3f} | {min(plain):.3f} | {ratio:.2f}x"
        typical = statistics.median(own), statistics.median(plain)
        median = f"{typical[0]:.3f} | {typical[1]:.3f} | {typical[0] / typical[1]:.2f}x"
        lines.append(f"| {document.name} | {document.pages} | {best} | {median} |")
    lines += [
        "",
        'Times: wall clock of `render_report(..., fmt="pdf")` (view, HTML and PDF); plain reference:',
        "WeasyPrint's PDF of plain paragraphs with the same page count, font and margins. The ratio compares",
        "the best of the runs (what the work costs; a shared machine only ever adds time); the median ratio",
        "is shown beside it.",
        f"Target: ratio ≤ {TARGET}x.",
    ]
    lines += chart_lines(args.runs)
    sys.stdout.write("\n".join(lines) + "\n")
    if args.check and failed:
        sys.stderr.write(f"above {TARGET}x the plain reference: {', '.join(failed)}\n")
        raise SystemExit(1)


def weasyprint_version() -> str:
    import weasyprint

    return str(weasyprint.__version__)


if __name__ == "__main__":
    main()
