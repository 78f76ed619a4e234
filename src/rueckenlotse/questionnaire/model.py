"""The questionnaire's data model now lives in knowledge.questionnaire (knowledge is the layer that validates
every knowledge file); re-exported here so that existing imports keep working."""

from ..i18n.local_text import LocalText
from ..knowledge.questionnaire import (
    LIST_KINDS,
    NESTED,
    NOT_ASKED,
    OFFER_PREFIX,
    OPTION_KINDS,
    UNSURE,
    UNSURE_KINDS,
    Kind,
    Option,
    OptionValue,
    Question,
    case_field_paths,
)

__all__ = [
    "LIST_KINDS",
    "NESTED",
    "NOT_ASKED",
    "OFFER_PREFIX",
    "OPTION_KINDS",
    "UNSURE",
    "UNSURE_KINDS",
    "Kind",
    "LocalText",
    "Option",
    "OptionValue",
    "Question",
    "case_field_paths",
]
