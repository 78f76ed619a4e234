"""The pure core of Rückenlotse: models, condition language, knowledge objects and the engine.

Nothing here does I/O or imports a web framework or database driver. The names below are loaded on
first use, so that importing a light submodule (e.g. ``core.errors``) does not load Pydantic.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import FieldError, InvalidCase

if TYPE_CHECKING:
    from .engine import evaluate
    from .kb import KnowledgeBase, KnowledgeError, KnowledgeSpec
    from .models import Assessment, Case

_LAZY = {
    "evaluate": "engine",
    "KnowledgeBase": "kb",
    "KnowledgeError": "kb",
    "KnowledgeSpec": "kb",
    "Assessment": "models",
    "Case": "models",
}

__all__ = [
    "Assessment",
    "Case",
    "FieldError",
    "InvalidCase",
    "KnowledgeBase",
    "KnowledgeError",
    "KnowledgeSpec",
    "evaluate",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
