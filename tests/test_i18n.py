"""The translation layer: the language list, the catalogue checks, LocalText, Babel formatting and
negotiation, and the typed errors worded from the catalogue exactly as before they were typed."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from rueckenlotse.i18n import LOCALE_DIR_ENV, LocaleError, LocalText, check_language, languages
from rueckenlotse.i18n.catalogue import (
    CatalogueError,
    load_catalogue,
    parse_catalogue,
    placeholders,
    ui_catalogue_texts,
)
from rueckenlotse.i18n.errors import error_texts
from rueckenlotse.i18n.formatting import decimal, format_day, format_moment, plural_form
from rueckenlotse.i18n.negotiate import accepted_language
from rueckenlotse.services.auth import WeakPassword, check_password
from rueckenlotse.store.account_records import Throttled
from rueckenlotse.store.errors import NotFound, StoreError, Term, person_not_found

SRC = Path(__file__).resolve().parents[1] / "src" / "rueckenlotse"


@pytest.fixture
def dutch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    texts = {key: f"[nl] {entry['en']}" for key, entry in ui_catalogue_texts().items()}
    (tmp_path / "nl.yaml").write_text(yaml.safe_dump({"texts": texts}, allow_unicode=True), encoding="utf-8")
    monkeypatch.setenv(LOCALE_DIR_ENV, str(tmp_path))
    return tmp_path


def test_german_and_english_are_built_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCALE_DIR_ENV, raising=False)
    assert languages() == ("de", "en")
    with pytest.raises(ValueError, match="lang must be one of"):
        check_language("nl")


@pytest.mark.usefixtures("dutch")
def test_a_catalogue_file_adds_a_language() -> None:
    assert languages() == ("de", "en", "nl")
    catalogue = load_catalogue("rueckenlotse.cli", ["texts.yaml"])
    assert catalogue.get("common.file_error", "nl", path="x", detail="gone") == "[nl] File x: gone"
    assert catalogue.get("common.file_error", "de", path="x", detail="weg") == "Datei x: weg"


def test_a_bad_language_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "xx-1.yaml").write_text("texts: {}", encoding="utf-8")
    monkeypatch.setenv(LOCALE_DIR_ENV, str(tmp_path))
    with pytest.raises(LocaleError, match="not a new language code"):
        languages()


def test_every_key_needs_every_language_with_the_same_placeholders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CatalogueError, match="'a'.*placeholders"):
        parse_catalogue({"a": {"de": "Tag {day}", "en": "Day {date}"}})
    with pytest.raises(CatalogueError, match="needs exactly the languages de, en"):
        parse_catalogue({"a": {"de": "Tag"}})
    with pytest.raises(CatalogueError, match="non-empty"):
        parse_catalogue({"a": {"de": " ", "en": "Day"}})
    (tmp_path / "nl.yaml").write_text(yaml.safe_dump({"texts": {"a": "Dag {datum}"}}), encoding="utf-8")
    monkeypatch.setenv(LOCALE_DIR_ENV, str(tmp_path))
    with pytest.raises(CatalogueError, match="nl use other placeholders"):
        parse_catalogue({"a": {"de": "Tag {day}", "en": "Day {day}"}})
    with pytest.raises(CatalogueError, match="'b' has no nl version"):
        parse_catalogue({"b": {"de": "Tag", "en": "Day"}})


def test_the_ui_catalogues_share_no_key_and_keep_their_placeholders() -> None:
    texts = ui_catalogue_texts()
    assert len(texts) > 500
    assert [k for k, e in texts.items() if placeholders(e["de"]) != placeholders(e["en"])] == []


def test_local_text_falls_back_and_knows_only_listed_languages(dutch: Path) -> None:
    text = LocalText(de="Rücken", en="Back")
    assert (text.get("de"), text.get("en"), text.get("nl")) == ("Rücken", "Back", "Back")
    assert LocalText.model_validate({"de": "Rücken", "en": "Back", "nl": "Rug"}).get("nl") == "Rug"
    with pytest.raises(ValidationError, match="unknown languages"):
        LocalText.model_validate({"de": "Rücken", "en": "Back", "fr": "Dos"})
    with pytest.raises(ValueError, match="lang must be one of"):
        text.get("fr")


def test_babel_formats_keep_the_german_and_english_forms() -> None:
    day, moment = dt.date(2026, 3, 5), dt.datetime(2026, 3, 5, 8, 30, tzinfo=dt.UTC)
    assert [format_day(day, lang) for lang in ("de", "en", "nl")] == [
        "05.03.2026",
        "2026-03-05",
        "5 mrt 2026",
    ]
    assert format_moment(moment, "de") == "05.03.2026, 08:30"
    assert format_moment(moment, "en") == "2026-03-05 08:30"
    assert [decimal("6.5", lang) for lang in ("de", "en", "nl")] == ["6,5", "6.5", "6,5"]
    assert (plural_form(1, "de"), plural_form(3, "en")) == ("one", "other")


@pytest.mark.parametrize(
    ("header", "lang"),
    [
        (None, "de"),
        ("en-GB,en;q=0.9", "en"),
        ("fr-FR, en;q=0.5", "en"),
        ("de;q=0.3, en;q=0.8", "en"),
        ("EN", "en"),
        ("en;q=0, de", "de"),
        ("xx, *", "de"),
        ("nl-BE", "de"),
    ],
)
def test_accept_language_is_negotiated(
    header: str | None, lang: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(LOCALE_DIR_ENV, raising=False)
    assert accepted_language(header) == lang


@pytest.mark.usefixtures("dutch")
def test_accept_language_finds_an_added_language() -> None:
    assert accepted_language("nl-BE,nl;q=0.9,en;q=0.8") == "nl"


# ---- typed errors ------------------------------------------------------------------------------
def test_errors_read_as_before_they_were_typed() -> None:
    assert person_not_found("p1").message("de") == "Person „p1“ nicht gefunden."
    assert NotFound("diary_entry", "7").message("en") == "Diary entry '7' not found."
    assert Throttled(90).message("de") == "Zu viele Fehlversuche. Bitte in 2 Minute(n) erneut versuchen."
    with pytest.raises(WeakPassword) as weak:
        check_password("a@b.de", "kurz")
    assert weak.value.message("en").startswith("The password is too short: at least 10 characters.")
    error = StoreError("not_a_backup", path="/x.db", detail=Term("domain.backup_detail.not_sqlite"))
    assert str(error) == (
        "/x.db ist keine gültige Rückenlotse-Sicherung (keine SQLite-Datei / not a SQLite file). / "
        "/x.db is not a valid Rückenlotse backup (keine SQLite-Datei / not a SQLite file)."
    )
    timeout = StoreError("setup_lock_timeout", database="d", timeout_s=30.0).message("en")
    assert "upgrading the database d for more than 30 seconds." in timeout


def test_every_error_code_raised_has_its_text() -> None:
    raised = re.compile(r'(?:Error|InvalidValue|WeakPassword|InvalidAuditEvent)\(\s*"([a-z_.]+)"')
    codes = {code for path in SRC.rglob("*.py") for code in raised.findall(path.read_text(encoding="utf-8"))}
    codes |= {
        f"not_found.{k}" for k in ("person", "account", "practice", "diary_entry", "assessment", "intake")
    }
    codes |= {"throttled", "forbidden", "no_intake", "email_taken"}
    assert len(codes) > 40
    assert sorted(c for c in codes if f"domain.{c}" not in error_texts()) == []
