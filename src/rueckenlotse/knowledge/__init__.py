"""Loads the versioned knowledge base (YAML under data/) into a validated, compiled KnowledgeBase."""

from .loader import DATA_DIR, default_knowledge, knowledge_files, load_knowledge

__all__ = ["DATA_DIR", "default_knowledge", "knowledge_files", "load_knowledge"]
