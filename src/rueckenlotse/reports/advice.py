"""The advice of an Assessment grouped by kind, in one order for every channel (result page, printable
reports, terminal): what needs a doctor first, then what to avoid, what to do, and background."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.kb import KnowledgeBase
from ..core.models import Assessment, RecommendationKind
from .sources import SourceRef, Sources

KIND_ORDER = (
    RecommendationKind.seek_care,
    RecommendationKind.avoid,
    RecommendationKind.do,
    RecommendationKind.info,
)


@dataclass(frozen=True)
class AdviceItem:
    id: str
    text: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class AdviceGroup:
    kind: str
    label: str
    items: tuple[AdviceItem, ...]


def advice_groups(kb: KnowledgeBase, a: Assessment, sources: Sources, lang: str) -> tuple[AdviceGroup, ...]:
    """The non-empty groups in KIND_ORDER, each recommendation with its numbered sources."""
    groups: list[AdviceGroup] = []
    for kind in KIND_ORDER:
        items = tuple(
            AdviceItem(r.id, r.text, sources.cite(r.sources)) for r in a.recommendations if r.kind is kind
        )
        if items:
            groups.append(AdviceGroup(kind.value, kb.render(f"kind.{kind.value}.label", lang), items))
    return tuple(groups)
