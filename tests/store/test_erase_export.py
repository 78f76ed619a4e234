"""Erase leaves no row of the person anywhere; export contains all of it; the CSV cannot run formulas."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import MetaData, Text, cast, func, or_, select

from rueckenlotse.store import NotFound, Store
from rueckenlotse.store.exporting import DIARY_COLUMNS, FORMULA_PREFIXES, neutralise_formula

from .conftest import populate, sample_entry, snapshot


def rows_mentioning(store: Store, value: str) -> dict[str, int]:
    """Rows in every table of the live database in which any column (as text) contains the value."""
    meta = MetaData()
    counts: dict[str, int] = {}
    with store.engine.connect() as conn:
        meta.reflect(conn)
        for name, table in meta.tables.items():
            hit = or_(*(cast(column, Text).contains(value) for column in table.columns))
            counts[name] = int(conn.scalar(select(func.count()).select_from(table).where(hit)) or 0)
    return counts


def rows_of(store: Store, person_id: str) -> dict[str, list[tuple[Any, ...]]]:
    return {name: [r for r in rows if person_id in repr(r)] for name, rows in snapshot(store.engine).items()}


def test_erase_leaves_no_row_of_the_person_in_any_table(store: Store) -> None:
    anna = populate(store, "Anna", entries=7)
    ben = populate(store, "Ben", entries=3)
    ben_before = rows_of(store, ben["person"])
    counts = store.erase_person(anna["person"])
    assert counts == {"plans": 1, "exclusions": 2, "diary_entries": 7, "assessments": 2, "persons": 1}
    left = rows_mentioning(store, anna["person"])
    assert set(left) >= {"persons", "assessments", "diary_entries", "plans", "exclusions"}
    assert not any(left.values()), left
    for record_id in [*anna["assessments"], *anna["diary"], anna["plan"]]:
        assert not any(rows_mentioning(store, record_id).values())
    assert not any(store.rows_of_person(anna["person"]).values())
    assert rows_of(store, ben["person"]) == ben_before
    assert len(store.list_diary(ben["person"])) == 3
    with pytest.raises(NotFound):
        store.get_person(anna["person"])


def test_erase_of_an_unknown_person_is_not_found(store: Store) -> None:
    populate(store)
    before = snapshot(store.engine)
    with pytest.raises(NotFound):
        store.erase_person("nobody")
    assert snapshot(store.engine) == before


def test_erased_text_is_gone_from_the_sqlite_files(sqlite_store: Store) -> None:
    store = sqlite_store
    person = store.create_person("Zelda-Unverwechselbar").id
    secret = "GEHEIMNIS-" + "q" * 40
    store.add_diary_entry(person, sample_entry(1, note=secret))
    store.erase_person(person)
    path = store.engine.url.database
    assert path is not None
    for suffix in ("", "-wal"):
        try:
            with open(path + suffix, "rb") as f:
                content = f.read()
        except FileNotFoundError:
            continue
        assert secret.encode() not in content
        assert b"Zelda-Unverwechselbar" not in content


def test_export_contains_everything_of_the_person_and_nothing_else(store: Store) -> None:
    anna = populate(store, "Anna", entries=6)
    ben = populate(store, "Ben", entries=2)
    data = store.export_person(anna["person"])
    text = json.dumps(data, ensure_ascii=False)
    assert ben["person"] not in text and "Ben" not in text
    assert data["person"]["id"] == anna["person"] and data["person"]["display_name"] == "Anna"
    assert sorted(a["id"] for a in data["assessments"]) == sorted(anna["assessments"])
    assert sorted(d["id"] for d in data["diary"]) == sorted(anna["diary"])
    assert [p["id"] for p in data["plans"]] == [anna["plan"]]
    assert [e["exercise_id"] for e in data["exclusions"]] == anna["exclusions"]
    # Every stored value is there, not just the ids: each entry reads back as the entry written.
    diary = {record.id: record for record in store.list_diary(anna["person"])}
    for item in data["diary"]:
        assert item["entry"] == diary[item["id"]].entry.model_dump(mode="json")
    for item, record in zip(data["assessments"], store.list_assessments(anna["person"]), strict=True):
        assert item["assessment"] == record.assessment.model_dump(mode="json")
        assert item["knowledge_version"] == record.knowledge_version
    assert json.loads(text) == data


def test_export_reports_progress(store: Store) -> None:
    anna = populate(store)
    calls: list[tuple[int, int]] = []
    store.export_person(anna["person"], progress=lambda done, total: calls.append((done, total)))
    assert calls[-1][0] == calls[-1][1] and [done for done, _ in calls] == sorted(done for done, _ in calls)


DANGEROUS = ['=HYPERLINK("http://x","klick")', "+49 170", "-3+4", "@SUM(A1)", "\tTab", "\r=1+1", "=1+1"]


def test_diary_csv_neutralises_formulas(store: Store) -> None:
    person = store.create_person().id
    for n, note in enumerate(DANGEROUS):
        store.add_diary_entry(person, sample_entry(n, note=note))
    store.add_diary_entry(person, sample_entry(20, note='Ganz normal, 5 km gelaufen; "gut"'))
    rows = list(csv.reader(io.StringIO(store.diary_csv(person), newline="")))
    header, body = rows[0], rows[1:]
    assert tuple(header) == DIARY_COLUMNS
    assert len(body) == len(DANGEROUS) + 1
    notes = [row[header.index("note")] for row in body]
    assert sorted(notes) == sorted(["'" + note for note in DANGEROUS] + ['Ganz normal, 5 km gelaufen; "gut"'])
    for row in body:
        for cell in row:
            assert not cell.startswith(FORMULA_PREFIXES), cell


def test_diary_csv_columns(store: Store) -> None:
    person = store.create_person().id
    entry = sample_entry(5)
    store.add_diary_entry(person, entry)
    [header, row] = list(csv.reader(io.StringIO(store.diary_csv(person), newline="")))
    cells: dict[str, Any] = dict(zip(header, row, strict=True))
    assert cells["recorded_at"] == entry.recorded_at.isoformat()
    assert cells["max_pain"] == str(entry.max_pain)
    assert cells["pain_low_back"] == str(entry.pain["low_back"]) and cells["pain_thoracic"] == ""
    assert cells["exercises"] == "cat_cow:good"
    assert cells["note"] == entry.note


@given(st.text(max_size=20))
def test_neutralised_cells_never_start_a_formula_and_keep_the_text(cell: str) -> None:
    safe = neutralise_formula(cell)
    assert not safe.startswith(FORMULA_PREFIXES)
    assert safe in (cell, "'" + cell)
