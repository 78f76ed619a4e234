"""Re-screening of a diary entry: the real engine runs on the Case updated with the entry's warning signs.

The updated Case is the original answers with every warning sign of the entry turned on
(diary.yaml: "weakness_worse" sets weakness to severe_or_progressive) and duration_weeks advanced by the time
from the assessment to the entry. The triage policy is the engine's, never re-implemented here; since the
engine is monotone in warning signs, adding signs to an entry never lowers the result.

Escalated means: the entry brings a warning sign the Case did not have, and with it the triage rank rose
above the previous assessment's, or a red-flag condition appeared that the previous assessment did not
have. A change that comes from time alone (say the phase turning subacute) is not an escalation here:
time-based steps belong to the trend rules (plan.trends), which also look at whether the pain improved.
Pass the last re-screen's assessment as ``previous`` so that a sign that stays does not escalate again.

The entry's pain reach also counts: pain that now reaches further into the leg than the Case said raises
``leg_pain`` (never lowers it), because spreading leg pain can change the policy (e.g. with a cancer history).

Red flags persist until examined (contract 2, SR-FU-1). Every red flag raised in the episode (by the intake
or by an earlier entry) stands with the highest triage its rules set when raised, until an entry records
``examined_by_doctor``. Time (a rule for the early or acute phase) or a sign that is not ticked again never
ends it: when the engine no longer raises a standing flag at its triage, the entry is assessed with a
knowledge base that holds it (one extra rule per held condition, ``held_<condition>``, always true), so
triage, seek-care texts and the "no exercise" advice stay the engine's own. After the examination the same
unchanged facts (age, an old cancer, a known aneurysm: Case fields the entry did not change) do not raise
that condition again; its rules are left out then. New or changed evidence (a warning sign ticked in the
entry, pain spreading further into the leg) raises it again. ``replay`` runs this over a whole diary.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ..core.engine import evaluate
from ..core.kb import KnowledgeBase, RuleSpec
from ..core.models import IMAGING_ORDER, TRIAGE_ORDER, Assessment, Case, Imaging, RedFlag, Triage
from ..i18n import LocalText, check_language, languages
from ..knowledge.diary import LEG_PAIN_ORDER
from ..knowledge.loader import default_knowledge, packaged_knowledge
from .followup_texts import render_both
from .models import DIARY_WARNING_SIGNS, DiaryEntry, DiaryWarningSign

LEG_PAIN_SPREAD = "leg_pain_spread"
_WEEK = timedelta(weeks=1)
_RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}
_IMAGING_RANK = {m: i for i, m in enumerate(IMAGING_ORDER)}
HELD_PREFIX = "held_"
# A held rule is always true: the flag stands because it was raised, not because of today's answers.
_ALWAYS: object = True


class RaisedFlag(BaseModel):
    """A red flag raised in the episode: the condition, the highest triage its rules set, since when."""

    model_config = ConfigDict(frozen=True)
    condition: str
    triage: Triage
    imaging: Imaging | None = None
    raised_at: datetime
    rules: list[str]
    evidence: list[str]


class Rescreen(BaseModel):
    """The engine's verdict on the Case as it stands at a diary entry, compared with the previous one."""

    model_config = ConfigDict(frozen=True)
    recorded_at: datetime
    case: Case
    assessment: Assessment
    previous_triage: Triage
    escalated: bool
    new_signs: list[DiaryWarningSign]
    leg_pain_spread: bool
    new_conditions: list[str]
    reasons: list[LocalText]
    # Conditions whose red flag only stands because it was raised earlier and not yet examined.
    held: list[str] = []
    # Conditions this entry's "a doctor has examined me" answer cleared.
    examined: list[str] = []
    # The red flags standing after this entry (what the next entry holds).
    standing: list[RaisedFlag] = []


def sign_field(sign: str) -> str:
    """The Case field a diary warning sign sets (diary.yaml: weakness_worse sets weakness)."""
    return packaged_knowledge().diary.sign_field(sign)


def _already_set(case: Case, sign: str) -> bool:
    value = packaged_knowledge().diary.sign_value(sign)
    current = getattr(case, sign_field(sign))
    return current == value if isinstance(value, str) else bool(current)


def new_signs(case: Case, entry: DiaryEntry) -> list[DiaryWarningSign]:
    """The entry's warning signs that the Case does not have yet, in the order of the diary check."""
    fresh = (s for s in entry.warning_signs if not _already_set(case, s))
    return sorted(fresh, key=DIARY_WARNING_SIGNS.index)


def spread_leg_pain(case: Case, entry: DiaryEntry) -> str | None:
    """The Case's leg_pain raised to the entry's pain reach, or None when the reach is not further out."""
    if entry.pain_reach is None:
        return None
    reached = packaged_knowledge().diary.reach_leg_pain(entry.pain_reach)
    return reached if LEG_PAIN_ORDER.index(reached) > LEG_PAIN_ORDER.index(case.leg_pain) else None


def duration_at(case: Case, assessed_at: datetime, moment: datetime) -> float:
    """The Case's duration_weeks advanced to a later moment (never below 0)."""
    return max(0.0, case.duration_weeks + (moment - assessed_at) / _WEEK)


def updated_case(case: Case, entry: DiaryEntry, *, assessed_at: datetime) -> Case:
    """The Case as it stands at the entry: its warning signs on, its duration advanced."""
    diary = packaged_knowledge().diary
    update: dict[str, object] = {diary.sign_field(s): diary.sign_value(s) for s in entry.warning_signs}
    spread = spread_leg_pain(case, entry)
    if spread is not None:
        update["leg_pain"] = spread
    update["duration_weeks"] = duration_at(case, assessed_at, entry.recorded_at)
    return Case.model_validate({**case.model_dump(exclude_none=True), **update}, strict=False)


def _without_signs(case: Case) -> dict[str, object]:
    """The original values of every field a diary entry can raise (its warning signs and its pain reach)."""
    original = {sign_field(s): getattr(case, sign_field(s)) for s in DIARY_WARNING_SIGNS}
    original["leg_pain"] = case.leg_pain
    return original


def _red_flag_conditions(assessment: Assessment) -> list[str]:
    return list(dict.fromkeys(f.condition for f in assessment.red_flags))


def _rule_reasons(kb: KnowledgeBase, now: Assessment, without: list[Assessment]) -> list[LocalText]:
    """Why: the reasons of the rules that fire now but fired neither before nor without the entry's signs."""
    seen = {t.rule for a in without for t in a.trace}
    fired = [t for t in now.trace if t.rule not in seen and f"rule.{t.rule}.reason" in kb.spec.texts]
    texts = [LocalText(**{lang: kb.reason(t.rule, t.because, lang) for lang in languages()}) for t in fired]
    return list({(t.de, t.en): t for t in texts}.values())


def _sign_list(signs: list[str]) -> Callable[[str], str]:
    def label(lang: str) -> str:
        return ", ".join(render_both(f"sign.{s}.label").get(lang) for s in signs)

    return label


def _reasons(
    kb: KnowledgeBase,
    now: Assessment,
    previous: Assessment,
    time_only: Assessment,
    signs: list[str],
    rose: bool,
) -> list[LocalText]:
    if not signs:
        same = now.triage == previous.triage
        return [render_both("rescreen.unchanged" if same else "rescreen.changed_by_time")]
    labels = _sign_list(signs)
    if not rose and not set(_red_flag_conditions(now)) - set(_red_flag_conditions(previous)):
        return [render_both("rescreen.noted", signs=labels)]
    headline = render_both("rescreen.escalated" if rose else "rescreen.new_concern", signs=labels)
    why = _rule_reasons(kb, now, [previous, time_only])
    action = [LocalText(**{lang: kb.triage_action(now, lang) for lang in languages()})] if rose else []
    return [headline, *action, *why]


def _rule_effects(kb: KnowledgeBase) -> dict[str, tuple[str | None, Triage | None, Imaging | None]]:
    """Rule and escalation id -> (condition, triage, imaging), derived once per knowledge base."""
    effects: dict[str, tuple[str | None, Triage | None, Imaging | None]] | None = kb.cache.get(
        "followup.rule_effects"
    )
    if effects is None:
        effects = {}
        for rule in kb.spec.rules:
            effects[rule.id] = (rule.suspect, rule.triage, rule.imaging)
            for esc in rule.escalate:
                effects[esc.id] = (rule.suspect, esc.triage, esc.imaging)
        kb.cache["followup.rule_effects"] = effects
    return effects


def _higher_imaging(a: Imaging | None, b: Imaging | None) -> Imaging | None:
    if a is None or b is None:
        return a or b
    return a if _IMAGING_RANK[a] >= _IMAGING_RANK[b] else b


def raised_flags(kb: KnowledgeBase, assessment: Assessment, at: datetime) -> list[RaisedFlag]:
    """The red flags of an assessment with the highest triage each condition's rules set.

    Held flags (``held_…``) are left out: they are carried by the episode, not raised here. A rule this
    knowledge base does not know (an assessment from an older version) counts with the whole triage.
    """
    effects = _rule_effects(kb)
    by_condition: dict[str, list[RedFlag]] = {}
    for flag in assessment.red_flags:
        if not flag.id.startswith(HELD_PREFIX):
            by_condition.setdefault(flag.condition, []).append(flag)
    raised: list[RaisedFlag] = []
    for condition, flags in by_condition.items():
        rules = [t.rule for t in assessment.trace if t.rule in effects and effects[t.rule][0] == condition]
        triages = [t for t in (effects[r][1] for r in rules) if t is not None]
        if not triages or not all(f.id in effects for f in flags):
            triages = [assessment.triage]
        imaging: Imaging | None = None
        for rule in rules:
            imaging = _higher_imaging(imaging, effects[rule][2])
        raised.append(
            RaisedFlag(
                condition=condition,
                triage=max(triages, key=_RANK.__getitem__),
                imaging=imaging,
                raised_at=at,
                rules=rules or [f.id for f in flags],
                evidence=list(dict.fromkeys(e for f in flags for e in f.evidence)),
            )
        )
    return raised


def merge_flags(*groups: Iterable[RaisedFlag]) -> list[RaisedFlag]:
    """One flag per condition: the highest triage and imaging, the earliest time, all rules and evidence."""
    merged: dict[str, RaisedFlag] = {}
    for flag in (f for group in groups for f in group):
        old = merged.get(flag.condition)
        if old is None:
            merged[flag.condition] = flag
            continue
        merged[flag.condition] = RaisedFlag(
            condition=flag.condition,
            triage=max(old.triage, flag.triage, key=_RANK.__getitem__),
            imaging=_higher_imaging(old.imaging, flag.imaging),
            raised_at=min(old.raised_at, flag.raised_at),
            rules=list(dict.fromkeys([*old.rules, *flag.rules])),
            evidence=list(dict.fromkeys([*old.evidence, *flag.evidence])),
        )
    return list(merged.values())


def changed_fields(case: Case, entry: DiaryEntry) -> set[str]:
    """The Case fields an entry brings as evidence: its warning signs and further-spreading leg pain."""
    fields = {sign_field(s) for s in entry.warning_signs}
    if spread_leg_pain(case, entry) is not None:
        fields.add("leg_pain")
    return fields


def _held_text(kb: KnowledgeBase, condition: str) -> dict[str, str]:
    label_key = f"condition.{condition}.label"
    return {
        lang: render_both("rescreen.held_rule", condition=lambda lg: kb.render(label_key, lg)).get(lang)
        for lang in languages()
    }


def _held_rule(kb: KnowledgeBase, condition: str, triage: Triage, imaging: Imaging | None) -> RuleSpec:
    sources = [s for r in kb.spec.rules if r.suspect == condition for s in r.sources]
    known = condition in {c.id for c in kb.spec.conditions}
    return RuleSpec(
        id=f"{HELD_PREFIX}{condition}",
        when=_ALWAYS,
        suspect=condition if known else None,
        triage=triage,
        imaging=imaging,
        sources=list(dict.fromkeys(sources)) or [kb.spec.sources[0].id],
    )


HeldKey = tuple[tuple[str, Triage, Imaging | None], ...]


def followup_knowledge(kb: KnowledgeBase, drop: frozenset[str], hold: HeldKey) -> KnowledgeBase:
    """The knowledge base without the rules of ``drop`` (examined conditions) and with a held rule for each
    of ``hold``; kept per base, as few combinations occur."""
    variants: dict[tuple[frozenset[str], HeldKey], KnowledgeBase] = kb.cache.setdefault(
        "followup.variants", {}
    )
    key = (drop, hold)
    found = variants.get(key)
    if found is None:
        held = [_held_rule(kb, c, t, i) for c, t, i in hold]
        rules = [r for r in kb.spec.rules if r.suspect not in drop] + held
        texts = {
            **kb.spec.texts,
            **{f"rule.{r.id}.reason": _held_text(kb, r.id[len(HELD_PREFIX) :]) for r in held},
        }
        found = variants[key] = KnowledgeBase(kb.spec.model_copy(update={"rules": rules, "texts": texts}))
    return found


def _dedupe(assessment: Assessment) -> Assessment:
    """One red flag per condition (the engine's own first, a held one only where the engine raised none)."""
    flags: dict[str, RedFlag] = {}
    for flag in assessment.red_flags:
        flags.setdefault(flag.condition, flag)
    return assessment.model_copy(update={"red_flags": list(flags.values())})


def _persisting(
    kb: KnowledgeBase,
    current: Case,
    lang: str,
    *,
    held: Sequence[RaisedFlag],
    cleared: Collection[str],
    fresh: set[str],
    current_moment: datetime,
) -> tuple[Assessment, list[str]]:
    """The engine's verdict with examined unchanged evidence left out and standing flags held."""
    plain = evaluate(kb, current, lang)
    evidence: dict[str, set[str]] = {}
    for flag in plain.red_flags:
        evidence.setdefault(flag.condition, set()).update(flag.evidence)
    drop = frozenset(c for c in cleared if c in evidence and not evidence[c] & fresh)
    base = plain if not drop else evaluate(followup_knowledge(kb, drop, ()), current, lang)
    # The triage the engine itself gives each condition now; a standing flag above it is held.
    now = {f.condition: _RANK[f.triage] for f in raised_flags(kb, base, current_moment)}
    hold: HeldKey = tuple(
        sorted((f.condition, f.triage, f.imaging) for f in held if now.get(f.condition, -1) < _RANK[f.triage])
    )
    if not hold:
        return base, []
    assessment = _dedupe(evaluate(followup_knowledge(kb, drop, hold), current, lang))
    return assessment, [h[0] for h in hold]


def rescreen(
    case: Case,
    previous: Assessment,
    entry: DiaryEntry,
    *,
    assessed_at: datetime,
    kb: KnowledgeBase | None = None,
    lang: str = "de",
    standing: Sequence[RaisedFlag] = (),
    cleared: Collection[str] = (),
) -> Rescreen:
    """Re-run the engine for the Case as it stands at this diary entry and say whether it escalated.

    ``standing`` are the red flags raised earlier in the episode and not yet examined; ``cleared`` the
    conditions a doctor examined earlier. Without them this is the plain re-screen of one entry.
    """
    check_language(lang)
    kb = kb or default_knowledge()
    current = updated_case(case, entry, assessed_at=assessed_at)
    examined = [f.condition for f in standing] if entry.examined_by_doctor else []
    held = [] if entry.examined_by_doctor else list(standing)
    assessment, held_now = _persisting(
        kb,
        current,
        lang,
        held=held,
        cleared={*cleared, *examined},
        fresh=changed_fields(case, entry),
        current_moment=entry.recorded_at,
    )
    # The same moment without the entry's signs: tells the entry's effect apart from the effect of time.
    time_only = evaluate(kb, current.model_copy(update=_without_signs(case)), lang)
    signs = new_signs(case, entry)
    spread = spread_leg_pain(case, entry) is not None
    changes: list[str] = [*signs, *([LEG_PAIN_SPREAD] if spread else [])]
    rose = _RANK[assessment.triage] > _RANK[previous.triage]
    appeared = [c for c in _red_flag_conditions(assessment) if c not in _red_flag_conditions(previous)]
    reasons = _reasons(kb, assessment, previous, time_only, changes, rose)
    if held_now:
        reasons.append(render_both("rescreen.held", conditions=_condition_list(kb, held_now)))
    if examined:
        reasons.insert(0, render_both("rescreen.examined", conditions=_condition_list(kb, examined)))
    return Rescreen(
        recorded_at=entry.recorded_at,
        case=current,
        assessment=assessment,
        previous_triage=previous.triage,
        escalated=bool(changes) and (rose or bool(appeared)),
        new_signs=signs,
        leg_pain_spread=spread,
        new_conditions=appeared,
        reasons=reasons,
        held=held_now,
        examined=examined,
        standing=merge_flags(held, raised_flags(kb, assessment, entry.recorded_at)),
    )


def _condition_list(kb: KnowledgeBase, conditions: Sequence[str]) -> Callable[[str], str]:
    def label(lang: str) -> str:
        return ", ".join(kb.render(f"condition.{c}.label", lang) for c in conditions)

    return label


# Raise when the re-screen's logic changes in a way the knowledge version does not show: a diary's stored
# checkpoint (``EpisodeState``) made by other logic is then replayed afresh instead of continued.
STATE_FORMAT = 1


class EpisodeState(BaseModel):
    """Where an episode stands after an entry: all the next entry's re-screen starts from.

    Stored as a checkpoint after each diary entry, so that the next entry (the usual case: a later one) is
    re-screened from here instead of replaying the whole diary, which costs time and memory in proportion
    to the diary's length.
    """

    model_config = ConfigDict(frozen=True)
    # The last re-screen's assessment (the intake's before the first entry).
    previous: Assessment
    standing: list[RaisedFlag]
    # Condition -> when a doctor last examined it (the entry's time).
    examined_at: dict[str, datetime]


def start_state(
    intake: Assessment, *, assessed_at: datetime, kb: KnowledgeBase | None = None
) -> EpisodeState:
    """The episode before its first entry: the intake's red flags stand from the intake on."""
    kb = kb or default_knowledge()
    return EpisodeState(previous=intake, standing=raised_flags(kb, intake, assessed_at), examined_at={})


def step(
    case: Case,
    state: EpisodeState,
    entry: DiaryEntry,
    *,
    assessed_at: datetime,
    kb: KnowledgeBase | None = None,
    lang: str = "de",
) -> tuple[Rescreen, EpisodeState]:
    """Re-screen one entry from where the episode stands (entries in time order); the state after it."""
    result = rescreen(
        case,
        state.previous,
        entry,
        assessed_at=assessed_at,
        kb=kb,
        lang=lang,
        standing=state.standing,
        cleared=state.examined_at.keys(),
    )
    examined_at = {**state.examined_at, **dict.fromkeys(result.examined, entry.recorded_at)}
    after = EpisodeState(previous=result.assessment, standing=result.standing, examined_at=examined_at)
    return result, after


class Episode(BaseModel):
    """A whole diary re-screened in time order, with the flags standing after its last entry."""

    model_config = ConfigDict(frozen=True)
    rescreens: list[Rescreen]
    # Where the episode stands after its last entry (what a later entry continues from).
    state: EpisodeState
    # positions[i]: where the i-th entry given to replay stands in ``rescreens`` (time order).
    positions: list[int]

    @property
    def standing(self) -> list[RaisedFlag]:
        return self.state.standing

    @property
    def examined_at(self) -> dict[str, datetime]:
        return self.state.examined_at

    def of_entry(self, index: int) -> Rescreen:
        """The re-screen of the entry given at ``index`` (negative counts from the end)."""
        return self.rescreens[self.positions[index]]


def replay(
    case: Case,
    intake: Assessment,
    entries: Sequence[DiaryEntry],
    *,
    assessed_at: datetime,
    kb: KnowledgeBase | None = None,
    lang: str = "de",
) -> Episode:
    """Re-screen every entry in time order from the intake on, carrying the standing red flags along.

    Each entry's ``previous`` is the re-screen before it (the intake for the first), so a flag that only
    stands on is never reported as an escalation again. The same ``step`` as a checkpoint's continuation.
    """
    kb = kb or default_knowledge()
    state = start_state(intake, assessed_at=assessed_at, kb=kb)
    results: list[Rescreen] = []
    # A stable sort: entries of the same moment keep the order given (the store's: as they were written).
    order = sorted(range(len(entries)), key=lambda i: entries[i].recorded_at)
    for i in order:
        result, state = step(case, state, entries[i], assessed_at=assessed_at, kb=kb, lang=lang)
        results.append(result)
    positions = [0] * len(entries)
    for place, i in enumerate(order):
        positions[i] = place
    return Episode(rescreens=results, state=state, positions=positions)


def replay_version(kb: KnowledgeBase | None = None) -> str:
    """What a stored ``EpisodeState`` was made with: the state format and the knowledge version (new rules
    can raise or hold other flags, so a checkpoint of other knowledge is replayed, not continued)."""
    kb = kb or default_knowledge()
    return f"{STATE_FORMAT}:{kb.version}"
