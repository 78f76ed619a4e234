"""The store commands through the real console script: person new, export, erase, backup, restore."""

from __future__ import annotations

import csv
import io
import json
import os
import stat
import subprocess
from pathlib import Path

import pexpect
import pytest
from sqlalchemy.engine import make_url

from rueckenlotse.store import Store
from rueckenlotse.store.audit import all_events

from ..conftest import CLI
from .conftest import BACKUP_KEY, populate, sample_entry, sign, snapshot

# Backups are signed with this key unless a test sets its own (or none, to get the one in the data folder).
CLI_BACKUP_KEY = BACKUP_KEY.decode()


def run(
    *args: str | Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "RUECKENLOTSE_BACKUP_KEY": CLI_BACKUP_KEY, **(env or {})},
    )


def assert_clean_failure(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout
    assert proc.stdout == ""
    for word in words:
        assert word in proc.stderr, proc.stderr


def backup_file(tmp_path: Path, db_url: str) -> Path:
    return tmp_path / ("sicherung.db" if db_url.startswith("sqlite") else "sicherung.dump")


def test_person_new_prints_the_id(db_url: str) -> None:
    proc = run("person", "new", "--name", "Anna", "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    person_id = proc.stdout.strip()
    assert len(person_id) == 32
    assert "ID" in proc.stderr
    with Store.open(db_url) as store:
        assert store.get_person(person_id).display_name == "Anna"


@pytest.mark.safety("SR-DR-1", "SR-AUD-1")
def test_export_json_and_csv(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        ids = populate(store, "Jürgen", entries=4)
        store.add_diary_entry(ids["person"], sample_entry(9, note="=cmd|' /C calc'!A0"))
        expected = store.export_person(ids["person"])
    out, diary = tmp_path / "daten.json", tmp_path / "tagebuch.csv"
    proc = run("export", ids["person"], "-o", out, "--csv", diary, "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == expected
    rows = list(csv.DictReader(io.StringIO(diary.read_text(encoding="utf-8-sig"), newline="")))
    assert len(rows) == 5
    assert "'=cmd|' /C calc'!A0" in [row["note"] for row in rows]
    assert diary.read_bytes().startswith(b"\xef\xbb\xbf"), "spreadsheets need the BOM to read umlauts"
    to_stdout = run("export", ids["person"], "--db", db_url)
    assert to_stdout.returncode == 0
    second = json.loads(to_stdout.stdout)
    # The first export is in the audit trail now, and so in the person's own data: who, never what.
    assert [(e["actor"], e["action"], e["channel"]) for e in second.pop("access_log")] == [
        ("system", "export", "cli")
    ]
    assert second == {k: v for k, v in expected.items() if k != "access_log"}


@pytest.mark.safety("SR-DR-2", "SR-AUD-1")
def test_erase_asks_and_then_verifies(db_url: str) -> None:
    with Store.open(db_url) as store:
        anna, ben = populate(store, "Anna"), populate(store, "Ben")
        before = snapshot(store.engine)
    declined = run("erase", anna["person"], "--db", db_url, stdin="n\n")
    assert declined.returncode == 1 and "nichts gelöscht" in declined.stderr
    no_answer = run("erase", anna["person"], "--db", db_url)
    assert no_answer.returncode == 1
    with Store.open(db_url) as store:
        assert snapshot(store.engine) == before
    proc = run("erase", anna["person"], "--db", db_url, stdin="j\n")
    assert proc.returncode == 0, proc.stderr
    assert "Tagebucheinträge: 5 Zeile(n)" in proc.stdout and "Geprüft" in proc.stdout
    with Store.open(db_url) as store:
        assert not any(store.rows_of_person(anna["person"]).values())
        assert len(store.list_diary(ben["person"])) == 5
    again = run("erase", ben["person"], "--db", db_url, "--lang", "en", stdin="yes\n")
    assert again.returncode == 0 and "Verified" in again.stdout
    with Store.open(db_url) as store, store.transaction() as session:
        erasures = [e for e in all_events(session) if e.action == "erase"]
    # Both erasures are recorded, by the command line, without the person.
    assert [(e.actor_kind, e.channel, e.person_id) for e in erasures] == [("system", "cli", None)] * 2


def test_backup_then_restore(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        anna = populate(store, "Anna")
        before = snapshot(store.engine)
    path = backup_file(tmp_path, db_url)
    proc = run("backup", path, "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert path.is_file() and "Sicherung geschrieben" in proc.stdout
    assert run("erase", anna["person"], "--yes", "--db", db_url).returncode == 0
    declined = run("restore", path, "--db", db_url, stdin="n\n")
    assert declined.returncode == 1
    proc = run("restore", path, "--yes", "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert "Prüfsumme, Schema, Integrität" in proc.stdout
    assert "  Personen: 1 Zeile(n)\n" in proc.stdout and "  Tagebucheinträge: 5 Zeile(n)\n" in proc.stdout
    with Store.open(db_url) as store:
        assert snapshot(store.engine) == before
    english = run("restore", path, "--yes", "--db", db_url, "--lang", "en")
    assert english.returncode == 0 and "  diary entries: 5 row(s)\n" in english.stdout
    assert "signs in again" in english.stdout


def test_a_refused_restore_exits_2_and_changes_nothing(db_url: str, tmp_path: Path) -> None:
    with Store.open(db_url) as store:
        populate(store, "Anna")
    path = backup_file(tmp_path, db_url)
    assert run("backup", path, "--db", db_url).returncode == 0
    with Store.open(db_url) as store:
        populate(store, "Ben")
        before = snapshot(store.engine)
    other_key = {"RUECKENLOTSE_BACKUP_KEY": "x" * 40}
    assert_clean_failure(run("restore", path, "--yes", "--db", db_url, env=other_key), "Prüfsumme")
    manifest = path.with_name(path.name + ".manifest.json")
    manifest.rename(tmp_path / "elsewhere.json")
    # Refused before the question: nobody confirms a restore that cannot run.
    assert_clean_failure(run("restore", path, "--db", db_url, "--lang", "en"), "manifest", "is missing")
    with Store.open(db_url) as store:
        assert snapshot(store.engine) == before


def test_without_a_configured_key_the_backup_key_is_made_in_the_data_folder(
    db_url: str, tmp_path: Path
) -> None:
    with Store.open(db_url) as store:
        populate(store, "Anna")
    path = backup_file(tmp_path, db_url)
    without_key = {k: v for k, v in os.environ.items() if k != "RUECKENLOTSE_BACKUP_KEY"}
    without_key["RUECKENLOTSE_DATA_DIR"] = str(tmp_path / "daten")
    proc = subprocess.run(
        [str(CLI), "backup", str(path), "--db", db_url], capture_output=True, text=True, env=without_key
    )
    assert proc.returncode == 0, proc.stderr
    key_file = tmp_path / "daten" / "backup_key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text().strip()) >= 32
    # The same key, set in the environment, restores the backup; the test suite's key does not.
    assert run("restore", path, "--yes", "--db", db_url).returncode == 2
    same = {"RUECKENLOTSE_BACKUP_KEY": key_file.read_text().strip()}
    assert run("restore", path, "--yes", "--db", db_url, env=same).returncode == 0


def test_a_short_backup_key_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    short = {"RUECKENLOTSE_BACKUP_KEY": "geheim"}
    path = backup_file(tmp_path, db_url)
    assert_clean_failure(run("backup", path, "--db", db_url, env=short), "Sicherungsschlüssel", "32")
    assert not path.exists()


def test_default_database_comes_from_settings(tmp_path: Path) -> None:
    env = {"RUECKENLOTSE_DATA_DIR": str(tmp_path / "daten"), "DATABASE_URL": ""}
    env_without_url = {k: v for k, v in {**os.environ, **env}.items() if k != "DATABASE_URL"}
    proc = subprocess.run(
        [str(CLI), "person", "new"], capture_output=True, text=True, timeout=120, env=env_without_url
    )
    assert proc.returncode == 0, proc.stderr
    with Store.open(f"sqlite:///{tmp_path / 'daten' / 'rueckenlotse.db'}") as store:
        assert store.get_person(proc.stdout.strip()).display_name is None
    url = f"sqlite:///{tmp_path / 'other.db'}"
    proc = run("person", "new", env={"DATABASE_URL": url})
    assert proc.returncode == 0 and (tmp_path / "other.db").is_file()


def test_bad_input_exits_2_without_traceback(db_url: str, tmp_path: Path) -> None:
    assert_clean_failure(run("export", "nobody", "--db", db_url), "nicht gefunden")
    assert_clean_failure(run("erase", "nobody", "--yes", "--db", db_url, "--lang", "en"), "not found")
    assert_clean_failure(run("restore", tmp_path / "nowhere", "--yes", "--db", db_url), "nicht gefunden")
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"no backup here\n" * 50)
    assert_clean_failure(
        run("restore", junk, "--yes", "--db", db_url, "--lang", "en"), str(junk), "manifest", "missing"
    )
    sign(junk, make_url(db_url).get_backend_name())  # as if made with the key: refused behind the HMAC
    assert_clean_failure(
        run("restore", junk, "--yes", "--db", db_url, "--lang", "en"), str(junk), "not a valid"
    )
    assert_clean_failure(run("person", "new", "--name", "x" * 300, "--db", db_url), "zu lang")
    assert_clean_failure(run("backup", tmp_path / "no" / "such" / "dir" / "b", "--db", db_url))


@pytest.mark.parametrize(
    ("url", "lang", "words"),
    [
        ("mysql://u@h/db", "de", ["nur SQLite und PostgreSQL"]),
        ("mysql://u@h/db", "en", ["only SQLite and PostgreSQL"]),
        ("postgresql://nobody@127.0.0.1:1/none", "de", ["nicht erreichbar", "127.0.0.1"]),
    ],
)
def test_a_bad_database_url_exits_2_without_traceback(url: str, lang: str, words: list[str]) -> None:
    assert_clean_failure(run("person", "new", "--db", url, "--lang", lang), *words)


def test_backup_shows_a_progress_bar_in_a_terminal(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    with Store.open(url) as store:
        populate(store, entries=200)
    child = pexpect.spawn(
        str(CLI),
        ["backup", str(tmp_path / "b.db"), "--db", url],
        encoding="utf-8",
        timeout=60,
        dimensions=(24, 120),
    )
    child.expect("Sicherung")
    child.expect("100%")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
