"""The pure core of Rückenlotse: models, condition language, knowledge objects and the engine.

Nothing here does I/O or imports a web framework or database driver.
"""

from .engine import evaluate
from .errors import FieldError, InvalidCase
from .kb import KnowledgeBase, KnowledgeError, KnowledgeSpec
from .models import Assessment, Case

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
