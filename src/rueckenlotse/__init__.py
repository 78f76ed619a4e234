"""Rückenlotse: evidence-based guidance for back and neck pain.

Public API: ``assess(case, lang="de") -> Assessment``; ``Case``, ``Assessment``; ``InvalidCase``;
``LANGUAGES`` (German, English and the languages a deployment adds, see ``rueckenlotse.i18n``).
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .core.errors import FieldError, InvalidCase
    from .core.models import Assessment, Case

__all__ = ["LANGUAGES", "Assessment", "Case", "FieldError", "InvalidCase", "__version__", "assess"]
__version__ = "0.1.0"

_LAZY = {"Assessment": "models", "Case": "models", "FieldError": "errors", "InvalidCase": "errors"}


def __getattr__(name: str) -> Any:
    # Loaded on first use (the models pull in Pydantic), so that `import rueckenlotse` and with it
    # the CLI's --help, which needs only LANGUAGES, stay light.
    if name == "LANGUAGES":
        from .i18n.languages import languages

        return languages()
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".core.{module}", __name__), name)


def assess(case: Mapping[str, Any] | Case, *, lang: str = "de") -> Assessment:
    """Assess one Case (a mapping in contract v1 form, or a Case) and return the Assessment.

    Raises InvalidCase (a ValueError) listing every field error, in ``lang``.
    """
    from .core.engine import evaluate
    from .i18n import check_language
    from .knowledge.loader import default_knowledge
    from .validation import validate_case

    check_language(lang)
    kb = default_knowledge()
    return evaluate(kb, validate_case(case, kb, lang), lang)
