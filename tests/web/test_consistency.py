"""Issue #16, consistency: what a patient reads on the web matches the summary (only checked sources),
the 112 banner stays once a sign was answered, and English stays English after the switch."""

from __future__ import annotations

import re

import httpx
import pytest

from rueckenlotse import assess
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.web.presenter import Presenter

from ..reports.test_documents_html import VIGNETTES, vignette
from .conftest import LiveServer
from .pages_helpers import SELF_CARE_PLAN, current_question, post_step, start, text_of
from .test_auth import own_client
from .test_patient import diary_entry, new_patient, token


@pytest.mark.parametrize("name", VIGNETTES)
def test_the_result_page_cites_only_checked_sources(name: str, kb: KnowledgeBase) -> None:
    case, _ = vignette(name)
    a = assess(case, lang="de")
    patient = Presenter(kb, "de", for_patient=True).result(a)
    practice = Presenter(kb, "de").result(a)
    assert all(s.checked for s in patient.sources)
    assert {s.id for s in patient.sources} == {s.id for s in practice.sources if s.checked}


def _has_banner(page: httpx.Response) -> bool:
    html = page.text
    return (
        'class="emergency"' in html
        and 'href="tel:112"' in html
        and html.index('role="alert"') < html.index("<main")
    )


@pytest.mark.safety("SR-TRI-2")
def test_the_112_banner_stays_on_every_later_question(client: httpx.Client) -> None:
    """Issue #16: after "Trotzdem weitere Fragen beantworten" the banner used to disappear."""
    calm = post_step(client, start(client), ["3"])
    assert not _has_banner(calm)
    emergency = post_step(client, calm, ["1"])  # saddle numbness
    page = post_step(client, emergency, None, action="continue")
    seen = 0
    answers = SELF_CARE_PLAN
    while (question := current_question(page)) is not None and seen < 8:
        assert _has_banner(page), question.id
        assert page.text.count('id="emergency-title"') == 1
        page = post_step(client, page, answers.get(question.id, "no" if question.kind == "bool" else []))
        assert page.status_code == 200, page.text[:2000]
        seen += 1
    assert seen >= 3


def test_the_banner_goes_when_the_sign_is_taken_back(client: httpx.Client) -> None:
    emergency = post_step(client, post_step(client, start(client), ["3"]), ["1"])
    change = post_step(client, emergency, None, action="back")
    assert _has_banner(change)  # the sign still stands while the person looks at it again
    cleared = post_step(client, change, [])
    assert current_question(cleared).id == "fever_and_aorta"  # type: ignore[union-attr]
    assert not _has_banner(cleared)


# German words and letters an English page must not show; the brand (Rückenlotse), the switch back to
# German ("Deutsch") and what the person typed are the only German allowed.
GERMAN = re.compile(
    r"[äöüÄÖÜß]|\b(Sie|Ihr|Ihre|Ihnen|und|oder|nicht|Warnzeichen|Schmerzen|Übung|Tagebuch|Woche)\b"
)
ALLOWED = ("Rückenlotse", "Deutsch", "Plan Englisch")


def _german_in(html: str) -> list[str]:
    text = text_of(html)
    for allowed in ALLOWED:
        text = text.replace(allowed, "")
    return sorted({text[max(0, m.start() - 40) : m.end() + 40] for m in GERMAN.finditer(text)})


def test_the_patient_pages_stay_english_after_the_switch(live_server: LiveServer) -> None:
    """Issue #16: after switching to English, the plan's warning stayed German. Walks the main patient
    pages of a patient with a warning sign in the diary (the plan's warning shows) in English."""
    with own_client(live_server) as client:
        new_patient(client, name="Plan Englisch")
        assert diary_entry(client, warning_signs=["saddle_numbness"]).status_code == 200
        switched = client.post("/lang", data={"csrf_token": token(client), "lang": "en", "next": "/"})
        assert switched.status_code == 303
        pages = ["/", "/intake", "/mein-bereich", "/mein-bereich/plan", "/mein-bereich/tagebuch"]
        found = {path: _german_in(client.get(path).text) for path in pages}
        plan = client.get("/mein-bereich/plan").text
    assert "notice-danger" in plan  # the warning is there, in English
    assert found == dict.fromkeys(pages, []), found
