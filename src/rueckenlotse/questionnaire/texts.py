"""The questionnaire's own texts (questionnaire/texts.yaml), loaded once by the translation layer."""

from __future__ import annotations

from functools import cache

from ..i18n.catalogue import Catalogue, load_catalogue


@cache
def questionnaire_texts() -> Catalogue:
    return load_catalogue("rueckenlotse.questionnaire", ["texts.yaml"])
