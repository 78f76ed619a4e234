"""Strict Case validation in DuckDB SQL: one JSON object text per row in, the flat typed columns out.

Why SQL and not Pydantic per row: validating a million rows one by one in Python costs more time than
the whole compiled assessment. So DuckDB checks every row at once against the same rules as the strict
Case model (JSON types without coercion, unknown and duplicate keys, explicit nulls, ranges, enum
values, unique list items, required children), and Python sees only the rows SQL rejects: for those
`validation.parse_case_json` is authoritative and writes the German/English reasons. The SQL check is
meant to be exact but only needs to be conservative: a row it rejects that Python accepts is still
assessed (Python flattens it for the compiled query), so over-strictness costs time, never results.
Every row SQL accepts must be valid for Python too; tests/batch/test_validation.py checks that on
mutated rows.

How, in one JSON parse per row (parsing is what costs): `from_json` reads the known keys into a struct
whose scalars stay JSON text (so `"40"` and `40` stay apart: the kind is read from the text) and whose
lists are string lists; a nested answer stays JSON text and is parsed on its own (it is small).
`from_json` forgives what strict JSON and the Case forbid: unknown keys, a key given twice, an explicit
null, a trailing comma. Each of them adds a `,` to the line that the parsed values do not account for
(a comma between members and between list items), and strings in a valid Case contain none; so the row
must have exactly as many commas as its parsed values need (counting is a cheap byte scan). The one gap,
an object with a single such member, cannot hide in the top level (a valid row has at least three keys)
and is closed for nested answers by counting their `:` (one per key) as well.
"""

from __future__ import annotations

import json

from ..core.flat_case import FLAT_FIELDS, FlatField

# How a JSON number starts (from_json keeps a value's JSON text: a string keeps its quotes, true/false
# are bare words; NaN and Infinity, which DuckDB's reader allows, do not start like this).
NUMBER_START = "^-?[0-9]"


def sql_strings(values: tuple[str, ...] | list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return f"'{value}'"


def ident(name: str) -> str:
    """A quoted SQL identifier (column names of input files may hold anything)."""
    return '"' + name.replace('"', '""') + '"'


def children_of(parent: FlatField) -> list[FlatField]:
    return [c for c in FLAT_FIELDS if c.parent == parent.name]


def items_allowed(length: str, contains: list[str]) -> str:
    """A list's items are allowed values, none twice, none null: exactly when the allowed values it
    contains are as many as its items (`contains`: one boolean per allowed value)."""
    return f"{length} = ({' + '.join(f'{c}::INTEGER' for c in contains)})"


def _top() -> list[FlatField]:
    return [f for f in FLAT_FIELDS if f.parent is None]


def _structure(fields: list[FlatField]) -> str:
    """from_json's structure: lists as string lists, everything else (objects too) as JSON text."""
    return json.dumps({f.path[-1]: ["VARCHAR"] if f.kind == "list" else "JSON" for f in fields})


class _Field:
    """SQL fragments for one field whose parsed value is `ref` (NULL when the key is absent).

    Three levels: `typed()` reads the value once (NULL when absent or of the wrong kind), `checks()` and
    `values()` then use the typed columns, so each JSON text is compared only once.
    """

    def __init__(self, f: FlatField) -> None:
        self.f = f
        self.ref = (
            f"v.{ident(f.name)}" if f.parent is None else f"{_object_ref(f.parent)}.{ident(f.path[-1])}"
        )
        self.t = ident("t_" + f.column)  # the typed value
        self.n = ident("n_" + f.column)  # the key is there (with a non-null value)

    def typed(self) -> list[str]:
        f, ref = self.f, self.ref
        if f.kind == "list":
            flags = [
                f"COALESCE(list_contains({ref}, '{v}'), FALSE) AS {ident(f.flag_column(v))}" for v in f.values
            ]
            return [f"{ref} AS {self.t}", f"{ref} IS NOT NULL AS {self.n}", *flags]
        if f.kind == "bool":
            value = f"(CASE {ref} WHEN 'true' THEN TRUE WHEN 'false' THEN FALSE END)"
        elif f.kind == "int":
            number = f"TRY_CAST({ref}::VARCHAR AS BIGINT)"
            value = f"(CASE WHEN regexp_full_match({ref}, '-?[0-9]+') THEN {number} END)"
        elif f.kind == "float":
            number = f"TRY_CAST({ref}::VARCHAR AS DOUBLE)"
            value = f"(CASE WHEN regexp_matches({ref}, '{NUMBER_START}') THEN {number} END)"
        elif f.kind == "enum":
            whens = " ".join(f"WHEN '{chr(34)}{v}{chr(34)}' THEN '{v}'" for v in f.values)
            value = f"(CASE {ref} {whens} END)"
        else:  # object: present when its text is an object; its children are parsed a level up
            value = f"starts_with({ref}, '{{')"
        return [f"{value} AS {self.t}", f"{ref} IS NOT NULL AS {self.n}"]

    def checks(self) -> list[str]:
        f, t, n = self.f, self.t, self.n
        if f.kind == "list":
            out = [f"(NOT {n} OR {items_allowed(f'len({t})', [ident(c) for c in f.columns])})"]
            out += [f"(NOT {n} OR len({t}) >= 1)"] if f.required else []
        else:
            out = [f"(NOT {n} OR {t})" if f.kind == "object" else f"(NOT {n} OR {t} IS NOT NULL)"]
        if f.required:
            # A required child is required only when its object is there.
            out.append(n if f.parent is None else f"(NOT {_present(f.parent)} OR {n})")
        if f.kind in ("int", "float"):
            bounds = [f"isfinite({t})"] if f.kind == "float" else []
            bounds += [f"{t} >= {f.ge!r}"] if f.ge is not None else []
            bounds += [f"{t} <= {f.le!r}"] if f.le is not None else []
            if bounds:
                out.append(f"({t} IS NULL OR ({' AND '.join(bounds)}))")
        if f.kind == "object":
            # One ':' per key in the nested answer: no unknown, repeated or null-valued child hides.
            colons = f"strlen({self.ref}) - strlen(replace({self.ref}, ':', ''))"
            out.append(f"(NOT {_present(f.name)} OR {colons} = {_child_keys(f)})")
        return out

    def values(self) -> list[tuple[str, str]]:
        """(column, expression) of the typed value(s), the default when absent."""
        f, t = self.f, self.t
        if f.kind == "list":
            return [(c, ident(c)) for c in f.columns]
        if f.kind == "object":
            return [(f.column, f"(CASE WHEN {_present(f.name)} THEN TRUE END)")]
        value = f"COALESCE({t}, {sql_literal(f.default)})"
        if f.parent is not None:
            # A child of an absent object stays NULL (the per-case engine does not see it at all).
            return [(f.column, f"(CASE WHEN {_present(f.parent)} THEN {value} END)")]
        return [(f.column, value)]


def _object_ref(name: str) -> str:
    return ident("o_" + name.replace(".", "__"))


def _present(name: str) -> str:
    return f"({_object_ref(name)} IS NOT NULL)"


def _child_keys(f: FlatField) -> str:
    """How many of a nested answer's known keys the row gives."""
    return "(" + " + ".join(f"{_Field(c).n}::INTEGER" for c in children_of(f)) + ")"


def _commas() -> str:
    """How many ',' the parsed values need: one between the members of each object, the items of each list."""
    top = [_Field(f) for f in _top()]
    members = " + ".join(f"{field.n}::INTEGER" for field in top)
    parts = [f"greatest(({members}) - 1, 0)"]
    for field in top:
        if field.f.kind == "list":
            parts.append(f"COALESCE(greatest(len({field.t}) - 1, 0), 0)")
        elif field.f.kind == "object":
            inner = _child_keys(field.f)
            parts.append(f"(CASE WHEN {_present(field.f.name)} THEN greatest({inner} - 1, 0) ELSE 0 END)")
    return " + ".join(parts)


def validation_sql(source: str) -> str:
    """SELECT j, ok, <flat columns> FROM source(j), row for row; columns are meaningful where ok.

    j is kept only for rejected rows (Python reads their reasons); valid rows drop their text early.
    """
    fields = [_Field(f) for f in FLAT_FIELDS]
    objects = [f for f in _top() if f.kind == "object"]
    # A nested answer's text is JSON that from_json itself wrote: parsing it again cannot fail.
    parsed_objects = ", ".join(
        f"CASE WHEN starts_with(v.{ident(f.name)}, '{{') THEN from_json(v.{ident(f.name)}, "
        f"'{_structure(children_of(f))}') END AS {_object_ref(f.name)}"
        for f in objects
    )
    typed = ", ".join(c for field in fields for c in field.typed())
    checks = [c for field in fields for c in field.checks()]
    values = [f"{expr} AS {ident(col)}" for field in fields for col, expr in field.values()]
    ok = " AND ".join(["obj", "v IS NOT NULL", f"commas = {_commas()}", *checks])
    return f"""
WITH parsed AS (
  SELECT j,
    COALESCE(regexp_matches(j, '^\\s*[{{]'), FALSE) AS obj,
    try(from_json(j, '{_structure(_top())}')) AS v,
    strlen(j) - strlen(replace(j, ',', '')) AS commas
  FROM {source}
),
objects AS (SELECT *, {parsed_objects or "NULL AS no_objects"} FROM parsed),
typed AS (SELECT *, {typed} FROM objects)
SELECT CASE WHEN ok THEN NULL ELSE j END AS j, ok, * EXCLUDE (j, ok)
FROM (SELECT j, COALESCE({ok}, FALSE) AS ok, {", ".join(values)} FROM typed)
"""
