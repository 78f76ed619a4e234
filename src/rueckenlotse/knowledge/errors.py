"""One error for every knowledge file: KnowledgeError (core.kb), its message naming the file and the key."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from ..core.kb import KnowledgeError

__all__ = ["KnowledgeError", "owner_of", "validation_error"]


def owner_of(raw: Any, loc: tuple[int | str, ...]) -> str:
    """The innermost rule, exercise or module behind an error location like ('rules', 12, 'triage')."""
    node: Any = raw
    label = ".".join(str(p) for p in loc)
    for part in loc:
        try:
            node = node[part]
        except (KeyError, IndexError, TypeError):
            break
        if isinstance(node, Mapping) and isinstance(node.get("id") or node.get("name"), str):
            label = f"{node.get('id') or node.get('name')} ({'.'.join(str(p) for p in loc)})"
    return label


def validation_error(filename: str, raw: Any, error: ValidationError) -> KnowledgeError:
    """The first problem of a Pydantic validation, as '<file>: <owner (location)>: <message>'."""
    first = error.errors(include_url=False)[0]
    return KnowledgeError(f"{filename}: {owner_of(raw, first['loc'])}: {first['msg']}")
