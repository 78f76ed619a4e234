"""Numbered source references, shared by the result page and the printable reports.

Sources are numbered in the order a page or report first cites them, so "[2]" means the same source
everywhere on it; an id missing from the registry is shown as itself and never as checked. What a patient
reads (the result page, the summary) cites only sources checked against the original (``only_checked``):
a source not yet checked gets no number there; the clinician report lists every one with its status.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..core.kb import KnowledgeBase


@dataclass(frozen=True)
class SourceRef:
    number: int
    id: str
    title: str
    checked: bool


class Sources:
    """Numbers the sources in the order they are first cited."""

    def __init__(self, kb: KnowledgeBase, *, only_checked: bool = False) -> None:
        self.kb = kb
        self.only_checked = only_checked
        self.refs: dict[str, SourceRef] = {}

    def cite(self, ids: list[str]) -> tuple[SourceRef, ...]:
        for source_id in ids:
            if source_id not in self.refs:
                source = self.kb.sources.get(source_id)
                title = source.title if source is not None else source_id
                checked = source is not None and source.status == "checked"
                if checked or not self.only_checked:
                    self.refs[source_id] = SourceRef(len(self.refs) + 1, source_id, title, checked)
        return tuple(self.refs[s] for s in dict.fromkeys(ids) if s in self.refs)

    @property
    def all(self) -> tuple[SourceRef, ...]:
        return tuple(self.refs.values())
