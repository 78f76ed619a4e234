"""Reading the knowledge YAML files. The only place that touches them.

``load_knowledge(directory)`` reads and validates every file and returns a ``Knowledge``: the compiled rules
(``rules``, what the engine runs), the questionnaire, the exercise library, the follow-up rules and texts,
the diary's warning-sign check, the warning-sign lexicon of ``ask``, the cohort definition, and the version.
Every problem is a KnowledgeError naming the file and the rule, question or key.

The packaged knowledge (``packaged_knowledge()``) is loaded once per process and part by part, when a part
is first used: ``from rueckenlotse import assess`` reads only the rules (``default_knowledge()``), not the
questionnaire, the library or the lexicon (together about as long again to read).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ..core.kb import KnowledgeBase, KnowledgeError, KnowledgeSpec
from ..i18n import languages, with_added_languages
from .ask_screen import AskScreenSpec
from .cohort import COHORT_FILE, CohortSpec, build_cohort
from .diary import DIARY_FILE, DiarySpec
from .drawings import DRAWINGS_FILE
from .errors import owner_of, validation_error
from .followup import FOLLOWUP_FILE, FollowUpSpec, build_followup
from .library import EDUCATION_FILE, EXERCISES_FILE, SOURCES_FILE, Library, build_library
from .measures import MEASURES_FILE, MeasureCatalogue, build_measures
from .questionnaire import QUESTIONNAIRE_FILE, Questionnaire, parse_questionnaire

__all__ = [
    "DATA_DIR",
    "Knowledge",
    "default_ask_screen",
    "default_knowledge",
    "knowledge_files",
    "load_knowledge",
    "load_library_part",
    "load_measures_part",
    "owner_of",
    "packaged_knowledge",
]

DATA_DIR = Path(__file__).resolve().parent / "data"
MANIFEST_FILE = "manifest.yaml"
ASK_SCREEN_FILE = "ask_screen.yaml"
TABLES_FILE = "tables.yaml"

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
_FILE_OF_KEY = {key: name for name, key in _PARTS.items()} | {
    "prevalence": TABLES_FILE,
    "knowledge_version": MANIFEST_FILE,
}


def knowledge_files(directory: Path = DATA_DIR) -> list[Path]:
    """Every file that belongs to the knowledge base (what knowledge_version pins)."""
    return sorted(p for p in directory.glob("*.yaml"))


def _read(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as e:
        raise KnowledgeError(f"{path.name}: cannot read: {e}") from e


# ---- the rules: what `assess` needs ---------------------------------------------------------------------
def _rules_file(raw: Mapping[str, Any], message: str) -> str:
    """The file behind a compile error of the core (which names the rule or text, not the file)."""
    if message.startswith("text "):
        return _FILE_OF_KEY["texts"]
    if message.startswith("prevalence table"):
        return _FILE_OF_KEY["prevalence"]
    quoted = message.split("'")[1] if message.count("'") >= 2 else ""
    for key in ("rules", "recommendations", "derived"):
        if quoted in _names(raw.get(key)):
            return _FILE_OF_KEY[key]
    return "policy.yaml"


def _names(items: Any) -> set[str]:
    """The ids and names a core error can quote for the entries of one file (rec.<id>, rec.<id>.<variant>)."""
    names: set[str] = set()
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, Mapping):
            continue
        own = str(item.get("id") or item.get("name"))
        names |= {own, f"rec.{own}"}
        names |= {str(e.get("id")) for e in item.get("escalate") or [] if isinstance(e, Mapping)}
        names |= {f"rec.{own}.{v.get('id')}" for v in item.get("variants") or [] if isinstance(v, Mapping)}
    return names


def load_rules(directory: Path = DATA_DIR) -> KnowledgeBase:
    """Load, validate and compile the rules, policy, recommendations and texts (what the engine runs)."""
    raw: dict[str, Any] = dict(_read(directory / MANIFEST_FILE) or {})
    raw.pop("contract_version", None)
    for filename, key in _PARTS.items():
        raw[key] = _read(directory / filename)
    raw["prevalence"] = (_read(directory / TABLES_FILE) or {}).get("brinjikji_prevalence")
    # The language list and the added languages' texts come from the translation layer.
    raw["languages"] = list(languages())
    raw["texts"] = with_added_languages(raw["texts"])
    try:
        spec = KnowledgeSpec.model_validate(raw)
    except ValidationError as e:
        first = e.errors()[0]
        filename = _FILE_OF_KEY.get(str(first["loc"][0]), MANIFEST_FILE) if first["loc"] else MANIFEST_FILE
        raise KnowledgeError(f"{filename}: rule {owner_of(raw, first['loc'])}: {first['msg']}") from e
    try:
        return KnowledgeBase(spec)
    except KnowledgeError as e:
        raise KnowledgeError(f"{_rules_file(raw, str(e))}: {e}") from e


# ---- the other parts -------------------------------------------------------------------------------------
def load_questionnaire_part(directory: Path = DATA_DIR) -> Questionnaire:
    return parse_questionnaire(_read(directory / QUESTIONNAIRE_FILE))


def load_library_part(directory: Path = DATA_DIR) -> Library:
    return build_library(
        _read(directory / EXERCISES_FILE),
        _read(directory / EDUCATION_FILE),
        _read(directory / SOURCES_FILE),
        _read(directory / DRAWINGS_FILE),
    )


def load_diary_part(directory: Path = DATA_DIR) -> DiarySpec:
    raw = _read(directory / DIARY_FILE)
    try:
        return DiarySpec.model_validate(raw)
    except ValidationError as e:
        raise validation_error(DIARY_FILE, raw, e) from None


def load_measures_part(knowledge: Knowledge) -> MeasureCatalogue:
    """Load and validate measures.yaml of ``knowledge``'s directory against its other parts."""
    rules = knowledge.rules
    return build_measures(
        _read(knowledge.directory / MEASURES_FILE),
        questionnaire=knowledge.questionnaire,
        known_sources=set(rules.sources),
        derived_names={d.name for d in rules.spec.derived},
        checkpoint_weeks=set(knowledge.followup.parameters.milestone_weeks),
    )


def load_ask_screen(directory: Path = DATA_DIR) -> AskScreenSpec:
    """Load and validate the warning-sign lexicon of `ask`; a KnowledgeError names the bad entry."""
    raw = _read(directory / ASK_SCREEN_FILE)
    try:
        return AskScreenSpec.model_validate(raw)
    except ValidationError as e:
        raise validation_error(ASK_SCREEN_FILE, raw, e) from None


class Knowledge:
    """Every knowledge file of one directory, validated; each part is read when first used, then kept.

    ``load_knowledge`` reads every part at once (so a broken file fails there); the packaged knowledge
    reads a part when it is first asked for.
    """

    def __init__(self, directory: Path = DATA_DIR) -> None:
        self.directory = directory

    @cached_property
    def rules(self) -> KnowledgeBase:
        """The compiled rules, policy, recommendations, texts and sources: what the engine runs."""
        return load_rules(self.directory)

    @property
    def version(self) -> str:
        return self.rules.version

    @cached_property
    def questionnaire(self) -> Questionnaire:
        return load_questionnaire_part(self.directory)

    @cached_property
    def library(self) -> Library:
        return load_library_part(self.directory)

    @cached_property
    def diary(self) -> DiarySpec:
        return load_diary_part(self.directory)

    @cached_property
    def followup(self) -> FollowUpSpec:
        raw = _read(self.directory / FOLLOWUP_FILE)
        return build_followup(raw, set(self.rules.sources), self.diary)

    @cached_property
    def ask_screen(self) -> AskScreenSpec:
        return load_ask_screen(self.directory)

    @cached_property
    def cohort(self) -> CohortSpec:
        """What a practice's cohort table counts (cohort.yaml)."""
        return build_cohort(_read(self.directory / COHORT_FILE), set(self.rules.sources))

    @cached_property
    def measures(self) -> MeasureCatalogue:
        """The outcome measures, checked against the questionnaire (items asked again), the sources, the
        derived values (a score the engine derives) and the follow-up checkpoints (a week asked only
        without improvement)."""
        return load_measures_part(self)

    def load_all(self) -> Knowledge:
        """Read every part now (a broken file raises here, not when the part is first used)."""
        parts = ("rules", "questionnaire", "library", "diary", "followup", "ask_screen", "measures", "cohort")
        for part in parts:
            getattr(self, part)
        self._check_across()
        return self

    def _check_across(self) -> None:
        """What one file needs of another: each milestone (a checkpoint week) has its text; each measure the
        cohort reports is an outcome measure (its change rule comes from there)."""
        unknown = sorted({m.id for m in self.cohort.measures} - set(self.measures.ids))
        if unknown:
            raise KnowledgeError(f"{COHORT_FILE}: measures: not in {MEASURES_FILE}: {unknown}")
        for week in self.followup.parameters.milestone_weeks:
            key = f"plan.milestone.week_{week}"
            if key not in self.library.ui:
                raise KnowledgeError(
                    f"{EDUCATION_FILE}: plan_ui: text {key!r} is missing (checkpoint week of {FOLLOWUP_FILE})"
                )


def load_knowledge(directory: Path = DATA_DIR) -> Knowledge:
    """Load and validate every knowledge file of ``directory``; a KnowledgeError names file and key."""
    return Knowledge(directory).load_all()


@cache
def packaged_knowledge() -> Knowledge:
    """The packaged knowledge, once per process; each part is read when first used."""
    return Knowledge(DATA_DIR)


def default_knowledge() -> KnowledgeBase:
    """The packaged rules (what `assess` runs), loaded once per process: the cheap entry point."""
    return packaged_knowledge().rules


def default_ask_screen() -> AskScreenSpec:
    """The packaged lexicon, loaded and compiled once per process."""
    return packaged_knowledge().ask_screen
