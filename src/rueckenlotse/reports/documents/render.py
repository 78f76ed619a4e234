"""HTML from the Jinja2 templates (autoescape on), and the PDF from that same HTML with WeasyPrint.

WeasyPrint and the templates are loaded only when a report is made: the CLI starts faster without them.
The HTML download carries its stylesheet (templates/report.css) inline; for the PDF the stylesheet, and the
fonts, are loaded once per thread and reused (issue #13: a report renders in about the time WeasyPrint
needs for plain text of the same length).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ...core.kb import KnowledgeBase
from ...core.models import Assessment, Case
from ...i18n import check_language
from ...knowledge.loader import default_knowledge
from ...plan.plan_model import Plan
from .diary import CHART_JPEG_URL, ReportDiary, jpeg_data_uri
from .texts import DocumentTexts, document_texts
from .views import ClinicianReport, PatientReport, clinician_report, patient_report

Kind = Literal["patient", "clinician"]
Format = Literal["html", "pdf"]
KINDS: tuple[Kind, ...] = ("patient", "clinician")
FORMATS: tuple[Format, ...] = ("html", "pdf")
PACKAGE_DIR = Path(str(resources.files("rueckenlotse.reports"))).resolve()


def css_string(value: str) -> Markup:
    """A CSS string literal (for @page content): quotes, backslashes and line breaks escaped."""
    escaped = "".join(f"\\{ord(c):x} " if c in '"\\\n\r<>&' else c for c in value)
    return Markup(f'"{escaped}"')


@cache
def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("rueckenlotse.reports", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["css_string"] = css_string
    return env


def build_view(
    kind: Kind,
    case: Case,
    assessment: Assessment,
    *,
    lang: str,
    generated_at: dt.datetime,
    person_label: str | None = None,
    diary: ReportDiary | None = None,
    kb: KnowledgeBase | None = None,
    plan: Plan | None = None,
) -> PatientReport | ClinicianReport:
    """The report's view model (pure: no I/O beyond the packaged knowledge). plan: the stored person's
    plan as it stands, for the patient summary (see views.patient_report)."""
    check_language(lang)
    kb = kb or default_knowledge()
    texts = document_texts()
    if kind == "patient":
        return patient_report(
            kb,
            texts,
            case,
            assessment,
            lang=lang,
            generated_at=generated_at,
            person_label=person_label,
            plan=plan,
        )
    if kind == "clinician":
        return clinician_report(
            kb,
            texts,
            case,
            assessment,
            lang=lang,
            generated_at=generated_at,
            person_label=person_label,
            diary=diary,
        )
    raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")


def render_html(
    view: PatientReport | ClinicianReport, texts: DocumentTexts | None = None, *, inline_css: bool = True
) -> str:
    """The report as one HTML page; without ``inline_css`` the stylesheet is left to the caller (the PDF)."""
    texts = texts or document_texts()
    lang = view.header.lang

    def t(key: str, **values: object) -> str:
        return texts.get(key, lang, **values)

    template = _environment().get_template(f"{view.header.kind}.html")
    return template.render(r=view, t=t, lang=lang, inline_css=inline_css)


def package_only_fetcher(pictures: Mapping[str, tuple[bytes, str]] | None = None) -> Any:
    """pictures: pictures made for this document (URL to bytes and media type), e.g. the diary chart."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    given = dict(pictures or {})

    class PackageOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
        """Data URIs, files inside the package and the document's own resources only: a report never
        reaches the network."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            if url in given:
                body, media_type = given[url]
                return URLFetcherResponse(url, body, {"Content-Type": media_type})
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(PACKAGE_DIR):
                    return super().fetch(url, headers)
            raise ValueError(f"the report may not load {url[:80]!r}")

    return PackageOnlyFetcher(allowed_protocols=("data", "file"))


@dataclass(frozen=True)
class _PdfTools:
    """What every PDF of a thread shares: the fonts (a FontConfiguration) and the parsed stylesheets."""

    font_config: Any
    stylesheets: tuple[Any, ...]


_THREAD = threading.local()
TEMPLATES_URL = (PACKAGE_DIR / "templates").as_uri() + "/"
BULLET = "\u2022\u00a0"  # the disc marker's "• ", with a space that never breaks after it


def _pdf_tools() -> _PdfTools:
    """This thread's tools, made on its first PDF. Per thread, not per process: the web renders in a thread
    pool, and WeasyPrint's fonts (a Pango font map) are not meant to be used by two threads at once."""
    tools: _PdfTools | None = getattr(_THREAD, "tools", None)
    if tools is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        font_config = FontConfiguration()
        fetcher = package_only_fetcher()
        sheets = tuple(
            CSS(
                string=(PACKAGE_DIR / "templates" / name).read_text(encoding="utf-8"),
                base_url=TEMPLATES_URL,
                url_fetcher=fetcher,
                font_config=font_config,
            )
            for name in ("report.css", "pdf.css")
        )
        tools = _THREAD.tools = _PdfTools(font_config, sheets)
    return tools


def _prepare_for_pdf(root: Any) -> None:
    """Two changes to the parsed page that the PDF does not show but WeasyPrint pays for.

    Ids go: the PDF links nowhere inside itself, and an element with an id gets computed styles of its
    own, for its whole subtree, where its siblings would share theirs. The bullets of unordered lists become
    text (pdf.css hangs them): a list marker is laid out as a positioned box of its own.
    """
    for element in root.iter():
        element.attrib.pop("id", None)
        if element.tag == "ul":
            for item in element:
                if item.tag == "li":
                    item.text = BULLET + (item.text or "").lstrip()


def html_to_pdf(html: str, pictures: Mapping[str, tuple[bytes, str]] | None = None) -> bytes:
    """The PDF of a report page; the page may carry its stylesheet inline or leave it to this function.
    pictures: what the page refers to by URL instead of carrying it (see package_only_fetcher)."""
    from weasyprint import HTML

    tools = _pdf_tools()
    document = HTML(string=html, base_url=TEMPLATES_URL, url_fetcher=package_only_fetcher(pictures))
    _prepare_for_pdf(document.etree_element)
    pdf: bytes = document.write_pdf(stylesheets=list(tools.stylesheets), font_config=tools.font_config)
    return pdf


def render_report(
    kind: Kind,
    case: Case,
    assessment: Assessment,
    *,
    lang: str = "de",
    fmt: Format = "html",
    person_label: str | None = None,
    diary: ReportDiary | None = None,
    generated_at: dt.datetime,
    plan: Plan | None = None,
) -> bytes:
    """A patient summary or clinician intake report as HTML (UTF-8) or PDF bytes; times are printed in
    RUECKENLOTSE_TIME_ZONE, and ``plan`` is the stored person's plan for the summary."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    view = build_view(
        kind,
        case,
        assessment,
        lang=lang,
        generated_at=generated_at,
        person_label=person_label,
        diary=diary,
        plan=plan,
    )
    if fmt == "html":
        html = render_html(view)
        if diary is not None and diary.chart_jpeg is not None:  # the HTML file must carry its picture
            html = html.replace(CHART_JPEG_URL, jpeg_data_uri(diary.chart_jpeg))
        return html.encode("utf-8")
    pictures = {}
    if diary is not None and diary.chart_jpeg is not None:
        # By URL, not as a data URI: the HTML parser would read the picture's base64 letter by letter.
        pictures[CHART_JPEG_URL] = (diary.chart_jpeg, "image/jpeg")
    return html_to_pdf(render_html(view, inline_css=False), pictures)
