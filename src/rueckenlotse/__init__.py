"""Rückenlotse: evidence-based guidance for back and neck pain.

Public API: ``assess(case, lang="de") -> Assessment``; ``Case``, ``Assessment``; ``InvalidCase``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .core.errors import FieldError, InvalidCase
from .core.models import Assessment, Case

__all__ = ["LANGUAGES", "Assessment", "Case", "FieldError", "InvalidCase", "__version__", "assess"]
__version__ = "0.1.0"

LANGUAGES = ("de", "en")


def assess(case: Mapping[str, Any] | Case, *, lang: str = "de") -> Assessment:
    """Assess one Case (a mapping in contract v1 form, or a Case) and return the Assessment.

    Raises InvalidCase (a ValueError) listing every field error, in ``lang``.
    """
    # Imported here so that `import rueckenlotse` (and the CLI's --help) stays light.
    from .core.engine import evaluate
    from .knowledge.loader import default_knowledge
    from .validation import validate_case

    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, not {lang!r}")
    kb = default_knowledge()
    return evaluate(kb, validate_case(case, kb, lang), lang)
