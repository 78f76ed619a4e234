"""The per-case engine's Assessment in the flat shape of the compiled query's result.

The differential test compares against this, and rows that only Python's validation accepts are
assessed per case and written in this shape too.
"""

from __future__ import annotations

from typing import Any

from ..core.models import Assessment
from ..core.sql_compile import LIST_SEPARATOR


def flat_result(line: int, a: Assessment) -> dict[str, Any]:
    sb, neuro = a.startback, a.neuroplastic_indicators
    return {
        "line": line,
        "triage": a.triage.value,
        "imaging": a.imaging.value,
        "review_in_days": a.review_in_days,
        "phase": a.phase.value,
        "pain_type": a.pain_type.value,
        "chronification_risk": a.chronification_risk.value,
        "startback_total": sb.total if sb else None,
        "startback_psychosocial": sb.psychosocial if sb else None,
        "startback_group": sb.group.value if sb else None,
        "neuroplastic_count": neuro.count if neuro else None,
        "neuroplastic_level": neuro.level.value if neuro else None,
        "suspected_conditions": LIST_SEPARATOR.join(a.suspected_conditions),
        "red_flag_ids": LIST_SEPARATOR.join(f.id for f in a.red_flags),
        "red_flag_conditions": LIST_SEPARATOR.join(f.condition for f in a.red_flags),
        "recommendation_ids": LIST_SEPARATOR.join(r.id for r in a.recommendations),
    }
