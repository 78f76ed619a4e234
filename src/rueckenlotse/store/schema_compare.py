"""Catalog descriptions of a database's schema, to compare a restored backup with what the migrations make.

A description maps each object ("trigger copy_intakes", "column persons.id") to its definition as the
database itself reports it. Two descriptions are compared, never a description and a hand-written list: the
expected one is read from a scratch database (or schema) that the migrations have just built.
"""

from __future__ import annotations

import re
import sqlite3

from sqlalchemy import Connection, text

Description = dict[str, str]

# Objects of a PostgreSQL schema, each as (name, definition); :ns is the schema's oid. Run with the
# schema first on the search path, so that definitions name its objects unqualified (comparable between
# two schemas of one database).
_PG_SCHEMA_QUERIES: dict[str, str] = {
    "relation": """
        SELECT c.relname,
               concat_ws(' ', c.relkind, c.relpersistence, c.relrowsecurity, c.relforcerowsecurity,
                         CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                         CASE WHEN c.relkind IN ('i', 'I') THEN pg_get_indexdef(c.oid) END)
        FROM pg_class c WHERE c.relnamespace = :ns""",
    "column": """
        SELECT c.relname || '.' || a.attname,
               concat_ws(' ', format_type(a.atttypid, a.atttypmod), a.attnotnull, a.attidentity,
                         a.attgenerated, co.collname, pg_get_expr(d.adbin, d.adrelid))
        FROM pg_attribute a
        JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        LEFT JOIN pg_collation co ON co.oid = a.attcollation
        WHERE c.relnamespace = :ns AND a.attnum > 0 AND NOT a.attisdropped
          AND c.relkind NOT IN ('i', 'I')""",
    "constraint": """
        SELECT coalesce(c.relname, '-') || '.' || con.conname,
               concat_ws(' ', con.contype, con.condeferrable, con.condeferred, con.convalidated,
                         pg_get_constraintdef(con.oid))
        FROM pg_constraint con LEFT JOIN pg_class c ON c.oid = con.conrelid
        WHERE con.connamespace = :ns""",
    "sequence": """
        SELECT c.relname,
               concat_ws(' ', format_type(s.seqtypid, NULL), s.seqstart, s.seqincrement, s.seqmin,
                         s.seqmax, s.seqcycle)
        FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid WHERE c.relnamespace = :ns""",
    "trigger": """
        SELECT c.relname || '.' || t.tgname, concat_ws(' ', t.tgenabled, pg_get_triggerdef(t.oid))
        FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
        WHERE c.relnamespace = :ns AND NOT t.tgisinternal""",
    "rule": """
        SELECT c.relname || '.' || r.rulename, pg_get_ruledef(r.oid)
        FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class
        WHERE c.relnamespace = :ns AND NOT (r.rulename = '_RETURN' AND c.relkind IN ('v', 'm'))""",
    "policy": """
        SELECT c.relname || '.' || p.polname,
               concat_ws(' ', p.polcmd, p.polpermissive, pg_get_expr(p.polqual, p.polrelid),
                         pg_get_expr(p.polwithcheck, p.polrelid))
        FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid WHERE c.relnamespace = :ns""",
    "function": """
        SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')',
               concat_ws(' ', p.prokind, md5(coalesce(p.prosrc, '')))
        FROM pg_proc p WHERE p.pronamespace = :ns""",
    # Row types of tables, views and sequences, and every array type, come with their relation or element.
    "type": """
        SELECT t.typname, t.typtype::text
        FROM pg_type t LEFT JOIN pg_class c ON c.oid = t.typrelid
        WHERE t.typnamespace = :ns AND t.typcategory <> 'A' AND (t.typrelid = 0 OR c.relkind = 'c')""",
    "other": """
        SELECT concat('operator ', oprname, '(', oprleft::regtype, ', ', oprright::regtype, ')'), ''
          FROM pg_operator WHERE oprnamespace = :ns
        UNION ALL SELECT 'collation ' || collname, '' FROM pg_collation WHERE collnamespace = :ns
        UNION ALL SELECT 'conversion ' || conname, '' FROM pg_conversion WHERE connamespace = :ns
        UNION ALL SELECT 'operator class ' || opcname, '' FROM pg_opclass WHERE opcnamespace = :ns
        UNION ALL SELECT 'operator family ' || opfname, '' FROM pg_opfamily WHERE opfnamespace = :ns
        UNION ALL SELECT 'statistics ' || stxname, '' FROM pg_statistic_ext WHERE stxnamespace = :ns
        UNION ALL SELECT 'text search configuration ' || cfgname, '' FROM pg_ts_config
          WHERE cfgnamespace = :ns
        UNION ALL SELECT 'text search dictionary ' || dictname, '' FROM pg_ts_dict
          WHERE dictnamespace = :ns""",
}

# What belongs to the whole database rather than to one schema.
_PG_DATABASE_QUERIES: dict[str, str] = {
    "extension": "SELECT extname, extversion FROM pg_extension",
    "event trigger": "SELECT evtname, concat_ws(' ', evtevent, evtfoid::regproc) FROM pg_event_trigger",
    "language": "SELECT lanname, lanpltrusted::text FROM pg_language",
    "schema": "SELECT nspname, '' FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> :schema",
}


def describe_postgresql(connection: Connection, schema: str) -> Description:
    """Every object of ``schema``, and the database-wide extensions, event triggers and languages."""
    ns = connection.execute(text("SELECT oid FROM pg_namespace WHERE nspname = :s"), {"s": schema}).scalar()
    description: Description = {}
    for kind, query in _PG_SCHEMA_QUERIES.items():
        for name, definition in connection.execute(text(query), {"ns": ns}):
            description[f"{kind} {name}"] = definition
    for kind, query in _PG_DATABASE_QUERIES.items():
        for name, definition in connection.execute(text(query), {"schema": schema}):
            description[f"{kind} {name}"] = definition
    return description


def _normalized(sql: str | None) -> str:
    # Only the layout may differ between two writers of the same statement, the quotes around a table's
    # name, and the order of its columns and constraints: Alembic's batch mode rebuilds a table from
    # reflection, whose order of constraints varies from run to run. Each item must stay exactly the same.
    flat = re.sub(r"\s+", " ", sql or "").strip()
    head, bracket, body = flat.partition("(")
    if not flat.upper().startswith("CREATE TABLE") or not body.endswith(")"):
        return flat
    items = sorted(item.strip() for item in _top_level_items(body[:-1]))
    # A table rebuilt by a migration keeps its name quoted (SQLite's ALTER TABLE ... RENAME writes it so).
    name = head.strip()[len("CREATE TABLE") :].strip().strip('"')
    return f"CREATE TABLE {name} ({', '.join(items)})"


def _top_level_items(body: str) -> list[str]:
    """The comma-separated items of a table's definition (commas inside brackets or quotes belong to
    their item)."""
    items, depth, quote, start = [], 0, "", 0
    for index, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"`[":
            quote = "]" if char == "[" else char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "," and depth == 0:
            items.append(body[start:index])
            start = index + 1
    items.append(body[start:])
    return items


def describe_sqlite(db: sqlite3.Connection) -> Description:
    """Every table, index, trigger and view, with the statement that made it (SQLite keeps them all).

    Not the query planner's statistics (sqlite_stat1 to 4): ANALYZE or PRAGMA optimize, which an operator
    may run, makes them, they change no result, and a backup of a database with them must still restore."""
    rows = db.execute(
        "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE name NOT GLOB 'sqlite_stat[1-4]'"
    )
    return {f"{kind} {name}": f"on {table}: {_normalized(sql)}" for kind, name, table, sql in rows}


def differences(expected: Description, actual: Description) -> list[str]:
    """What differs, one line per object: + only in ``actual``, − missing from it, ≠ defined otherwise."""
    extra = [f"+ {key}" for key in sorted(actual.keys() - expected.keys())]
    missing = [f"− {key}" for key in sorted(expected.keys() - actual.keys())]
    changed = [f"≠ {key}" for key in sorted(expected.keys() & actual.keys()) if expected[key] != actual[key]]
    return extra + missing + changed
