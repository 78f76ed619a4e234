"""What the cohort tests share: the literal change rules of issue #18 (measures.yaml must state the same), a
reporting date, a store with a practice, and a Python reference of the cohort rules (``reference_rows``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from rueckenlotse.core.cohort import DIARY_PAIN, TRIAGE_RANK, CohortParams, CohortRow
from rueckenlotse.core.measures import ChangeRule, judge_change

RULES: dict[str, ChangeRule] = {
    "peg": ChangeRule(kind="difference", direction="lower_better", mic_fraction=0.3),
    "psfs": ChangeRule(kind="difference", direction="higher_better", mic_points=2.0),
    "pgic": ChangeRule(kind="category", better=frozenset({1, 2}), worse=frozenset({6, 7})),
}
AS_OF = date(2026, 12, 1)


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def reference_rows(
    courses: Iterable[Mapping[str, Any]], params: CohortParams, rules: Mapping[str, ChangeRule], as_of: date
) -> list[CohortRow]:
    """The cohort rows by the rules of ``core.cohort``'s docstring, course by course in Python (with
    ``judge_change`` itself): what the SQL must give."""
    verdicts: dict[tuple[str, int], list[str | None]] = {}
    escalated = stopped = stopped_of = total = 0
    for course in courses:
        age = (as_of - date.fromisoformat(course["start"])).days
        if age < 0:
            continue
        total += 1
        last = min(age, params.window_days)
        answers: dict[tuple[str, int], tuple[int, int, float]] = {}
        for position, m in enumerate(course["measures"]):
            if m["score"] is None or m["week"] is None or not 0 <= m["day"] <= age:
                continue
            key = (m["measure"], m["week"])
            if key not in answers or (m["day"], position) > answers[key][:2]:
                answers[key] = (m["day"], position, m["score"])
        for measure in params.measures:
            base = answers.get((measure, 0))
            for week in params.weeks:
                if (measure, week) in answers:
                    current = answers[(measure, week)][2]
                    verdict = judge_change(rules[measure], base[2] if base else None, current)
                    verdicts.setdefault((measure, week), []).append(verdict)
        worst: dict[int, int] = {}
        for entry in course["diary"]:
            if 0 <= entry["day"] <= age:
                worst[entry["day"]] = max(worst.get(entry["day"], 0), entry["max_pain"])
        if params.diary_pain is not None:
            base_pain = _mean([p for d, p in sorted(worst.items()) if 0 <= d <= 6])
            for week in params.weeks:
                now = _mean([p for d, p in sorted(worst.items()) if 7 * week - 6 <= d <= 7 * week])
                if now is not None:
                    verdicts.setdefault((DIARY_PAIN, week), []).append(
                        judge_change(params.diary_pain, base_pain, now)
                    )
        rank = TRIAGE_RANK[course["intake_triage"]]
        if any(TRIAGE_RANK[e["triage"]] > rank and 0 <= e["day"] <= last for e in course["escalations"]):
            escalated += 1
        if last >= params.gap_days - 1:
            stopped_of += 1
            if not any(last - params.gap_days + 1 <= d <= last for d in worst):
                stopped += 1
    rows, position = [], 0
    items = [*params.measures, *([DIARY_PAIN] if params.diary_pain is not None else [])]
    for item in items:
        for week in params.weeks:
            position += 1
            found = verdicts.get((item, week), [])
            rows.append(
                CohortRow(
                    position, item, week, found.count("better"), found.count("same"), found.count("worse"),
                    found.count(None), len(found), None,
                )
            )  # fmt: skip
    rows.append(CohortRow(position + 1, "escalated", None, None, None, None, None, total, escalated))
    rows.append(CohortRow(position + 2, "stopped_diary", None, None, None, None, None, stopped_of, stopped))
    rows.append(CohortRow(position + 3, "courses", None, None, None, None, None, total, total))
    return rows


def course(
    number: int,
    *,
    start: str = "2026-09-01",
    triage: str = "self_care",
    diary: list[tuple[int, int]] = (),  # type: ignore[assignment]
    measures: list[tuple[str, int, int, float | None]] = (),  # type: ignore[assignment]
    escalations: list[tuple[int, str]] = (),  # type: ignore[assignment]
) -> dict[str, Any]:
    """A hand-made course of the file shape: diary (day, pain), measures (measure, week, day, score),
    escalations (day, triage)."""
    return {
        "course": f"c{number:07d}",
        "start": start,
        "intake_triage": triage,
        "diary": [{"day": d, "max_pain": p} for d, p in diary],
        "measures": [{"measure": m, "week": w, "day": d, "score": s} for m, w, d, s in measures],
        "escalations": [{"day": d, "triage": t} for d, t in escalations],
    }
