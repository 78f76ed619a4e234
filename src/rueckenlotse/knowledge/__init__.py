"""Loads the versioned knowledge base (YAML under data/): the one reader and validator of those files."""

from .loader import (
    DATA_DIR,
    Knowledge,
    default_knowledge,
    knowledge_files,
    load_knowledge,
    packaged_knowledge,
)

__all__ = [
    "DATA_DIR",
    "Knowledge",
    "default_knowledge",
    "knowledge_files",
    "load_knowledge",
    "packaged_knowledge",
]
