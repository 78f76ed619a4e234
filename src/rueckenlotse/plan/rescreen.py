"""Re-screening of a diary entry: the real engine runs on the Case updated with the entry's warning signs.

The updated Case is the original answers with every warning sign of the entry turned on
("weakness_worse" sets weakness to severe_or_progressive) and duration_weeks advanced by the time from the
assessment to the entry. The triage policy is the engine's, never re-implemented here; since the engine is
monotone in warning signs, adding signs to an entry never lowers the result.

Escalated means: the entry brings a warning sign the Case did not have, and with it the triage rank rose
above the previous assessment's, or a red-flag condition appeared that the previous assessment did not
have. A change that comes from time alone (say the phase turning subacute) is not an escalation here:
time-based steps belong to the trend rules (plan.trends), which also look at whether the pain improved.
Pass the last re-screen's assessment as ``previous`` so that a sign that stays does not escalate again.

The entry's pain reach also counts: pain that now reaches further into the leg than the Case said raises
``leg_pain`` (never lowers it), because spreading leg pain can change the policy (e.g. with a cancer history).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from ..core.engine import evaluate
from ..core.kb import KnowledgeBase
from ..core.models import TRIAGE_ORDER, Assessment, Case, Triage
from ..knowledge.loader import default_knowledge
from .followup_texts import LANGS, LocalText, render_both
from .models import DIARY_WARNING_SIGNS, DiaryEntry, DiaryWarningSign

WEAKNESS_WORSE = "weakness_worse"
LEG_PAIN_SPREAD = "leg_pain_spread"
_LEG_PAIN_ORDER = ("none", "above_knee", "below_knee")
_REACH_TO_LEG_PAIN = {"back_only": "none", "buttock_thigh": "above_knee", "below_knee": "below_knee"}
_WEEK = timedelta(weeks=1)
_RANK = {t: i for i, t in enumerate(TRIAGE_ORDER)}


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


def sign_field(sign: str) -> str:
    """The Case field a diary warning sign sets."""
    return "weakness" if sign == WEAKNESS_WORSE else sign


def _already_set(case: Case, sign: str) -> bool:
    if sign == WEAKNESS_WORSE:
        return case.weakness == "severe_or_progressive"
    return bool(getattr(case, sign))


def new_signs(case: Case, entry: DiaryEntry) -> list[DiaryWarningSign]:
    """The entry's warning signs that the Case does not have yet, in the order of the diary check."""
    fresh = (s for s in entry.warning_signs if not _already_set(case, s))
    return sorted(fresh, key=DIARY_WARNING_SIGNS.index)


def spread_leg_pain(case: Case, entry: DiaryEntry) -> str | None:
    """The Case's leg_pain raised to the entry's pain reach, or None when the reach is not further out."""
    if entry.pain_reach is None:
        return None
    reached = _REACH_TO_LEG_PAIN[entry.pain_reach]
    return reached if _LEG_PAIN_ORDER.index(reached) > _LEG_PAIN_ORDER.index(case.leg_pain) else None


def duration_at(case: Case, assessed_at: datetime, moment: datetime) -> float:
    """The Case's duration_weeks advanced to a later moment (never below 0)."""
    return max(0.0, case.duration_weeks + (moment - assessed_at) / _WEEK)


def updated_case(case: Case, entry: DiaryEntry, *, assessed_at: datetime) -> Case:
    """The Case as it stands at the entry: its warning signs on, its duration advanced."""
    update: dict[str, object] = {sign_field(s): True for s in entry.warning_signs if s != WEAKNESS_WORSE}
    if WEAKNESS_WORSE in entry.warning_signs:
        update["weakness"] = "severe_or_progressive"
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


def _kb_text(kb: KnowledgeBase, key: str) -> LocalText:
    return LocalText(**{lang: kb.text(key, lang) for lang in LANGS})


def _rule_reasons(kb: KnowledgeBase, now: Assessment, without: list[Assessment]) -> list[LocalText]:
    """Why: the reasons of the rules that fire now but fired neither before nor without the entry's signs."""
    seen = {t.rule for a in without for t in a.trace}
    keys = [f"rule.{t.rule}.reason" for t in now.trace if t.rule not in seen]
    return [_kb_text(kb, key) for key in dict.fromkeys(keys) if key in kb.spec.texts]


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
    action = [_kb_text(kb, f"triage.{now.triage.value}.action")] if rose else []
    return [headline, *action, *why]


def rescreen(
    case: Case,
    previous: Assessment,
    entry: DiaryEntry,
    *,
    assessed_at: datetime,
    kb: KnowledgeBase | None = None,
    lang: str = "de",
) -> Rescreen:
    """Re-run the engine for the Case as it stands at this diary entry and say whether it escalated."""
    if lang not in LANGS:
        raise ValueError(f"lang must be one of {LANGS}, not {lang!r}")
    kb = kb or default_knowledge()
    current = updated_case(case, entry, assessed_at=assessed_at)
    assessment = evaluate(kb, current, lang)
    # The same moment without the entry's signs: tells the entry's effect apart from the effect of time.
    time_only = evaluate(kb, current.model_copy(update=_without_signs(case)), lang)
    signs = new_signs(case, entry)
    spread = spread_leg_pain(case, entry) is not None
    changes: list[str] = [*signs, *([LEG_PAIN_SPREAD] if spread else [])]
    rose = _RANK[assessment.triage] > _RANK[previous.triage]
    appeared = [c for c in _red_flag_conditions(assessment) if c not in _red_flag_conditions(previous)]
    return Rescreen(
        recorded_at=entry.recorded_at,
        case=current,
        assessment=assessment,
        previous_triage=previous.triage,
        escalated=bool(changes) and (rose or bool(appeared)),
        new_signs=signs,
        leg_pain_spread=spread,
        new_conditions=appeared,
        reasons=_reasons(kb, assessment, previous, time_only, changes, rose),
    )
