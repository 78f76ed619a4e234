"""The self-management plan (rueckenlotse.plan) as a FHIR R4B CarePlan.

One activity per item of the current plan week: the walking goal, each exercise and comfort item
(heat, relaxation), each education module; every activity carries a code of our own CodeSystems and
the title as shown to the person. The plan's advice goes into ``note``. While a red flag stands the plan
holds only the seek-care advice and education (the plan builder's rule), and so does the CarePlan.
"""

from __future__ import annotations

import datetime as dt

from ...plan.library import Library
from ...plan.plan_model import ComfortEntry, Plan, PlanExercise
from .common import Json, codesystem, coding, instant, reference, validated
from .texts import fhir_texts


def _t(key: str, lang: str, **values: object) -> str:
    return fhir_texts().format(f"fhir.careplan.{key}", lang, **values)


def _activity(system: str, code: str, title: str, description: str) -> Json:
    return {
        "detail": {
            "code": {"coding": [coding(codesystem(system), code, title)], "text": title},
            "status": "not-started",
            "description": description,
        }
    }


def _exercise(ex: PlanExercise, lang: str) -> Json:
    if ex.minutes is not None:
        dose = _t("minutes", lang, title=ex.title, n=ex.minutes)
    elif ex.repetitions is not None:
        dose = _t("repetitions", lang, title=ex.title, n=ex.repetitions)
    else:
        dose = ex.title
    return _activity("exercise", ex.id, ex.title, dose)


def _comfort(entry: ComfortEntry, lang: str) -> Json:
    return _activity(
        entry.kind, entry.id, entry.title, _t("minutes", lang, title=entry.title, n=entry.minutes)
    )


def _activities(plan: Plan, library: Library) -> list[Json]:
    lang = plan.lang
    out: list[Json] = []
    if plan.activity_minutes:
        out.append(
            _activity(
                "activity",
                "walking",
                _t("walking", lang),
                _t("walking_goal", lang, minutes=plan.activity_minutes),
            )
        )
    out += [_exercise(ex, lang) for ex in plan.exercises]
    out += [_comfort(c, lang) for c in (*plan.heat, *plan.relaxation)]
    for module_id in plan.education:
        title = library.modules[module_id].title.get(lang)
        out.append(_activity("education", module_id, title, _t("education", lang, title=title)))
    return out


def build_careplan(
    plan: Plan, library: Library, *, plan_id: str, at: dt.datetime, patient: Json, supporting: list[Json]
) -> Json:
    end = plan.weeks[-1].ends if plan.weeks else plan.review_on
    resource: Json = {
        "resourceType": "CarePlan",
        "id": plan_id,
        "language": plan.lang,
        "status": "active",
        "intent": "plan",
        "title": _t("title", plan.lang),
        "subject": reference(patient),
        "period": {"start": plan.start.isoformat(), "end": end.isoformat()},
        "created": instant(at),
        "supportingInfo": [reference(r) for r in supporting],
        "activity": _activities(plan, library),
    }
    if plan.advice:
        resource["note"] = [{"text": a.text} for a in plan.advice]
    if not resource["activity"]:
        del resource["activity"]
    return validated(resource)
