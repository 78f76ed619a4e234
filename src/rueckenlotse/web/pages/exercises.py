"""The exercise library as public pages and images, with no personal data (issue #17).

* ``/uebungen``: every exercise and comfort item of the plan's library with its drawing, dose and steps;
  ``/uebungen/{id}``: one of them with what to feel and when to stop, in the page's language.
* ``/uebungen/{id}.svg``: its line drawing (``reports.exercise_svg``), the SVG's title in ``?lang=``; panel 2
  plays the movement unless ``?still=1`` (pages ask for that one themselves when the viewer wants reduced
  motion). Cached publicly for a week with an ETag; the pages add ``?v=`` (a hash of the drawings), so a
  knowledge update shows at once.

The pages say plainly that nobody should exercise while a warning sign stands; a person's own plan never lists
an exercise then (plan.builder).
"""

from __future__ import annotations

import hashlib

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from ...knowledge.library import Library
from ...plan.library import default_library
from ...reports.exercise_svg import exercise_svg
from ..i18n import request_lang, valid_lang
from ..render import PageError, render

router = APIRouter(include_in_schema=False)

EXERCISES = "/uebungen"
IMAGE_MAX_AGE = 7 * 24 * 3600
SVG_TYPE = "image/svg+xml"


def _svg_bytes(lib: Library, practice_id: str, lang: str, still: bool) -> bytes:
    drawing = lib.drawings[practice_id]
    return exercise_svg(drawing, drawing.alt.get(lang), animate=not still).encode("utf-8")


@router.api_route(EXERCISES + "/{exercise_id}.svg", methods=["GET", "HEAD"])
async def exercise_image(request: Request, exercise_id: str) -> Response:
    lib = default_library()
    if exercise_id not in lib.drawings:
        raise PageError(404, "404")
    lang = valid_lang(request.query_params.get("lang")) or "de"
    still = request.query_params.get("still") == "1"
    body = _svg_bytes(lib, exercise_id, lang, still)
    etag = '"' + hashlib.sha256(body).hexdigest()[:20] + '"'
    headers = {"Cache-Control": f"public, max-age={IMAGE_MAX_AGE}", "ETag": etag}
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(content=body, media_type=SVG_TYPE, headers=headers)


def _context(lib: Library, lang: str) -> dict[str, object]:
    return {"lib": lib, "pt": lambda key, **values: lib.text(key, lang, **values)}


@router.api_route(EXERCISES, methods=["GET", "HEAD"])
async def exercises_index(request: Request) -> Response:
    lang = request_lang(request)
    lib = default_library()
    context = _context(lib, lang) | {
        "exercises": list(lib.exercises.values()),
        "comfort": list(lib.comfort.values()),
    }
    return render(
        request, "exercises_index.html", context, lang=lang, remember_lang="lang" in request.query_params
    )


@router.api_route(EXERCISES + "/{exercise_id}", methods=["GET", "HEAD"])
async def exercise_page(request: Request, exercise_id: str) -> Response:
    lib = default_library()
    item = lib.exercises.get(exercise_id) or lib.comfort.get(exercise_id)
    if item is None:
        raise PageError(404, "404")
    lang = request_lang(request)
    context = _context(lib, lang) | {"item": item, "exercise_id": item.id}
    return render(
        request, "exercise_page.html", context, lang=lang, remember_lang="lang" in request.query_params
    )
