"""The HTML reports: golden files (normalised) for several vignettes, and what every report must hold.

Regenerate the golden files after an intended change with
``RUECKENLOTSE_UPDATE_GOLDEN=1 .venv/bin/pytest tests/reports/test_documents_html.py`` and review the diff.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path
from typing import Any, get_args

import pytest
from markupsafe import escape

from rueckenlotse import assess
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.core.models import Assessment, Case
from rueckenlotse.reports.documents import build_view, render_html, render_report
from rueckenlotse.reports.documents.signs import SignAnswer, warning_sign_fields
from rueckenlotse.reports.documents.texts import DocumentTextError, document_texts, parse_texts
from rueckenlotse.reports.documents.views import ClinicianReport

from ..conftest import SHARED

GOLDEN = Path(__file__).parent / "golden" / "html"
UPDATE = os.environ.get("RUECKENLOTSE_UPDATE_GOLDEN") == "1"
AT = dt.datetime(2026, 11, 27, 9, 30, tzinfo=dt.UTC)
GOLDEN_CASES = [
    ("p01-ces-classic", "de"),  # emergency
    ("p11-sciatica", "de"),  # radicular
    ("p13-mri-context", "de"),  # MRI findings in context
    ("p09-chronic-high-risk", "de"),  # STarT Back high
    ("p14-neuroplastic-many", "de"),  # neuroplastic indicators
    ("p02-acute-lifting", "en"),  # English
    ("p45-sciatica-protrusion", "de"),  # contract 2: a protrusion that may match the symptoms
    ("p42-pregnancy-warning-signs", "de"),  # contract 2: pregnancy week and its warning signs
]
CASES = SHARED / "cases" / "v2"  # contract 2: the public vignettes of version 1 and the new ones
VIGNETTES = sorted(p.stem for p in CASES.glob("*.json"))


def vignette(name: str, lang: str = "de") -> tuple[Case, Assessment]:
    data: dict[str, Any] = json.loads((CASES / f"{name}.json").read_text("utf-8"))
    case = Case.model_validate(data["case"])
    return case, assess(case, lang=lang)


def normalise(html: str, kb: KnowledgeBase) -> str:
    """Indentation and blank lines do not matter; the knowledge version changes with every release."""
    html = html.replace(kb.version, "KNOWLEDGE_VERSION")
    return "".join(line.strip() + "\n" for line in html.splitlines() if line.strip())


@pytest.mark.parametrize("kind", ["patient", "clinician"])
@pytest.mark.parametrize(("name", "lang"), GOLDEN_CASES)
def test_html_matches_the_golden_file(name: str, lang: str, kind: str, kb: KnowledgeBase) -> None:
    case, assessment = vignette(name, lang)
    html = render_report(
        kind, case, assessment, lang=lang, fmt="html", person_label="PX-0001", generated_at=AT
    ).decode("utf-8")
    got = normalise(html, kb)
    path = GOLDEN / f"{name}-{kind}-{lang}.html"
    if UPDATE:
        path.write_text(got, encoding="utf-8")
    if not path.exists():
        pytest.fail(f"{path.name} is missing: set RUECKENLOTSE_UPDATE_GOLDEN=1 to write it, then review it")
    assert got == path.read_text(encoding="utf-8"), f"{path.name} differs (regenerate only if intended)"


@pytest.mark.safety("SR-INF-2")
@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", VIGNETTES)
def test_clinician_html_holds_every_warning_sign_and_source(name: str, lang: str, kb: KnowledgeBase) -> None:
    case, assessment = vignette(name, lang)
    html = render_report("clinician", case, assessment, lang=lang, generated_at=AT).decode("utf-8")
    texts = document_texts()
    signs = html.split('<section class="signs">', 1)[1].split("</section>", 1)[0]
    for field in warning_sign_fields(kb):  # in the warning-sign section itself, answered or not
        assert str(escape(texts.get(f"doc.sign.{field}", lang))) in signs, field
    for rec in assessment.recommendations:
        assert str(escape(rec.text)) in html
        for source_id in rec.sources:
            assert str(escape(kb.sources[source_id].title)) in html
    assert str(escape(kb.render(f"triage.{assessment.triage.value}.title", lang))) in html
    assert kb.version in html


@pytest.mark.safety("SR-INF-1")
@pytest.mark.parametrize("name", VIGNETTES)
def test_patient_html_has_triage_plan_seek_care_and_disclaimer(name: str, kb: KnowledgeBase) -> None:
    case, assessment = vignette(name)
    view = build_view("patient", case, assessment, lang="de", generated_at=AT)
    html = render_html(view)
    texts = document_texts()
    for heading in ("doc.patient.why_title", "doc.patient.plan_title", "doc.patient.seek_care_title"):
        assert str(escape(texts.get(heading, "de"))) in html
    assert str(escape(kb.render("ui.disclaimer", "de"))) in html
    assert view.plan and view.seek_care
    if assessment.red_flags:
        assert view.plan == (texts.get("doc.patient.plan_on_hold", "de"),)


@pytest.mark.safety("SR-TRI-2", "SR-INF-1")
def test_an_emergency_puts_112_before_everything_else() -> None:
    case, assessment = vignette("p01-ces-classic")
    for kind in ("patient", "clinician"):
        html = render_report(kind, case, assessment, generated_at=AT).decode("utf-8")
        body = html[html.index("<body") :]
        assert body.index('class="emergency-call"') < body.index("<header")
        assert "112" in body[: body.index("<header")]
    calm_case, calm = vignette("p02-acute-lifting")
    calm_html = render_report("patient", calm_case, calm, generated_at=AT).decode("utf-8")
    assert 'class="emergency-call"' not in calm_html


@pytest.mark.safety("SR-TRI-4")
def test_not_asked_is_kept_apart_from_no() -> None:
    low_back = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1})
    neck = Case.model_validate({"age": 40, "regions": ["neck"], "duration_weeks": 1})
    answers = {}
    for case in (low_back, neck):
        view = build_view("clinician", case, assess(case), lang="en", generated_at=AT)
        answers[case.regions[0]] = {s.field: s.answer for s in view.signs}  # type: ignore[union-attr]
    assert answers["low_back"]["hand_clumsiness"] == "not_asked"
    assert answers["neck"]["hand_clumsiness"] == "no"
    assert answers["low_back"]["injury_checked_by_doctor"] == "not_asked"
    # contract 2: legs and arms are asked in every region; "is it still active" only after a cancer
    assert answers["neck"]["leg_pain"] == answers["low_back"]["arm_pain"] == "no"
    assert answers["low_back"]["cancer_active"] == "not_asked"
    # contract 1's neuro_bilateral is no question of the contract-2 interview: not asked unless given
    assert answers["low_back"]["neuro_bilateral"] == "not_asked"


@pytest.mark.safety("SR-TRI-4")
def test_a_stored_case_still_says_not_asked() -> None:
    """A Case read back from the database holds every flag (False for the unasked ones, as written by
    ``model_dump``): the report still says "not asked", never "no", for what the interview skipped."""
    given = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1})
    stored = Case.model_validate_json(given.model_dump_json(exclude_none=True))
    assert "hand_clumsiness" in stored.model_fields_set  # as the database gives it back
    view = build_view("clinician", stored, assess(stored), lang="de", generated_at=AT)
    answers = {s.field: (s.answer, s.text) for s in view.signs}  # type: ignore[union-attr]
    assert answers["hand_clumsiness"] == ("not_asked", "nicht gefragt")
    assert answers["cancer_active"][0] == "not_asked" and answers["leg_pain"][0] == "no"


@pytest.mark.safety("SR-TRI-4")
def test_a_contract_1_bilateral_yes_is_never_shown_as_no_for_legs_or_arms() -> None:
    case = Case.model_validate(
        {"age": 45, "regions": ["low_back"], "duration_weeks": 1, "neuro_bilateral": True}
    )
    view = build_view("clinician", case, assess(case), lang="de", generated_at=AT)
    assert isinstance(view, ClinicianReport)
    fields = [s.field for s in view.signs]
    answers = {s.field: s.answer for s in view.signs}
    assert answers["neuro_bilateral"] == "yes"
    assert answers["neuro_bilateral_legs"] == answers["neuro_bilateral_arms"] == "not_asked"
    assert fields.index("neuro_bilateral") == fields.index("neuro_bilateral_arms") + 1


@pytest.mark.safety("SR-TRI-4")
def test_pregnancy_is_not_asked_of_a_man_and_a_given_week_is_shown() -> None:
    man = Case.model_validate({"age": 40, "sex": "male", "regions": ["low_back"], "duration_weeks": 1})
    woman = Case.model_validate(
        {"age": 30, "sex": "female", "regions": ["low_back"], "duration_weeks": 1, "pregnant": True}
    )
    week = woman.model_copy(update={"pregnancy_week": 31})
    rows = {}
    for name, case in (("man", man), ("woman", woman), ("week", week)):
        view = build_view("clinician", case, assess(case), lang="de", generated_at=AT)
        rows[name] = {s.field: s for s in view.signs}  # type: ignore[union-attr]
    assert rows["man"]["pregnant"].answer == "not_asked"
    assert rows["woman"]["pregnant"].text == "Ja"
    assert rows["week"]["pregnant"].text == "Ja, in Woche 31"
    assert rows["woman"]["pregnancy_warning_signs"].answer == "no"


@pytest.mark.safety("SR-TRI-4")
def test_a_field_given_explicitly_counts_as_asked_even_where_the_interview_skips_it() -> None:
    case = Case.model_validate({"age": 40, "regions": ["low_back"], "duration_weeks": 1, "arm_pain": False})
    view = build_view("clinician", case, assess(case), lang="de", generated_at=AT)
    answers = {s.field: s.answer for s in view.signs}  # type: ignore[union-attr]
    assert answers["arm_pain"] == "no"


def _sign(case: Case, field: str, lang: str) -> SignAnswer:
    view = build_view("clinician", case, assess(case), lang=lang, generated_at=AT)
    assert isinstance(view, ClinicianReport)
    return next(s for s in view.signs if s.field == field)


def test_choice_answers_say_which_yes() -> None:
    base = {"age": 40, "regions": ["low_back"], "duration_weeks": 1}
    texts = {}
    for value in ("strain", "minor", "major"):
        trauma = _sign(Case.model_validate({**base, "trauma": value}), "trauma", "en")
        assert trauma.answer == "yes"
        assert trauma.text.startswith("Yes"), trauma.text
        texts[value] = trauma.text
    assert len(set(texts.values())) == 3
    # contract 2: a strain is lifting or twisting without a fall; the report must not read as a fall
    assert "No fall" in texts["strain"] and "fall" in texts["minor"]
    strain_de = _sign(Case.model_validate({**base, "trauma": "strain"}), "trauma", "de")
    assert strain_de.text.startswith("Ja, Verheben oder Zerrung") and "Ohne Sturz" in strain_de.text


def test_every_warning_sign_and_every_yes_of_a_choice_has_its_own_label(kb: KnowledgeBase) -> None:
    texts = document_texts()
    for field in warning_sign_fields(kb):
        assert f"doc.sign.{field}" in texts.entries, field
        values = [v for v in get_args(Case.model_fields[field].annotation) if isinstance(v, str)]
        for value in values:
            if value != "none":
                assert f"doc.sign.{field}.{value}" in texts.entries, (field, value)
    assert set(warning_sign_fields(kb)) >= {
        "neuro_bilateral_legs",
        "neuro_bilateral_arms",
        "cannot_walk",
        "sepsis_signs",
        "pregnancy_warning_signs",
        "band_like_rash_or_burning",
        "pain_with_exertion_sweating_or_nausea",
    }


def test_a_protrusion_that_may_match_the_symptoms_is_marked_in_the_mri_table() -> None:
    case, assessment = vignette("p45-sciatica-protrusion")
    view = build_view("clinician", case, assessment, lang="de", generated_at=AT)
    assert isinstance(view, ClinicianReport)
    matching = [row.may_match_symptoms for row in assessment.imaging_context]
    assert any(matching) and not all(matching)  # policy: the protrusion with radicular pain, not the wear
    assert [row.may_match is not None for row in view.mri] == matching
    html = render_html(view)
    assert html.count("Kann zu den Beschwerden passen") == matching.count(True)


def test_findings_without_comparison_figures_are_still_shown(kb: KnowledgeBase) -> None:
    case, assessment = vignette("p44-teen-mri-findings", "de")
    assert case.imaging_findings and not assessment.imaging_context  # policy: no figures under 18
    html = render_report("clinician", case, assessment, generated_at=AT).decode("utf-8")
    for finding in case.imaging_findings:
        assert str(escape(kb.render(f"finding.{finding}.label", "de"))) in html
    assert str(escape(document_texts().get("doc.clinician.no_findings", "de"))) not in html


def _section_starts(html: str) -> dict[str, int]:
    body = html[html.index("<body") :]
    return {name: body.index(f'<section class="{name}') for name in ("triage", "seek-care", "why", "plan")}


@pytest.mark.safety("SR-INF-1")
@pytest.mark.parametrize("name", VIGNETTES)
def test_patient_report_says_when_to_get_help_before_any_reassurance(name: str, kb: KnowledgeBase) -> None:
    """Contract 2, invariant 9: triage first, then the seek-care text, then reasons, plan and advice."""
    case, assessment = vignette(name)
    html = render_report("patient", case, assessment, generated_at=AT).decode("utf-8")
    starts = _section_starts(html)
    assert starts["triage"] < starts["seek-care"] < starts["why"] < starts["plan"]
    body = html[html.index("<body") :]
    seek_care = body.index('<section class="seek-care')
    calming = [kb.render("ui.no_red_flags", "de"), document_texts().get("doc.patient.advice_title", "de")]
    calming += [r.text for r in assessment.recommendations if r.kind.value in ("do", "info")]
    for text in calming:
        if str(escape(text)) in body:
            assert body.index(str(escape(text))) > seek_care, text


# an emergency, an urgent case (review in 1 day), cannot walk, after a birth
WORDING_CASES = ["p01-ces-classic", "p26-rigors-alone", "p43-cannot-walk", "p50-after-birth"]
WORDING_BANNED = ("Sie braucht schnell", "in 1 Tagen", "in 1 days", "Woche(n)", "week(s)", "Tag(e)")


@pytest.mark.parametrize("lang", ["de", "en"])
@pytest.mark.parametrize("name", WORDING_CASES)
def test_report_wording_follows_the_contract_2_list(name: str, lang: str) -> None:
    case, assessment = vignette(name, lang)
    for kind in ("patient", "clinician"):
        html = render_report(kind, case, assessment, lang=lang, generated_at=AT).decode("utf-8")
        for banned in WORDING_BANNED:
            assert banned not in html, (kind, banned)


def test_own_report_texts_avoid_unexplained_jargon() -> None:
    for key, entry in document_texts().entries.items():
        german = entry["de"]
        for word in ("Sex", "Job", "Bulging", "black disc", "Woche(n)", "Tag(e)"):
            assert word not in german, (key, word)
        if "Flanke" in german:
            assert "seitlich" in german, key


@pytest.mark.safety("SR-LANG-1")
def test_every_report_text_has_german_and_english() -> None:
    texts = document_texts()
    assert texts.entries
    for key, entry in texts.entries.items():
        assert entry["de"].strip() and entry["en"].strip(), key


@pytest.mark.parametrize(
    "raw",
    [{"doc.x": {"de": "Hallo"}}, {"doc.x": {"de": "Hallo", "en": " "}}, {"doc.x": "Hallo"}, [], None],
)
def test_malformed_report_texts_are_rejected(raw: Any) -> None:
    with pytest.raises(DocumentTextError):
        parse_texts(raw)


def test_unknown_lang_kind_or_format_is_refused() -> None:
    case, assessment = vignette("p02-acute-lifting")
    with pytest.raises(ValueError, match="lang"):
        render_report("patient", case, assessment, lang="fr", generated_at=AT)
    with pytest.raises(ValueError, match="kind"):
        render_report("nurse", case, assessment, generated_at=AT)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fmt"):
        render_report("patient", case, assessment, fmt="docx", generated_at=AT)  # type: ignore[arg-type]


@pytest.mark.safety("SR-WEB-2")
@pytest.mark.parametrize("kind", ["patient", "clinician"])
def test_a_hostile_person_label_stays_plain_text(kind: str) -> None:
    case, assessment = vignette("p02-acute-lifting")
    label = '"><script>alert(1)</script>\u202e\u2066' + "ﷺ" * 500 + "</body>"
    html = render_report(kind, case, assessment, person_label=label, generated_at=AT).decode("utf-8")
    assert "<script>" not in html and html.count("</body>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\u202e" not in html and "\u2066" not in html
    assert "ﷺ" * 80 not in html and "ﷺ…" in html


@pytest.mark.safety("SR-INF-4")
def test_the_help_box_speaks_to_the_parents_of_a_child() -> None:
    case, assessment = vignette("p16-child")
    html = render_report(
        "patient", case, assessment, lang="de", fmt="html", person_label="PX-0001", generated_at=AT
    ).decode("utf-8")
    box = html.split("Wann Sie Hilfe holen sollten", 1)[1].split("</section>", 1)[0]
    assert "Ihr Kind" in box and "112" in box and "wenn Sie am Gesäß" not in box
    adult_case, adult = vignette("p02-acute-lifting")
    adult_html = render_report(
        "patient", adult_case, adult, lang="de", fmt="html", person_label="PX-0001", generated_at=AT
    ).decode("utf-8")
    assert "Ihr Kind" not in adult_html and "116117" in adult_html
