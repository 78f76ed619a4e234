"""The warning-sign screen that every `ask` question passes first (contract 2; SR-ASK-1).

``screen(question)`` is pure: it folds the question, runs every lexicon pattern (German and English),
and returns the hits ordered by level, highest first, each with the seek-care text to show *before*
any education passage. A sign that is denied ("kein Fieber"), asked about ("was, wenn …") or only
named as a topic ("schwanger") keeps its level but is worded as a condition: "Falls Sie … : …".
Negation only changes the wording, never whether the text is shown: a wrong guess stays safe.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

from ..knowledge.ask_screen import SCREEN_LEVELS, AskScreenSpec, Combination, Entry, ScreenLevel, fold
from ..knowledge.loader import default_ask_screen

# A clause ends at punctuation or at a word that starts a new statement ("kein Fieber, aber taub").
_CLAUSE_END = re.compile(r"[.!?;:,]|\b(?:aber|sondern|jedoch|und|but|however|and)\b")
_WORD = re.compile(r"[a-z']+")
# How many words before a sign a negation or an "if" may stand ("ich habe seit gestern kein Fieber").
_WINDOW = 3
_DENIAL = frozenset(
    "kein keine keinen keinem keiner keines keins ohne nicht nie niemals weder "
    "no not without never neither nor dont don't doesnt doesn't didnt didn't havent haven't "
    "hasnt hasn't isnt isn't arent aren't wasnt wasn't".split()
)
_CONDITIONAL = frozenset("falls wenn ob vielleicht eventuell if whether maybe perhaps".split())
# "Fieber habe ich keins", "Fieber? Nein.", "fever: no"
_DENIED_AFTER = re.compile(r"^[\s:?]*(?:(?:habe|hab|hatte)\s+ich\s+)?(?:keins|keines|keinen|nein|no|none)\b")


class ScreenHit(BaseModel):
    """One warning sign found in a question, with the text to show first."""

    model_config = ConfigDict(frozen=True)
    id: str
    fields: list[str]
    level: ScreenLevel
    stated: bool  # False: denied, asked about or only a topic -> the text is worded as a condition
    text: str


class Screen(BaseModel):
    """What the screen found: the hits (highest level first) and that level; no hits, no level."""

    model_config = ConfigDict(frozen=True)
    level: ScreenLevel | None
    hits: list[ScreenHit]

    @property
    def stated(self) -> bool:
        return any(hit.stated for hit in self.hits)


@dataclass(frozen=True)
class _Found:
    """An entry or combination that matched, before wording."""

    id: str
    fields: tuple[str, ...]
    level: ScreenLevel
    kind: str  # sign, topic, part or combination
    denied: bool  # every match of it was denied or asked about
    order: int
    spans: tuple[tuple[int, int], ...] = ()

    @property
    def stated(self) -> bool:
        return not self.denied and self.kind in ("sign", "combination")


def _rank(level: str) -> int:
    return SCREEN_LEVELS.index(level)


def _denied(text: str, start: int, end: int) -> bool:
    """A negation or "if" word shortly before the match in the same clause, or "keins"/"nein" right after."""
    clause = _CLAUSE_END.split(text[:start])[-1]
    before = _WORD.findall(clause)[-_WINDOW:]
    if any(word in _DENIAL or word in _CONDITIONAL for word in before):
        return True
    return _DENIED_AFTER.match(text[end:]) is not None


def _matches(entry: Entry, text: str) -> list[tuple[int, int, bool]]:
    return [
        (m.start(), m.end(), _denied(text, m.start(), m.end()))
        for pattern in entry.compiled
        for m in pattern.finditer(text)
        if m.end() > m.start()
    ]


def _inside(inner: tuple[int, int], outer: tuple[int, int]) -> bool:
    return outer[0] <= inner[0] and inner[1] <= outer[1] and inner != outer


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def _entry_hits(spec: AskScreenSpec, text: str) -> list[_Found]:
    """Every entry with at least one match that no stronger match covers."""
    raw = [(i, entry, _matches(entry, text)) for i, entry in enumerate(spec.entries)]
    signs = [(entry, (s, e)) for _, entry, found in raw if entry.kind != "topic" for s, e, _ in found]
    result: list[_Found] = []
    for order, entry, found in raw:
        kept = []
        for start, end, denied in found:
            span = (start, end)
            # "taub beim Abwischen" is the saddle sign, not also plain numbness; "Blut im Urin" is
            # neither the bladder topic nor bleeding in pregnancy.
            covered = any(
                _inside(span, other) and _rank(other_entry.level) > _rank(entry.level)
                for other_entry, other in signs
                if other_entry is not entry
            ) or (
                entry.kind in ("topic", "part")
                and any(_overlaps(span, other) for other_entry, other in signs if other_entry.kind == "sign")
            )
            if not covered:
                kept.append((start, end, denied))
        if kept:
            result.append(
                _Found(
                    id=entry.id,
                    fields=tuple(entry.fields),
                    level=entry.level,
                    kind=entry.kind,
                    denied=all(denied for _, _, denied in kept),
                    order=order,
                    spans=tuple((s, e) for s, e, _ in kept),
                )
            )
    return result


def _combine(spec: AskScreenSpec, hits: list[_Found]) -> list[_Found]:
    """Add the combinations that fire; a stated one replaces the hits it was made of (up to its level)."""
    by_id = {hit.id: hit for hit in hits}
    offset = len(spec.entries)
    fired: list[_Found] = []
    used: set[str] = set()
    for index, combo in enumerate(spec.combinations):
        groups = [[by_id[i] for i in group if i in by_id] for group in combo.all_of]
        if not all(groups):
            continue
        members = [hit for group in groups for hit in group]
        denied = any(all(hit.denied for hit in group) for group in groups)
        fired.append(_combination(combo, members, denied, offset + index))
        if not denied:
            used |= {hit.id for hit in members if _rank(hit.level) <= _rank(combo.level)}
    return [hit for hit in hits if hit.id not in used] + fired


def _combination(combo: Combination, members: list[_Found], denied: bool, order: int) -> _Found:
    fields = tuple(dict.fromkeys(f for hit in members for f in hit.fields))
    return _Found(combo.id, fields, combo.level, "combination", denied, order)


def _drop_covered_topics(hits: list[_Found]) -> list[_Found]:
    """A topic adds nothing when a stronger-or-equal hit already stands for all of its fields."""
    result = []
    for hit in hits:
        if hit.kind == "topic":
            others = [o for o in hits if o.kind != "topic" and _rank(o.level) >= _rank(hit.level)]
            if set(hit.fields) <= {f for o in others for f in o.fields}:
                continue
        result.append(hit)
    return result


def _wording(spec: AskScreenSpec, found: _Found, lang: str) -> str:
    items: dict[str, Entry | Combination] = {e.id: e for e in spec.entries}
    items.update({c.id: c for c in spec.combinations})
    item = items[found.id]
    assert item.text is not None and item.condition is not None  # checked when the file was loaded
    text = item.text.get(lang)
    return text if found.stated else f"{item.condition.get(lang)}: {text}"


def screen(question: str, *, lang: str = "de", spec: AskScreenSpec | None = None) -> Screen:
    """The warning signs in ``question``, highest level first, each with its seek-care text in ``lang``."""
    lexicon = spec or default_ask_screen()
    text = fold(question)
    combined = _combine(lexicon, _entry_hits(lexicon, text))
    visible = _drop_covered_topics([hit for hit in combined if hit.kind != "part"])
    visible.sort(key=lambda hit: (-_rank(hit.level), not hit.stated, hit.order))
    hits: list[ScreenHit] = []
    seen: set[str] = set()
    for hit in visible:
        wording = _wording(lexicon, hit, lang)
        if wording in seen:
            continue
        seen.add(wording)
        hits.append(
            ScreenHit(id=hit.id, fields=list(hit.fields), level=hit.level, stated=hit.stated, text=wording)
        )
    level = hits[0].level if hits else None
    return Screen(level=level, hits=hits)
