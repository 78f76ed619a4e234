"""The one knowledge loader: every file validated at load, each error naming its file and key; the packaged
knowledge read part by part (assess reads only the rules)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from rueckenlotse.core.kb import KnowledgeError
from rueckenlotse.knowledge import DATA_DIR, Knowledge, load_knowledge, packaged_knowledge
from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.plan.models import DIARY_WARNING_SIGNS, OFFERED_WARNING_SIGNS, PAIN_REACH_ORDER

Mutate = Callable[[Any], None]


def _broken_copy(tmp_path: Path, changes: dict[str, Mutate]) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    for filename, mutate in changes.items():
        path = target / filename
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        mutate(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def _add_sign(sign: str) -> Mutate:
    return lambda d: d["warning_signs"].append(sign)


def _add_sign_with_label(d: Any) -> None:
    d["texts"]["sign.flying.label"] = {"de": "Fliegen", "en": "Flying"}


def _checkpoint_week(index: int, week: int) -> Mutate:
    return lambda d: d["parameters"]["checkpoints"][index].update(week=week)


@pytest.mark.safety("SR-KB-3")
@pytest.mark.parametrize(
    ("changes", "file", "key"),
    [
        # diary.yaml: every sign a (boolean) Case field or mapped, none twice, the lists agree, reach outwards
        ({"diary.yaml": _add_sign("flying")}, "diary.yaml", "flying"),
        ({"diary.yaml": _add_sign("fever")}, "diary.yaml", "fever"),
        ({"diary.yaml": _add_sign("age")}, "diary.yaml", "age"),
        ({"diary.yaml": lambda d: d["neuro_signs"].append("headache")}, "diary.yaml", "headache"),
        ({"diary.yaml": lambda d: d["not_offered"].append("hip_pain")}, "diary.yaml", "hip_pain"),
        (
            {"diary.yaml": lambda d: d["sign_fields"]["weakness_worse"].update(value="terrible")},
            "diary.yaml",
            "terrible",
        ),
        ({"diary.yaml": lambda d: d["pain_reach"].reverse()}, "diary.yaml", "pain_reach"),
        ({"diary.yaml": lambda d: d["pain_reach"][0].update(leg_pain="toes")}, "diary.yaml", "pain_reach"),
        # every diary sign and every reach has its label in followup.yaml
        ({"diary.yaml": _add_sign("osteoporosis")}, "followup.yaml", "sign.osteoporosis.label"),
        (
            {"diary.yaml": lambda d: d["pain_reach"].append({"id": "foot", "leg_pain": "below_knee"})},
            "followup.yaml",
            "reach.foot.label",
        ),
        # followup.yaml: the plan's numbers in order
        (
            {"followup.yaml": lambda d: d["plan"]["walking_minutes"].update(start=40)},
            "followup.yaml",
            "walking",
        ),
        (
            {"followup.yaml": lambda d: d["plan"]["progression"].update(hold_start_rise=3.5)},
            "followup.yaml",
            "hold_start_rise",
        ),
        ({"followup.yaml": lambda d: d["plan"].update(weeks=0)}, "followup.yaml", "plan.weeks"),
        (
            {"followup.yaml": lambda d: d["parameters"].update(min_window_entries=0)},
            "followup.yaml",
            "min_window",
        ),
        ({"followup.yaml": lambda d: d["plan"].pop("physiotherapy_weeks")}, "followup.yaml", "physiotherapy"),
        # milestones: rising weeks (they are the checkpoints' weeks), each with its text in education.yaml
        ({"followup.yaml": _checkpoint_week(2, 5)}, "followup.yaml", "rising weeks"),
        ({"followup.yaml": _checkpoint_week(2, 10)}, "education.yaml", "plan.milestone.week_10"),
        ({"education.yaml": lambda d: d["plan_ui"].pop("plan.milestone.week_6")}, "education.yaml", "week_6"),
        # tables.yaml and derived.yaml: the MRI table's may-match findings, the neuroplastic item count
        (
            {"tables.yaml": lambda d: d["brinjikji_prevalence"].update(may_match_radicular=["disc_x"])},
            "tables.yaml",
            "disc_x",
        ),
        (
            {
                "derived.yaml": lambda d: next(x for x in d if x["name"] == "neuroplastic_count").update(
                    value=3
                )
            },
            "derived.yaml",
            "neuroplastic_count",
        ),
        # the rest name their file too
        (
            {"rules.yaml": lambda d: d[1].update(sources=["no-such-source"])},
            "rules.yaml",
            "ces_bilateral_legs",
        ),
        ({"rules.yaml": lambda d: d[2].update(triage="sometime")}, "rules.yaml", "cord_compression"),
        (
            {"recommendations.yaml": lambda d: d[0].update(when={"x": 1})},
            "recommendations.yaml",
            "call_emergency",
        ),
        ({"texts.yaml": lambda d: d.pop("rec.heat")}, "texts.yaml", "rec.heat"),
        ({"questionnaire.yaml": lambda d: d[0].update(kind="essay")}, "questionnaire.yaml", "regions"),
        ({"exercises.yaml": lambda d: d["exercises"][0].update(level=7)}, "exercises.yaml", "level"),
        ({"ask_screen.yaml": lambda d: d["entries"][0].update(level="later")}, "ask_screen.yaml", "level"),
    ],
)
def test_a_broken_file_fails_at_load_naming_file_and_key(
    tmp_path: Path, changes: dict[str, Mutate], file: str, key: str
) -> None:
    with pytest.raises(KnowledgeError, match=rf"^{re.escape(file)}: ") as error:
        load_knowledge(_broken_copy(tmp_path, changes))
    assert key in str(error.value)


def test_a_sign_added_with_its_label_is_accepted(tmp_path: Path) -> None:
    """The diary's vocabulary is data: a new boolean Case field as a sign needs only its label."""
    directory = _broken_copy(tmp_path, {"diary.yaml": _add_sign("osteoporosis")})
    path = directory / "followup.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["texts"]["sign.osteoporosis.label"] = {"de": "Osteoporose", "en": "Osteoporosis"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert "osteoporosis" in load_knowledge(directory).diary.signs


def test_the_diary_model_takes_its_vocabulary_from_the_knowledge() -> None:
    diary = packaged_knowledge().diary
    assert DIARY_WARNING_SIGNS == diary.signs and PAIN_REACH_ORDER == diary.reach_order
    assert "neuro_bilateral" in DIARY_WARNING_SIGNS and "neuro_bilateral" not in OFFERED_WARNING_SIGNS
    assert diary.sign_field("weakness_worse") == "weakness" and diary.sign_value("fever") is True


def test_the_values_moved_unchanged() -> None:
    """Knowledge 2026.12.2 moved these from Python into the YAML; the values are those of 2026.12.1."""
    diary = packaged_knowledge().diary
    assert diary.reach_order == ("back_only", "buttock_thigh", "below_knee")
    assert [diary.reach_leg_pain(r) for r in diary.reach_order] == ["none", "above_knee", "below_knee"]
    assert set(diary.neuro_signs) == {"weakness_worse", "neuro_bilateral", "saddle_numbness"}
    assert diary.sign_value("weakness_worse") == "severe_or_progressive"
    assert len(diary.signs) == 26 and diary.not_offered == ["neuro_bilateral"]
    kb = default_knowledge()
    assert kb.neuroplastic_items == 13 and kb.spec.prevalence.may_match_radicular == ("disc_protrusion",)
    params = packaged_knowledge().followup.parameters
    assert params.min_window_entries == 3
    assert [c.kind for c in params.checkpoints if c.to_exercise] == ["see_clinician"]


def test_load_knowledge_reads_every_part() -> None:
    knowledge = load_knowledge()
    assert isinstance(knowledge, Knowledge)
    assert knowledge.version == default_knowledge().version
    assert knowledge.questionnaire.questions and knowledge.library.exercises and knowledge.followup.texts
    assert knowledge.ask_screen.entries and knowledge.diary.signs


def test_the_packaged_knowledge_is_loaded_once() -> None:
    assert packaged_knowledge() is packaged_knowledge()
    assert default_knowledge() is default_knowledge() is packaged_knowledge().rules


def test_assess_reads_only_the_rules() -> None:
    """`from rueckenlotse import assess` stays cheap: the questionnaire, library, follow-up and lexicon
    are read only when first used."""
    code = (
        "from rueckenlotse import assess\n"
        "assess({'age': 40, 'regions': ['low_back'], 'duration_weeks': 1})\n"
        "from rueckenlotse.knowledge import packaged_knowledge\n"
        "print(sorted(k for k in vars(packaged_knowledge()) if k != 'directory'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['rules']"
