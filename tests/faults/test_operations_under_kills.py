"""Backup, restore and migrations killed with SIGKILL at random moments: all or nothing, every time.

- A killed backup leaves either no file at its path or a complete one that restores; nothing it left
  behind is readable by others.
- A killed restore leaves the database as it was before or as the backup has it, never a mix; the
  integrity check passes either way.
- A killed first start (the migrations creating the schema) leaves a database the next start completes.

The moment of each kill is drawn over the command's whole run, start-up included (measured once unkilled).
"""

from __future__ import annotations

import json
import random
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from rueckenlotse.core.models import Case
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.services.followup import add_entry, record_intake
from rueckenlotse.store import Store
from rueckenlotse.store.backup_manifest import MANIFEST_SUFFIX
from rueckenlotse.store.migrate import head_revision
from rueckenlotse.store.schema import AssessmentRow, DiaryRow, Person

from ..serving import cli_command
from ..web.api_world import SELF_CARE, diary_entry
from .harness import Figures, base_env, kill_delays, run_maybe_killed, timed

KILLS = 10  # per operation and database: 30 each, with the writes' kills well over 50 per database
SEED = 15
PERSONS = 8
ENTRIES = 12


def _populate(url: str) -> None:
    with Store.open(url) as store:
        for n in range(PERSONS):
            person = store.create_person(f"Person {n}").id
            record_intake(store, person, Case.model_validate(SELF_CARE))
            for k in range(ENTRIES):
                signs = {"warning_signs": ["fever"]} if k == 5 and n % 2 else {}
                entry = json.dumps(diary_entry(note=f"{n}-{k}", **signs))
                add_entry(store, person, DiaryEntry.model_validate_json(entry))


def _state(url: str) -> tuple[tuple[str, ...], int, int]:
    """What tells two states of the database apart: the persons, and how many entries and assessments."""
    with Store.open(url) as store, store.transaction(write=False) as session:
        persons = tuple(sorted(session.scalars(select(Person.id))))
        diary = int(session.scalar(select(func.count()).select_from(DiaryRow)) or 0)
        assessments = int(session.scalar(select(func.count()).select_from(AssessmentRow)) or 0)
    return persons, diary, assessments


def _check_passes(url: str, env: dict[str, str]) -> None:
    run = run_maybe_killed(cli_command("check", "--db", url, "--lang", "en"), env, kill_after=None)
    assert run.code == 0, run.out + run.err


def _engine(url: str) -> str:
    return "sqlite" if url.startswith("sqlite") else "postgresql"


def _open_to_others(folder: Path) -> list[str]:
    """Entries of the folder that others could read or enter (a private folder hides what is inside)."""
    return [
        f"{path.name} {stat.filemode(path.lstat().st_mode)}"
        for path in folder.iterdir()
        if path.lstat().st_mode & (stat.S_IRWXG | stat.S_IRWXO)
    ]


@pytest.mark.safety("SR-DIA-1")
def test_a_killed_backup_leaves_nothing_or_a_whole_backup(
    new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    url = new_db_url()
    _populate(url)
    env = base_env(tmp_path)
    folder = tmp_path / "backups"
    folder.mkdir(mode=0o700)
    number = iter(range(1_000))

    def command() -> list[str]:
        return cli_command("backup", str(folder / f"backup-{next(number)}"), "--db", url)

    rng = random.Random(SEED)
    typical, first = timed(command(), env)
    assert first.code == 0, first.err
    kills = 0
    for delay in kill_delays(rng, typical, KILLS * 3):
        run = run_maybe_killed(command(), env, kill_after=delay)
        kills += run.killed
        assert run.killed or run.code == 0, run.out + run.err
        if kills == KILLS:
            break
    assert _open_to_others(folder) == []
    # The backups found at their paths (each with its manifest beside it, which is not a backup itself).
    complete = sorted(
        p for p in folder.glob("backup-*") if p.is_file() and not p.name.endswith(MANIFEST_SUFFIX)
    )
    # Every backup found at its path is whole: it restores into a fresh database with the same content.
    expected = _state(url)
    for backup in complete:
        fresh = new_db_url()
        Store.open(fresh).close()
        restored = run_maybe_killed(
            cli_command("restore", str(backup), "--yes", "--db", fresh), env, kill_after=None
        )
        assert restored.code == 0, f"{backup.name}: {restored.out}{restored.err}"
        assert _state(fresh) == expected
    _check_passes(url, env)
    Figures("backup", _engine(url), kills=kills, attempts=kills, acknowledged=len(complete)).write()


@pytest.mark.safety("SR-DIA-1")
def test_a_killed_restore_leaves_the_old_or_the_new_database(
    new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    url = new_db_url()
    _populate(url)
    env = base_env(tmp_path)
    backup = tmp_path / "backup"
    made = run_maybe_killed(cli_command("backup", str(backup), "--db", url), env, kill_after=None)
    assert made.code == 0, made.err
    backed_up = _state(url)
    rng = random.Random(SEED + 1)
    outcomes = {"old": 0, "new": 0}

    def diverge() -> tuple[tuple[str, ...], int, int]:
        """A person more than the backup has, so that a restore shows."""
        with Store.open(url) as store:
            store.create_person("nach der Sicherung")
        return _state(url)

    before = diverge()
    command = cli_command("restore", str(backup), "--yes", "--db", url)
    typical, first = timed(command, env)
    assert first.code == 0, first.out + first.err
    assert _state(url) == backed_up
    before = diverge()
    kills = 0
    # Half of the kills near the end of the run, where the checked copy replaces the database: kills drawn
    # over the whole run land mostly in start-up and the checks.
    late = [rng.uniform(0.75, 1.05) * typical for _ in range(KILLS * 3)]
    delays = [d for pair in zip(kill_delays(rng, typical, KILLS * 3), late, strict=True) for d in pair]
    for delay in delays:
        run = run_maybe_killed(command, env, kill_after=delay)
        kills += run.killed
        assert run.killed or run.code == 0, run.out + run.err
        now = _state(url)
        assert now in (before, backed_up), "a killed restore left a mix of old and new"
        outcomes["new" if now == backed_up else "old"] += 1
        _check_passes(url, env)
        if now == backed_up:
            before = diverge()
        if kills == KILLS:
            break
    Figures("restore", _engine(url), kills=kills, attempts=kills, notes=outcomes).write()


def _fresh_urls(new_db_url: Callable[[], str]) -> Iterator[str]:
    while True:
        yield new_db_url()


@pytest.mark.safety("SR-DIA-1")
def test_killed_migrations_are_completed_by_the_next_start(
    new_db_url: Callable[[], str], tmp_path: Path
) -> None:
    env = base_env(tmp_path)
    rng = random.Random(SEED + 2)
    urls = _fresh_urls(new_db_url)
    typical, first = timed(cli_command("check", "--db", next(urls)), env)
    assert first.code == 0, first.out + first.err
    kills = 0
    url = ""
    for delay in kill_delays(rng, typical, KILLS * 3):
        url = next(urls)
        run = run_maybe_killed(cli_command("check", "--db", url), env, kill_after=delay)
        kills += run.killed
        assert run.killed or run.code == 0, run.out + run.err
        # The next start finishes what the killed one began, and the schema is the newest.
        _check_passes(url, env)
        with Store.open(url) as store, store.engine.connect() as connection:
            version = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        assert version == head_revision()
        if kills == KILLS:
            break
    Figures("migrations", _engine(url), kills=kills, attempts=kills).write()
