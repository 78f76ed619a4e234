"""The report view models: pure functions from Case, Assessment and diary to plain texts for the templates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ...core.kb import CHILD_CONDITION, KnowledgeBase
from ...core.models import Assessment, Case
from ...i18n.zone import local_moment
from ...plan.builder import SEEK_CARE, build_plan
from ...plan.library import default_library
from ...plan.plan_model import Plan
from ...questionnaire import load_questionnaire
from ..advice import AdviceGroup, advice_groups
from ..reasons import reasons
from ..sources import SourceRef, Sources
from .common import (
    Header,
    TriageView,
    fmt_date,
    fmt_number,
    header,
    triage_view,
)
from .diary import DiaryView, ReportDiary, diary_view
from .signs import SignAnswer, warning_sign_answers
from .texts import DocumentTexts

# The module's rungs 112 (three passages), same day and soon; its last passages (a routine appointment, and
# reassurance) are left out: the summary lists the signs only.
SEEK_CARE_PASSAGES = 5
READ_MODULES = 3


@dataclass(frozen=True)
class PatientReport:
    header: Header
    triage: TriageView
    reasons: tuple[str, ...]
    no_red_flags: str | None
    review: str
    plan: tuple[str, ...]
    advice: tuple[AdviceGroup, ...]
    seek_care: tuple[str, ...]
    seek_care_sources: tuple[SourceRef, ...]
    sources: tuple[SourceRef, ...]
    disclaimer: str


@dataclass(frozen=True)
class Row:
    label: str
    value: str


@dataclass(frozen=True)
class MriRow:
    finding: str
    percent: str
    age_band: str
    source: SourceRef
    may_match: str | None  # contract 2: a protrusion with radicular pain may be the cause


@dataclass(frozen=True)
class ClinicianReport:
    header: Header
    triage: TriageView
    review: str
    context: tuple[Row, ...]
    red_flags: tuple[str, ...]
    reasons: tuple[str, ...]
    signs: tuple[SignAnswer, ...]
    classification: tuple[Row, ...]
    neuroplastic_explain: str | None
    imaging_label: str
    imaging_explain: str
    mri: tuple[MriRow, ...]
    findings_note: str | None
    advice: tuple[AdviceGroup, ...]
    diary: DiaryView | None
    sources: tuple[SourceRef, ...]
    disclaimer: str


def _plan_lines(plan: Plan, texts: DocumentTexts, lang: str) -> tuple[str, ...]:
    """The plan as the plan page shows it: the same exercises (none the person excluded), the same
    review date."""
    if plan.red_flag:
        return (texts.get("doc.patient.plan_on_hold", lang),)
    lib = default_library()
    lines: list[str] = []
    if plan.activity_minutes is not None:
        lines.append(texts.get("doc.patient.plan_walk", lang, minutes=plan.activity_minutes))
    if plan.exercises:
        titles = ", ".join(e.title for e in plan.exercises)
        lines.append(texts.get("doc.patient.plan_exercises", lang, titles=titles))
    comfort = [c.title for c in (*plan.heat, *plan.relaxation)]
    if comfort:
        lines.append(texts.get("doc.patient.plan_comfort", lang, titles=", ".join(comfort)))
    reading = [lib.modules[m].title.get(lang) for m in plan.education[:READ_MODULES] if m in lib.modules]
    if reading:
        lines.append(texts.get("doc.patient.plan_read", lang, titles=", ".join(reading)))
    lines.append(texts.get("doc.patient.plan_review", lang, date=fmt_date(plan.review_on, lang)))
    return tuple(lines)


def _seek_care(
    kb: KnowledgeBase, a: Assessment, sources: Sources, lang: str
) -> tuple[tuple[str, ...], tuple[SourceRef, ...]]:
    """When to seek help: the education module's rungs, or for a child the text for the parents."""
    if CHILD_CONDITION in a.suspected_conditions:
        rec = next(r for r in kb.spec.recommendations if r.id == SEEK_CARE)
        return (kb.render(f"rec.{SEEK_CARE}.child", lang),), sources.cite(rec.sources)
    module = default_library().modules[SEEK_CARE]
    return tuple(p.get(lang) for p in module.passages[:SEEK_CARE_PASSAGES]), sources.cite(module.sources)


def patient_report(
    kb: KnowledgeBase,
    texts: DocumentTexts,
    case: Case,
    a: Assessment,
    *,
    lang: str,
    generated_at: dt.datetime,
    person_label: str | None = None,
    plan: Plan | None = None,
) -> PatientReport:
    """plan: a stored person's plan as it stands (services.followup.current_plan: exclusions, started on the
    day of the intake); without it, a plan that starts today, as the result page's."""
    sources = Sources(kb, only_checked=True)  # a patient reads only sources checked against the original
    seek_care, seek_care_sources = _seek_care(kb, a, sources, lang)  # first cited: this box comes first
    advice = advice_groups(kb, a, sources, lang)
    title = texts.get("doc.patient.title", lang)
    return PatientReport(
        header=header("patient", title, person_label, generated_at, a, texts, lang),
        triage=triage_view(kb, a, texts, lang),
        reasons=tuple(reasons(kb, a, lang)),
        no_red_flags=kb.render("ui.no_red_flags", lang) if not a.red_flags else None,
        review=kb.review_text(a.review_in_days, lang),
        plan=_plan_lines(
            plan or build_plan(case, a, start=local_moment(generated_at).date(), lang=lang), texts, lang
        ),
        advice=advice,
        seek_care=seek_care,
        seek_care_sources=seek_care_sources,
        sources=sources.all,
        disclaimer=kb.render("ui.disclaimer", lang),
    )


def _context(kb: KnowledgeBase, case: Case, texts: DocumentTexts, lang: str) -> tuple[Row, ...]:
    def t(key: str, **values: object) -> str:
        return texts.get(key, lang, **values)

    not_given = t("doc.clinician.not_given")
    regions = ", ".join(kb.render(f"region.{r}.label", lang) for r in case.regions)
    return (
        Row(t("doc.clinician.age"), t("doc.clinician.age_value", age=case.age)),
        Row(t("doc.clinician.sex"), _sex(case, lang) or not_given),
        Row(t("doc.clinician.regions"), regions),
        Row(t("doc.clinician.duration"), _duration(case, texts, lang)),
        Row(
            t("doc.clinician.intensity"),
            str(case.pain_intensity) if case.pain_intensity is not None else not_given,
        ),
        Row(t("doc.clinician.recurrent"), t("doc.answer.yes" if case.recurrent else "doc.answer.no")),
        Row(t("doc.clinician.other_health"), _other_health(case, texts, lang)),
    )


OTHER_HEALTH = ("diabetes", "gave_birth_recently", "nsaid_risk")


def _other_health(case: Case, texts: DocumentTexts, lang: str) -> str:
    """Facts that change the advice (heat, painkillers) but raise no warning sign."""
    given = [texts.get(f"doc.other.{f}", lang) for f in OTHER_HEALTH if getattr(case, f)]
    return "; ".join(given) or texts.get("doc.none", lang)


def _duration(case: Case, texts: DocumentTexts, lang: str) -> str:
    if case.duration_weeks == 1:
        return texts.get("doc.clinician.duration_one_week", lang)
    return texts.get("doc.clinician.duration_value", lang, weeks=fmt_number(case.duration_weeks, lang))


def _clinician_review(a: Assessment, texts: DocumentTexts, lang: str) -> str:
    if a.review_in_days == 0:
        return texts.get("doc.clinician.review_today", lang)
    if a.review_in_days == 1:  # never "in 1 Tagen"
        return texts.get("doc.clinician.review_one_day", lang)
    return texts.get("doc.clinician.review", lang, days=a.review_in_days)


def _sex(case: Case, lang: str) -> str | None:
    if case.sex is None:
        return None
    question = load_questionnaire().get("sex")
    return next((o.label.get(lang) for o in question.options if o.value == case.sex), case.sex)


def _red_flags(kb: KnowledgeBase, a: Assessment, texts: DocumentTexts, lang: str) -> tuple[str, ...]:
    return tuple(
        texts.get(
            "doc.clinician.red_flag_line",
            lang,
            condition=kb.render(f"condition.{flag.condition}.label", lang),
            rule=flag.id,
            evidence=", ".join(flag.evidence) or texts.get("doc.none", lang),
        )
        for flag in a.red_flags
    )


def _classification(kb: KnowledgeBase, a: Assessment, texts: DocumentTexts, lang: str) -> tuple[Row, ...]:
    def t(key: str, **values: object) -> str:
        return texts.get(key, lang, **values)

    suspected = ", ".join(kb.render(f"condition.{c}.label", lang) for c in a.suspected_conditions)
    startback = t("doc.clinician.not_answered")
    if a.startback is not None:
        group = kb.render(f"risk.{a.startback.group.value}.label", lang)
        startback = t(
            "doc.clinician.startback_values",
            total=a.startback.total,
            psychosocial=a.startback.psychosocial,
            group=group,
        )
    neuro = t("doc.clinician.not_answered")
    if a.neuroplastic_indicators is not None:
        n = a.neuroplastic_indicators
        level = t(f"doc.neuroplastic.{n.level.value}")
        neuro = t("doc.clinician.neuroplastic_values", count=n.count, of=n.of, level=level)
    return (
        Row(t("doc.clinician.suspected"), suspected or t("doc.none")),
        Row(t("doc.clinician.phase"), kb.render(f"phase.{a.phase.value}.label", lang)),
        Row(t("doc.clinician.pain_type"), kb.render(f"pain_type.{a.pain_type.value}.label", lang)),
        Row(t("doc.clinician.risk"), kb.render(f"risk.{a.chronification_risk.value}.label", lang)),
        Row(t("doc.clinician.startback_title"), startback),
        Row(t("doc.clinician.neuroplastic_title"), neuro),
    )


def clinician_report(
    kb: KnowledgeBase,
    texts: DocumentTexts,
    case: Case,
    a: Assessment,
    *,
    lang: str,
    generated_at: dt.datetime,
    person_label: str | None = None,
    diary: ReportDiary | None = None,
) -> ClinicianReport:
    sources = Sources(kb)
    advice = advice_groups(kb, a, sources, lang)
    mri = tuple(
        MriRow(
            finding=kb.render(f"finding.{row.finding.value}.label", lang),
            percent=texts.get(
                "doc.clinician.percent", lang, percent=fmt_number(row.prevalence_pain_free_percent, lang)
            ),
            age_band=texts.get("doc.clinician.age_band_value", lang, band=row.age_band),
            source=sources.cite([row.source])[0],
            may_match=texts.get("doc.clinician.may_match", lang) if row.may_match_symptoms else None,
        )
        for row in a.imaging_context
    )
    findings_note = None
    if case.imaging_findings and not a.imaging_context:
        # contract 2: no figures under 18 or without low back; the findings must still show
        findings = ", ".join(kb.render(f"finding.{f}.label", lang) for f in case.imaging_findings)
        findings_note = texts.get("doc.clinician.findings_without_context", lang, findings=findings)
    imaging = f"imaging.{a.imaging.value}"
    title = texts.get("doc.clinician.title", lang)
    return ClinicianReport(
        header=header("clinician", title, person_label, generated_at, a, texts, lang),
        triage=triage_view(kb, a, texts, lang),
        review=_clinician_review(a, texts, lang),
        context=_context(kb, case, texts, lang),
        red_flags=_red_flags(kb, a, texts, lang),
        reasons=tuple(reasons(kb, a, lang)),
        signs=warning_sign_answers(kb, case, texts, lang),
        classification=_classification(kb, a, texts, lang),
        neuroplastic_explain=kb.render(f"neuroplastic.{a.neuroplastic_indicators.level.value}.explain", lang)
        if a.neuroplastic_indicators is not None
        else None,
        imaging_label=kb.render(f"{imaging}.label", lang),
        imaging_explain=kb.render(f"{imaging}.explain", lang),
        mri=mri,
        findings_note=findings_note,
        advice=advice,
        diary=diary_view(diary, sources, texts, lang) if diary is not None else None,
        sources=sources.all,
        disclaimer=texts.get("doc.clinician.disclaimer", lang),
    )
