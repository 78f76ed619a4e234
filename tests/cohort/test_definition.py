"""cohort.yaml: loaded and validated by the one knowledge loader (each problem names the file and key), and
the explanation of "better" stated from the change rules."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from rueckenlotse.core.kb import KnowledgeError
from rueckenlotse.knowledge import DATA_DIR, load_knowledge, packaged_knowledge
from rueckenlotse.services.cohort import explanations, measure_rules

from .support import RULES

Mutate = Callable[[Any], None]


def _broken(tmp_path: Path, mutate: Mutate) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / "cohort.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


def test_the_packaged_definition() -> None:
    params = packaged_knowledge().cohort.params()
    assert params.weeks == (4, 12) and params.measures == ("peg", "psfs", "pgic")
    assert params.window_weeks == 12 and params.gap_days == 14 and params.min_cell == 5
    assert params.diary_pain is not None and params.diary_pain.mic_points == 2
    assert params.diary_pain.mic_fraction == 0.3


@pytest.mark.parametrize(
    ("mutate", "key"),
    [
        (lambda d: d.update(outcome_weeks=[12, 4]), "outcome_weeks"),
        (lambda d: d.update(outcome_weeks=[4, 16]), "outcome_weeks"),
        (lambda d: d["measures"].append(d["measures"][0]), "measures"),
        (lambda d: d["texts"].pop("item.escalated"), "item.escalated"),
        (lambda d: d["texts"]["week"].update(en="week {wk}"), "week"),
        (lambda d: d["diary_pain"]["change"].update(mic_points=None, mic_fraction=None), "diary_pain"),
        (lambda d: d["diary_pain"].update(sources=["erfunden-2030"]), "erfunden-2030"),
        (lambda d: d["small_cells"].update(min_count=1), "min_count"),
        (lambda d: d["diary_stop"].update(gap_days=100), "gap_days"),
        (lambda d: d["measures"].append({**d["measures"][0], "id": "odi"}), "odi"),
    ],
)
def test_a_broken_definition_fails_at_load(tmp_path: Path, mutate: Mutate, key: str) -> None:
    with pytest.raises(KnowledgeError, match=rf"^{re.escape('cohort.yaml')}: ") as error:
        load_knowledge(_broken(tmp_path, mutate))
    assert key in str(error.value)


def test_the_cohort_judges_by_the_measures_own_change_rules() -> None:
    """The cohort's "improved" is the measure's minimal important change from measures.yaml, the same rule
    the person's course page uses; these are the rules issue #18 states."""
    rules = measure_rules()
    assert {m: rules[m] for m in RULES} == RULES


def test_the_explanations_state_the_rules() -> None:
    spec = packaged_knowledge().cohort
    german = explanations(spec, RULES, "de")
    assert german[0].startswith("PEG-3 (Schmerz und Alltag): „besser“ heißt, der Wert ist um mindestens 30 %")
    assert "niedriger" in german[0]
    assert "mindestens 2 Punkte höher" in german[1]
    assert "eine Antwort 1 oder 2, „schlechter“ eine Antwort 6 oder 7" in german[2]
    assert "mindestens 2 Punkte oder um mindestens 30 %" in german[3]
    assert any("14 Tagen" in line for line in german) and any("< 5" in line for line in german)
    english = explanations(spec, RULES, "en")
    assert len(english) == len(german) and "at least 30 % of the starting score lower" in english[0]
