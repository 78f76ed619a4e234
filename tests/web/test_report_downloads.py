"""Report downloads from the web pages, against the live server: the result page, Mein Bereich and the
practice's intake detail each give a real PDF (read back with pdftotext) as an attachment nobody caches;
bad requests get friendly errors, never a PDF of someone else's data."""

from __future__ import annotations

import html
import re
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from rueckenlotse.store import Store

from .conftest import LiveServer
from .pages_helpers import step_form
from .test_auth import new_clinician, open_store, own_client, sign_in
from .test_patient import csrf_of, diary_entry, new_patient, self_care_result
from .test_practice import EMERGENCY, PLAIN, submit

pytestmark = pytest.mark.usefixtures("poppler")

# A PDF renders in a fraction of a second on an idle machine (benchmarks/report_render.py), but a request
# for one may wait for a core behind a parallel test run on a loaded 2-core machine: the clients' 10 s are
# meant for pages, PDF requests get this.
PDF_TIMEOUT = 60.0


@pytest.fixture
def client(live_server: LiveServer) -> Iterator[httpx.Client]:
    with own_client(live_server) as own:
        yield own


@pytest.fixture
def store(live_server: LiveServer) -> Iterator[Store]:
    with open_store(live_server) as opened:
        yield opened


def pdf_text(response: httpx.Response, tmp_path: Path) -> str:
    assert response.status_code == 200, response.text[:500]
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"%PDF-")
    path = tmp_path / "bericht.pdf"
    path.write_bytes(response.content)
    done = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return re.sub(r"\s+", " ", done.stdout)


def test_the_result_page_offers_both_reports(client: httpx.Client, tmp_path: Path) -> None:
    result = self_care_result(client)
    assert 'action="/bericht"' in result.text
    form = step_form(result)
    data = {"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    summary = pdf_text(
        client.post("/bericht", data={**data, "kind": "patient"}, timeout=PDF_TIMEOUT), tmp_path
    )
    report = pdf_text(
        client.post("/bericht", data={**data, "kind": "clinician"}, timeout=PDF_TIMEOUT), tmp_path
    )
    assert "Selbst gut für sich sorgen" in summary
    assert "Selbst gut für sich sorgen" in report and len(report) > len(summary)


def test_bad_report_requests_get_an_error_page(client: httpx.Client) -> None:
    form = step_form(self_care_result(client))
    data = {"csrf_token": form.hidden["csrf_token"], "state": form.hidden["state"]}
    assert client.post("/bericht", data={**data, "kind": "roman"}).status_code == 404
    assert (
        client.post("/bericht", data={**data, "state": "x" + data["state"], "kind": "patient"}).status_code
        == 400
    )
    no_token = client.post("/bericht", data={"state": data["state"], "kind": "patient"})
    assert no_token.status_code == 403 and "text/html" in no_token.headers["content-type"]
    unfinished = step_form(client.get("/intake")).hidden
    assert client.post("/bericht", data={**unfinished, "kind": "patient"}).status_code == 400


def test_my_area_gives_the_report_with_the_diary(client: httpx.Client, tmp_path: Path) -> None:
    new_patient(client, name="Lotte Bericht")
    assert diary_entry(client, note="heute besser").status_code == 200
    home = client.get("/mein-bereich")
    assert 'href="/mein-bereich/bericht/clinician"' in home.text
    report = pdf_text(client.get("/mein-bereich/bericht/clinician", timeout=PDF_TIMEOUT), tmp_path)
    assert "Lotte Bericht" in report and "heute besser" in report
    summary = pdf_text(client.get("/mein-bereich/bericht/patient?lang=en", timeout=PDF_TIMEOUT), tmp_path)
    assert "Your summary" in summary and "For: Lotte Bericht" in summary
    assert client.get("/mein-bereich/bericht/roman").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(client: httpx.Client, store: Store) -> None:
    response = client.get("/mein-bereich/bericht/patient")
    assert response.status_code == 303 and response.headers["location"] == "/anmelden"
    clinician = new_clinician(store)
    intake = submit(store, clinician.practice_id, PLAIN, datetime.now(UTC))
    response = client.get(f"/praxis/eingang/{intake}/bericht")
    assert response.status_code == 303 and response.headers["location"] == "/anmelden"


def test_a_practice_downloads_only_its_own_intake_reports(
    store: Store, live_server: LiveServer, tmp_path: Path
) -> None:
    x, y = new_clinician(store), new_clinician(store)
    urgent = submit(store, x.practice_id, EMERGENCY, datetime.now(UTC))
    with own_client(live_server) as x_client, own_client(live_server) as y_client:
        sign_in(x_client, x)
        sign_in(y_client, y)
        detail = x_client.get(f"/praxis/eingang/{urgent}")
        assert f'href="/praxis/eingang/{urgent}/bericht"' in detail.text
        report = pdf_text(x_client.get(f"/praxis/eingang/{urgent}/bericht", timeout=PDF_TIMEOUT), tmp_path)
        assert "112" in report and "Notfall" in report
        refused = y_client.get(f"/praxis/eingang/{urgent}/bericht")
        missing = y_client.get("/praxis/eingang/0123456789abcdef0123456789abcdef/bericht")
    assert refused.status_code == missing.status_code == 404
    assert refused.headers["content-type"].startswith("text/html")


def test_the_summary_shows_the_plan_as_the_plan_page_does(client: httpx.Client, tmp_path: Path) -> None:
    """Issue #16: an exercise the person excluded is not in the summary, and the review date is the plan
    page's; the time it was made is Berlin time, not UTC."""
    new_patient(client, name="Plan Gleich")
    plan = client.get("/mein-bereich/plan")
    excluded = re.findall(r'name="exercise" value="([a-z0-9_]+)"', plan.text)[0]
    title = re.search(rf'<h3 id="exercise-{excluded}">(.*?) – ', plan.text)
    response = client.post(
        "/mein-bereich/plan/ausschliessen", data={"csrf_token": csrf_of(plan), "exercise": excluded}
    )
    assert response.status_code == 303
    plan = client.get("/mein-bereich/plan")
    review = re.findall(r"\d\d\.\d\d\.\d{4}", plan.text.split('id="milestones-title"', 1)[1])
    summary = pdf_text(client.get("/mein-bereich/bericht/patient", timeout=PDF_TIMEOUT), tmp_path)
    assert title is not None and review is not None
    assert html.unescape(title.group(1)) not in summary
    assert f"Prüfen Sie am {review[-1]} neu" in summary
    assert "UTC" not in summary and re.search(r"Erstellt am \S+, \d\d:\d\d CES?T", summary)
