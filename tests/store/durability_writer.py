"""Child process of test_durability: writes diary entries in a loop and acknowledges each after commit.

Usage: python -m tests.store.durability_writer URL PERSON_ID FIRST_NUMBER
Prints "ready" once the store is open, then "<number> <entry id>" for each committed entry, flushed at once.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

from rueckenlotse.plan.models import DiaryEntry, ExerciseLog
from rueckenlotse.store import Store

START = datetime(2024, 1, 1, tzinfo=UTC)


def expected_entry(number: int) -> DiaryEntry:
    """The entry with this number; sizes vary so that a torn write would show."""
    return DiaryEntry(
        recorded_at=START + timedelta(minutes=number),
        pain={"low_back": number % 11, "neck": (number * 3) % 11},
        function={"walking": number % 5},
        activity_minutes=number % 1440,
        exercises=[ExerciseLog(exercise_id=f"ex_{i}", felt="ok") for i in range(number % 7)],
        note=f"#{number} " + "ü" * (number * 37 % 1990),
    )


def main(url: str, person_id: str, first: int) -> None:
    with Store.open(url) as store:
        print("ready", flush=True)
        number = first
        while True:
            entry_id = store.add_diary_entry(person_id, expected_entry(number))
            print(number, entry_id, flush=True)
            number += 1


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
