"""Answering a question from the education modules: BM25 over every passage, offline.

Each passage is one document: its text plus its module's title and keywords. Words are lower-cased,
stop words dropped and the rest stemmed with Snowball (PyStemmer: German or English). German compound
words are also split into two parts that occur in the modules ("Bandscheibenvorfall" → "Bandscheibe" +
"Vorfall"), so a question can find a passage that uses either form. The index is built once per
language per process. A question whose words occur in no passage gets no answer ([]).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache

import bm25s  # type: ignore[import-untyped]
import numpy as np
import Stemmer  # type: ignore[import-not-found]
from bm25s.stopwords import STOPWORDS_EN, STOPWORDS_GERMAN  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict

from ..i18n import check_language, fallback_of
from .ask_screen import Screen, screen
from .library import Library, default_library

MAX_K = 20
# The modules whose passages may follow a stated emergency sign.
SEEK_CARE_MODULES = frozenset({"when_to_seek_care"})
_WORD = re.compile(r"\w\w+", re.UNICODE)
_STEMMER_LANGUAGE = {"de": "german", "en": "english"}
_STOPWORDS: dict[str, frozenset[str]] = {
    "de": frozenset(STOPWORDS_GERMAN),
    "en": frozenset(STOPWORDS_EN),
}
# A compound is split only into parts of at least this many letters, and only if long enough.
_MIN_PART = 4
_MIN_COMPOUND = 2 * _MIN_PART
_LINKS = ("", "s", "n", "en", "e", "es")  # German linking elements between compound parts


class AskHit(BaseModel):
    """One passage that answers a question, with its module and the module's sources."""

    model_config = ConfigDict(frozen=True)
    module_id: str
    module_title: str
    text: str
    score: float
    sources: list[str]


@dataclass(frozen=True)
class _Index:
    retriever: bm25s.BM25
    vocabulary: frozenset[str]
    analyse: Callable[[str], list[str]]
    hits: tuple[tuple[str, str, str, tuple[str, ...]], ...]  # module id, title, passage, sources


def _words(text: str, lang: str) -> list[str]:
    stop = _STOPWORDS[lang]
    return [w for w in _WORD.findall(text.lower()) if w not in stop]


def _analyser(lang: str, lexicon: frozenset[str]) -> Callable[[str], list[str]]:
    """Words → stems, with German compounds also split into stems from ``lexicon``."""
    stemmer = Stemmer.Stemmer(_STEMMER_LANGUAGE[lang])

    def stem(word: str) -> str:
        return str(stemmer.stemWord(word))

    def split(word: str) -> list[str]:
        if lang != "de" or len(word) < _MIN_COMPOUND or not word.isalpha():
            return []
        for cut in range(len(word) - _MIN_PART, _MIN_PART - 1, -1):  # longest first part first
            head, tail = word[:cut], word[cut:]
            tail_stem = stem(tail)
            if tail_stem not in lexicon:
                continue
            for link in _LINKS:
                if link and not head.endswith(link):
                    continue
                base = head[: len(head) - len(link)] if link else head
                if len(base) >= _MIN_PART and stem(base) in lexicon:
                    return [stem(base), tail_stem]
        return []

    def analyse(text: str) -> list[str]:
        tokens: list[str] = []
        for word in _words(text, lang):
            tokens.append(stem(word))
            tokens.extend(split(word))
        return tokens

    return analyse


def _documents(library: Library, lang: str) -> Iterable[tuple[str, str, str, str, tuple[str, ...]]]:
    for module in library.modules.values():
        title = module.title.get(lang)
        keywords = module.keywords.get(lang) if module.keywords else ""
        for passage in module.passages:
            text = passage.get(lang)
            yield module.id, title, text, f"{title} {title} {keywords} {text}", tuple(module.sources)


@cache
def _index(lang: str) -> _Index:
    library = default_library()
    docs = list(_documents(library, lang))
    plain = _analyser(lang, frozenset())
    lexicon = frozenset(t for *_, body, _ in docs for t in plain(body))
    analyse = _analyser(lang, lexicon)
    corpus = [analyse(body) for *_, body, _ in docs]
    retriever = bm25s.BM25()
    retriever.index(corpus, show_progress=False)
    vocabulary = frozenset(t for tokens in corpus for t in tokens)
    hits = tuple((module_id, title, text, sources) for module_id, title, text, _, sources in docs)
    return _Index(retriever=retriever, vocabulary=vocabulary, analyse=analyse, hits=hits)


def ask(
    question: str, *, lang: str = "de", k: int = 3, modules: frozenset[str] | None = None
) -> list[AskHit]:
    """The ``k`` passages that best answer ``question`` (best first); [] when nothing matches.

    ``modules`` limits the answer to passages of those modules (None: all modules).
    """
    check_language(lang)
    if not 1 <= k <= MAX_K:
        raise ValueError(f"k must be between 1 and {MAX_K}, not {k}")
    # The passages and the search are in the language itself or, for an added one, in its fallback.
    index = _index(fallback_of(lang))
    tokens = [t for t in index.analyse(question) if t in index.vocabulary]
    if not tokens:
        return []
    scores = np.asarray(index.retriever.get_scores(tokens), dtype=float)
    order = sorted(
        (i for i in range(len(scores)) if modules is None or index.hits[i][0] in modules),
        key=lambda i: (-scores[i], i),
    )
    result: list[AskHit] = []
    for i in order[:k]:
        if scores[i] <= 0:
            break
        module_id, title, text, sources = index.hits[i]
        result.append(
            AskHit(
                module_id=module_id,
                module_title=title,
                text=text,
                score=round(float(scores[i]), 4),
                sources=list(sources),
            )
        )
    return result


def ask_screened(question: str, *, lang: str = "de", k: int = 3) -> tuple[Screen, list[AskHit]]:
    """The warning-sign screen of ``question`` and the passages that may follow it (SR-ASK-1).

    When the question states an emergency sign ("ich kann nicht pinkeln"), only passages about when to
    seek care that themselves name 112 follow: a passage like "Etwas Schmerz bei Bewegung ist normal"
    or "Die meisten Rückenschmerzen sind harmlos" would talk the 112 down.
    """
    found = screen(question, lang=lang)
    if not (found.level == "emergency" and found.stated):
        return found, ask(question, lang=lang, k=k)
    passages = ask(question, lang=lang, k=MAX_K, modules=SEEK_CARE_MODULES)
    return found, [hit for hit in passages if "112" in hit.text][:k]
