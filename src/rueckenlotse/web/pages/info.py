"""Pages anyone may read, with no personal data: the education modules ("Zum Lesen") and the trust pages.

* ``/lesen`` and ``/lesen/{module}``: the plan's reading as web pages (until now only behind the terminal
  ``ask`` command), each module with its sources. Like the result page, a patient reads only sources
  checked against the original; a module that also rests on unchecked ones says so.
* ``/datenschutz``, ``/impressum``: the privacy and legal notices, filled from the deployer's settings
  (``RUECKENLOTSE_OPERATOR_*``); while those are empty the pages say so plainly instead of inventing one.
* ``/zweckbestimmung``: what Rückenlotse is for and what it is not (guidance, not a diagnosis; not a
  certified medical device unless ``RUECKENLOTSE_MEDICAL_DEVICE`` states otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...knowledge.library import Module
from ...plan.library import default_library
from ...settings import Settings
from ..i18n import request_lang
from ..reading import READ
from ..render import PageError, render, web_of

router = APIRouter(include_in_schema=False)

PRIVACY = "/datenschutz"
IMPRINT = "/impressum"
INTENDED_USE = "/zweckbestimmung"
INFO_PATHS = frozenset({READ, PRIVACY, IMPRINT, INTENDED_USE})  # pages the language switch returns to


@dataclass(frozen=True)
class ModuleSource:
    number: int
    title: str


@dataclass(frozen=True)
class Operator:
    """The deployer's details as the trust pages show them; ``missing``: the settings still empty."""

    name: str
    address: str
    contact: str
    privacy_officer: str
    medical_device: str
    retention_days: int

    @property
    def missing(self) -> tuple[str, ...]:
        names = {
            "RUECKENLOTSE_OPERATOR_NAME": self.name,
            "RUECKENLOTSE_OPERATOR_ADDRESS": self.address,
            "RUECKENLOTSE_OPERATOR_CONTACT": self.contact,
        }
        return tuple(name for name, value in names.items() if not value)


def operator_of(settings: Settings) -> Operator:
    return Operator(
        name=settings.operator_name.strip(),
        address=settings.operator_address.strip(),
        contact=settings.operator_contact.strip(),
        privacy_officer=settings.privacy_officer.strip(),
        medical_device=settings.medical_device.strip(),
        retention_days=settings.intake_retention_days,
    )


def _page(request: Request, template: str, context: dict[str, object]) -> Response:
    lang = request_lang(request)
    return render(request, template, context, lang=lang, remember_lang="lang" in request.query_params)


@router.api_route(READ, methods=["GET", "HEAD"])
async def reading_index(request: Request) -> Response:
    lang = request_lang(request)
    modules = [(m.id, m.title.get(lang)) for m in default_library().modules.values()]
    return _page(request, "reading_index.html", {"modules": modules})


@router.api_route(READ + "/{module_id}", methods=["GET", "HEAD"])
async def reading_module(request: Request, module_id: str) -> Response:
    module = default_library().modules.get(module_id)
    if module is None:
        raise PageError(404, "404")
    lang = request_lang(request)
    sources, unchecked = _checked_sources(request, module)
    context = {
        "module_id": module.id,
        "title": module.title.get(lang),
        "passages": [p.get(lang) for p in module.passages],
        "sources": sources,
        "unchecked": unchecked,
    }
    return _page(request, "reading_module.html", context)


def _checked_sources(request: Request, module: Module) -> tuple[list[ModuleSource], bool]:
    """The module's checked sources, numbered; and whether it also rests on sources not checked yet."""
    registry = web_of(request).kb.sources
    checked = [registry[s] for s in module.sources if s in registry and registry[s].status == "checked"]
    shown = [ModuleSource(n, source.title) for n, source in enumerate(checked, start=1)]
    return shown, len(checked) < len(module.sources)


@router.api_route(PRIVACY, methods=["GET", "HEAD"])
async def privacy_page(request: Request) -> Response:
    return _page(request, "trust_privacy.html", {"operator": operator_of(web_of(request).settings)})


@router.api_route(IMPRINT, methods=["GET", "HEAD"])
async def imprint_page(request: Request) -> Response:
    return _page(request, "trust_imprint.html", {"operator": operator_of(web_of(request).settings)})


@router.api_route(INTENDED_USE, methods=["GET", "HEAD"])
async def intended_use_page(request: Request) -> Response:
    return _page(request, "trust_intended_use.html", {"operator": operator_of(web_of(request).settings)})
