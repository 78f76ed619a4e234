"""Sharing a course with a practice, in Debian's Chromium (issue #18).

A patient with an account sends an intake to a practice through its link while signed in (so it is their
own); the intake is then moved six weeks and more back. The patient keeps a diary over those six weeks
(dates set in the form, and a few entries with the function items through the API), answered the outcome
measures of weeks 0, 2 and 4 back then (recorded by the service on those past days: the browser cannot
go back in time), and shares the course with the practice; then answers week 6's PEG, PSFS and PGIC in
the browser form. The clinician signs in with password and TOTP code, finds the course, sees the diary's
trend and each measure's chart and table with week 6 judged by the measure's minimal important change
(PEG 7 → 4: at least 30 % less, "besser"; PSFS 3.5 → 4.5: less than 2 points, "gleich"; PGIC "viel
besser": "besser"), and leaves out an exercise with a note (a note without text is refused at its field
first). The patient's plan shows "Von Ihrer Praxis angepasst" with the note, and
the exercise is gone. The patient stops sharing: the clinician's course address answers 404 at once,
the plan is the patient's own again, and the audit trail holds the grant, the views, the change and the
revocation. axe runs on every new page; screenshots at 390 and 1280 px: share-page, share-measures,
clinician-courses, clinician-course, share-plan-adjusted.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pyotp
import pytest

from rueckenlotse.i18n.formatting import format_day
from rueckenlotse.services.measures import record_response
from rueckenlotse.store.audit import all_events
from rueckenlotse.store.practices import Practices

from .authz_support import person_of_email
from .conftest import MOBILE, LiveServer, save_screenshots, submit
from .practice_link_helpers import MIN_SECONDS
from .test_auth import new_clinician, open_store, own_client
from .test_axe import axe_source  # noqa: F401 (a fixture)
from .test_diary_forms import BERLIN, DIARY, filled, move_intake_back
from .test_journeys import SELF_CARE, answer_until_result
from .test_patient import new_patient
from .test_patient_journey import assert_accessible

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

NOTE = "Bitte vorerst ohne diese Übung – wir sprechen beim nächsten Termin darüber."
DAYS = 44  # the diary spans six weeks and more
ACTIVITIES = ("Treppen steigen", "Eine Stunde sitzen")
# The measures of weeks 0, 2 and 4, answered back then: PEG (all three items alike), PSFS (the two
# activities), PGIC (not at week 0). Week 6 is answered in the browser: PEG 4, PSFS 4 and 5, PGIC 2.
PAST_MEASURES = ((0, 7, (3, 4), None), (2, 6, (4, 4), 4), (4, 5, (4, 5), 3))


def fits_the_width(page: Page) -> bool:
    widths = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    return bool(widths[0] <= widths[1])


def signed_in_context(browser: Browser, server: LiveServer, cookies: list[tuple[str, str]]) -> BrowserContext:
    context = browser.new_context(base_url=server.url, viewport=MOBILE, locale="de-DE")
    context.set_default_timeout(15_000)
    host = urlsplit(server.url).hostname
    context.add_cookies([{"name": n, "value": v, "domain": host, "path": "/"} for n, v in cookies])
    return context


@pytest.mark.safety("SR-SEC-1", "SR-AUD-1")
def test_share_adjust_and_revoke(
    browser: Browser,
    live_server: LiveServer,
    screenshot_dir: Path,
    axe_source: str,  # noqa: F811
) -> None:
    with open_store(live_server) as store:
        clinician = new_clinician(store)
        practice = Practices(store).practice(clinician.practice_id)
    web = own_client(live_server)
    email = new_patient(web, name="Petra Beispiel")
    person = person_of_email(live_server.data_dir / "web.db", email)
    patient_context = signed_in_context(
        browser, live_server, [(c.name, c.value or "") for c in web.cookies.jar]
    )
    doctor_context = browser.new_context(base_url=live_server.url, viewport=MOBILE, locale="de-DE")
    doctor_context.set_default_timeout(15_000)
    try:
        patient = patient_context.new_page()
        # ---- the patient sends an intake through the practice's link, signed in: it is their own ----
        patient.goto(f"/p/{practice.intake_code}")
        submit(patient.get_by_role("button", name="Einverstanden, Fragen beginnen"))
        answer_until_result(patient, SELF_CARE)
        submit(patient.get_by_role("button", name="An die Praxis senden …"))
        assert "Sie sind angemeldet" in patient.locator("#own-account-note").inner_text()
        patient.wait_for_timeout(MIN_SECONDS * 1000)
        submit(patient.get_by_role("button", name="An die Praxis senden", exact=True))
        assert patient.url.split("/")[-2] == "beleg", patient.url

        # ---- six weeks of diary, dated in the form (and a few with the function items by the API) ----
        with open_store(live_server) as store:
            move_intake_back(store, email, days=DAYS + 1)
        today = dt.datetime.now(BERLIN).date()
        for back in range(DAYS, -1, -3):
            pain = 2 + round(5 * back / DAYS)  # from 7 down to 2
            day = (today - dt.timedelta(days=back)).isoformat()
            data = filled(
                web.get(DIARY), pain_low_back=str(pain), activity_minutes=str(40 - back // 2), entry_date=day
            )
            assert web.post(DIARY, data=data).status_code == 303
        for back, walking in ((40, 3), (26, 2), (12, 1), (1, 0)):
            moment = dt.datetime.combine(today - dt.timedelta(days=back), dt.time(20, 30), tzinfo=BERLIN)
            entry = {
                "recorded_at": moment.isoformat(),
                "pain": {"low_back": 3},
                "function": {"walking": walking, "sitting": walking},
            }
            assert web.post(f"/api/v1/persons/{person}/diary", json=entry).status_code == 201

        # ---- the measures of weeks 0, 2 and 4, answered on their days (weeks count from the intake) ----
        with open_store(live_server) as store:
            intake_at = store.list_assessments(person)[0].created_at
            for week, peg, psfs, pgic in PAST_MEASURES:
                at = intake_at + dt.timedelta(weeks=week, hours=1)
                record_response(
                    store,
                    person,
                    "peg",
                    dict.fromkeys(("pain", "enjoyment", "activity"), peg),
                    week=week,
                    at=at,
                )
                rated = [{"name": n, "value": v} for n, v in zip(ACTIVITIES, psfs, strict=True)]
                record_response(store, person, "psfs", {"activity": rated}, week=week, at=at)
                if pgic is not None:
                    record_response(store, person, "pgic", {"change": pgic}, week=week, at=at)

        # ---- the patient shares the course (consent first) ----
        patient.goto("/mein-bereich")
        submit(patient.get_by_role("link", name="Teilen"))
        card = patient.locator("#praxis-1")
        assert practice.name in card.inner_text() and "Nicht geteilt" in card.inner_text()
        main = patient.locator("main").inner_text()
        assert "Tagebuch" in main and "Plan" in main and "jederzeit beenden" in main
        submit(card.get_by_role("button", name="Mit dieser Praxis teilen"))  # without the consent box
        assert patient.locator(".error-summary").is_visible()
        assert "einverstanden" in patient.locator("#consent-1-error").inner_text()
        assert_accessible(patient, axe_source)
        patient.locator("#consent-1").check()
        submit(patient.locator("#praxis-1").get_by_role("button", name="Mit dieser Praxis teilen"))
        assert "Geteilt seit" in patient.locator("#praxis-1-state").inner_text()
        assert fits_the_width(patient)
        save_screenshots(patient, screenshot_dir, "share-page")
        assert_accessible(patient, axe_source)
        shown_before = exercise_titles(patient)

        # ---- week 6's questionnaires, in the browser form (the PSFS keeps the activities named first) ----
        patient.goto("/mein-bereich/fragebogen")
        assert "Woche 6" in patient.locator("#form-peg").locator("xpath=..").inner_text()
        for item in ("pain", "enjoyment", "activity"):
            patient.locator(f"#form-peg #{item}-4").check()
        submit(patient.locator("#form-peg").get_by_role("button", name=re.compile("^Antworten speichern")))
        assert "?gespeichert=peg" in patient.url
        assert patient.locator("#form-psfs #activity-1-name").input_value() == ACTIVITIES[0]
        assert patient.locator("#form-psfs #activity-2-name").input_value() == ACTIVITIES[1]
        patient.locator("#form-psfs #activity-1-value-4").check()
        patient.locator("#form-psfs #activity-2-value-5").check()
        submit(patient.locator("#form-psfs").get_by_role("button", name=re.compile("^Antworten speichern")))
        assert "?gespeichert=psfs" in patient.url
        patient.locator("#form-pgic #change-2").check()
        save_screenshots(patient, screenshot_dir, "share-measures")
        submit(patient.locator("#form-pgic").get_by_role("button", name=re.compile("^Antworten speichern")))
        assert "?gespeichert=pgic" in patient.url
        assert patient.locator("#form-peg, #form-psfs, #form-pgic").count() == 0  # nothing of week 6 open
        assert_accessible(patient, axe_source)

        # ---- the clinician signs in, finds the course and sees the trend ----
        doctor = doctor_context.new_page()
        doctor.goto("/anmelden")
        doctor.get_by_label("E-Mail-Adresse").fill(clinician.email)
        doctor.get_by_label("Passwort").fill(clinician.password)
        submit(doctor.get_by_role("button", name="Anmelden"))
        assert clinician.secret is not None
        doctor.get_by_label("Code aus der App").fill(pyotp.TOTP(clinician.secret).now())
        submit(doctor.get_by_role("button", name="Bestätigen"))
        assert doctor.url.endswith("/praxis")
        submit(doctor.get_by_role("link", name="Geteilte Verläufe ansehen"))
        rows = doctor.locator("tr.course-row")
        assert rows.count() == 1 and "Petra Beispiel" in rows.nth(0).inner_text()
        assert fits_the_width(doctor)
        save_screenshots(doctor, screenshot_dir, "clinician-courses")
        assert_accessible(doctor, axe_source)
        submit(rows.nth(0).get_by_role("link", name="Petra Beispiel"))
        course_url = doctor.url
        assert "/praxis/verlauf/" in course_url and person not in course_url  # addressed by the intake
        assert doctor.locator("section[aria-labelledby='trend-title'] figure.course-chart svg").count() == 1
        weeks = doctor.locator("#course-weeks tbody tr")
        assert weeks.count() >= 6
        function_cells = [weeks.nth(i).locator("td").nth(3).inner_text() for i in range(weeks.count())]
        assert any(cell.strip() not in ("", "–") for cell in function_cells)
        # ---- ... and each measure: its chart, its table with week 6, judged by the measure's MIC ----
        measures = doctor.locator("#course-measures")
        assert measures.locator("figure.course-chart svg[role='img']").count() == 3
        assert measure_rows(doctor, "peg") == [
            ("Beginn", "7", "Ausgangswert"),
            ("Woche 2", "6", "gleich"),  # 1 of 7 less: under 30 %
            ("Woche 4", "5", "gleich"),  # 2 of 7 less: still under 30 % (2.1)
            ("Woche 6", "4", "besser"),  # 3 of 7 less: 43 %
        ]
        assert measure_rows(doctor, "psfs") == [
            ("Beginn", "3,5", "Ausgangswert"),
            ("Woche 2", "4", "gleich"),
            ("Woche 4", "4,5", "gleich"),
            ("Woche 6", "4,5", "gleich"),  # 1 point more: under the 2 points
        ]
        assert measure_rows(doctor, "pgic") == [
            ("Woche 2", "gleich geblieben", "gleich"),
            ("Woche 4", "etwas besser", "gleich"),
            ("Woche 6", "viel besser", "besser"),
        ]
        today_text = format_day(dt.datetime.now(dt.UTC).date(), "de")
        assert today_text in doctor.locator("#course-peg-table tbody tr").last.inner_text()
        assert "Zuletzt: besser als beim ersten Mal." in doctor.locator("#course-peg").inner_text()
        assert "mindestens 30 Prozent" in doctor.locator("#course-peg-explain").inner_text()
        assert "Zuletzt: etwa gleich" in doctor.locator("#course-psfs").inner_text()
        assert "nach Einschätzung der Person selbst" in doctor.locator("#course-pgic").inner_text()
        assert fits_the_width(doctor)
        assert_accessible(doctor, axe_source)

        # ---- a note without text is refused at its field; then an exercise is left out, with a note ----
        submit(doctor.locator("#form-note").get_by_role("button", name="Notiz senden"))
        assert "Bitte schreiben Sie eine Notiz." in doctor.locator("#note-text-error").inner_text()
        assert doctor.locator(".error-summary").is_visible()
        assert_accessible(doctor, axe_source)
        select = doctor.locator("#exclude-exercise")
        option = select.locator("option").nth(1)
        left_out, title = option.get_attribute("value"), option.inner_text()
        assert left_out and title in shown_before
        select.select_option(left_out)
        doctor.locator("#exclude-note").fill(NOTE)
        submit(doctor.get_by_role("button", name="Übung weglassen"))
        assert doctor.url.endswith("#anpassungen")
        changes = doctor.locator("#course-changes").inner_text()
        assert f"Weggelassen: {title}" in changes and NOTE in changes and "gilt" in changes
        doctor.reload()  # a reload of the page after the change changes nothing more
        assert doctor.locator("#course-changes li").count() == 1
        save_screenshots(doctor, screenshot_dir, "clinician-course")
        assert_accessible(doctor, axe_source)

        # ---- the patient sees the change with the note, and the exercise is gone ----
        patient.goto("/mein-bereich/plan")
        adjusted = patient.locator("#von-der-praxis").inner_text()
        assert "Von Ihrer Praxis angepasst" in adjusted and NOTE in adjusted
        assert practice.name in adjusted and title in adjusted
        assert title not in exercise_titles(patient)
        assert patient.locator(".practice-mark", has_text="von Ihrer Praxis angepasst").count() >= 1
        save_screenshots(patient, screenshot_dir, "share-plan-adjusted")
        assert_accessible(patient, axe_source)

        # ---- the patient stops sharing: the course answers 404 at once ----
        patient.goto("/mein-bereich/teilen")
        submit(patient.locator("#praxis-1").get_by_role("button", name="Teilen beenden"))
        assert "Teilen beendet am" in patient.locator("#praxis-1-state").inner_text()
        gone = doctor.goto(course_url)
        assert gone is not None and gone.status == 404
        doctor.goto("/praxis/verlauf")
        assert doctor.locator("tr.course-row").count() == 0
        patient.goto("/mein-bereich/plan")
        assert patient.locator("#von-der-praxis").count() == 0
        assert title in exercise_titles(patient)  # the practice's change no longer applies
    finally:
        doctor_context.close()
        patient_context.close()
        web.close()

    with open_store(live_server) as store, store.transaction() as session:
        events = [
            (e.action, e.actor_kind, e.practice_id) for e in all_events(session) if e.person_id == person
        ]
    mine = [(action, actor) for action, actor, practice_id in events if practice_id == practice.id]
    assert ("share.grant", "patient") in mine and ("share.revoke", "patient") in mine
    assert ("adjust.plan", "clinician") in mine
    assert [a for a in mine if a[0] == "read.course"].count(("read.course", "clinician")) >= 3
    order = [action for action, _ in mine if action in ("share.grant", "adjust.plan", "share.revoke")]
    assert order == ["share.grant", "adjust.plan", "share.revoke"]


def measure_rows(page: Page, measure: str) -> list[tuple[str, str, str]]:
    """A measure's table on the course page: (week, value, judgement) of each row (the date left out)."""
    rows = page.locator(f"#course-{measure}-table tbody tr")
    found = []
    for i in range(rows.count()):
        row = rows.nth(i)
        week = row.locator("th").inner_text().splitlines()[0].strip()
        cells = row.locator("td")
        found.append((week, cells.nth(0).inner_text().strip(), cells.nth(1).inner_text().strip()))
    return found


def exercise_titles(page: Page) -> list[str]:
    """The titles of this week's exercises on the plan page (the headings say "title – dose")."""
    if "/mein-bereich/plan" not in page.url:
        page.goto("/mein-bereich/plan")
    headings = page.locator("section[aria-labelledby='uebungen'] article h3")
    return [headings.nth(i).inner_text().split(" – ")[0] for i in range(headings.count())]
