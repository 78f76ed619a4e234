"""Issue #16, consistency: what a patient reads on the web matches the summary (only checked sources),
the 112 banner stays once a sign was answered, and English stays English after the switch."""

from __future__ import annotations

import httpx
import pytest

from rueckenlotse import assess
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.web.presenter import Presenter

from ..reports.test_documents_html import VIGNETTES, vignette
from .pages_helpers import SELF_CARE_PLAN, current_question, post_step, start


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
