"""SQLite schemas compared: a table's items may come in any order (batch rebuilds), nothing else."""

from __future__ import annotations

import sqlite3

from rueckenlotse.store.schema_compare import describe_sqlite, differences

FIRST = """CREATE TABLE t (id INTEGER NOT NULL, a VARCHAR(10), CONSTRAINT pk PRIMARY KEY (id),
    CONSTRAINT ck CHECK (a IN ('x, y', 'z')), CONSTRAINT uq UNIQUE (a))"""
REORDERED = """CREATE TABLE t (id INTEGER NOT NULL, a VARCHAR(10), CONSTRAINT uq UNIQUE (a),
    CONSTRAINT pk PRIMARY KEY (id), CONSTRAINT ck CHECK (a IN ('x, y', 'z')))"""
WEAKER = """CREATE TABLE t (id INTEGER NOT NULL, a VARCHAR(10), CONSTRAINT uq UNIQUE (a),
    CONSTRAINT pk PRIMARY KEY (id), CONSTRAINT ck CHECK (a IN ('x, y', 'z', 'w')))"""


def _described(sql: str) -> dict[str, str]:
    db = sqlite3.connect(":memory:")
    db.execute(sql)
    return describe_sqlite(db)


def test_the_order_of_columns_and_constraints_does_not_count() -> None:
    assert differences(_described(FIRST), _described(REORDERED)) == []


def test_a_changed_constraint_does() -> None:
    assert differences(_described(FIRST), _described(WEAKER)) == ["≠ table t"]


def test_quotes_around_a_rebuilt_tables_name_do_not_count() -> None:
    assert differences(_described(FIRST), _described(FIRST.replace("TABLE t", 'TABLE "t"'))) == []
