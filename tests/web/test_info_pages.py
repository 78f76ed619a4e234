"""The pages anyone may read (issue #16): the education modules as web pages, linked from the plan and the
result; the privacy notice, legal notice and intended use filled from the deployer's settings, with a plain
notice while they are empty; every page's footer links to them. Over real HTTP against `serve`."""

from __future__ import annotations

import html
import os
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rueckenlotse.knowledge.loader import default_knowledge
from rueckenlotse.plan.library import default_library

from ..serving import served
from .conftest import SERVER_OWN
from .pages_helpers import text_of
from .test_patient import new_patient, self_care_result

MODULES = list(default_library().modules.values())
FOOTER_LINKS = ("/zweckbestimmung", "/lesen", "/datenschutz", "/impressum")


def test_the_reading_lists_every_module(client: httpx.Client) -> None:
    for lang in ("de", "en"):
        page = client.get(f"/lesen?lang={lang}")
        assert page.status_code == 200
        for module in MODULES:
            assert f'href="/lesen/{module.id}"' in page.text
            assert html.escape(module.title.get(lang), quote=False) in page.text


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.id)
def test_each_module_reads_in_both_languages_with_its_checked_sources(
    client: httpx.Client, module: object
) -> None:
    from rueckenlotse.knowledge.library import Module

    assert isinstance(module, Module)
    registry = default_knowledge().sources
    for lang in ("de", "en"):
        page = client.get(f"/lesen/{module.id}?lang={lang}")
        assert page.status_code == 200
        text = text_of(page.text)
        assert module.title.get(lang) in text
        for passage in module.passages:
            assert passage.get(lang) in text
        for source_id in module.sources:
            source = registry[source_id]
            assert (source.title in text) == (source.status == "checked"), source_id
        some_unchecked = any(registry[s].status != "checked" for s in module.sources)
        assert ("Wort für Wort" in text or "word for word" in text) == some_unchecked
        assert page.headers["content-type"].startswith("text/html")


def test_an_unknown_module_is_a_friendly_404(client: httpx.Client) -> None:
    for path in ("/lesen/unbekannt", "/lesen/..%2Fsettings", "/lesen/" + "x" * 500):
        response = client.get(path)
        assert response.status_code == 404 and "text/html" in response.headers["content-type"], path


def test_the_plan_and_the_result_link_to_the_reading(client: httpx.Client) -> None:
    assert 'href="/lesen"' in self_care_result(client).text
    new_patient(client)
    plan = client.get("/mein-bereich/plan").text
    linked = re.findall(r'href="/lesen/([a-z0-9_]+)"', plan)
    assert linked and all(client.get(f"/lesen/{m}").status_code == 200 for m in linked)


def test_every_page_links_the_trust_pages_in_its_footer(client: httpx.Client) -> None:
    for path in ("/", "/intake", "/anmelden", "/registrieren", "/lesen", "/datenschutz", "/nowhere"):
        footer = client.get(path).text.split('class="site-footer"', 1)[1]
        for link in FOOTER_LINKS:
            assert f'href="{link}"' in footer, (path, link)


def test_without_settings_the_trust_pages_say_the_operator_is_missing(client: httpx.Client) -> None:
    for path in ("/datenschutz", "/impressum"):
        text = text_of(client.get(path).text)
        assert "Angaben des Betreibers fehlen" in text and "RUECKENLOTSE_OPERATOR_NAME" in text, path
        assert "noch nicht angegeben" in text
    english = text_of(client.get("/datenschutz?lang=en").text)
    assert "The operator&#39;s details are missing" in english and "Privacy notice" in english
    use = text_of(client.get("/zweckbestimmung?lang=de").text)
    assert "keine Diagnose" in use and "kein zertifiziertes Medizinprodukt" in use and "112" in use
    assert "der Betreiber dieser Seite" in text_of(client.get("/registrieren").text)


OPERATOR = {
    "RUECKENLOTSE_OPERATOR_NAME": "Praxis Dr. Muster & Partner",
    "RUECKENLOTSE_OPERATOR_ADDRESS": "Beispielweg 3, 10115 Berlin",
    "RUECKENLOTSE_OPERATOR_CONTACT": "kontakt@praxis-muster.example, 030 1234567",
    "RUECKENLOTSE_PRIVACY_OFFICER": "Erika Datenschutz, dsb@praxis-muster.example",
    "RUECKENLOTSE_MEDICAL_DEVICE": "Medizinprodukt der Klasse I nach MDR <b>ohne</b> Gewähr",
}


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A second server, its operator's details set as a deployer sets them."""
    data_dir: Path = tmp_path_factory.mktemp("web-operator")
    env = {k: v for k, v in os.environ.items() if k not in SERVER_OWN}
    env.update(OPERATOR, RUECKENLOTSE_DATA_DIR=str(data_dir))
    with served(data_dir, data_dir / "server.log", env) as url:
        yield url


def test_the_deployers_details_fill_the_trust_pages(configured: str) -> None:
    with httpx.Client(base_url=configured, timeout=10.0) as client:
        privacy = client.get("/datenschutz").text
        imprint = client.get("/impressum").text
        use = client.get("/zweckbestimmung").text
        register = client.get("/registrieren").text
    for page in (privacy, imprint):
        assert "Angaben des Betreibers fehlen" not in page
        assert "Praxis Dr. Muster &amp; Partner" in page and "Beispielweg 3, 10115 Berlin" in page
        assert "kontakt@praxis-muster.example" in page
    assert "Erika Datenschutz" in privacy
    # The deployer's certification statement is shown as text, never as markup.
    assert "&lt;b&gt;ohne&lt;/b&gt;" in use and "kein zertifiziertes Medizinprodukt" not in use
    assert "dass Praxis Dr. Muster &amp; Partner Ihre Einschätzungen" in register
