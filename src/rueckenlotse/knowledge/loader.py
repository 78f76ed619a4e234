"""Reading the knowledge YAML files. The only place that touches them."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..core.kb import KnowledgeBase, KnowledgeError, KnowledgeSpec
from ..i18n import languages, with_added_languages
from .ask_screen import AskScreenSpec

DATA_DIR = Path(__file__).resolve().parent / "data"
ASK_SCREEN_FILE = "ask_screen.yaml"

# File name -> key of KnowledgeSpec it fills (manifest.yaml fills the top level).
_PARTS = {
    "sources.yaml": "sources",
    "derived.yaml": "derived",
    "conditions.yaml": "conditions",
    "rules.yaml": "rules",
    "policy.yaml": "policy",
    "recommendations.yaml": "recommendations",
    "texts.yaml": "texts",
}


def knowledge_files(directory: Path = DATA_DIR) -> list[Path]:
    """Every file that belongs to the knowledge base (what knowledge_version pins)."""
    return sorted(p for p in directory.glob("*.yaml"))


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise KnowledgeError(f"{path.name}: cannot read: {e}") from e


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


def load_knowledge(directory: Path = DATA_DIR) -> KnowledgeBase:
    """Load, validate and compile the knowledge base; a KnowledgeError names what is wrong."""
    raw: dict[str, Any] = dict(_read(directory / "manifest.yaml") or {})
    raw.pop("contract_version", None)
    for filename, key in _PARTS.items():
        raw[key] = _read(directory / filename)
    raw["prevalence"] = (_read(directory / "tables.yaml") or {}).get("brinjikji_prevalence")
    # The language list and the added languages' texts come from the translation layer.
    raw["languages"] = list(languages())
    raw["texts"] = with_added_languages(raw["texts"])
    try:
        spec = KnowledgeSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        raise KnowledgeError(f"rule {owner_of(raw, first['loc'])}: {first['msg']}") from e
    return KnowledgeBase(spec)


@cache
def default_knowledge() -> KnowledgeBase:
    """The packaged knowledge base, loaded once per process."""
    return load_knowledge()


def load_ask_screen(directory: Path = DATA_DIR) -> AskScreenSpec:
    """Load and validate the warning-sign lexicon of `ask`; a KnowledgeError names the bad entry."""
    raw = _read(directory / ASK_SCREEN_FILE)
    try:
        return AskScreenSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors(include_url=False)[0]
        raise KnowledgeError(f"{ASK_SCREEN_FILE}: {owner_of(raw, first['loc'])}: {first['msg']}") from None


@cache
def default_ask_screen() -> AskScreenSpec:
    """The packaged lexicon, loaded and compiled once per process."""
    return load_ask_screen()
