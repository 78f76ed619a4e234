"""The FHIR export's and import's texts (reports/texts_fhir.yaml, the outcome measures' in
reports/texts_fhir_measures.yaml), loaded once by the translation layer."""

from __future__ import annotations

from functools import cache

from ...i18n.catalogue import Catalogue, load_catalogue


@cache
def fhir_texts() -> Catalogue:
    return load_catalogue("rueckenlotse.reports", ["texts_fhir.yaml", "texts_fhir_measures.yaml"])
