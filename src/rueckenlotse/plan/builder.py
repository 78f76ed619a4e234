"""Building the self-management plan from an assessment (and the diary). Pure: no clock, no I/O.

The rules, as implemented (the numbers are those of followup.yaml, ``plan`` and the checkpoints):

- Red flag: while the assessment has a red flag, or a diary entry of the last 7 days (up to ``today``)
  reports a warning sign, the plan holds no weeks, no exercises, no activity goal, no heat and no
  relaxation: only the seek-care advice, the seek-care and medication modules, and a review date.
- Weeks: 12 plan weeks from ``start``; week N runs from start + 7(N-1) days for 7 days.
- Start: level 1 (gentle) and 10 minutes of walking a day. Level 2 and 15 minutes when the pain is
  subacute or chronic, home exercise is already regular and pain (if given) is below 7.
- Progression (``progression``, contract 2 "Progression follows the traffic light", SR-FU-2): after each
  finished plan week, the diary entries of that week (the last 7 days) decide. Back (and re-screen) when
  their mean pain (each entry's highest) is 3 or more above the pain when the plan started (the Case's
  pain_intensity, else the mean of the first plan week with entries), or after 3 weeks in a row of rising
  means (a week without entries breaks the row). Fewer than 3 entries: hold (never up without entries).
  A warning sign among them: hold. Up only
  when the mean is at most 1 above the week before and less than 2 above the start and function (the
  mean of the function items) is not worse by 0.5 or more; otherwise hold, so a rise of 2 against either
  holds. A step moves the level by one (1-3) and the walking goal by 5 minutes a day (10-30). Weeks not
  yet finished are planned at the current level (a step up needs the week's entries first).
- Exercises: per region of the person, the first two exercises of the week's level (exercises whose
  first region is that region first, then file order), skipping those the Case rules out (avoid_if).
  An excluded exercise is replaced by its first alternative that is not excluded, not ruled out, not
  already chosen, covers the same region and is not harder; if none is left, the plan says so.
- Heat (acute phase) and relaxation (chronic, medium/high risk, or some/many nervous-system signs).
- Education modules: see ``recommended_modules``. Milestones: weeks 4, 6 and 12 of the pain episode.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from statistics import fmean

from ..core.models import (
    Assessment,
    Case,
    ChronificationRisk,
    NeuroplasticLevel,
    Phase,
    RecommendationKind,
    RegionValue,
)
from ..i18n import check_language
from ..knowledge.followup import PlanParams
from .followup_texts import default_followup
from .library import Exercise, Library, default_library
from .models import DiaryEntry, DiaryWarningSign
from .plan_model import (
    Advice,
    ComfortEntry,
    Milestone,
    MissingAlternative,
    Plan,
    PlanExercise,
    PlanWeek,
    StandingFlag,
    Step,
    StepReason,
)
from .trends import entry_function

# The plan's numbers (weeks, walking minutes, progression limits, milestones) are clinical content:
# followup.yaml (``plan`` and the checkpoints' weeks), read through ``_plan_params``.
MIN_LEVEL, MAX_LEVEL = 1, 3
_EPS = 1e-9

UP, HOLD, BACK = 1, 0, -1
_STEP_NAME: dict[int, Step] = {UP: "up", HOLD: "hold", BACK: "back"}

# Module ids (education.yaml); tests check that each exists.
SEEK_CARE = "when_to_seek_care"
MEDICATION = "medication_facts"
MOVEMENT = "movement_and_bed_rest"
MRI = "mri_findings"
NERVOUS_SYSTEM = "pain_and_nervous_system"
PHYSIOTHERAPY = "physiotherapy_not_helping"
SURGERY = "surgery_and_second_opinion"
REHABILITATION = "rehabilitation_and_insurance"
WORKPLACE = "back_friendly_workplace"
SUPPORTS = "supports_and_braces"
HEAT_RELAXATION = "heat_and_relaxation"
FLARE_UPS = "flare_ups"


def _plan_params() -> PlanParams:
    return default_followup().plan


def plan_weeks() -> int:
    """How many weeks the plan has (followup.yaml plan.weeks)."""
    return _plan_params().weeks


@dataclass(frozen=True)
class StepDecision:
    """The step after one finished plan week and why (``rescreen``: pain rose so far that the warning
    signs should be checked again)."""

    step: int
    reason: StepReason
    entries: int
    pain: float | None

    @property
    def rescreen(self) -> bool:
        return self.step == BACK


def _entries_between(diary: Sequence[DiaryEntry], first: dt.date, last: dt.date) -> list[DiaryEntry]:
    return [e for e in diary if first <= _day(e) <= last]


def _mean_pain(entries: Sequence[DiaryEntry]) -> float | None:
    return fmean(e.max_pain for e in entries) if entries else None


def _mean_function(entries: Sequence[DiaryEntry]) -> float | None:
    values = [v for v in map(entry_function, entries) if v is not None]
    return fmean(values) if values else None


def start_pain(diary: Sequence[DiaryEntry], start: dt.date, pain_intensity: int | None) -> float | None:
    """The pain when the plan started: the Case's pain_intensity, else the first plan week with entries."""
    if pain_intensity is not None:
        return float(pain_intensity)
    for week in range(plan_weeks()):
        begins = start + dt.timedelta(weeks=week)
        mean = _mean_pain(_entries_between(diary, begins, begins + dt.timedelta(days=6)))
        if mean is not None:
            return mean
    return None


def _decide(
    week: list[DiaryEntry], before: list[DiaryEntry], baseline: float | None, rising: int
) -> tuple[int, StepReason]:
    rule = _plan_params().progression
    pain = _mean_pain(week)
    if pain is None:
        return HOLD, "too_few_entries"
    # Stepping back is the cautious way: it needs no minimum of entries.
    from_start = 0.0 if baseline is None else pain - baseline
    if from_start >= rule.back_start_rise - _EPS:
        return BACK, "rise_from_start"
    if rising >= rule.rising_weeks_back:
        return BACK, "rising_weeks"
    if len(week) < rule.min_week_entries:
        return HOLD, "too_few_entries"
    if any(e.warning_signs for e in week):
        return HOLD, "warning_sign"
    previous = _mean_pain(before)
    from_week = 0.0 if previous is None else pain - previous
    if from_week > rule.up_max_week_rise + _EPS or from_start >= rule.hold_start_rise - _EPS:
        return HOLD, "pain_rise"
    now_function, before_function = _mean_function(week), _mean_function(before)
    if (
        now_function is not None
        and before_function is not None
        and now_function - before_function >= rule.function_worse - _EPS
    ):
        return HOLD, "function_worse"
    return UP, "ok"


def progression(
    diary: Sequence[DiaryEntry], start: dt.date, finished: int, *, pain_intensity: int | None = None
) -> list[StepDecision]:
    """The step after each of the first ``finished`` plan weeks, from the dated entries (see module doc).

    Causal: the decision after week w reads only entries up to its last day.
    """
    baseline = start_pain(diary, start, pain_intensity)
    decisions: list[StepDecision] = []
    rising = 0
    last_mean: float | None = None
    for w in range(finished):
        begins = start + dt.timedelta(weeks=w)
        week = _entries_between(diary, begins, begins + dt.timedelta(days=6))
        before = _entries_between(diary, begins - dt.timedelta(weeks=1), begins - dt.timedelta(days=1))
        mean = _mean_pain(week)
        rising = rising + 1 if mean is not None and last_mean is not None and mean > last_mean + _EPS else 0
        step, reason = _decide(week, before, baseline, rising)
        decisions.append(StepDecision(step=step, reason=reason, entries=len(week), pain=mean))
        last_mean = mean
    return decisions


def apply_steps(start: int, steps: Sequence[int], *, low: int, high: int, size: int = 1) -> list[int]:
    """The values after each step, from ``start`` and clamped to [low, high] (one more than steps)."""
    values = [start]
    for step in steps:
        values.append(min(high, max(low, values[-1] + step * size)))
    return values


def _finished_weeks(start: dt.date, today: dt.date) -> int:
    """How many plan weeks have ended by ``today`` (0 to the plan's weeks)."""
    return max(0, min(plan_weeks(), (today - start).days // 7))


def _day(entry: DiaryEntry) -> dt.date:
    """The calendar day of an entry, in the offset it was recorded with."""
    return entry.recorded_at.date()


def weekly_pain(
    diary: Sequence[DiaryEntry], start: dt.date, *, weeks: int | None = None, until: dt.date | None = None
) -> list[float | None]:
    """Per plan week (all of the plan's unless ``weeks``): the mean over its diary days of each day's highest
    pain (None: no entries)."""
    weeks = plan_weeks() if weeks is None else weeks
    daily: dict[dt.date, int] = {}
    for entry in diary:
        day = _day(entry)
        if day < start or (until is not None and day > until):
            continue
        daily[day] = max(daily.get(day, 0), entry.max_pain)
    by_week: dict[int, list[int]] = defaultdict(list)
    for day, pain in daily.items():
        index = (day - start).days // 7
        if index < weeks:
            by_week[index].append(pain)
    return [fmean(by_week[i]) if by_week[i] else None for i in range(weeks)]


def recent_warning_signs(diary: Sequence[DiaryEntry], today: dt.date) -> list[DiaryWarningSign]:
    """Warning signs reported in diary entries of the last 7 days (followup.yaml) up to ``today``."""
    earliest = today - dt.timedelta(days=_plan_params().warning_window_days - 1)
    signs: set[DiaryWarningSign] = set()
    for entry in diary:
        if earliest <= _day(entry) <= today:
            signs.update(entry.warning_signs)
    return sorted(signs)


def start_level(case: Case, assessment: Assessment) -> int:
    """Level 2 for people who already exercise regularly with lasting, not severe pain; else level 1."""
    lasting = assessment.phase in (Phase.subacute, Phase.chronic)
    below = _plan_params().start_level_2_below_pain
    severe = case.pain_intensity is not None and case.pain_intensity >= below
    return 2 if lasting and case.home_exercise == "regularly" and not severe else 1


def recommended_modules(case: Case, assessment: Assessment, *, red_flag: bool) -> list[str]:
    """Education module ids for this assessment, most specific first."""
    if red_flag:
        return [SEEK_CARE, MEDICATION]
    modules: list[str] = []
    if case.imaging_findings:
        modules.append(MRI)
    if "radiculopathy" in assessment.suspected_conditions:
        modules.append(SURGERY)
    long_enough = (case.physiotherapy_weeks or 0) >= _plan_params().physiotherapy_weeks
    if long_enough and case.physiotherapy_helped in ("no", "partly"):
        modules.append(PHYSIOTHERAPY)
    indicators = assessment.neuroplastic_indicators
    if (
        (indicators is not None and indicators.level in (NeuroplasticLevel.some, NeuroplasticLevel.many))
        or assessment.phase is Phase.chronic
        or assessment.chronification_risk is ChronificationRisk.high
    ):
        modules.append(NERVOUS_SYSTEM)
    modules.append(MOVEMENT)
    if _wants_heat(assessment) or _wants_relaxation(assessment):
        modules.append(HEAT_RELAXATION)
    if assessment.phase in (Phase.subacute, Phase.chronic):
        modules.append(REHABILITATION)
    modules += [FLARE_UPS, WORKPLACE, SUPPORTS, MEDICATION, SEEK_CARE]
    return modules


def _wants_heat(assessment: Assessment) -> bool:
    return assessment.phase is Phase.acute


def _wants_relaxation(assessment: Assessment) -> bool:
    indicators = assessment.neuroplastic_indicators
    return (
        assessment.phase is Phase.chronic
        or assessment.chronification_risk in (ChronificationRisk.medium, ChronificationRisk.high)
        or (indicators is not None and indicators.level in (NeuroplasticLevel.some, NeuroplasticLevel.many))
    )


def _plan_exercise(exercise: Exercise, lang: str, replaces: str | None = None) -> PlanExercise:
    return PlanExercise(
        id=exercise.id,
        title=exercise.title.get(lang),
        level=exercise.level,
        regions=list(exercise.regions),
        minutes=exercise.minutes,
        repetitions=exercise.repetitions,
        replaces=replaces,
    )


def _alternative(
    library: Library,
    case: Case,
    excluded: Exercise,
    region: RegionValue,
    level: int,
    exclusions: Collection[str],
    used: set[str],
) -> Exercise | None:
    for alt_id in excluded.alternatives:
        alt = library.exercises[alt_id]
        if (
            alt_id not in exclusions
            and alt_id not in used
            and region in alt.regions
            and alt.level <= level
            and not alt.avoided_for(case)
        ):
            return alt
    return None


def select_exercises(
    library: Library, case: Case, level: int, exclusions: Collection[str], lang: str = "de"
) -> tuple[list[PlanExercise], list[MissingAlternative]]:
    """The exercises of one level for the person's regions, with exclusions replaced (see module doc)."""
    chosen: list[PlanExercise] = []
    missing: list[MissingAlternative] = []
    used: set[str] = set()
    for region in case.regions:
        candidates = [e for e in library.exercises_for(region, level) if not e.avoided_for(case)]
        candidates.sort(key=lambda e: e.regions[0] != region)  # stable: file order within each group
        slots = _plan_params().exercises_per_region
        for exercise in candidates:
            if slots == 0:
                break
            if exercise.id in used:
                continue
            slots -= 1
            if exercise.id not in exclusions:
                chosen.append(_plan_exercise(exercise, lang))
                used.add(exercise.id)
                continue
            alt = _alternative(library, case, exercise, region, level, exclusions, used)
            if alt is None:
                missing.append(
                    MissingAlternative(
                        exercise_id=exercise.id, title=exercise.title.get(lang), region=region, level=level
                    )
                )
                used.add(exercise.id)
            else:
                chosen.append(_plan_exercise(alt, lang, replaces=exercise.id))
                used.update((alt.id, exercise.id))
    return chosen, missing


def _comfort(library: Library, kind: str, lang: str) -> list[ComfortEntry]:
    return [
        ComfortEntry(id=c.id, kind=c.kind, title=c.title.get(lang), minutes=c.minutes)
        for c in library.comfort.values()
        if c.kind == kind
    ]


def _advice(assessment: Assessment) -> list[Advice]:
    return [
        Advice(id=r.id, text=r.text)
        for r in assessment.recommendations
        if r.kind is RecommendationKind.seek_care or r.id == "no_exercise_until_cleared"
    ]


def build_plan(
    case: Case,
    assessment: Assessment,
    *,
    start: dt.date,
    exclusions: Collection[str] = (),
    diary: Sequence[DiaryEntry] = (),
    today: dt.date | None = None,
    lang: str = "de",
    library: Library | None = None,
    standing: Sequence[StandingFlag] = (),
) -> Plan:
    """The plan for one assessment. ``today`` defaults to ``start``; unknown exclusion ids are listed.

    ``standing`` are the episode's red flags not yet examined (plan.rescreen): they keep the plan in its
    red-flag form whatever the assessment says."""
    check_language(lang)
    lib = library or default_library()
    today = start if today is None else today
    known = [x for x in dict.fromkeys(exclusions) if x in lib.exercises]
    ignored = [x for x in dict.fromkeys(exclusions) if x not in lib.exercises]
    signs = recent_warning_signs(diary, today)
    red_flag = bool(assessment.red_flags) or bool(signs) or bool(standing)

    weeks: list[PlanWeek] = []
    missing: list[MissingAlternative] = []
    milestones: list[Milestone] = []
    current: PlanWeek | None = None
    if not red_flag:
        weeks, missing = _weeks(lib, case, assessment, start, today, diary, known, lang)
        current = weeks[min(_finished_weeks(start, today), plan_weeks() - 1)]
        # The 4/6/12-week checks count from the start of the pain episode (as the guideline and
        # the diary's trend rules do), not from the day the plan was made.
        episode = start - dt.timedelta(weeks=case.duration_weeks)
        milestones = [
            Milestone(
                week=n, on=episode + dt.timedelta(weeks=n), text=lib.text(f"plan.milestone.week_{n}", lang)
            )
            for n in default_followup().parameters.milestone_weeks
        ]
    return Plan(
        lang=lang,
        start=start,
        today=today,
        red_flag=red_flag,
        triage=assessment.triage,
        phase=assessment.phase,
        regions=list(case.regions),
        current_week=None if current is None else current.number,
        current_level=None if current is None else current.level,
        activity_minutes=None if current is None else current.activity_minutes,
        weeks=weeks,
        exercises=[] if current is None else current.exercises,
        heat=_comfort(lib, "heat", lang) if not red_flag and _wants_heat(assessment) else [],
        relaxation=_comfort(lib, "relaxation", lang)
        if not red_flag and _wants_relaxation(assessment)
        else [],
        education=recommended_modules(case, assessment, red_flag=red_flag),
        milestones=milestones,
        advice=_advice(assessment),
        review_on=start + dt.timedelta(days=assessment.review_in_days),
        excluded=known,
        no_alternative=missing,
        ignored_exclusions=ignored,
        diary_warning_signs=signs,
        standing_flags=list(standing),
        rescreen_advised=current is not None and current.step == "back",
        too_few_entries=current is not None and current.step_reason == "too_few_entries",
    )


def _weeks(
    lib: Library,
    case: Case,
    assessment: Assessment,
    start: dt.date,
    today: dt.date,
    diary: Sequence[DiaryEntry],
    exclusions: Collection[str],
    lang: str,
) -> tuple[list[PlanWeek], list[MissingAlternative]]:
    """All plan weeks, and the exercises left without an alternative in the current week."""
    finished = _finished_weeks(start, today)
    pains = weekly_pain(diary, start, until=today)
    known = [e for e in diary if _day(e) <= today]
    total = plan_weeks()
    decided = progression(known, start, min(finished, total - 1), pain_intensity=case.pain_intensity)
    # Weeks not yet finished stay at the level reached: a step up needs that week's entries first.
    steps = [decided[w].step if w < len(decided) else HOLD for w in range(total - 1)]
    level0 = start_level(case, assessment)
    levels = apply_steps(level0, steps, low=MIN_LEVEL, high=MAX_LEVEL)
    walking = _plan_params().walking_minutes
    minutes0 = walking.start + walking.step * (level0 - 1)
    minutes = apply_steps(minutes0, steps, low=walking.start, high=walking.max, size=walking.step)

    by_level: dict[int, tuple[list[PlanExercise], list[MissingAlternative]]] = {}
    weeks: list[PlanWeek] = []
    for w in range(total):
        level = levels[w]
        if level not in by_level:
            by_level[level] = select_exercises(lib, case, level, exclusions, lang)
        begins = start + dt.timedelta(weeks=w)
        pain = pains[w]
        weeks.append(
            PlanWeek(
                number=w + 1,
                starts=begins,
                ends=begins + dt.timedelta(days=6),
                activity_minutes=minutes[w],
                level=level,
                step="start" if w == 0 else _STEP_NAME[steps[w - 1]],
                step_reason=decided[w - 1].reason if 0 < w <= len(decided) else None,
                pain_average=None if pain is None else round(pain, 1),
                exercises=by_level[level][0],
            )
        )
    current_level = levels[min(finished, total - 1)]
    return weeks, by_level[current_level][1]
