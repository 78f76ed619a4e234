"""Issue #16, consistency: what a patient reads on the web matches the summary (only checked sources),
the 112 banner stays once a sign was answered, and English stays English after the switch."""

from __future__ import annotations

import pytest

from rueckenlotse import assess
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.web.presenter import Presenter

from ..reports.test_documents_html import VIGNETTES, vignette


@pytest.mark.parametrize("name", VIGNETTES)
def test_the_result_page_cites_only_checked_sources(name: str, kb: KnowledgeBase) -> None:
    case, _ = vignette(name)
    a = assess(case, lang="de")
    patient = Presenter(kb, "de", for_patient=True).result(a)
    practice = Presenter(kb, "de").result(a)
    assert all(s.checked for s in patient.sources)
    assert {s.id for s in patient.sources} == {s.id for s in practice.sources if s.checked}
