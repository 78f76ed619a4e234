"""The patient summary says what the plan page says (issue #16): the same exercises (none the person
excluded), the same review date, only checked sources, and times in the deployment's zone."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from pydantic import ValidationError

from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.i18n.zone import TIME_ZONE_ENV, UnknownTimeZone, local_zone, zone_named
from rueckenlotse.plan.builder import build_plan
from rueckenlotse.reports.documents import build_view, render_report
from rueckenlotse.reports.documents.views import ClinicianReport, PatientReport
from rueckenlotse.settings import Settings

from .test_documents_html import VIGNETTES, vignette

# Late on a winter evening in UTC: already the next day in Berlin.
LATE = dt.datetime(2026, 1, 5, 23, 30, tzinfo=dt.UTC)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """The zone variable as a deployer sets it; the cached zone is read again before and after."""
    local_zone.cache_clear()
    yield monkeypatch
    monkeypatch.delenv(TIME_ZONE_ENV, raising=False)
    local_zone.cache_clear()


def _patient(view: object) -> PatientReport:
    assert isinstance(view, PatientReport)
    return view


def test_an_excluded_exercise_is_not_in_the_summary_and_the_review_date_is_the_plans() -> None:
    case, assessment = vignette("p02-acute-lifting")
    started = dt.date(2026, 10, 30)  # the intake, four weeks before the summary is made
    full = build_plan(case, assessment, start=started)
    excluded = full.exercises[0]
    plan = build_plan(case, assessment, start=started, exclusions=[excluded.id])
    assert excluded.id not in {e.id for e in plan.exercises}
    view = _patient(
        build_view(
            "patient",
            case,
            assessment,
            lang="de",
            generated_at=dt.datetime(2026, 11, 27, tzinfo=dt.UTC),
            plan=plan,
        )
    )
    text = "\n".join(view.plan)
    assert excluded.title not in text
    assert all(e.title in text for e in plan.exercises)
    assert plan.review_on.strftime("%d.%m.%Y") in text  # the plan page's date, not one counted from today
    old_review = build_plan(case, assessment, start=dt.date(2026, 11, 27)).review_on
    assert old_review != plan.review_on and old_review.strftime("%d.%m.%Y") not in text


def test_without_a_stored_plan_the_summary_plans_from_the_local_day(zone: pytest.MonkeyPatch) -> None:
    case, assessment = vignette("p02-acute-lifting")
    view = _patient(build_view("patient", case, assessment, lang="de", generated_at=LATE))
    review = build_plan(case, assessment, start=dt.date(2026, 1, 6)).review_on  # Berlin's day
    assert any(review.strftime("%d.%m.%Y") in line for line in view.plan)


@pytest.mark.parametrize("name", VIGNETTES)
def test_the_patient_sees_only_checked_sources(name: str, kb: KnowledgeBase) -> None:
    case, assessment = vignette(name)
    patient = _patient(build_view("patient", case, assessment, lang="de", generated_at=LATE))
    assert all(s.checked for s in patient.sources), [s.id for s in patient.sources if not s.checked]
    numbers = [s.number for s in patient.sources]
    assert numbers == list(range(1, len(numbers) + 1))  # no gaps where an unchecked one was left out
    cited = {s.number for g in patient.advice for item in g.items for s in item.sources}
    assert cited <= set(numbers)


def test_the_clinician_still_sees_every_source_with_its_status() -> None:
    """The filter is the patient's: some vignette cites an unchecked source, and the clinician report lists
    it (marked), while the summary of the same case does not."""
    found = False
    for name in VIGNETTES:
        case, assessment = vignette(name)
        clinician = build_view("clinician", case, assessment, lang="de", generated_at=LATE)
        assert isinstance(clinician, ClinicianReport)
        unchecked = {s.id for s in clinician.sources if not s.checked}
        if unchecked:
            found = True
            html = render_report("patient", case, assessment, generated_at=LATE).decode("utf-8")
            assert not any(f"({source_id}" in html for source_id in unchecked)
            assert ", noch nicht geprüft)" not in html
    assert found


def test_times_are_printed_in_berlin_time_by_default(zone: pytest.MonkeyPatch) -> None:
    case, assessment = vignette("p02-acute-lifting")
    for kind in ("patient", "clinician"):
        html = render_report(kind, case, assessment, lang="de", generated_at=LATE).decode("utf-8")  # type: ignore[arg-type]
        assert "06.01.2026, 00:30 CET" in html and "UTC" not in html
    summer = dt.datetime(2026, 7, 1, 10, 0, tzinfo=dt.UTC)
    html = render_report("patient", case, assessment, lang="en", generated_at=summer).decode("utf-8")
    assert "2026-07-01 12:00 CEST" in html


def test_the_deployer_chooses_the_zone(zone: pytest.MonkeyPatch) -> None:
    zone.setenv(TIME_ZONE_ENV, "America/New_York")
    local_zone.cache_clear()
    case, assessment = vignette("p02-acute-lifting")
    html = render_report("patient", case, assessment, lang="de", generated_at=LATE).decode("utf-8")
    assert "05.01.2026, 18:30 EST" in html


def test_a_misspelt_zone_is_refused_not_read_as_utc() -> None:
    with pytest.raises(UnknownTimeZone):
        zone_named("Europe/Berlinn")
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(time_zone="Mars/Olympus")
    assert Settings().time_zone == "Europe/Berlin"
    assert Settings(time_zone=" UTC ").time_zone == "UTC"
    assert Settings(time_zone="").time_zone == "Europe/Berlin"
