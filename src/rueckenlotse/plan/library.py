"""The exercise library and the education modules, as the plan uses them.

The models and their checks live in knowledge.library (knowledge validates every knowledge file); the
knowledge loader reads exercises.yaml and education.yaml once per process. Re-exported here so that the
plan's callers keep one import.
"""

from __future__ import annotations

from pathlib import Path

from ..knowledge.drawings import DRAWINGS_FILE, Drawing
from ..knowledge.library import (
    AVOID_IF_FIELDS,
    EDUCATION_FILE,
    EXERCISES_FILE,
    LEVELS,
    REGIONS,
    ComfortItem,
    Exercise,
    Library,
    LibraryError,
    Module,
)
from ..knowledge.loader import DATA_DIR, load_library_part, packaged_knowledge
from ..knowledge.wording import LocalText

__all__ = [
    "AVOID_IF_FIELDS",
    "DRAWINGS_FILE",
    "EDUCATION_FILE",
    "EXERCISES_FILE",
    "LEVELS",
    "REGIONS",
    "ComfortItem",
    "Drawing",
    "Exercise",
    "Library",
    "LibraryError",
    "LocalText",
    "Module",
    "default_library",
    "load_library",
]


def load_library(directory: Path = DATA_DIR) -> Library:
    """Read and validate exercises.yaml, education.yaml and exercise_drawings.yaml from ``directory``."""
    return load_library_part(directory)


def default_library() -> Library:
    """The packaged library, loaded and validated once per process."""
    return packaged_knowledge().library
