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
- Per exercise (the session's ratings, ``feedback``; numbers in followup.yaml ``plan.feedback``): each week's
  exercises come per slot (region, position) from ``select_exercises``; a slot may carry an adjustment that
  replaces the level's exercise (``PlanExercise.adjusted``, ``instead_of``). The adjustment of week w+1 is
  decided from the ratings of the slot's exercise E during week w (ratings recorded up to ``today`` only,
  so the week after the current one shows at once what the ratings so far would do; like its level it is
  not yet decided):
  a) "pain_after" at least ``pain_after_back`` times → step back to E's first alternative that is easier
     (level below E's), covers the slot's region, is not excluded, not ruled out and not in the week
     already; without one E is held. Reason "pain_after".
  b) else the latest rating is "too_hard" → E stays in the slot next week even if the level steps up.
  c) an adjustment persists while E gets no "too_easy" (no news or "fits" keeps it); one "too_easy"
     releases a hold (the slot follows the level again). A taken exercise (below) stays until the level
     reaches its level, or until a) or b) replace it.
  d) ``too_easy_offer`` "too_easy" in a row for E (any other rating resets the count; counted across
     weeks) and no hold in the slot → ``next_level`` offers the first exercise of level E.level+1 for the
     slot's region (first-region match first, file order) not excluded, ruled out or in the week — only
     while the traffic light's latest decision is none of back, pain_rise, warning_sign, function_worse.
     A "take_next" for E while the offer stands puts the harder exercise in the slot from that day's week
     on (adjusted "took_next"); it follows a)–c) itself.
  e) Safety: a red flag or a warning sign leaves no exercises at all; the traffic light stepping back
     drops every taken exercise and every adjustment harder than the new level. An adjustment is never
     harder than the level except an exercise the person took. An adjusted exercise that another slot of
     the week holds already is dropped (the slot follows the level).
- Practice changes (``adjustments``: the active changes of the practices the person shares their course
  with; ``services.sharing`` passes only those): oldest first.
  * Red flag or warning sign: no exercise change applies (the plan holds no exercises at all); they are
    listed as not applied (``red_flag``). A plain note (kind ``note``) still applies.
  * ``exclude``: the exercise is left out like one the person excluded (replaced by its first fitting
    alternative, else listed under ``no_alternative``), in every week. The stand-in and the missing
    alternative are marked ``by_practice``. So an exclusion never empties the plan silently: either an
    alternative takes the place, or the plan names the exercise left without one (and
    ``services.sharing`` refuses an exclusion that would leave the week without any exercise).
  * ``add``: the exercise joins the exercises of the week it was added in and every week after (after the
    level's, without the session's per-exercise rules), marked ``by_practice``; only an exercise of the
    library that covers one of the person's regions, is not ruled out by the Case (avoid_if) and that
    neither the person (their own exclusion wins) nor a practice has left out. Otherwise it is listed as
    not applied, with the reason.
  * ``level`` (1-3): from the week it was set in, that week's level is the practice's; the traffic light
    goes on from there (a later step back still lowers it). The walking goal follows the traffic light
    only. A later level change of the same week wins.
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
from .library import LEVELS, Exercise, Library, default_library
from .models import DiaryEntry, DiaryWarningSign, ExerciseFeedback
from .plan_model import (
    Adjusted,
    Advice,
    ComfortEntry,
    Milestone,
    MissingAlternative,
    NotApplied,
    Plan,
    PlanExercise,
    PlanWeek,
    PracticeAdjustment,
    PracticeChange,
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


# A place in a week's exercises: the region and the position within it (0, 1, ...).
Slot = tuple[RegionValue, int]


def select_exercises(
    library: Library, case: Case, level: int, exclusions: Collection[str], lang: str = "de"
) -> tuple[list[PlanExercise], list[MissingAlternative]]:
    """The exercises of one level for the person's regions, with exclusions replaced (see module doc)."""
    chosen, missing = _select_slots(library, case, level, exclusions, lang)
    return [exercise for _, exercise in chosen], missing


def _candidates(library: Library, case: Case, region: RegionValue, level: int) -> list[Exercise]:
    candidates = [e for e in library.exercises_for(region, level) if not e.avoided_for(case)]
    candidates.sort(key=lambda e: e.regions[0] != region)  # stable: file order within each group
    return candidates


def _select_slots(
    library: Library, case: Case, level: int, exclusions: Collection[str], lang: str
) -> tuple[list[tuple[Slot, PlanExercise]], list[MissingAlternative]]:
    chosen: list[tuple[Slot, PlanExercise]] = []
    missing: list[MissingAlternative] = []
    used: set[str] = set()
    per_region = _plan_params().exercises_per_region
    for region in case.regions:
        candidates = _candidates(library, case, region, level)
        slots = per_region
        for exercise in candidates:
            if slots == 0:
                break
            if exercise.id in used:
                continue
            slot: Slot = (region, per_region - slots)
            slots -= 1
            if exercise.id not in exclusions:
                chosen.append((slot, _plan_exercise(exercise, lang)))
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
                chosen.append((slot, _plan_exercise(alt, lang, replaces=exercise.id)))
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
    feedback: Sequence[ExerciseFeedback] = (),
    adjustments: Sequence[PracticeAdjustment] = (),
) -> Plan:
    """The plan for one assessment. ``today`` defaults to ``start``; unknown exclusion ids are listed.

    ``standing`` are the episode's red flags not yet examined (plan.rescreen): they keep the plan in its
    red-flag form whatever the assessment says. ``feedback``: the session's ratings (module doc); only
    those recorded up to ``today`` count. ``adjustments``: the practices' changes (module doc, "Practice
    changes"); the caller passes only the active ones of practices the person shares their course with."""
    check_language(lang)
    lib = library or default_library()
    today = start if today is None else today
    known = [x for x in dict.fromkeys(exclusions) if x in lib.exercises]
    ignored = [x for x in dict.fromkeys(exclusions) if x not in lib.exercises]
    signs = recent_warning_signs(diary, today)
    red_flag = bool(assessment.red_flags) or bool(signs) or bool(standing)
    changes, practice = _practice_changes(lib, case, start, known, adjustments, red_flag=red_flag, lang=lang)

    weeks: list[PlanWeek] = []
    missing: list[MissingAlternative] = []
    milestones: list[Milestone] = []
    current: PlanWeek | None = None
    level_by_practice = False
    if not red_flag:
        weeks, missing, by_practice = _weeks(
            lib, case, assessment, start, today, diary, known, lang, feedback, practice
        )
        index = min(_finished_weeks(start, today), plan_weeks() - 1)
        current = weeks[index]
        level_by_practice = by_practice[index]
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
        practice_changes=changes,
        level_by_practice=level_by_practice,
    )


@dataclass(frozen=True)
class _PracticeInput:
    """The practices' changes that apply, as ``_weeks`` uses them."""

    excluded: frozenset[str] = frozenset()  # exercise ids a practice left out (and the person did not)
    added: tuple[tuple[int, Exercise], ...] = ()  # (first plan week index, exercise), oldest first
    levels: tuple[tuple[int, int], ...] = ()  # (plan week index, level), oldest first


def _week_index(start: dt.date, on: dt.date) -> int:
    """The plan week (0-based) a change made on ``on`` starts in; one made before the plan began (under an
    earlier intake) counts from the first week."""
    return max(0, min(plan_weeks() - 1, (on - start).days // 7))


def _practice_changes(
    lib: Library,
    case: Case,
    start: dt.date,
    own_exclusions: Collection[str],
    adjustments: Sequence[PracticeAdjustment],
    *,
    red_flag: bool,
    lang: str,
) -> tuple[list[PracticeChange], _PracticeInput]:
    """Each change as the plan shows it (applied or why not), and what applies (module doc)."""
    changes: list[PracticeChange] = []
    excluded: list[str] = []
    added: list[tuple[int, Exercise]] = []
    levels: list[tuple[int, int]] = []
    for adjustment in sorted(adjustments, key=lambda a: a.on):  # stable: the given order within a day
        exercise = lib.exercises.get(adjustment.exercise_id or "")
        title = exercise.title.get(lang) if exercise is not None else None
        reason = _not_applied(adjustment, exercise, case, own_exclusions, red_flag=red_flag)
        changes.append(PracticeChange(**adjustment.model_dump(), title=title, not_applied=reason))
        if reason is not None:
            continue
        week = _week_index(start, adjustment.on)
        if adjustment.kind == "exclude" and exercise is not None and exercise.id not in own_exclusions:
            excluded.append(exercise.id)
        elif adjustment.kind == "add" and exercise is not None:
            added.append((week, exercise))
        elif adjustment.kind == "level" and adjustment.level is not None:
            levels.append((week, adjustment.level))
    # An exercise a practice left out is never added back by another change.
    kept = tuple((week, e) for week, e in added if e.id not in excluded)
    changes = [
        c.model_copy(update={"not_applied": "excluded_by_practice"})
        if c.kind == "add" and c.applied and c.exercise_id in excluded
        else c
        for c in changes
    ]
    return changes, _PracticeInput(frozenset(excluded), kept, tuple(levels))


def _not_applied(
    adjustment: PracticeAdjustment,
    exercise: Exercise | None,
    case: Case,
    own_exclusions: Collection[str],
    *,
    red_flag: bool,
) -> NotApplied | None:
    if adjustment.kind == "note":
        return None
    if red_flag:
        return "red_flag"
    if adjustment.kind == "level":
        return None if adjustment.level in LEVELS else "unknown_level"
    if exercise is None:
        return "unknown_exercise"
    if adjustment.kind == "add":
        if not set(exercise.regions) & set(case.regions):
            return "region"
        if exercise.avoided_for(case):
            return "ruled_out"
        if exercise.id in own_exclusions:
            return "excluded_by_person"
    return None


def practice_levels(
    level0: int, steps: Sequence[int], levels: Sequence[tuple[int, int]]
) -> tuple[list[int], list[bool]]:
    """The level of each plan week (one more than steps) with the practices' levels set in their weeks,
    and whether each week's level is a practice's (set in that week or earlier, no step has moved it)."""
    set_in = dict(levels)  # a later change of the same week wins
    values: list[int] = []
    by_practice: list[bool] = []
    for w in range(len(steps) + 1):
        if w in set_in:
            values.append(set_in[w])
            by_practice.append(True)
            continue
        if w == 0:
            values.append(level0)
            by_practice.append(False)
            continue
        value = min(MAX_LEVEL, max(MIN_LEVEL, values[-1] + steps[w - 1]))
        by_practice.append(by_practice[-1] and value == values[-1])
        values.append(value)
    return values, by_practice


def _weeks(
    lib: Library,
    case: Case,
    assessment: Assessment,
    start: dt.date,
    today: dt.date,
    diary: Sequence[DiaryEntry],
    exclusions: Collection[str],
    lang: str,
    feedback: Sequence[ExerciseFeedback] = (),
    practice: _PracticeInput | None = None,
) -> tuple[list[PlanWeek], list[MissingAlternative], list[bool]]:
    """All plan weeks, the exercises left without an alternative in the current week, and per week
    whether its level is one a practice set."""
    practice = practice or _PracticeInput()
    exclusions = [*exclusions, *sorted(practice.excluded)]
    finished = _finished_weeks(start, today)
    pains = weekly_pain(diary, start, until=today)
    known = [e for e in diary if _day(e) <= today]
    total = plan_weeks()
    decided = progression(known, start, min(finished, total - 1), pain_intensity=case.pain_intensity)
    # Weeks not yet finished stay at the level reached: a step up needs that week's entries first.
    steps = [decided[w].step if w < len(decided) else HOLD for w in range(total - 1)]
    level0 = start_level(case, assessment)
    levels, by_practice = practice_levels(level0, steps, practice.levels)
    walking = _plan_params().walking_minutes
    minutes0 = walking.start + walking.step * (level0 - 1)
    minutes = apply_steps(minutes0, steps, low=walking.start, high=walking.max, size=walking.step)

    by_level: dict[int, tuple[list[tuple[Slot, PlanExercise]], list[MissingAlternative]]] = {}
    for level in set(levels):
        by_level[level] = _select_slots(lib, case, level, exclusions, lang)
    rated = [f for f in feedback if f.recorded_at.date() <= today and f.exercise_id in lib.exercises]
    exercises = _Sessions(lib, case, start, exclusions, lang, levels, steps, decided, by_level).weeks(rated)
    exercises = [_with_practice(week, w, practice, lang) for w, week in enumerate(exercises)]
    weeks: list[PlanWeek] = []
    for w in range(total):
        level = levels[w]
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
                exercises=exercises[w],
            )
        )
    current_level = levels[min(finished, total - 1)]
    missing = [
        m.model_copy(update={"by_practice": True}) if m.exercise_id in practice.excluded else m
        for m in by_level[current_level][1]
    ]
    return weeks, missing, by_practice


def _with_practice(
    week: list[PlanExercise], index: int, practice: _PracticeInput, lang: str
) -> list[PlanExercise]:
    """One week's exercises with the practices' marks: a stand-in for an exercise a practice left out,
    and the exercises a practice added by this week (each once)."""
    shown = [
        e.model_copy(update={"by_practice": True}) if e.replaces in practice.excluded else e for e in week
    ]
    present = {e.id for e in shown}
    for first, exercise in practice.added:
        if first <= index and exercise.id not in present:
            shown.append(_plan_exercise(exercise, lang).model_copy(update={"by_practice": True}))
            present.add(exercise.id)
    return shown


# The traffic light's decisions after which no harder exercise is offered.
_NO_OFFER: frozenset[StepReason] = frozenset(
    {"rise_from_start", "rising_weeks", "pain_rise", "warning_sign", "function_worse"}
)
_HOLDS: frozenset[Adjusted] = frozenset({"pain_after", "too_hard"})


@dataclass(frozen=True)
class _Adjustment:
    kind: Adjusted
    exercise: Exercise


@dataclass
class _Sessions:
    """The per-exercise rules of the module doc, week by week over the levels the traffic light chose."""

    lib: Library
    case: Case
    start: dt.date
    exclusions: Collection[str]
    lang: str
    levels: list[int]
    steps: list[int]
    decided: list[StepDecision]
    by_level: dict[int, tuple[list[tuple[Slot, PlanExercise]], list[MissingAlternative]]]

    def weeks(self, feedback: Sequence[ExerciseFeedback]) -> list[list[PlanExercise]]:
        rule = _plan_params().feedback
        total = len(self.levels)
        by_week: dict[int, list[ExerciseFeedback]] = defaultdict(list)
        for row in sorted(feedback, key=lambda f: f.recorded_at):
            index = (row.recorded_at.date() - self.start).days // 7
            if 0 <= index < total:
                by_week[index].append(row)
        streak: dict[str, int] = defaultdict(int)
        state: dict[Slot, _Adjustment] = {}
        out: list[list[PlanExercise]] = []
        for w in range(total):
            level = self.levels[w]
            slots = self.by_level[level][0]
            if w > 0 and self.steps[w - 1] == BACK:
                state = {
                    k: a for k, a in state.items() if a.kind != "took_next" and a.exercise.level <= level
                }
            state = self._resolve(state, slots, level)
            week_ids = {a.exercise.id for a in state.values()} | {e.id for _, e in slots}
            offer_ok = self._offer_allowed(w)
            rows = by_week[w]
            for row in rows:
                if row.rating is None:
                    continue
                if row.rating == "take_next":
                    slot = self._slot_of(row.exercise_id, slots, state)
                    if (
                        slot is not None
                        and offer_ok
                        and slot not in _held(state)
                        and (streak[row.exercise_id] >= rule.too_easy_offer)
                    ):
                        harder = self._next(self.lib.exercises[row.exercise_id], slot[0], week_ids)
                        if harder is not None:
                            state[slot] = _Adjustment("took_next", harder)
                            week_ids.add(harder.id)
                    streak[row.exercise_id] = 0
                    continue
                streak[row.exercise_id] = streak[row.exercise_id] + 1 if row.rating == "too_easy" else 0
            week: list[PlanExercise] = []
            for slot, default in slots:
                adjustment = state.get(slot)
                exercise = self.lib.exercises[default.id] if adjustment is None else adjustment.exercise
                offer = None
                if offer_ok and slot not in _held(state) and streak[exercise.id] >= rule.too_easy_offer:
                    harder = self._next(exercise, slot[0], week_ids)
                    offer = None if harder is None else harder.id
                week.append(self._shown(default, adjustment, offer))
            out.append(week)
            # The ratings of this week decide the next week's adjustments (a, b, c).
            upcoming = self.by_level[self.levels[min(w + 1, total - 1)]][0]
            shown = {slot: e.id for (slot, _), e in zip(slots, week, strict=True)}
            for slot, default in slots:
                others = {i for s, i in shown.items() if s != slot} | {e.id for s, e in upcoming if s != slot}
                adjustment = state.get(slot)
                exercise = self.lib.exercises[default.id] if adjustment is None else adjustment.exercise
                ratings = [r.rating for r in rows if r.exercise_id == exercise.id and r.rating != "take_next"]
                if ratings.count("pain_after") >= rule.pain_after_back:
                    easier = self._easier(exercise, slot[0], others)
                    state[slot] = _Adjustment("pain_after", easier or exercise)
                elif ratings and ratings[-1] == "too_hard":
                    state[slot] = _Adjustment("too_hard", exercise)
                elif "too_easy" in ratings and adjustment is not None and adjustment.kind in _HOLDS:
                    del state[slot]
        return out

    def _resolve(
        self, state: dict[Slot, _Adjustment], slots: list[tuple[Slot, PlanExercise]], level: int
    ) -> dict[Slot, _Adjustment]:
        """The adjustments that apply to this week's slots: a slot the week lacks, a taken exercise the
        level has reached, an adjustment whose exercise another slot holds — dropped."""
        kept: dict[Slot, _Adjustment] = {}
        taken: set[str] = set()
        defaults = dict(slots)
        for slot, _default in slots:
            adjustment = state.get(slot)
            if adjustment is None:
                continue
            if adjustment.kind == "took_next" and adjustment.exercise.level <= level:
                continue
            others = {e.id for s, e in defaults.items() if s != slot} | taken
            if adjustment.exercise.id in others:
                continue
            kept[slot] = adjustment
            taken.add(adjustment.exercise.id)
        return kept

    def _offer_allowed(self, w: int) -> bool:
        known = min(w, len(self.decided))
        return known == 0 or self.decided[known - 1].reason not in _NO_OFFER

    def _slot_of(
        self, exercise_id: str, slots: list[tuple[Slot, PlanExercise]], state: dict[Slot, _Adjustment]
    ) -> Slot | None:
        for slot, default in slots:
            adjustment = state.get(slot)
            if (default.id if adjustment is None else adjustment.exercise.id) == exercise_id:
                return slot
        return None

    def _fits(self, exercise: Exercise, region: RegionValue, taken: Collection[str]) -> bool:
        return (
            region in exercise.regions
            and exercise.id not in self.exclusions
            and exercise.id not in taken
            and not exercise.avoided_for(self.case)
        )

    def _easier(self, exercise: Exercise, region: RegionValue, taken: Collection[str]) -> Exercise | None:
        for alt_id in exercise.alternatives:
            alt = self.lib.exercises[alt_id]
            if alt.level < exercise.level and self._fits(alt, region, taken):
                return alt
        return None

    def _next(self, exercise: Exercise, region: RegionValue, taken: Collection[str]) -> Exercise | None:
        if exercise.level >= MAX_LEVEL:
            return None
        for harder in _candidates(self.lib, self.case, region, exercise.level + 1):
            if self._fits(harder, region, taken):
                return harder
        return None

    def _shown(
        self, default: PlanExercise, adjustment: _Adjustment | None, offer: str | None
    ) -> PlanExercise:
        if adjustment is None:
            return default if offer is None else default.model_copy(update={"next_level": offer})
        exercise = adjustment.exercise
        same = exercise.id == default.id
        shown = default if same else _plan_exercise(exercise, self.lang)
        return shown.model_copy(
            update={
                "adjusted": adjustment.kind,
                "instead_of": None if same else default.id,
                "next_level": offer,
            }
        )


def _held(state: dict[Slot, _Adjustment]) -> set[Slot]:
    return {slot for slot, a in state.items() if a.kind in _HOLDS}
