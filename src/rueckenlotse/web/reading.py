"""Where an education module can be read: its web page ``/lesen/<module>``.

Kept apart from the page module (no FastAPI here), so the API and the command line can link an answer of
``ask`` to the page with the whole module and its sources.
"""

from __future__ import annotations

from urllib.parse import quote

READ = "/lesen"


def reading_path(module_id: str, lang: str) -> str:
    """The module's page, relative, in ``lang`` (``/lesen/back_pain_basics?lang=de``)."""
    return f"{READ}/{quote(module_id, safe='')}?lang={quote(lang, safe='')}"


def reading_link(module_id: str, lang: str, public_url: str | None) -> str:
    """The module's page: absolute when the public address (RUECKENLOTSE_PUBLIC_URL) is set, else relative.

    Never built from a request's Host header, like the links in e-mails.
    """
    path = reading_path(module_id, lang)
    base = (public_url or "").strip().rstrip("/")
    return base + path if base else path
