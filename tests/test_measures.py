"""Outcome measures (measures.yaml, plan.measures): each measure scored by its published rule, change
judged by its published minimal important change, answers checked field by field, the series and what is
due when; and a broken measures.yaml refused at load, naming the measure."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from rueckenlotse.core.engine import evaluate
from rueckenlotse.core.errors import InvalidInput
from rueckenlotse.core.kb import KnowledgeBase, KnowledgeError
from rueckenlotse.core.models import Case
from rueckenlotse.knowledge import DATA_DIR, load_knowledge
from rueckenlotse.knowledge.measures import MeasureCatalogue
from rueckenlotse.plan.measures import (
    Recorded,
    build_series,
    default_measures,
    due_measures,
    form_answers,
    judge,
    score_response,
    validate_answers,
    week_label,
)


@pytest.fixture(scope="module")
def measures() -> MeasureCatalogue:
    return default_measures()


def _case(regions: list[str] | None = None, **startback: Any) -> Case:
    data: dict[str, Any] = {"age": 45, "regions": regions or ["low_back"], "duration_weeks": 3}
    if startback:
        data["startback"] = startback
    return Case.model_validate(data)


NO = dict.fromkeys(
    (
        "leg_pain_recent",
        "neck_or_shoulder_pain_recent",
        "walks_short_distances_only",
        "dresses_more_slowly",
        "unsafe_to_be_active",
        "worrying_thoughts",
        "pain_terrible_never_better",
        "not_enjoying_things",
    ),
    False,
)


def test_the_packaged_measures(measures: MeasureCatalogue) -> None:
    assert measures.ids == ("peg", "psfs", "pgic", "startback")
    peg = measures.get("peg")
    # LOINC: the PEG panel, its mean score and the three items (checked codes only).
    assert (peg.loinc and peg.loinc.panel, peg.loinc and peg.loinc.score) == ("91148-7", "91147-9")
    assert [i.loinc for i in peg.items] == ["75893-8", "91145-3", "91146-1"]
    assert measures.get("pgic").schedule.weeks == (2, 4, 6, 12)
    assert measures.get("startback").schedule.only_without_improvement
    assert {m.licence for m in measures.measures} <= {"public_domain", "free_with_attribution"}
    for m in measures.measures:
        assert "angepasst" in m.title.de and "adapted" in m.title.en


# ---- PEG: Krebs EE et al., J Gen Intern Med 2009;24(6):733-738 ------------------------------------------
# The PEG score is the mean of its three 0-10 items (pain on average, interference with enjoyment of life,
# interference with general activity). The minimal important change used here is a 30 % reduction
# (IMMPACT, Dworkin et al., J Pain 2008;9(2):105-121: "at least 30 %" is moderately important).
@pytest.mark.parametrize(
    ("pain", "enjoyment", "activity", "score"),
    [(6, 7, 4, 5.67), (5, 5, 5, 5.0), (0, 0, 0, 0.0), (10, 10, 10, 10.0), (8, 6, 5, 6.33)],
)
def test_peg_is_the_mean_of_its_three_items(
    measures: MeasureCatalogue, pain: int, enjoyment: int, activity: int, score: float
) -> None:
    result = score_response(measures, "peg", {"pain": pain, "enjoyment": enjoyment, "activity": activity})
    assert result.score == score


@pytest.mark.parametrize(
    ("baseline", "current", "change"),
    [
        (6.0, 4.2, "better"),
        (6.0, 4.3, "same"),
        (6.0, 7.8, "worse"),
        (6.0, 7.7, "same"),
        (10.0, 7.0, "better"),
    ],
)
def test_peg_change_by_thirty_percent(
    measures: MeasureCatalogue, baseline: float, current: float, change: str
) -> None:
    assert judge(measures.get("peg"), baseline, current) == change


# ---- PSFS: Stratford P et al., Physiotherapy Canada 1995;47(4):258-263 ----------------------------------
# Score = sum of the activity scores / number of activities (each 0 "unable" … 10 "as before"). The change
# that counts is 2 points of the mean (minimum detectable change, 90 %; Abbott & Schmitt, JOSPT
# 2014;44(8):560-564: minimum important difference 2.3 for a medium change).
@pytest.mark.parametrize(
    ("values", "score"),
    [([3, 5, 4], 4.0), ([2], 2.0), ([0, 10], 5.0), ([1, 2, 2], 1.67), ([7, 8, 6, 9, 10], 8.0)],
)
def test_psfs_is_the_mean_of_the_named_activities(
    measures: MeasureCatalogue, values: list[int], score: float
) -> None:
    rows = [{"name": f"Tätigkeit {n}", "value": v} for n, v in enumerate(values)]
    assert score_response(measures, "psfs", {"activity": rows}).score == score


@pytest.mark.parametrize(
    ("baseline", "current", "change"),
    [
        (4.0, 6.0, "better"),
        (4.0, 5.99, "same"),
        (4.0, 2.0, "worse"),
        (4.0, 2.01, "same"),
        (3.33, 5.33, "better"),
    ],
)
def test_psfs_change_by_two_points(
    measures: MeasureCatalogue, baseline: float, current: float, change: str
) -> None:
    assert judge(measures.get("psfs"), baseline, current) == change


# ---- PGIC: Guy W. ECDEU Assessment Manual 1976 (CGI improvement); Hurst & Bolton, JMPT 2004;27(1):26-35 ---
# 1 very much better … 4 no change … 7 very much worse. Better: much or very much better (IMMPACT 2008:
# "much improved" is moderately important); worse: much or very much worse. No baseline: the value itself.
@pytest.mark.parametrize(
    ("value", "change"),
    [(1, "better"), (2, "better"), (3, "same"), (4, "same"), (5, "same"), (6, "worse"), (7, "worse")],
)
def test_pgic_rates_the_change_itself(measures: MeasureCatalogue, value: int, change: str) -> None:
    pgic = measures.get("pgic")
    scored = score_response(measures, pgic, {"change": value})
    assert scored.score == value
    assert judge(pgic, None, scored.score) == change
    assert pgic.score_label(value) is not None


# ---- STarT Back: Hill JC et al., Arthritis Rheum 2008;59(5):632-641 -------------------------------------
# Nine items: total 0-9, the psychosocial subscale (items 5-9: the last four yes/no items and
# bothersomeness "very" or "extremely") 0-5. Psychosocial 4 or 5: high risk; total 0-3: low; otherwise
# medium. Rückenlotse's adapted questions, scored by the intake's own rules (derived.yaml).
@pytest.mark.parametrize(
    ("yes", "bothersomeness", "total", "psychosocial", "group"),
    [
        ((), 2, 0, 0, 0),  # nothing: low
        (("leg_pain_recent", "walks_short_distances_only", "dresses_more_slowly"), 1, 3, 0, 0),  # 3: low
        (("leg_pain_recent", "neck_or_shoulder_pain_recent", "walks_short_distances_only"), 3, 4, 1, 1),
        (("leg_pain_recent", "unsafe_to_be_active", "worrying_thoughts"), 4, 4, 3, 1),  # medium
        (("unsafe_to_be_active", "worrying_thoughts", "pain_terrible_never_better"), 3, 4, 4, 2),  # high
        (tuple(NO), 4, 9, 5, 2),
    ],
)
def test_startback_scored_as_at_the_intake(
    measures: MeasureCatalogue,
    kb: KnowledgeBase,
    yes: tuple[str, ...],
    bothersomeness: int,
    total: int,
    psychosocial: int,
    group: int,
) -> None:
    answers = {**NO, **dict.fromkeys(yes, True), "bothersomeness": bothersomeness}
    scored = score_response(measures, "startback", answers, case=_case(), kb=kb)
    assert (scored.score, scored.subscales) == (group, {"total": total, "psychosocial": psychosocial})
    # The same answers at the intake: the engine's own result agrees.
    intake = evaluate(kb, _case(**answers))
    assert intake.startback is not None
    assert (intake.startback.total, intake.startback.psychosocial) == (total, psychosocial)
    assert measures.get("startback").scoring.derived.categories[intake.startback.group.value] == group  # type: ignore[union-attr]


def test_startback_one_group_lower_is_better(measures: MeasureCatalogue) -> None:
    startback = measures.get("startback")
    assert [judge(startback, 2, s) for s in (2, 1, 0)] == ["same", "better", "better"]
    assert judge(startback, 0, 1) == "worse"
    assert startback.score_label(2) is not None and startback.score_label(2).de == "hoch"  # type: ignore[union-attr]


def test_startback_items_are_the_questionnaires(measures: MeasureCatalogue) -> None:
    from rueckenlotse.knowledge import packaged_knowledge

    questions = {q.field: q for q in packaged_knowledge().questionnaire.questions if q.field}
    for item in measures.get("startback").items:
        assert item.text == questions[f"startback.{item.id}"].text


def test_startback_gives_no_score_for_neck_pain_alone(measures: MeasureCatalogue, kb: KnowledgeBase) -> None:
    with pytest.raises(InvalidInput) as error:
        score_response(measures, "startback", {**NO, "bothersomeness": 1}, case=_case(["neck"]), kb=kb)
    assert error.value.errors[0].type == "not_scored"


def test_startback_needs_the_intake(measures: MeasureCatalogue) -> None:
    with pytest.raises(ValueError, match="intake"):
        score_response(measures, "startback", {**NO, "bothersomeness": 1})


# ---- checking answers ---------------------------------------------------------------------------------
def test_every_problem_is_named_by_its_field_german_first(measures: MeasureCatalogue) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_answers(measures, "peg", {"pain": 11, "enjoyment": "viel", "extra": 1})
    found = {e.field: e.message for e in error.value.errors}
    assert found == {
        "pain": "Bitte wählen Sie eine ganze Zahl von 0 bis 10.",
        "enjoyment": "Bitte wählen Sie eine ganze Zahl von 0 bis 10.",
        "activity": "Bitte beantworten Sie diese Frage.",
        "extra": "Diese Angabe gehört nicht zu diesem Fragebogen.",
    }
    with pytest.raises(InvalidInput) as english:
        validate_answers(measures, "peg", {"pain": True}, lang="en")
    assert english.value.errors[0].message == "Please choose a whole number from 0 to 10."


def test_named_activities_are_checked_row_by_row(measures: MeasureCatalogue) -> None:
    with pytest.raises(InvalidInput) as error:
        validate_answers(
            measures, "psfs", {"activity": [{"name": "Gehen", "value": 4}, {"name": " ", "value": 12}]}
        )
    assert sorted(e.field for e in error.value.errors) == ["activity[1].name", "activity[1].value"]
    for rows in ([], [{"name": "x", "value": 1}] * 6, "Gehen"):
        with pytest.raises(InvalidInput) as count:
            validate_answers(measures, "psfs", {"activity": rows})
        assert [e.field for e in count.value.errors] == ["activity"]
    with pytest.raises(InvalidInput):
        validate_answers(measures, "psfs", {"activity": [{"name": "x" * 81, "value": 1}]})


def test_choices_and_yes_no(measures: MeasureCatalogue) -> None:
    for bad in (0, 8, 2.5, "2", None):
        with pytest.raises(InvalidInput):
            validate_answers(measures, "pgic", {"change": bad})
    assert validate_answers(measures, "pgic", {"change": 3.0}) == {"change": 3}
    with pytest.raises(InvalidInput) as error:
        validate_answers(measures, "startback", {**NO, "leg_pain_recent": 1, "bothersomeness": 5})
    assert {e.field: e.type for e in error.value.errors} == {
        "leg_pain_recent": "yes_no",
        "bothersomeness": "choice",
    }


def test_form_fields_become_answers(measures: MeasureCatalogue) -> None:
    form = {"activity-1-name": " Treppen ", "activity-1-value": "3", "activity-3-name": "Sitzen",
            "activity-3-value": "x"}  # fmt: skip
    answers, fields = form_answers(measures.get("psfs"), form.get)
    assert answers == {"activity": [{"name": "Treppen", "value": 3}, {"name": "Sitzen", "value": "x"}]}
    with pytest.raises(InvalidInput) as error:
        validate_answers(measures, "psfs", answers)
    assert [fields[e.field] for e in error.value.errors] == ["activity-3-value"]
    yes_no, _ = form_answers(measures.get("startback"), {"leg_pain_recent": "yes", "bothersomeness": "2"}.get)
    assert yes_no == {"leg_pain_recent": True, "bothersomeness": 2}


# ---- the series -----------------------------------------------------------------------------------------
T0 = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _at(week: int) -> datetime:
    return T0 + timedelta(weeks=week)


def test_series_judged_against_week_zero(measures: MeasureCatalogue) -> None:
    psfs = measures.get("psfs")
    series = build_series(
        psfs,
        [Recorded(6, _at(6), 3.0, response_id="c"), Recorded(0, _at(0), 4.0, response_id="a"),
         Recorded(2, _at(2), 6.0, response_id="b")],
    )  # fmt: skip
    assert [(p.week, p.baseline, p.change) for p in series.points] == [
        (0, True, None),
        (2, False, "better"),
        (6, False, "same"),
    ]
    assert series.baseline is series.points[0] and series.latest is series.points[-1]


def test_series_without_week_zero_starts_at_the_first(measures: MeasureCatalogue) -> None:
    series = build_series(measures.get("peg"), [Recorded(4, _at(4), 5.0), Recorded(2, _at(2), 8.0)])
    assert [(p.week, p.change) for p in series.points] == [(2, None), (4, "better")]


def test_pgic_series_has_no_baseline(measures: MeasureCatalogue) -> None:
    series = build_series(measures.get("pgic"), [Recorded(2, _at(2), 4.0), Recorded(4, _at(4), 2.0)])
    assert series.baseline is None
    assert [p.change for p in series.points] == ["same", "better"]


def test_week_labels(measures: MeasureCatalogue) -> None:
    assert week_label(measures, 0, "de") == "Beginn" and week_label(measures, 6, "en") == "Week 6"


# ---- what is due when -------------------------------------------------------------------------------------
START = datetime(2026, 3, 2, 9, tzinfo=UTC)  # the episode began on Monday 2 March


def _due(
    measures: MeasureCatalogue,
    *,
    intake_week: float = 1,
    today_week: float,
    answered: tuple[tuple[str, int], ...] = (),
    regions: tuple[str, ...] = ("low_back",),
    without_improvement: dict[int, date] | None = None,
) -> list[tuple[str, int]]:
    due = due_measures(
        measures,
        regions=regions,
        intake_at=START + timedelta(weeks=intake_week),
        today=(START + timedelta(weeks=today_week)).date(),
        answered=answered,
        without_improvement=without_improvement or {},
    )
    return [(d.measure.id, d.week) for d in due]


def test_week_zero_at_the_intake_then_the_follow_up_weeks(measures: MeasureCatalogue) -> None:
    # The intake is in week 1 of the episode; follow-up weeks count from the intake day.
    assert _due(measures, today_week=1) == [("peg", 0), ("psfs", 0)]
    done = (("peg", 0), ("psfs", 0))
    assert _due(measures, today_week=2.9, answered=done) == []
    # Two weeks after the intake: PEG, PSFS and PGIC (never at week 0).
    assert _due(measures, today_week=3, answered=done) == [("peg", 2), ("psfs", 2), ("pgic", 2)]
    # Each (measure, week) once: answered, it is no longer due.
    later = (*done, ("peg", 2), ("psfs", 2), ("pgic", 2))
    assert _due(measures, today_week=4.5, answered=later) == []
    assert _due(measures, today_week=5, answered=later) == [("peg", 4), ("psfs", 4), ("pgic", 4)]


def test_a_missed_week_lapses_for_the_latest(measures: MeasureCatalogue) -> None:
    # Nothing answered by six weeks after the intake: only week 6 is asked, once per measure.
    assert _due(measures, today_week=7.5) == [("peg", 6), ("psfs", 6), ("pgic", 6)]
    # A week before an answered one lapses too.
    assert ("peg", 4) not in _due(measures, today_week=7.5, answered=(("peg", 6),))


def test_long_standing_pain_is_followed_up_from_the_intake(measures: MeasureCatalogue) -> None:
    # Intake in week 20 of the episode (chronic pain): week 0 at once, then 2, 4, 6 and 12 weeks after it.
    assert _due(measures, intake_week=20, today_week=20) == [("peg", 0), ("psfs", 0)]
    done = (("peg", 0), ("psfs", 0))
    assert _due(measures, intake_week=20, today_week=21.9, answered=done) == []
    assert _due(measures, intake_week=20, today_week=22, answered=done) == [
        ("peg", 2),
        ("psfs", 2),
        ("pgic", 2),
    ]
    assert _due(measures, intake_week=20, today_week=32.5, answered=done) == [
        ("peg", 12),
        ("psfs", 12),
        ("pgic", 12),
    ]


def test_startback_again_only_without_improvement(measures: MeasureCatalogue) -> None:
    done = (("peg", 0), ("psfs", 0), ("peg", 4), ("psfs", 4), ("pgic", 4))
    assert ("startback", 4) not in _due(measures, today_week=4.5, answered=done)
    checked = {4: (START + timedelta(weeks=4, days=2)).date()}
    assert _due(measures, today_week=4.1, answered=done, without_improvement=checked) == []
    assert _due(measures, today_week=4.3, answered=done, without_improvement=checked) == [("startback", 4)]
    # Not for neck pain alone.
    neck = _due(measures, today_week=4.3, answered=done, without_improvement=checked, regions=("neck",))
    assert neck == []
    assert _due(measures, today_week=5, answered=(*done, ("startback", 4)), without_improvement=checked) == []


# ---- a broken measures.yaml is refused at load -----------------------------------------------------------
Mutate = Callable[[Any], None]


def _measure_of(data: Any, measure_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(m for m in data["measures"] if m["id"] == measure_id)
    return found


def _change(measure_id: str, **values: Any) -> Mutate:
    return lambda d: _measure_of(d, measure_id).update(**values)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: _measure_of(d, "peg")["sources"].append("no-such-source"), "peg: unknown source ids"),
        (lambda d: _measure_of(d, "peg")["change"]["sources"].append("nope"), "peg: unknown source ids"),
        (_change("peg", range={"min": 0, "max": 30}), "peg: range must be"),
        (lambda d: _measure_of(d, "peg")["change"].pop("mic_fraction"), "mic_points or mic_fraction"),
        (_change("pgic", schedule={"weeks": [0, 2]}), "pgic: schedule"),
        (lambda d: _measure_of(d, "pgic")["change"].update(better=[1, 9]), "pgic: change"),
        (_change("startback", schedule={"weeks": [3], "only_without_improvement": True}), "checkpoint"),
        (lambda d: _measure_of(d, "startback")["scoring"]["derived"].update(score="nope"), "derived"),
        (_change("startback", items_from={"questionnaire": "neuro"}), "asks nothing"),
        (lambda d: _measure_of(d, "peg")["items"][0].update(loinc="91148"), "loinc"),
        (lambda d: _measure_of(d, "peg")["items"][1].update(id="pain"), "item ids repeat"),
        (lambda d: _measure_of(d, "peg")["items"][0]["scale"].update(min=10), "min < max"),
        (lambda d: _measure_of(d, "peg")["title"].pop("en"), "en"),
        (lambda d: _measure_of(d, "peg").update(licence="free"), "licence"),
        (lambda d: d["texts"].pop("error.range"), "error.range"),
        (lambda d: d["texts"]["error.range"].update(en="From {low}"), "placeholders"),
        (lambda d: d["measures"].append(dict(_measure_of(d, "peg"))), "used twice"),
    ],
)
def test_a_broken_measures_file_is_refused(tmp_path: Path, mutate: Mutate, message: str) -> None:
    target = tmp_path / "data"
    shutil.copytree(DATA_DIR, target)
    path = target / "measures.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    mutate(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"^measures\.yaml: ") as error:
        load_knowledge(target)
    assert re.search(re.escape(message), str(error.value)), str(error.value)
