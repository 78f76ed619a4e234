"""HTML from the Jinja2 templates (autoescape on), and the PDF from that same HTML with WeasyPrint.

WeasyPrint and the templates are loaded only when a report is made: the CLI starts faster without them.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ...core.kb import KnowledgeBase
from ...core.models import Assessment, Case
from ...knowledge.loader import default_knowledge
from .diary import ReportDiary
from .texts import LANGS, DocumentTexts, document_texts
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
) -> PatientReport | ClinicianReport:
    """The report's view model (pure: no I/O beyond the packaged knowledge)."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    kb = kb or default_knowledge()
    texts = document_texts()
    if kind == "patient":
        return patient_report(
            kb, texts, case, assessment, lang=lang, generated_at=generated_at, person_label=person_label
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


def render_html(view: PatientReport | ClinicianReport, texts: DocumentTexts | None = None) -> str:
    texts = texts or document_texts()
    lang = view.header.lang

    def t(key: str, **values: object) -> str:
        return texts.get(key, lang, **values)

    template = _environment().get_template(f"{view.header.kind}.html")
    return template.render(r=view, t=t, lang=lang)


def package_only_fetcher() -> Any:
    from weasyprint.urls import URLFetcher

    class PackageOnlyFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint has no type hints
        """Data URIs and files inside the package only: a report never reaches the network."""

        def fetch(self, url: str, headers: Any = None) -> Any:
            parts = urlsplit(url)
            if parts.scheme == "data":
                return super().fetch(url, headers)
            if parts.scheme == "file":
                path = Path(unquote(parts.path)).resolve()
                if path.is_relative_to(PACKAGE_DIR):
                    return super().fetch(url, headers)
            raise ValueError(f"the report may not load {url[:80]!r}")

    return PackageOnlyFetcher(allowed_protocols=("data", "file"))


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    document = HTML(
        string=html, base_url=(PACKAGE_DIR / "templates").as_uri() + "/", url_fetcher=package_only_fetcher()
    )
    pdf: bytes = document.write_pdf()
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
) -> bytes:
    """A patient summary or clinician intake report as HTML (UTF-8) or PDF bytes."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, not {fmt!r}")
    view = build_view(
        kind, case, assessment, lang=lang, generated_at=generated_at, person_label=person_label, diary=diary
    )
    html = render_html(view)
    return html.encode("utf-8") if fmt == "html" else html_to_pdf(html)
