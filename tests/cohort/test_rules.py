"""The cohort's counting rules on hand-made courses, the same through the store (SQLite) and the file
(DuckDB): no baseline, the answer given last, nothing after the reporting date, escalation above the intake
only, the diary given up, revoked shares and other practices left out, the latest intake as the course."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from rueckenlotse.batch.courses import CourseFileError, cohort_of_file, write_courses
from rueckenlotse.core.cohort import CohortParams, CohortRow
from rueckenlotse.knowledge.loader import packaged_knowledge
from rueckenlotse.store import Store
from rueckenlotse.store.cohort import load_courses, practice_cohort
from rueckenlotse.store.practices import Practices
from rueckenlotse.store.schema import AssessmentRow, CourseShare, MeasureResponse

from .support import AS_OF, RULES, course, reference_rows

PARAMS = packaged_knowledge().cohort.params()
START = "2026-09-01"  # 91 days before AS_OF: past week 12


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def both(
    store: Store, tmp_path: Path, courses: list[dict[str, Any]], params: CohortParams = PARAMS
) -> dict[Any, CohortRow]:
    """The rows by (item, week), after checking that store, file and the Python reference agree."""
    practice = Practices(store).create_practice(f"Praxis {len(courses)}")
    load_courses(store, practice.id, courses, knowledge_version="test")
    from_store = practice_cohort(store, practice.id, AS_OF, params, RULES)
    path = tmp_path / f"courses-{practice.id}.jsonl"
    write_courses(path, courses)
    assert cohort_of_file(path, AS_OF, params, RULES)[1] == from_store
    assert reference_rows(courses, params, RULES, AS_OF) == from_store
    return {(r.item, r.week): r for r in from_store}


def test_a_week_answer_without_a_baseline(store: Store, tmp_path: Path) -> None:
    rows = both(
        store,
        tmp_path,
        [
            course(1, measures=[("peg", 4, 28, 3.0), ("pgic", 4, 28, 2.0)]),  # no week 0
            course(2, measures=[("peg", 0, 0, 6.0), ("peg", 4, 28, 4.2)]),  # 30 % of 6 = 1.8: reached
            course(3, measures=[("peg", 0, 0, 6.0), ("peg", 4, 28, 4.3)]),
        ],
    )
    assert rows[("peg", 4)] == CohortRow(1, "peg", 4, 1, 1, 0, 1, 3, None)
    assert rows[("pgic", 4)].better == 1 and rows[("pgic", 4)].no_baseline == 0
    assert rows[("peg", 12)].n == 0


def test_the_answer_given_last_counts_and_nothing_after_the_reporting_date(
    store: Store, tmp_path: Path
) -> None:
    late = "2026-10-20"  # week 4 on day 28 = 2026-11-17, week 12 after the reporting date
    rows = both(
        store,
        tmp_path,
        [
            course(1, start=late, measures=[("psfs", 0, 0, 2.0), ("psfs", 4, 28, 3.0), ("psfs", 4, 28, 6.0)]),
            course(2, start=late, measures=[("psfs", 0, 0, 2.0), ("psfs", 4, 29, 6.0), ("psfs", 4, 30, 3.0)]),
            course(3, start=late, measures=[("psfs", 0, 0, 2.0), ("psfs", 12, 84, 9.0)]),  # not yet answered
            course(4, start="2026-12-05", measures=[("psfs", 0, 0, 2.0)]),  # starts after the reporting date
        ],
    )
    assert rows[("psfs", 4)] == CohortRow(3, "psfs", 4, 1, 1, 0, 0, 2, None)
    assert rows[("psfs", 12)].n == 0
    assert rows[("courses", None)].n == 3


def test_escalated_means_above_the_intake_within_the_window(store: Store, tmp_path: Path) -> None:
    rows = both(
        store,
        tmp_path,
        [
            course(1, triage="routine", escalations=[(10, "urgent")]),
            course(
                2, triage="routine", escalations=[(10, "routine"), (12, "self_care")]
            ),  # examined, no rise
            course(3, triage="self_care", escalations=[(90, "emergency")]),  # after week 12
            course(4, triage="soon", escalations=[(-3, "urgent")]),  # before this course's intake
            course(5, triage="self_care"),
        ],
    )
    assert rows[("escalated", None)].count == 1 and rows[("escalated", None)].n == 5


def test_the_diary_given_up(store: Store, tmp_path: Path) -> None:
    rows = both(
        store,
        tmp_path,
        [
            course(1, start="2026-11-11", diary=[(0, 5), (5, 5)]),  # day 20: nothing in days 7..20
            course(2, start="2026-11-11", diary=[(0, 5), (7, 5)]),  # day 7 is within the last 14 days
            course(3, start="2026-11-25", diary=[]),  # 6 days old: not counted yet
            course(4, start="2026-11-18"),  # 13 days old, never written: given up
            course(5, diary=[(0, 5), (71, 4)]),  # past week 12: days 71..84 count
            course(6, diary=[(0, 5), (70, 4), (88, 3)]),  # an entry after week 12 does not count
        ],
    )
    assert rows[("stopped_diary", None)] == CohortRow(10, "stopped_diary", None, None, None, None, None, 5, 3)


def test_the_diary_pain_row(store: Store, tmp_path: Path) -> None:
    rows = both(
        store,
        tmp_path,
        [
            # the worst pain of each day: days 0..6 mean 7, days 22..28 mean 5: 2 points better
            course(1, diary=[(0, 7), (0, 3), (3, 7), (22, 5), (28, 5)]),
            course(2, diary=[(1, 4), (25, 5)]),  # 1 point worse: same
            course(3, diary=[(10, 4), (25, 8)]),  # no first week
        ],
    )
    assert rows[("diary_pain", 4)] == CohortRow(7, "diary_pain", 4, 1, 1, 0, 1, 3, None)


def test_only_active_shares_of_the_practice_and_the_latest_intake(store: Store) -> None:
    practices = Practices(store)
    ours, theirs = practices.create_practice("Unsere"), practices.create_practice("Andere")
    shared = [course(i, measures=[("peg", 0, 0, 8.0), ("peg", 4, 28, 2.0)]) for i in range(1, 4)]
    load_courses(store, ours.id, shared, knowledge_version="test")
    load_courses(store, theirs.id, [course(9, measures=[("peg", 4, 28, 2.0)])], knowledge_version="test")
    assert practice_cohort(store, ours.id, AS_OF, PARAMS, RULES)[0].better == 3
    with store.transaction() as session:
        person = session.query(CourseShare.person_id).filter(CourseShare.practice_id == ours.id).first()[0]
        session.execute(
            update(CourseShare).where(CourseShare.person_id == person).values(revoked_at=datetime.now(UTC))
        )
        # A new intake of another person starts a new course: earlier answers no longer count for it.
        other = (
            session.query(CourseShare.person_id)
            .filter(CourseShare.practice_id == ours.id, CourseShare.person_id != person)
            .first()[0]
        )
        session.add(
            AssessmentRow(
                person_id=other, created_at=datetime(2026, 11, 20, 9, tzinfo=UTC), source="intake",
                knowledge_version="test", case_json={}, assessment_json={}, triage="routine",
            )
        )  # fmt: skip
    rows = practice_cohort(store, ours.id, AS_OF, PARAMS, RULES)
    assert rows[0].n == 1 and rows[0].better == 1  # the revoked one and the new course's old answers gone
    assert rows[-1].n == 2  # courses: the new course counts, the revoked one does not
    assert practice_cohort(store, theirs.id, AS_OF, PARAMS, RULES)[0].no_baseline == 1
    with store.transaction() as session:
        assert session.query(MeasureResponse).count() == 7  # nothing was deleted, only left out


def test_without_the_diary_pain_row(store: Store, tmp_path: Path) -> None:
    params = replace(PARAMS, diary_pain=None)
    rows = both(store, tmp_path, [course(1, diary=[(0, 7), (22, 3)])], params)
    assert ("diary_pain", 4) not in rows and rows[("courses", None)].n == 1


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"intake_triage": "dringend"}, "intake_triage"),
        ({"diary": [{"day": 1, "max_pain": 11}]}, "max_pain"),
        ({"measures": [{"measure": "peg", "week": 200, "day": 0, "score": 1.0}]}, "week"),
        ({"escalations": [{"day": 1, "triage": "sofort"}]}, "triage"),
        ({"start": None}, "start"),
    ],
)
def test_a_broken_course_file_is_refused(tmp_path: Path, change: dict[str, Any], problem: str) -> None:
    path = tmp_path / "courses.jsonl"
    path.write_text(json.dumps(course(1) | change) + "\n", encoding="utf-8")
    with pytest.raises(CourseFileError, match=problem):
        cohort_of_file(path, AS_OF, PARAMS, RULES)


def test_a_course_listed_twice_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "courses.jsonl"
    write_courses(path, [course(1), course(1)])
    with pytest.raises(CourseFileError, match="twice"):
        cohort_of_file(path, AS_OF, PARAMS, RULES)
