"""What both reports share: cleaning text people typed, dates, source numbering, triage and advice."""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass

from ...core.kb import KnowledgeBase
from ...core.models import Assessment, Triage
from ...i18n.formatting import decimal, format_day, format_moment
from ...i18n.zone import local_moment
from .texts import DocumentTexts

# Direction controls would let a name turn the text after it around (e.g. U+202E); isolation by <bdi>
# alone does not undo an override inside the name itself, so they are dropped.
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LABEL_LIMIT = 80
NOTE_LIMIT = 600


def clean_user_text(text: str, limit: int) -> str:
    """Text a person typed, safe to print: no control or direction characters, at most ``limit`` long.

    HTML needs no treatment here: the templates escape every value.
    """
    kept = []
    for char in text:
        if char in _BIDI_CONTROLS:
            continue
        kept.append(" " if unicodedata.category(char) == "Cc" else char)
    cleaned = " ".join("".join(kept).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def fmt_date(day: dt.date, lang: str) -> str:
    return format_day(day, lang)


def fmt_moment(moment: dt.datetime, lang: str) -> str:
    """A moment in the deployment's zone (RUECKENLOTSE_TIME_ZONE) with the zone's short name: "CET"."""
    local = local_moment(moment)
    return format_moment(local, lang) + f" {local.tzname()}"


def fmt_number(value: float, lang: str) -> str:
    return decimal(f"{value:g}", lang)


@dataclass(frozen=True)
class Header:
    kind: str
    lang: str
    title: str
    person: str | None
    generated: str
    knowledge_version: str


@dataclass(frozen=True)
class TriageView:
    level: str
    emergency: bool
    level_words: str
    title: str
    action: str
    call_text: str | None


def header(
    kind: str,
    title: str,
    person_label: str | None,
    generated_at: dt.datetime,
    a: Assessment,
    texts: DocumentTexts,
    lang: str,
) -> Header:
    person = clean_user_text(person_label, LABEL_LIMIT) if person_label else None
    return Header(
        kind=kind,
        lang=lang,
        title=title,
        person=person or None,
        generated=texts.get("doc.generated", lang, date=fmt_moment(generated_at, lang)),
        knowledge_version=texts.get("doc.knowledge_version", lang, version=a.knowledge_version),
    )


def triage_view(kb: KnowledgeBase, a: Assessment, texts: DocumentTexts, lang: str) -> TriageView:
    level = a.triage.value
    call = next((r.text for r in a.recommendations if r.id == "call_emergency"), None)
    return TriageView(
        level=level,
        emergency=a.triage is Triage.emergency,
        level_words=texts.get(f"doc.level.{level}", lang),
        title=kb.render(f"triage.{level}.title", lang),
        action=kb.triage_action(a, lang),
        call_text=call,
    )
