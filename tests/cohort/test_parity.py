"""Issue #18's acceptance: the cohort table over 10,000 generated courses is the same from the web (SQL on
the store, for the practice the courses are shared with) and from the batch path (DuckDB over the file),
on SQLite and on PostgreSQL; and both equal the rules computed course by course in Python.

One module-scoped set of courses, written once as JSON Lines and as Parquet, loaded once per store with
bulk inserts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from rueckenlotse.batch.courses import cohort_of_file, generate_courses, write_courses
from rueckenlotse.core.cohort import CohortRow, cohort_body, cohort_sql
from rueckenlotse.knowledge.loader import packaged_knowledge
from rueckenlotse.services.cohort import csv_text, table_of
from rueckenlotse.store import Store
from rueckenlotse.store.cohort import input_ctes, load_courses, practice_cohort
from rueckenlotse.store.practices import Practices

from ..store.conftest import fresh_postgres_database, pg_server_url
from .support import AS_OF, RULES, reference_rows

COURSES = 10_000
PARAMS = packaged_knowledge().cohort.params()


@pytest.fixture(scope="module")
def courses() -> list[dict[str, Any]]:
    return list(generate_courses(COURSES, seed=18, as_of=AS_OF))


@pytest.fixture(scope="module")
def files(courses: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("cohort-files")
    found = {}
    for fmt in ("jsonl", "parquet"):
        path = folder / f"courses.{fmt}"
        assert write_courses(path, courses) == COURSES
        found[fmt] = path
    return found


@pytest.fixture(scope="module")
def batch_rows(files: dict[str, Path]) -> list[CohortRow]:
    count, rows = cohort_of_file(files["jsonl"], AS_OF, PARAMS, RULES)
    assert count == COURSES
    return rows


def _store_rows(url: str, courses: list[dict[str, Any]]) -> list[CohortRow]:
    with Store.open(url) as store:
        practices = Practices(store)
        ours, other = practices.create_practice("Praxis A"), practices.create_practice("Praxis B")
        assert load_courses(store, ours.id, courses, knowledge_version="test") == COURSES
        load_courses(
            store, other.id, courses[:500], knowledge_version="test"
        )  # another practice's: not counted
        return practice_cohort(store, ours.id, AS_OF, PARAMS, RULES)


@pytest.fixture(scope="module")
def sqlite_rows(courses: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> list[CohortRow]:
    folder = tmp_path_factory.mktemp("cohort-store")
    return _store_rows(f"sqlite:///{folder / 'store.db'}", courses)


@pytest.fixture(scope="module")
def postgres_rows(courses: list[dict[str, Any]]) -> Iterator[list[CohortRow]]:
    if pg_server_url() is None:
        from .. import needs

        needs.postgres_url()
    with fresh_postgres_database() as url:
        yield _store_rows(url, courses)


def test_the_courses_are_plausible_and_cover_the_rules(batch_rows: list[CohortRow]) -> None:
    by_item = {(r.item, r.week): r for r in batch_rows}
    courses = by_item[("courses", None)].n
    assert 0.85 * COURSES < courses < COURSES  # some start after the reporting date
    for row in batch_rows:
        if row.is_change:
            assert row.better and row.same and row.worse, row  # every verdict occurs
            assert row.n == sum(getattr(row, p) or 0 for p in ("better", "same", "worse", "no_baseline"))
    assert by_item[("peg", 4)].no_baseline and not by_item[("pgic", 4)].no_baseline
    assert 0 < by_item[("escalated", None)].count < courses / 5  # type: ignore[operator]
    assert 0 < by_item[("stopped_diary", None)].count < by_item[("stopped_diary", None)].n  # type: ignore[operator]


def test_web_and_batch_agree_on_sqlite(sqlite_rows: list[CohortRow], batch_rows: list[CohortRow]) -> None:
    assert sqlite_rows == batch_rows
    shown = [table_of(rows, RULES, AS_OF, "de") for rows in (sqlite_rows, batch_rows)]
    assert csv_text(shown[0], "de") == csv_text(shown[1], "de")


def test_web_and_batch_agree_on_postgres(postgres_rows: list[CohortRow], batch_rows: list[CohortRow]) -> None:
    assert postgres_rows == batch_rows


def test_parquet_gives_the_same(files: dict[str, Path], batch_rows: list[CohortRow]) -> None:
    assert cohort_of_file(files["parquet"], AS_OF, PARAMS, RULES)[1] == batch_rows


def test_the_sql_equals_the_rules_course_by_course(
    courses: list[dict[str, Any]], batch_rows: list[CohortRow]
) -> None:
    assert reference_rows(courses, PARAMS, RULES, AS_OF) == batch_rows


def test_both_paths_run_the_same_statement_text() -> None:
    body = cohort_body(PARAMS, RULES)
    assert cohort_sql(PARAMS, RULES) == "WITH " + body
    for dialect in ("sqlite", "postgresql"):
        assert cohort_sql(PARAMS, RULES, input_ctes(dialect)).endswith(",\n" + body)
