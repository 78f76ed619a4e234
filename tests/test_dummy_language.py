"""A third language added from a catalogue folder reaches every channel: the CLI (an assessment and an
error), the web pages (by ?lang= and by Accept-Language, a real server over HTTP), the API's problem
documents and the PDF report.

The fixture writes a pseudo-localised catalogue for Dutch (``nl``, a real Babel locale, so numbers and
dates format as Dutch): every UI text and every knowledge text is the English one behind a visible marker.
Nothing is translated by hand, so a text that reaches the reader without the marker was not looked up in
the catalogue (or not in the reader's language).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from rueckenlotse.i18n import LOCALE_DIR_ENV
from rueckenlotse.i18n.catalogue import ui_catalogue_texts
from rueckenlotse.knowledge.loader import DATA_DIR

from .conftest import CLI, SHARED
from .serving import served

LANG = "nl"
MARK = "⟦nl⟧"
API = "/api/v1"


def pseudo(text: str) -> str:
    return f"{MARK} {text}"


def write_pseudo_catalogue(folder: Path) -> Path:
    """``nl.yaml``: every UI text and every knowledge text, English behind the marker."""
    texts = {key: pseudo(entry["en"]) for key, entry in ui_catalogue_texts().items()}
    knowledge_raw = yaml.safe_load((DATA_DIR / "texts.yaml").read_text(encoding="utf-8"))
    knowledge = {key: pseudo(entry["en"]) for key, entry in knowledge_raw.items()}
    path = folder / f"{LANG}.yaml"
    document = {"fallback": "en", "texts": texts, "knowledge": knowledge}
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def locale_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("locale")
    write_pseudo_catalogue(folder)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "RUECKENLOTSE_SECRET_KEY")}
    env[LOCALE_DIR_ENV] = str(folder)
    env["RUECKENLOTSE_DATA_DIR"] = str(tmp_path_factory.mktemp("data"))
    return env


def run(env: dict[str, str], *args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(CLI), *map(str, args)], capture_output=True, text=True, timeout=120, env=env)


def case_file(tmp_path: Path, name: str = "p11-sciatica") -> Path:
    data = json.loads((SHARED / "cases" / "public" / f"{name}.json").read_text("utf-8"))
    path = tmp_path / "case.json"
    path.write_text(json.dumps(data["case"]), encoding="utf-8")
    return path


# ---- the CLI -------------------------------------------------------------------------------------
def test_the_cli_assesses_in_the_added_language(locale_env: dict[str, str], tmp_path: Path) -> None:
    done = run(locale_env, "assess", case_file(tmp_path), "--lang", LANG)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    assert lines and lines[0].lstrip().startswith(MARK), done.stdout
    assert done.stdout.count(MARK) >= 5


def test_a_cli_error_is_worded_in_the_added_language(locale_env: dict[str, str], tmp_path: Path) -> None:
    done = run(locale_env, "assess", tmp_path / "missing.json", "--lang", LANG)
    assert done.returncode == 2
    assert done.stderr.startswith(MARK), done.stderr
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"age": "vierzig"}), encoding="utf-8")
    invalid = run(locale_env, "assess", bad, "--lang", LANG)
    assert invalid.returncode == 2
    assert invalid.stderr.count(MARK) >= 2, invalid.stderr  # the heading and the field messages


def test_a_store_error_is_worded_in_the_added_language(locale_env: dict[str, str], tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    done = run(locale_env, "diary", "show", "nobody", "--db", db, "--lang", LANG)
    assert done.returncode == 2
    assert done.stderr.count(MARK) >= 2, done.stderr  # "Error:" and the store's "not found"


def test_without_the_setting_the_language_is_refused(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != LOCALE_DIR_ENV}
    done = run(env, "assess", case_file(tmp_path), "--lang", LANG)
    assert done.returncode == 2 and MARK not in done.stdout + done.stderr


# ---- the PDF -------------------------------------------------------------------------------------
@pytest.mark.usefixtures("poppler")
def test_the_pdf_report_speaks_the_added_language(locale_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    done = run(locale_env, "report", case_file(tmp_path), "--kind", "patient", "--lang", LANG, "-o", out)
    assert done.returncode == 0, done.stderr
    text = subprocess.run(["pdftotext", "-raw", str(out), "-"], capture_output=True, check=True).stdout
    words = " ".join(text.decode("utf-8").split())
    assert words.count(MARK) >= 5, words[:500]


# ---- the web pages and the API, a real server over HTTP ------------------------------------------
@pytest.fixture(scope="module")
def server(locale_env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = Path(locale_env["RUECKENLOTSE_DATA_DIR"])
    with served(data_dir, tmp_path_factory.mktemp("server") / "server.log", locale_env) as url:
        yield url


def _html_lang(page: str) -> str:
    match = re.search(r'<html[^>]*\blang="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1)


def test_a_page_speaks_the_language_chosen_by_query(server: str) -> None:
    page = httpx.get(server + "/", params={"lang": LANG}, timeout=10)
    assert page.status_code == 200
    assert _html_lang(page.text) == LANG and page.text.count(MARK) >= 3


def test_a_page_speaks_the_language_the_browser_asks_for(server: str) -> None:
    asked = httpx.get(server + "/", headers={"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}, timeout=10)
    assert _html_lang(asked.text) == LANG and MARK in asked.text
    german = httpx.get(server + "/", headers={"Accept-Language": "fr-FR,fr;q=0.9"}, timeout=10)
    assert _html_lang(german.text) == "de" and MARK not in german.text


def test_an_api_problem_speaks_the_added_language(server: str) -> None:
    for params, headers in (({"lang": LANG}, {}), ({}, {"Accept-Language": "nl"})):
        response = httpx.post(
            f"{server}{API}/assessments", params=params, headers=headers, json={"age": -3}, timeout=10
        )
        assert response.status_code == 422
        problem = response.json()
        assert problem["title"].startswith(MARK) and problem["detail"].startswith(MARK)
        assert problem["errors"] and all(e["message"].startswith(MARK) for e in problem["errors"])


def test_the_api_lists_the_added_language(server: str) -> None:
    info = httpx.get(f"{server}{API}/knowledge", timeout=10).json()
    assert info["languages"] == ["de", "en", LANG]


def test_dates_are_dutch(locale_env: dict[str, str]) -> None:
    code = (
        "import datetime as dt; from rueckenlotse.i18n.formatting import format_day; "
        "print(format_day(dt.date(2026, 12, 4), 'nl'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=locale_env)
    assert done.stdout.strip() == "4 dec 2026"
