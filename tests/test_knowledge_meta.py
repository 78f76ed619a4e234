"""Meta-tests over the knowledge base: sources, texts, contract vocabulary, version pinning, load errors."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import pytest
import yaml

from rueckenlotse.core.kb import KnowledgeBase, KnowledgeError
from rueckenlotse.knowledge import DATA_DIR, knowledge_files, load_knowledge

HASHES = Path(__file__).with_name("knowledge_hashes.json")


def knowledge_hash() -> str:
    digest = hashlib.sha256()
    for path in knowledge_files():
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@pytest.mark.safety("SR-KB-1")
def test_knowledge_files_change_only_with_a_new_version(kb: KnowledgeBase) -> None:
    pinned = json.loads(HASHES.read_text(encoding="utf-8"))
    current = knowledge_hash()
    assert kb.version in pinned, (
        f'knowledge_version {kb.version} has no pinned hash: add "{kb.version}": "{current}" to {HASHES.name}'
    )
    assert pinned[kb.version] == current, (
        f"the knowledge files changed but knowledge_version is still {kb.version}: "
        "set a new version in manifest.yaml, note the clinical change in CHANGELOG.md and pin the new hash"
    )


@pytest.mark.safety("SR-INF-2")
def test_every_source_id_resolves(kb: KnowledgeBase) -> None:
    used = {s for r in kb.spec.rules for s in r.sources} | {
        s for r in kb.spec.recommendations for s in r.sources
    }
    used.add(kb.spec.prevalence.source)
    assert used <= set(kb.sources)
    assert all(r.sources for r in kb.spec.rules) and all(r.sources for r in kb.spec.recommendations)


@pytest.mark.safety("SR-LANG-1")
def test_every_text_exists_in_german_and_english(kb: KnowledgeBase) -> None:
    for key in kb.required_text_keys():
        assert key in kb.spec.texts, key
    for key, entry in kb.spec.texts.items():
        assert entry.get("de", "").strip() and entry.get("en", "").strip(), key
        if key.split(".")[0] in {"rec", "rule", "triage", "condition"}:
            assert entry["de"] != entry["en"], f"{key}: not translated"


@pytest.mark.safety("SR-LANG-1")
def test_placeholders_agree_between_languages(kb: KnowledgeBase) -> None:
    for key, entry in kb.spec.texts.items():
        de, en = (set(re.findall(r"\{(\w+)\}", entry[lang])) for lang in ("de", "en"))
        assert de == en, key


@pytest.mark.safety("SR-TRI-2")
def test_emergency_texts_name_112_first(kb: KnowledgeBase) -> None:
    for key in ("rec.call_emergency", "triage.emergency.action", "triage.emergency.title"):
        for lang in ("de", "en"):
            text = kb.text(key, lang)
            assert "112" in text and text.index("112") < 40, (key, lang)


@pytest.mark.safety("SR-KB-3")
def test_contract_recommendation_ids_exist(kb: KnowledgeBase, shared_dir: Path) -> None:
    contract = (shared_dir / "contract" / "CONTRACT.md").read_text(encoding="utf-8")
    block = contract.split("`recommendations[].id` vocabulary")[1].split("When each is given")[0]
    ids = set(re.findall(r"`([a-z_]+)`", block))
    assert len(ids) >= 22
    # contract 2's new recommendation ids, written here from contract/v2/CONTRACT.md
    ids |= {"pregnancy_pain_relief", "postpartum_pain_relief", "heat_with_care", "physiotherapy_referral",
            "discuss_findings_with_doctor"}  # fmt: skip
    assert ids <= {r.id for r in kb.spec.recommendations}


@pytest.mark.safety("SR-KB-3")
def test_contract_condition_vocabulary_exists(kb: KnowledgeBase, shared_dir: Path) -> None:
    contract = (shared_dir / "contract" / "CONTRACT.md").read_text(encoding="utf-8")
    block = contract.split("`suspected_conditions` vocabulary")[1].split("`recommendations[].id`")[0]
    ids = set(re.findall(r"`([a-z_]+)`", block))
    assert len(ids) == 12
    schema = json.loads(
        (shared_dir / "contract" / "v2" / "assessment.schema.json").read_text(encoding="utf-8")
    )
    comment = schema["properties"]["suspected_conditions"]["$comment"]
    added = set(re.findall(r"[a-z_]+", comment.split("contract 2 adds")[1]))
    assert len(added) == 5
    ids |= added
    assert ids == {c.id for c in kb.spec.conditions}
    suspected = {r.suspect for r in kb.spec.rules}
    assert ids <= suspected, "every condition is suspected by at least one rule"


@pytest.mark.safety("SR-KB-3")
def test_red_flag_conditions_follow_the_contract(kb: KnowledgeBase) -> None:
    assert kb.red_flag_conditions == {c.id for c in kb.spec.conditions} - {
        "radiculopathy",
        "axial_spondyloarthritis",
    }


@pytest.mark.safety("SR-INF-2")
def test_unchecked_sources_are_marked(kb: KnowledgeBase) -> None:
    assert kb.sources["emergency-consensus"].status == "unchecked"


def _broken_copy(tmp_path: Path, filename: str, mutate: object) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / filename
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


@pytest.mark.safety("SR-KB-3")
@pytest.mark.parametrize(
    ("filename", "mutate", "message"),
    [
        ("rules.yaml", lambda d: d[0].update(when={"any": ["no_such_field"]}), "ces_saddle_or_sphincter"),
        ("rules.yaml", lambda d: d[1].update(sources=["no-such-source"]), "ces_bilateral_legs"),
        ("rules.yaml", lambda d: d[2].update(triage="sometime"), "cord_compression_bilateral_legs"),
        ("rules.yaml", lambda d: d[3].update(when={"lt": ["age"]}), "myelopathy_gait_or_hands"),
        ("rules.yaml", lambda d: d[0].update(suspect="flu"), "ces_saddle_or_sphincter"),
        ("recommendations.yaml", lambda d: d[0].update(when={"nope": 1}), "call_emergency"),
        ("derived.yaml", lambda d: d[0].update(value={"div": ["age", 0]}), "onset_age"),
        ("texts.yaml", lambda d: d.pop("rec.heat"), "rec.heat"),
        ("texts.yaml", lambda d: d["rec.heat"].pop("en"), "rec.heat"),
    ],
)
def test_loading_fails_naming_the_rule(tmp_path: Path, filename: str, mutate: object, message: str) -> None:
    with pytest.raises(KnowledgeError, match=re.escape(message)):
        load_knowledge(_broken_copy(tmp_path, filename, mutate))
