"""Children are never reassured like adults (CLINICAL_BRIEF.md: paediatric back pain, adult guidance ≥ 16)."""

from __future__ import annotations

from typing import Any

import pytest

from rueckenlotse import assess

from ..strategies import REGIONS

LEVELS = ["self_care", "routine", "soon", "urgent", "emergency"]
# The most reassuring cases an adult can have: acute, short, mild, no warning sign, recurrent.
CALM: list[dict[str, Any]] = [
    {"regions": [region], "duration_weeks": weeks, "pain_intensity": 2, "recurrent": True}
    for region in REGIONS
    for weeks in (0.5, 3, 20)
]


@pytest.mark.safety("SR-RF-5")
@pytest.mark.parametrize("age", range(0, 17))
def test_a_child_is_seen_soon_and_a_small_child_urgently(age: int) -> None:
    for calm in CALM:
        a = assess({"age": age, **calm})
        level = LEVELS.index(a.triage.value)
        if age < 16:
            assert "paediatric_back_pain" in a.suspected_conditions, (age, calm)
            assert level >= LEVELS.index("urgent" if age < 5 else "soon"), (age, calm, a.triage.value)
            assert {r.id for r in a.recommendations} & {
                "see_doctor_soon",
                "see_doctor_today",
                "call_emergency",
            }
        else:
            # At 16 adult guidance applies: the same calm case may be self-care (the rule does not leak).
            assert "paediatric_back_pain" not in a.suspected_conditions, (age, calm)
