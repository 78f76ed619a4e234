"""The store commands through the real console script: person new, export, erase, backup, restore."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path

import pexpect
import pytest

from rueckenlotse.store import Store
from rueckenlotse.store.audit import all_events

from ..conftest import CLI
from .conftest import populate, sample_entry, snapshot


def run(
    *args: str | Path, stdin: str = "", env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(CLI), *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
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
    assert "Integritätsprüfung" in proc.stdout
    with Store.open(db_url) as store:
        assert snapshot(store.engine) == before


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
