"""Installing the web app and reading offline: the manifest, the service worker and its offline page.

* ``/manifest.webmanifest``: name, colours and icons, so a phone can put Rückenlotse on its home screen.
* ``/sw.js``: the service worker, served from the root so its scope is the whole site. The server puts the
  list of what may be kept on the device in front of the script (``const CONFIG = …``); the caching plan
  itself is written at the top of ``static/service-worker.js``. In short: only pages without personal data
  are kept (the static files, the reading ``/lesen`` and the exercises ``/uebungen``, each in every
  language, and the offline page); the plan only after the person agreed on the plan page, in a cache of
  its own that is deleted again on sign-out; everything else (diary, result, intake, account, API) never.
* ``/offline``: what the service worker shows for a page that is not kept on the device ("Sie sind
  offline …", with the emergency number).
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ... import __version__
from ...i18n import languages
from ...plan.library import default_library
from ..i18n import request_lang
from ..reading import READ
from ..render import render, web_of

router = APIRouter(include_in_schema=False)

STATIC_DIR = Path(str(resources.files("rueckenlotse.web"))) / "static"
# Served at /sw.js with its configuration in front; never kept as a static file itself.
WORKER_FILE = STATIC_DIR / "service-worker.js"

MANIFEST = "/manifest.webmanifest"
WORKER = "/sw.js"
OFFLINE = "/offline"
PLAN = "/mein-bereich/plan"
EXERCISES = "/uebungen"  # the exercise pages and drawings (built in another part of issue #17)
PLAN_CACHE = "rueckenlotse-plan"  # the same name for everyone: it holds one page, the signed-in person's
CACHE_PREFIX = "rueckenlotse-"
# Sent by the service worker when it fetches a page to keep: the page then does not say "signed out"
# (it is fetched without cookies), so a kept copy never makes the browser delete the saved plan.
COPY_HEADER = "x-rueckenlotse-copy"
# The colours of app.css (--primary, --bg).
THEME_COLOUR = "#0b4f8a"
BACKGROUND_COLOUR = "#ffffff"
ICONS = (
    ("icon-192.png", "192x192", "image/png", "any"),
    ("icon-512.png", "512x512", "image/png", "any"),
    ("icon-maskable-512.png", "512x512", "image/png", "maskable"),
    ("icon.svg", "any", "image/svg+xml", "any"),
)


def _static(request: Request, name: str) -> str:
    return f"/static/{name}?v={web_of(request).static_version}"


@router.get(MANIFEST)
async def web_manifest(request: Request) -> Response:
    lang = request_lang(request)
    texts = web_of(request).texts
    manifest = {
        "id": "/",
        "name": "Rückenlotse",
        "short_name": "Rückenlotse",
        "description": texts.get("pwa.manifest.description", lang),
        "lang": lang,
        "dir": "ltr",
        "start_url": "/mein-bereich",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": [
            {"src": _static(request, name), "sizes": sizes, "type": kind, "purpose": purpose}
            for name, sizes, kind, purpose in ICONS
        ],
    }
    body = json.dumps(manifest, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/manifest+json")


def worker_config(request: Request) -> dict[str, object]:
    """What the service worker may keep, and under which cache name (app, knowledge and static version)."""
    web = web_of(request)
    library = default_library()
    langs = list(languages())
    pages: list[str] = []
    for lang in langs:
        pages.append(f"{READ}?lang={lang}")
        pages.extend(f"{READ}/{module_id}?lang={lang}" for module_id in library.modules)
        pages.append(f"{EXERCISES}?lang={lang}")
        pages.extend(f"{EXERCISES}/{exercise_id}?lang={lang}" for exercise_id in library.exercises)
    pages.extend(f"{EXERCISES}/{exercise_id}.svg" for exercise_id in library.exercises)
    static = sorted(
        _static(request, path.name)
        for path in STATIC_DIR.iterdir()
        if path.is_file() and path.name != WORKER_FILE.name
    )
    return {
        "cache": f"{CACHE_PREFIX}{__version__}-{web.kb.version}-{web.static_version}",
        "prefix": CACHE_PREFIX,
        "planCache": PLAN_CACHE,
        "plan": PLAN,
        "copyHeader": COPY_HEADER,
        "langs": langs,
        "offline": {lang: f"{OFFLINE}?lang={lang}" for lang in langs},
        "publicPaths": [READ, EXERCISES, OFFLINE],
        "static": [*static, MANIFEST],
        "pages": pages,
    }


@router.get(WORKER)
async def service_worker(request: Request) -> Response:
    config = json.dumps(worker_config(request), ensure_ascii=False, separators=(",", ":"))
    body = f"const CONFIG = {config};\n" + WORKER_FILE.read_text(encoding="utf-8")
    return Response(
        body,
        media_type="text/javascript",
        headers={"Service-Worker-Allowed": "/"},
    )


@router.api_route(OFFLINE, methods=["GET", "HEAD"])
async def offline_page(request: Request) -> Response:
    lang = request_lang(request)
    return render(request, "offline.html", {}, lang=lang, remember_lang="lang" in request.query_params)
