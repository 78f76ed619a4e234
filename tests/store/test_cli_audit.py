"""Every command-line read of a person's data leaves a row in the audit trail, as the web's reads do.

Who (the command line, as the system) and what kind of read, never what was read; the person sees the
rows on their access page. A backup is recorded without a person (it holds everyone).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.audit import all_events

from .test_cli_store import backup_file, run

CASE = {"age": 45, "regions": ["low_back"], "duration_weeks": 2, "pain_intensity": 5, "trauma": "none"}


def _events(db_url: str) -> list[tuple[str, str, str, str | None]]:
    with Store.open(db_url) as store, store.transaction() as session:
        return [(e.action, e.actor_kind, e.channel, e.person_id) for e in all_events(session)]


@pytest.fixture
def person(db_url: str) -> str:
    with Store.open(db_url) as store:
        person_id = store.create_person("Anna").id
        record_intake(store, person_id, Case.model_validate(CASE))
        for day in range(3):
            entry = {"recorded_at": f"2026-03-0{day + 2}T09:00:00+00:00", "pain": {"low_back": 5 - day}}
            add_entry(store, person_id, DiaryEntry.model_validate_json(json.dumps(entry)))
    return person_id


@pytest.mark.safety("SR-AUD-1")
def test_each_cli_read_of_a_person_is_audited(db_url: str, person: str, tmp_path: Path) -> None:
    reads = [
        (("diary", "show", person), "read.diary"),
        (("plan", "show", person), "read.plan"),
        (("plot", person, "-o", tmp_path / "verlauf.svg"), "read.chart"),
        (("report", "--person", person, "--kind", "patient", "-o", tmp_path / "bericht.html"), "read.report"),
    ]
    for args, action in reads:
        before = _events(db_url)
        proc = run(*args, "--db", db_url)
        assert proc.returncode == 0, (args, proc.stderr)
        assert _events(db_url)[len(before) :] == [(action, "system", "cli", person)], args


def test_a_backup_is_audited_without_a_person(db_url: str, person: str, tmp_path: Path) -> None:
    proc = run("backup", backup_file(tmp_path, db_url), "--db", db_url)
    assert proc.returncode == 0, proc.stderr
    assert _events(db_url)[-1] == ("backup", "system", "cli", None)


def test_a_failed_read_is_not_audited(db_url: str, person: str) -> None:
    """Nothing was read of an unknown person: no row (and no error about the trail)."""
    before = _events(db_url)
    proc = run("diary", "show", "0" * 32, "--db", db_url)
    assert proc.returncode == 2
    assert _events(db_url) == before


def test_every_action_a_person_can_see_has_its_text_on_the_access_page() -> None:
    from rueckenlotse.store.audit import ACTIONS
    from rueckenlotse.web.i18n import load_texts

    texts = load_texts()
    # list.inbox, list.courses, the cohort results, erase, rotate.keys and the administration (admin.*) are
    # recorded without a person: never on a person's access page.
    without_person = {
        "list.inbox",
        "list.courses",
        "read.cohort",
        "export.cohort_csv",
        "erase",
        "rotate.keys",
    }
    without_person |= {a for a in ACTIONS if a.startswith("admin.")}
    assert [a for a in sorted(ACTIONS - without_person) if f"patient.access.what.{a}" not in texts] == []
