"""The report texts (reports/texts_documents.yaml), loaded once by the translation layer's catalogue loader
and checked: every key has every language with the same placeholders."""

from __future__ import annotations

from functools import cache

from ...i18n.catalogue import Catalogue, CatalogueError, load_catalogue, parse_catalogue

DocumentTextError = CatalogueError
DocumentTexts = Catalogue


def parse_texts(raw: object) -> Catalogue:
    return parse_catalogue(raw, "texts_documents.yaml")


@cache
def document_texts() -> Catalogue:
    return load_catalogue("rueckenlotse.reports", ["texts_documents.yaml"])
