"""Rückenlotse: evidence-based guidance for back and neck pain.

Public API: ``assess(case, lang="de") -> Assessment``; ``Case``, ``Assessment``; ``InvalidCase``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.engine import evaluate
from .core.errors import FieldError, InvalidCase
from .core.models import Assessment, Case
from .knowledge.loader import default_knowledge
from .validation import validate_case

__all__ = ["Assessment", "Case", "FieldError", "InvalidCase", "assess", "__version__"]
__version__ = "0.1.0"

LANGUAGES = ("de", "en")


def assess(case: Mapping[str, Any] | Case, *, lang: str = "de") -> Assessment:
    """Assess one Case (a mapping in contract v1 form, or a Case) and return the Assessment.

    Raises InvalidCase (a ValueError) listing every field error, in ``lang``.
    """
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")
    kb = default_knowledge()
    return evaluate(kb, validate_case(case, kb, lang), lang)
