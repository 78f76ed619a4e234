"""The follow-up rules and texts (followup.yaml) as the plan uses them: rendering the texts.

The models and their checks live in knowledge.followup; the knowledge loader reads the file once per
process. Re-exported here so that the plan's callers keep one import.
"""

from __future__ import annotations

from ..i18n import LocalText, languages
from ..i18n.formatting import decimal
from ..knowledge.followup import (
    ESCALATION_KINDS,
    FOLLOWUP_FILE,
    CentralisationParams,
    Checkpoint,
    EscalationKind,
    FollowUpError,
    FollowUpSpec,
    FunctionParams,
    Improvement,
    Parameters,
)
from ..knowledge.followup import required_text_keys as _required_text_keys
from ..knowledge.loader import packaged_knowledge

__all__ = [
    "ESCALATION_KINDS",
    "FOLLOWUP_FILE",
    "CentralisationParams",
    "Checkpoint",
    "EscalationKind",
    "FollowUpError",
    "FollowUpSpec",
    "FunctionParams",
    "Improvement",
    "LocalText",
    "Parameters",
    "default_followup",
    "fmt_number",
    "render",
    "render_both",
    "required_text_keys",
]


def default_followup() -> FollowUpSpec:
    """The packaged follow-up rules and texts, loaded once per process."""
    return packaged_knowledge().followup


def required_text_keys() -> list[str]:
    """Every key the follow-up code reads (for the packaged diary's signs and reaches)."""
    return _required_text_keys(packaged_knowledge().diary)


def fmt_number(value: float, lang: str) -> str:
    """One decimal, with a decimal comma in German (6,1) and a point in English (6.1)."""
    return decimal(f"{value:.1f}", lang)


def render(key: str, lang: str, **values: object) -> str:
    """The text under key in lang with its placeholders filled."""
    return default_followup().text(key).get(lang).format(**values)


def render_both(key: str, **values: object) -> LocalText:
    """The text under key in every language; callables among values are called with the language."""
    filled = {
        lang: default_followup()
        .text(key)
        .get(lang)
        .format(**{k: v(lang) if callable(v) else v for k, v in values.items()})
        for lang in languages()
    }
    return LocalText(**filled)
