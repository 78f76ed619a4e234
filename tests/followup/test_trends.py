"""Trend rules over the diary: daily values, checkpoints at weeks 4, 6 and 12, centralisation, function."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from statistics import fmean

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.plan.trends import (
    centralisation,
    daily_values,
    episode_start,
    episode_week,
    follow_up_report,
    meaningful_improvement,
    trend_escalations,
)

from . import T0, case, diary, entry, wobble

KINDS = ["risk_screening", "see_clinician", "multidisciplinary"]


def _kinds_and_days(entries: list[DiaryEntry], duration_weeks: float = 1) -> list[tuple[str, date]]:
    start = episode_start(case(duration_weeks), T0)
    return [(e.kind, e.on) for e in trend_escalations(entries, start=start)]


# ---- daily values ----------
def test_several_entries_a_day_merge_to_the_daily_highest_pain() -> None:
    entries = [
        entry(0, {"low_back": 3, "neck": 6}, activity_minutes=10, function={"walking": 1}),
        entry(0.3, {"low_back": 8}, activity_minutes=25, function={"walking": 3, "sitting": 1}),
        entry(0.4, {"neck": 2}, pain_reach="buttock_thigh", warning_signs=["night_pain"]),
        entry(1, 4, pain_reach="back_only"),
    ]
    first, second = daily_values(entries)
    assert first.day == date(2026, 3, 2) and first.entries == 3
    assert first.max_pain == 8 and first.pain == {"low_back": 8, "neck": 6}
    assert first.activity_minutes == 35 and first.function == pytest.approx(1.5)
    assert first.pain_reach == "buttock_thigh" and first.warning_signs == ["night_pain"]
    assert second.max_pain == 4 and second.function is None


def test_entries_need_not_be_sorted() -> None:
    entries = diary(10, wobble(5))
    assert daily_values(list(reversed(entries))) == daily_values(entries)


def test_weeks_are_counted_from_the_episode_start() -> None:
    start = episode_start(case(1.5), T0)
    assert start == T0 - timedelta(days=10.5)
    assert episode_week(T0.date(), start) == 1
    report = follow_up_report(diary(21, wobble(5)), case=case(1.5), assessed_at=T0)
    assert [w.week for w in report.weeks] == [1, 2, 3, 4]
    assert report.weeks[0].start == (start + timedelta(weeks=1)).date()
    assert sum(w.days for w in report.weeks) == 21


def test_a_naive_assessment_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        episode_start(case(), T0.replace(tzinfo=None))


# ---- the three checkpoints ----------
@pytest.mark.safety("SR-DIA-3")
def test_twelve_weeks_without_improvement_escalate_at_weeks_4_6_and_12() -> None:
    # The episode began a week before the assessment: week N is reached N*7 - 7 days into the diary.
    entries = diary(84, wobble(6))
    assert _kinds_and_days(entries) == [
        ("risk_screening", T0.date() + timedelta(days=21)),
        ("see_clinician", T0.date() + timedelta(days=35)),
        ("multidisciplinary", T0.date() + timedelta(days=77)),
    ]


def test_an_escalation_falls_on_the_first_diary_day_on_or_after_its_week() -> None:
    entries = diary(84, wobble(6), skip=[21, 22, 35, 76, 77, 78])
    assert _kinds_and_days(entries) == [
        ("risk_screening", T0.date() + timedelta(days=23)),
        ("see_clinician", T0.date() + timedelta(days=36)),
        ("multidisciplinary", T0.date() + timedelta(days=79)),
    ]


@pytest.mark.safety("SR-DIA-3")
def test_the_escalation_says_why_with_the_numbers() -> None:
    report = follow_up_report(diary(84, lambda d: 6), case=case(), assessed_at=T0)
    first, second, third = report.escalations
    assert (first.due_week, second.due_week, third.due_week) == (4, 6, 12)
    assert first.baseline == first.recent == 6.0
    assert first.reason.de.startswith("Seit 4 Wochen keine deutliche Besserung")
    assert "6,0 statt bei 6,0" in first.reason.de and "2 Punkte oder 30 Prozent" in first.reason.de
    assert "6.0" in first.reason.en and "30 percent" in first.reason.en
    assert "NVL 3-4" in first.action.de and "NVL 3-4" in first.action.en
    assert "Physiotherapie" in second.action.de and "Team" in third.action.de
    assert all(e.sources == ["nvl-kreuzschmerz-2017"] for e in report.escalations)
    assert third.plot_label.de == "Woche 12: Rat vom Team"


@pytest.mark.safety("SR-DIA-3")
def test_a_30_percent_improvement_prevents_every_escalation() -> None:
    # Baseline 5.0; then every week 3, 3, 3, 3, 4, 4, 4 (mean 3.43): 1.57 points less (under 2) but 31 %.
    entries = diary(84, lambda d: 5 if d < 7 else (3 if d % 7 < 4 else 4))
    report = follow_up_report(entries, case=case(), assessed_at=T0)
    assert report.escalations == [] and all(c.improved for c in report.checks)
    assert {c.recent for c in report.checks} == {3.43}
    # 10 → 7: 30 % exactly.
    assert _kinds_and_days(diary(84, lambda d: 10 if d < 7 else 7)) == []


@pytest.mark.safety("SR-DIA-3")
def test_a_two_point_improvement_prevents_every_escalation() -> None:
    # 8 → 6 is 2 points but only 25 %.
    assert _kinds_and_days(diary(84, lambda d: 8 if d < 7 else 6)) == []


@pytest.mark.safety("SR-DIA-3")
def test_just_under_both_thresholds_escalates() -> None:
    # Baseline 8.0, recent 6.14 (1.86 points, 23 %): no meaningful improvement.
    entries = [entry(d, 8 if d < 7 else (6 if d % 7 else 7)) for d in range(84)]
    assert [k for k, _ in _kinds_and_days(entries)] == KINDS


@pytest.mark.safety("SR-DIA-3")
def test_improvement_that_fades_escalates_at_the_later_weeks() -> None:
    # Better at week 4, back to the old level by week 6.
    entries = diary(84, lambda d: 3 if 14 <= d < 28 else 7)
    assert [k for k, _ in _kinds_and_days(entries)] == ["see_clinician", "multidisciplinary"]


def test_pain_free_or_nearly_never_counts_as_no_improvement() -> None:
    assert _kinds_and_days(diary(84, lambda d: 1)) == []
    assert [k for k, _ in _kinds_and_days(diary(84, lambda d: 2))] == KINDS


def test_a_diary_shorter_than_four_weeks_has_only_pending_checks() -> None:
    report = follow_up_report(diary(20, wobble(6)), case=case(), assessed_at=T0)
    assert report.escalations == []
    assert [(c.due_week, c.due_date, c.checked_on) for c in report.checks] == [
        (4, date(2026, 3, 23), None),
        (6, date(2026, 4, 6), None),
        (12, date(2026, 5, 18), None),
    ]


@pytest.mark.safety("SR-FU-3")
def test_an_episode_five_weeks_old_gets_the_four_week_step_once_two_weeks_can_be_compared() -> None:
    # A diary that starts after a checkpoint's date cannot compare its first week with itself: the check
    # waits for a second, separate week of at least 3 entries (day 13), and says "too few" until then.
    entries = diary(60, wobble(6))
    assert _kinds_and_days(entries, duration_weeks=5) == [
        ("risk_screening", T0.date() + timedelta(days=13)),
        ("see_clinician", T0.date() + timedelta(days=13)),
        ("multidisciplinary", T0.date() + timedelta(days=49)),
    ]
    early = follow_up_report(entries[:10], case=case(5), assessed_at=T0)
    assert early.escalations == [] and early.checks[0].too_few and early.checks[0].improved is None
    assert early.too_few is not None and "zu wenig Einträge" in early.too_few.de
    assert "too few entries" in early.too_few.en


@pytest.mark.safety("SR-FU-3")
def test_a_check_needs_three_entries_in_each_week() -> None:
    # Two entries a week: no statement about change, however long the diary.
    sparse = [entry(d, 6) for d in range(0, 84) if d % 7 in (0, 3)]
    report = follow_up_report(sparse, case=case(1), assessed_at=T0)
    assert report.escalations == [] and all(c.improved is None for c in report.checks)
    assert all(c.too_few for c in report.checks) and report.too_few is not None
    # A third entry a week makes the comparison possible: no improvement, so the steps come.
    fuller = sparse + [entry(d, 6) for d in range(0, 84) if d % 7 == 5]
    assert [e.kind for e in follow_up_report(fuller, case=case(1), assessed_at=T0).escalations] == KINDS


def _dated(pains: dict[str, int]) -> list[DiaryEntry]:
    """One entry at 09:00 UTC on each ISO date, with its pain."""
    return [
        DiaryEntry(recorded_at=datetime.fromisoformat(f"{day}T09:00:00+00:00"), pain={"low_back": pain})
        for day, pain in pains.items()
    ]


# Found by Hypothesis: an episode that began at the assessment (2026-03-02), so week 4 is due on 2026-03-30.
# The diary's first week (18.-24.3.) holds 3 entries (pain 0); the 7 days up to 30.3. hold 3 other ones
# (0, 0, 4). The two calendar windows share 24.3., a day without entry: the compared entries are separate.
PAIN_ROSE_AT_WEEK_4 = {
    "2026-03-18": 0,
    "2026-03-19": 0,
    "2026-03-20": 0,
    "2026-03-25": 0,
    "2026-03-26": 0,
    "2026-03-30": 4,
}


@pytest.mark.safety("SR-DIA-3")
@pytest.mark.safety("SR-FU-3")
def test_an_empty_day_shared_by_the_windows_does_not_hold_back_the_week_4_step() -> None:
    # Before the fix the check waited until the calendar windows parted (31.3.): on 30.3. the diary said
    # "too few entries" about two windows of 3 entries each, and without a later entry the step never came.
    report = follow_up_report(_dated(PAIN_ROSE_AT_WEEK_4), case=case(0), assessed_at=T0)
    first = report.checks[0]
    assert (first.due_date, first.checked_on, first.too_few) == (date(2026, 3, 30), date(2026, 3, 30), False)
    assert (first.baseline, first.recent, first.improved) == (0.0, 1.33, False)
    assert [(e.kind, e.on) for e in report.escalations] == [("risk_screening", date(2026, 3, 30))]
    assert report.too_few is None


@pytest.mark.safety("SR-DIA-3")
@pytest.mark.safety("SR-FU-3")
def test_a_good_day_after_the_due_day_does_not_wipe_out_the_week_4_step() -> None:
    # Baseline 6; on 30.3. the last 7 days hold 5, 5, 5 (1 point, 17 % lower): no meaningful improvement.
    # Checked a day later (the old calendar rule), one pain-free day made it 3.75: the step was lost for good.
    pains = {"2026-03-18": 6, "2026-03-19": 6, "2026-03-20": 6}
    pains |= {"2026-03-25": 5, "2026-03-26": 5, "2026-03-30": 5}
    full = {**pains, "2026-03-31": 0}
    assert _kinds_and_days(_dated(full), duration_weeks=0) == [("risk_screening", date(2026, 3, 30))]
    assert _kinds_and_days(_dated(pains), duration_weeks=0) == [("risk_screening", date(2026, 3, 30))]


@pytest.mark.safety("SR-FU-3")
def test_an_entry_in_both_windows_still_waits_for_separate_windows() -> None:
    # With an entry on 24.3. (the baseline window's last day) the 7 days up to 30.3. share it: no statement.
    shared = {**PAIN_ROSE_AT_WEEK_4, "2026-03-24": 0}
    early = follow_up_report(_dated(shared), case=case(0), assessed_at=T0)
    assert early.escalations == [] and early.checks[0].too_few and early.checks[0].improved is None
    # The next day the recent window (25.-31.3.) holds 4 entries of its own: the step comes then.
    later = follow_up_report(_dated({**shared, "2026-03-31": 4}), case=case(0), assessed_at=T0)
    steps = [(e.kind, e.on, e.recent) for e in later.escalations]
    assert steps == [("risk_screening", date(2026, 3, 31), 2.0)]


@pytest.mark.safety("SR-DIA-3")
def test_a_check_uses_no_later_data_so_results_never_change_afterwards() -> None:
    entries = diary(84, lambda d: 8 if d < 3 else 5)  # improvement already in the first week
    full = _kinds_and_days(entries, duration_weeks=3.5)
    for cut in range(1, 84, 5):
        part = _kinds_and_days(entries[:cut], duration_weeks=3.5)
        assert part == [(k, d) for k, d in full if d < T0.date() + timedelta(days=cut)]


def test_meaningful_improvement_thresholds() -> None:
    assert meaningful_improvement(6, 4)  # 2 points
    assert meaningful_improvement(5, 3.5)  # 30 %
    assert meaningful_improvement(6, 4.2)  # 30 %, despite 6 - 4.2 = 1.7999999999999998
    assert meaningful_improvement(10, 7)  # 30 % and 3 points
    assert meaningful_improvement(3, 1)  # nearly pain-free
    assert not meaningful_improvement(6, 4.3)
    assert not meaningful_improvement(6, 7)
    assert not meaningful_improvement(0, 2)


@st.composite
def diaries(draw: st.DrawFn) -> tuple[list[DiaryEntry], float]:
    days = draw(st.lists(st.integers(0, 120), min_size=1, max_size=60, unique=True))
    entries = [entry(d, draw(st.integers(0, 10))) for d in days]
    return entries, draw(st.sampled_from([0, 0.5, 1, 3, 4, 5.5, 6, 11, 13]))


def _independent_check(entries: list[DiaryEntry], due: date) -> tuple[date, bool] | None:
    """The rule as written in the issue and contract 2, recomputed directly from the entries: the first
    day on or after the due date whose last 7 days and the diary's first 7 days are separate and hold
    at least 3 entries each."""
    daily: dict[date, list[int]] = {}
    for e in entries:
        daily.setdefault(e.recorded_at.date(), []).append(e.max_pain)
    first = min(daily)
    head = [d for d in daily if d <= first + timedelta(days=6)]

    def count(days: list[date]) -> int:
        return sum(len(daily[d]) for d in days)

    for on in sorted(d for d in daily if d >= due):
        tail = [d for d in daily if on - timedelta(days=6) <= d <= on]
        if min(tail) > first + timedelta(days=6) and count(head) >= 3 and count(tail) >= 3:
            baseline = fmean(max(daily[d]) for d in head)
            recent = fmean(max(daily[d]) for d in tail)
            improved = (
                recent <= 1 or baseline - recent >= 2 - 1e-9 or baseline - recent >= 0.3 * baseline - 1e-9
            )
            return on, not improved
    return None


@pytest.mark.safety("SR-DIA-3")
@pytest.mark.safety("SR-FU-3")
@settings(max_examples=150, deadline=None)
@given(data=diaries())
def test_every_escalation_follows_the_rule_once_on_its_day(data: tuple[list[DiaryEntry], float]) -> None:
    entries, weeks = data
    start = episode_start(case(weeks), T0)
    found = {e.kind: e for e in trend_escalations(entries, start=start)}
    for kind, week in zip(KINDS, (4, 6, 12), strict=True):
        expected = _independent_check(entries, (start + timedelta(weeks=week)).date())
        if expected is not None and expected[1]:
            assert found[kind].on == expected[0] and found[kind].due_week == week
        else:
            assert kind not in found


# ---- centralisation and function ----------
def test_pain_moving_back_towards_the_spine_is_a_good_sign() -> None:
    reach = ["below_knee"] * 10 + ["buttock_thigh"] * 10 + ["back_only"] * 10
    trend = centralisation([entry(d, 5, pain_reach=r) for d, r in enumerate(reach)])
    assert trend is not None and trend.direction == "centralising" and trend.good_sign
    assert (trend.start, trend.end) == ("below_knee", "back_only") and not trend.see_doctor
    assert "gutes Zeichen" in trend.text.de and "bis unter das Knie" in trend.text.de
    assert "good sign" in trend.text.en


@pytest.mark.safety("SR-DIA-3")
def test_pain_spreading_out_with_new_weakness_needs_a_doctor() -> None:
    reach = ["back_only"] * 10 + ["below_knee"] * 10
    quiet = centralisation([entry(d, 5, pain_reach=r) for d, r in enumerate(reach)])
    assert quiet is not None and quiet.direction == "peripheralising"
    assert not quiet.see_doctor and not quiet.good_sign and "kein Warnzeichen" in quiet.text.de
    weak = [
        entry(d, 5, pain_reach=r, warning_signs=["weakness_worse"] if d == 15 else [])
        for d, r in enumerate(reach)
    ]
    trend = centralisation(weak)
    assert trend is not None and trend.see_doctor and trend.neuro_signs
    assert "Arzt" in trend.text.de and "doctor" in trend.text.en


def test_steady_reach_is_stable_and_too_little_data_gives_none() -> None:
    steady = centralisation([entry(d, 5, pain_reach="buttock_thigh") for d in range(20)])
    assert steady is not None and steady.direction == "stable"
    assert centralisation([entry(0, 5, pain_reach="below_knee"), entry(0.5, 5)]) is None
    assert centralisation(diary(10, wobble(5))) is None
    # One odd day does not make a trend.
    mostly = ["below_knee"] * 19 + ["back_only"]
    odd = centralisation([entry(d, 5, pain_reach=r) for d, r in enumerate(mostly)])
    assert odd is not None and odd.direction == "stable"


def test_function_trend() -> None:
    entries = [entry(d, 5, function={"walking": 3 if d < 10 else 1, "sitting": 2}) for d in range(20)]
    report = follow_up_report(entries, case=case(), assessed_at=T0)
    assert report.function is not None and report.function.direction == "better"
    assert (report.function.start, report.function.end) == (2.5, 1.5)
    assert "leichter" in report.function.text.de and "2,5" in report.function.text.de
    assert follow_up_report(diary(20, wobble(5)), case=case(), assessed_at=T0).function is None


def test_report_summarises_the_diary() -> None:
    report = follow_up_report(diary(84, wobble(6)), case=case(), assessed_at=T0)
    assert report.first_day == T0.date() and report.last_day == T0.date() + timedelta(days=83)
    assert report.baseline == pytest.approx(6.0, abs=0.2)
    assert [e.kind for e in report.escalations] == KINDS
    assert len(report.days) == 84 and len(report.weeks) == 12
    assert report.model_dump(mode="json")["escalations"][0]["kind"] == "risk_screening"
    empty = follow_up_report([], case=case(), assessed_at=T0)
    assert empty.days == [] and empty.escalations == [] and empty.baseline is None
