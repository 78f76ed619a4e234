"""followup.yaml: rule parameters with sources, texts in German and English, plain German."""

from __future__ import annotations

import re
import shutil
import statistics
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import textstat
import yaml

from rueckenlotse.core.kb import KnowledgeError
from rueckenlotse.knowledge import DATA_DIR, load_knowledge
from rueckenlotse.plan.followup_texts import (
    default_followup,
    fmt_number,
    required_text_keys,
)

MIN_EACH = 45
MIN_AVERAGE = 60
# Values that fill the placeholders when a sentence is scored as the patient reads it.
SAMPLE = {
    "week": 6,
    "recent": "6,1",
    "baseline": "6,4",
    "points": "2",
    "percent": "30",
    "start": "bis unter das Knie",
    "end": "nur im Rücken",
    "signs": "Fieber über 38 Grad",
    "conditions": "Bruch eines Wirbels",
    "condition": "Bruch eines Wirbels",
    "since": "02.03.2026",
    "count": 3,
}


def _sentence_texts() -> dict[str, str]:
    return {
        key: text.de
        for key, text in default_followup().texts.items()
        if not key.startswith("plot.") and not key.endswith((".label", ".title"))
    }


@pytest.mark.safety("SR-DIA-3")
def test_parameters_follow_the_issue_and_cite_the_nvl() -> None:
    params = default_followup().parameters
    assert [(c.kind, c.week) for c in params.checkpoints] == [
        ("risk_screening", 4),
        ("see_clinician", 6),
        ("multidisciplinary", 12),
    ]
    assert all(c.sources == ["nvl-kreuzschmerz-2017"] for c in params.checkpoints)
    assert (params.improvement.min_points, params.improvement.min_fraction) == (2, 0.3)
    assert params.baseline_days == params.recent_days == 7
    assert "NVL 3-4" in default_followup().texts["escalation.risk_screening.action"].de


@pytest.mark.safety("SR-LANG-1")
def test_every_text_has_german_and_english_with_the_same_placeholders() -> None:
    texts = default_followup().texts
    assert set(required_text_keys()) <= set(texts)
    for key, text in texts.items():
        assert text.de.strip() and text.en.strip(), key
        assert set(re.findall(r"\{(\w+)\}", text.de)) == set(re.findall(r"\{(\w+)\}", text.en)), key
        if not key.startswith(("plot.region", "plot.legend")):
            assert text.de != text.en, f"{key}: not translated"


@pytest.mark.safety("SR-LANG-2")
def test_german_texts_are_plain() -> None:
    textstat.set_lang("de")
    scores = {
        key: textstat.flesch_reading_ease(text.format(**SAMPLE)) for key, text in _sentence_texts().items()
    }
    assert len(scores) >= 15
    assert not {k: round(v) for k, v in scores.items() if v < MIN_EACH}
    assert statistics.mean(scores.values()) >= MIN_AVERAGE


def test_numbers_use_a_decimal_comma_in_german() -> None:
    assert fmt_number(6, "de") == "6,0"
    assert fmt_number(6.14, "de") == "6,1" and fmt_number(6.14, "en") == "6.1"


def _broken(tmp_path: Path, mutate: Callable[[dict[str, Any]], None]) -> Path:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / "followup.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return target


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["texts"]["escalation.reason"].pop("en"), "escalation.reason"),
        (lambda d: d["texts"].pop("sign.fever.label"), "sign.fever.label"),
        (lambda d: d["texts"]["trend.improved"].update(en="Better by {points}."), "trend.improved"),
        (lambda d: d["parameters"]["checkpoints"][1].update(sources=["no-such-source"]), "no-such-source"),
        (lambda d: d["parameters"]["checkpoints"][0].update(week=8), "rising weeks"),
        (lambda d: d["parameters"]["improvement"].update(min_fraction=1.5), "min_fraction"),
    ],
)
def test_loading_fails_naming_the_key(
    tmp_path: Path, mutate: Callable[[dict[str, Any]], None], message: str
) -> None:
    with pytest.raises(KnowledgeError, match=r"^followup\.yaml: ") as error:
        load_knowledge(_broken(tmp_path, mutate))
    assert message in str(error.value)
