"""The Store's reads and writes, on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from rueckenlotse import assess
from rueckenlotse.core.errors import InvalidInput
from rueckenlotse.core.kb import KnowledgeBase
from rueckenlotse.plan.models import DiaryEntry
from rueckenlotse.settings import Settings
from rueckenlotse.store import InvalidValue, NotFound, Store, StoreError
from rueckenlotse.store.engine import parse_url
from rueckenlotse.store.schema import DiaryRow

from .conftest import populate, sample_case, sample_entry


def diary_rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(DiaryRow)) or 0)


# --- persons ------------------------------------------------------------------------------------------


def test_person_is_pseudonymous_by_default(store: Store) -> None:
    person = store.create_person()
    assert person.display_name is None
    assert len(person.id) == 32 and int(person.id, 16) >= 0
    assert person.created_at.tzinfo is not None
    assert store.get_person(person.id) == person


def test_display_name_is_trimmed_and_blank_means_none(store: Store) -> None:
    assert store.create_person("  Anna  ").display_name == "Anna"
    assert store.create_person("   ").display_name is None
    with pytest.raises(InvalidValue):
        store.create_person("x" * 201)


def test_unknown_person_is_not_found_in_both_languages(store: Store) -> None:
    with pytest.raises(NotFound) as caught:
        store.get_person("nobody")
    assert "nicht gefunden" in caught.value.message("de")
    assert "not found" in caught.value.message("en")
    assert isinstance(caught.value, LookupError)


def test_ids_are_unique(store: Store) -> None:
    ids = {store.create_person().id for _ in range(50)}
    assert len(ids) == 50
    assert {p.id for p in store.list_persons()} == ids


# --- assessments --------------------------------------------------------------------------------------


def test_assessment_round_trip_keeps_case_assessment_and_knowledge_version(store: Store) -> None:
    person = store.create_person()
    case = sample_case()
    assessment = assess(case)
    record = store.add_assessment(person.id, case, assessment)
    assert record.case == case
    assert record.assessment == assessment
    assert record.knowledge_version == assessment.knowledge_version
    assert record.source == "intake"
    assert store.latest_assessment(person.id) == record


def test_latest_assessment_is_the_newest_and_list_is_oldest_first(store: Store) -> None:
    person = store.create_person()
    assert store.latest_assessment(person.id) is None
    records = [
        store.add_assessment(person.id, sample_case(age), assess(sample_case(age))) for age in (30, 40, 50)
    ]
    assert store.list_assessments(person.id) == records
    latest = store.latest_assessment(person.id)
    assert latest is not None and latest.case.age == 50


def test_assessment_source_is_checked(store: Store) -> None:
    person = store.create_person()
    with pytest.raises(InvalidValue):
        store.add_assessment(person.id, sample_case(), assess(sample_case()), source="guess")
    with pytest.raises(NotFound):
        store.add_assessment("nobody", sample_case(), assess(sample_case()))


def test_triage_column_follows_the_assessment(store: Store) -> None:
    person = store.create_person()
    emergency = sample_case().model_copy(update={"saddle_numbness": True, "bladder_dysfunction": True})
    record = store.add_assessment(person.id, emergency, assess(emergency))
    assert record.assessment.triage.value == "emergency"
    from rueckenlotse.store.schema import AssessmentRow

    with store.engine.connect() as conn:
        assert conn.scalar(select(AssessmentRow.triage).where(AssessmentRow.id == record.id)) == "emergency"


# --- diary --------------------------------------------------------------------------------------------


def test_diary_entry_round_trip_and_commit_is_visible_to_a_new_connection(db_url: str, store: Store) -> None:
    person = store.create_person()
    entry = sample_entry(3)
    entry_id = store.add_diary_entry(person.id, entry)
    with Store.open(db_url) as other:
        record = other.get_diary_entry(entry_id)
    assert record.entry == entry
    assert record.recorded_at == entry.recorded_at
    assert record.recorded_at.tzinfo is not None


def test_diary_is_ordered_by_moment_then_as_written_across_time_zones(store: Store) -> None:
    person = store.create_person()
    numbers = list(range(12))
    random.Random(7).shuffle(numbers)
    for n in numbers:
        store.add_diary_entry(person.id, sample_entry(n))
    # Two entries at the same moment written in different zones: the one written first comes first
    # (whatever their random ids), so a replay of the diary sees them in the order the person wrote them.
    moment = datetime(2024, 6, 1, 12, tzinfo=UTC)
    same = [
        store.add_diary_entry(
            person.id,
            sample_entry(0).model_copy(
                update={"recorded_at": moment.astimezone(timezone(timedelta(hours=h)))}
            ),
        )
        for h in (2, -3)
    ]
    records = store.list_diary(person.id)
    assert [r.entry for r in records[:12]] == [sample_entry(n) for n in range(12)]
    assert [r.id for r in records[12:]] == same
    moments = [r.recorded_at for r in records]
    assert moments == sorted(moments)


def test_diary_entry_accepts_valid_raw_data(store: Store, kb: KnowledgeBase) -> None:
    person = store.create_person()
    data = {"recorded_at": datetime(2024, 5, 2, 9, tzinfo=UTC), "pain": {"neck": 4}, "activity_minutes": 30}
    entry_id = store.add_diary_entry(person.id, data, kb=kb)
    assert store.get_diary_entry(entry_id).entry.pain == {"neck": 4}


VALID: dict[str, Any] = {"recorded_at": datetime(2024, 5, 2, 9, tzinfo=UTC), "pain": {"low_back": 5}}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"pain": {"low_back": 11}}, "pain.low_back"),
        ({"activity_minutes": -5}, "activity_minutes"),
        ({"pain": {"knee": 3}}, "pain.knee"),
        ({"note": "x" * 1_000_000}, "note"),
        ({"pain": {}}, "pain"),
        ({"recorded_at": datetime(2024, 5, 2, 9)}, "recorded_at"),
        ({"mood": "good"}, "mood"),
    ],
    ids=[
        "pain-11",
        "negative-minutes",
        "unknown-region",
        "1MB-note",
        "no-pain",
        "naive-time",
        "unknown-field",
    ],
)
@pytest.mark.parametrize("lang", ["de", "en"])
def test_bad_diary_input_is_explained_and_nothing_is_written(
    store: Store, kb: KnowledgeBase, change: dict[str, Any], field: str, lang: str
) -> None:
    person = store.create_person()
    with pytest.raises(InvalidInput) as caught:
        store.add_diary_entry(person.id, {**VALID, **change}, kb=kb, lang=lang)
    fields = [error.field for error in caught.value.errors]
    assert any(f.startswith(field) for f in fields), fields
    message = str(caught.value)
    assert len(message) < 2000, "the message must not echo a huge input back"
    assert diary_rows(store) == 0
    assert store.list_diary(person.id) == []


def test_messages_follow_the_language(store: Store, kb: KnowledgeBase) -> None:
    person = store.create_person()
    texts = {}
    for lang in ("de", "en"):
        with pytest.raises(InvalidInput) as caught:
            store.add_diary_entry(person.id, {**VALID, "pain": {"low_back": 11}}, kb=kb, lang=lang)
        texts[lang] = caught.value.errors[0].message
    assert texts["de"] != texts["en"]


def test_an_unvalidated_diary_entry_object_is_still_rejected(store: Store) -> None:
    person = store.create_person()
    forged = DiaryEntry.model_construct(recorded_at=VALID["recorded_at"], pain={"low_back": 11}, note="x")
    with pytest.raises(InvalidInput):
        store.add_diary_entry(person.id, forged)
    assert diary_rows(store) == 0


def test_diary_entry_for_unknown_person_writes_nothing(store: Store) -> None:
    with pytest.raises(NotFound):
        store.add_diary_entry("nobody", sample_entry(1))
    assert diary_rows(store) == 0


# --- plans and exclusions -----------------------------------------------------------------------------


def test_plans(store: Store) -> None:
    ids = populate(store, entries=1)
    person = ids["person"]
    plan_id = store.save_plan(person, ids["assessments"][0], {"weeks": (1, 2), "note": "ä"})
    latest = store.latest_plan(person)
    assert latest is not None and latest.id == plan_id
    assert latest.plan == {"weeks": [1, 2], "note": "ä"}
    assert [p.id for p in store.list_plans(person)] == [ids["plan"], plan_id]


def test_a_plan_must_come_from_the_persons_own_assessment(store: Store) -> None:
    anna = populate(store, "Anna", entries=0)
    ben = store.create_person("Ben")
    with pytest.raises(NotFound):
        store.save_plan(ben.id, anna["assessments"][0], {})
    with pytest.raises(NotFound):
        store.save_plan(ben.id, "no-such-assessment", {})
    with pytest.raises(InvalidValue):
        store.save_plan(anna["person"], anna["assessments"][0], {"when": datetime.now(UTC)})
    assert store.latest_plan(ben.id) is None


def test_exclusions(store: Store) -> None:
    person = store.create_person().id
    store.add_exclusion(person, "plank", "Schulter")
    store.add_exclusion(person, "bridge")
    updated = store.add_exclusion(person, "plank", "Handgelenk")
    assert updated.reason == "Handgelenk"
    assert [(e.exercise_id, e.reason) for e in store.list_exclusions(person)] == [
        ("bridge", None),
        ("plank", "Handgelenk"),
    ]
    assert store.remove_exclusion(person, "bridge") is True
    assert store.remove_exclusion(person, "bridge") is False
    assert [e.exercise_id for e in store.list_exclusions(person)] == ["plank"]
    for bad in ("", "Plank", "a-b", "x" * 65):
        with pytest.raises(InvalidValue):
            store.add_exclusion(person, bad)


# --- integrity ----------------------------------------------------------------------------------------


def test_integrity_check_is_clean_on_a_populated_database(store: Store) -> None:
    populate(store)
    assert store.integrity_check() == []


def test_integrity_check_finds_a_damaged_document_and_disagreeing_columns(store: Store) -> None:
    ids = populate(store)
    with store.engine.begin() as conn:
        conn.execute(DiaryRow.__table__.update().where(DiaryRow.id == ids["diary"][0]).values(entry_json={}))
        conn.execute(DiaryRow.__table__.update().where(DiaryRow.id == ids["diary"][1]).values(max_pain=10))
    problems = store.integrity_check()
    assert any(ids["diary"][0] in p and "invalid" in p for p in problems), problems
    assert any(ids["diary"][1] in p and "disagree" in p for p in problems), problems


def test_integrity_check_finds_dangling_references(store: Store) -> None:
    ids = populate(store)
    with store.engine.connect() as conn:
        if store.is_sqlite:
            raw = conn.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA foreign_keys=OFF")
            raw.execute("DELETE FROM persons")
            raw.execute("PRAGMA foreign_keys=ON")
        else:
            # Superuser only: skips the foreign-key triggers for this session, as a broken import would.
            conn.exec_driver_sql("SET session_replication_role = replica")
            conn.exec_driver_sql("DELETE FROM persons")
            conn.commit()
    problems = store.integrity_check()
    assert problems, "a diary without its person must be reported"
    assert any("diary_entries" in p for p in problems)
    del ids


# --- settings and engine ------------------------------------------------------------------------------


def test_settings_default_to_a_sqlite_file_in_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("RUECKENLOTSE_DATA_DIR", str(tmp_path / "daten"))
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path / 'daten' / 'rueckenlotse.db'}"
    with Store.open(settings.database_url) as store:
        store.create_person()
    assert (tmp_path / "daten" / "rueckenlotse.db").is_file()


def test_database_url_comes_from_the_environment_and_arguments_win(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://someone@db/rl")
    assert Settings().database_url == "postgresql://someone@db/rl"
    assert Settings(database_url="sqlite:///x.db").database_url == "sqlite:///x.db"


def test_settings_module_builds_nothing_at_import() -> None:
    import rueckenlotse.settings as module
    import rueckenlotse.store as store_package

    for namespace in (vars(module), vars(store_package)):
        assert not any(isinstance(value, Settings) for value in namespace.values())


def test_sqlite_connections_are_durable_and_check_foreign_keys(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        pragma = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("journal_mode", "synchronous")
        }
        pragma |= {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar() for name in ("foreign_keys", "busy_timeout")
        }
    assert pragma == {"journal_mode": "wal", "synchronous": 2, "foreign_keys": 1, "busy_timeout": 10_000}


def test_urls() -> None:
    assert parse_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert parse_url("sqlite:///x.db").drivername == "sqlite"
    for bad in ("mysql://u@h/db", "not a url"):
        with pytest.raises(StoreError):
            parse_url(bad)


def test_opening_an_unreachable_database_is_a_store_error(tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreError) as caught:
        Store.open(f"sqlite:///{junk}")
    assert "beschädigt" in caught.value.message("de")
    with pytest.raises(StoreError):
        Store.open("postgresql://nobody@127.0.0.1:1/none")


def test_a_new_sqlite_database_is_private(tmp_path: Path) -> None:
    import stat

    from rueckenlotse.store import Store

    folder = tmp_path / "daten"
    with Store.open(f"sqlite:///{folder / 'rl.db'}") as store:
        store.create_person()
    assert stat.S_IMODE((folder / "rl.db").stat().st_mode) == 0o600
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
