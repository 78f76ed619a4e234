"""Strict Case validation in DuckDB SQL: one JSON object text per row in, the flat typed columns out.

Why SQL and not Pydantic per row: validating a million rows one by one in Python costs more time than
the whole compiled assessment. So DuckDB checks every row at once against the same rules as the strict
Case model (JSON types without coercion, unknown and duplicate keys, explicit nulls, ranges, enum
values, unique list items, required children), and Python sees only the rows SQL rejects: for those
`validation.parse_case_json` is authoritative and writes the German/English reasons. The SQL check is
meant to be exact but only needs to be conservative: a row it rejects that Python accepts is still
assessed (by the per-case engine), so over-strictness costs time, never results. Every row SQL accepts
must be valid for Python too; tests/batch/test_validation.py checks that on mutated rows.
"""

from __future__ import annotations

from ..core.flat_case import FIELDS_BY_NAME, FLAT_FIELDS, FlatField

# How a value of each kind looks in json_extract's re-serialised text (t): a string keeps its quotes,
# a number is digits, true/false/null are bare words, lists and objects start with their bracket.
# Reading the kind from that text saves a second JSON parse per field (json_type) on every row.
_KIND_TEXT = {
    "bool": "{t} IN ('true', 'false')",
    "int": "regexp_full_match({t}, '-?[0-9]+')",
    "float": "(left({t}, 1) IN ('-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'))",
    "list": "starts_with({t}, '[')",
    "object": "starts_with({t}, '{{')",
}


def _json_path(f: FlatField) -> str:
    return "$." + ".".join(f'"{p}"' for p in f.path)


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


class _Field:
    """SQL fragments for one field, reading its JSON text `va[i]` (NULL when the key is absent)."""

    def __init__(self, f: FlatField, index: int) -> None:
        self.f = f
        self.va = f"va[{index}]"

    def kind_ok(self) -> str:
        f = self.f
        if f.kind == "enum":
            return f"{self.va} IN ({', '.join(repr(chr(34) + v + chr(34)) for v in f.values)})"
        return _KIND_TEXT[f.kind].format(t=self.va)

    def checks(self) -> list[str]:
        f, va = self.f, self.va
        # A required child is required only when its object is there.
        required = f.required and f.parent is None
        kind_ok = self.kind_ok()
        out = [kind_ok if required else f"({va} IS NULL OR {kind_ok})"]
        if f.required and f.parent is not None:
            out.append(f"(NOT {_parent_present(f)} OR {va} IS NOT NULL)")
        present = f"{va} IS NULL OR" if not required else ""
        if f.kind in ("int", "float"):
            number = f"TRY_CAST({va} AS {'BIGINT' if f.kind == 'int' else 'DOUBLE'})"
            bounds = [f"isfinite({number})" if f.kind == "float" else f"{number} IS NOT NULL"]
            if f.ge is not None:
                bounds.append(f"{number} >= {f.ge!r}")
            if f.le is not None:
                bounds.append(f"{number} <= {f.le!r}")
            out.append(f"({present} ({' AND '.join(bounds)}))")
        elif f.kind == "list":
            items = f'"l_{f.column}"'
            cond = [
                f"list_has_all({sql_strings(f.values)}, {items})",
                f"list_count({items}) = len({items})",
                f"len(list_distinct({items})) = len({items})",
            ]
            if f.required:
                cond.append(f"len({items}) >= 1")
            out.append(f"({present} ({' AND '.join(cond)}))")
        elif f.kind == "object":
            children = [c.path[-1] for c in FLAT_FIELDS if c.parent == f.name]
            keys = f'"k_{f.column}"'
            known = (
                f"list_has_all({sql_strings(children)}, {keys}) AND len(list_distinct({keys})) = len({keys})"
            )
            out.append(f"({present} ({known}))")
        return out

    def parsed(self) -> list[str]:
        """Lists and object keys, parsed only where the text fits (a bad row must not raise)."""
        f, va = self.f, self.va
        if f.kind == "list":
            return [
                f"""CASE WHEN {self.kind_ok()} THEN from_json({va}, '["VARCHAR"]') END AS "l_{f.column}\""""
            ]
        if f.kind == "object":
            return [f"""CASE WHEN {self.kind_ok()} THEN json_keys({va}) END AS "k_{f.column}\""""]
        return []

    def values(self) -> list[tuple[str, str]]:
        """(column, expression) of the typed value(s), the default when absent."""
        f, va = self.f, self.va
        if f.kind == "list":
            items = f'"l_{f.column}"'
            return [(f.flag_column(v), f"COALESCE(list_contains({items}, '{v}'), FALSE)") for v in f.values]
        if f.kind == "object":
            return [(f.column, f"(CASE WHEN {_present(f)} THEN TRUE END)")]
        if f.kind == "bool":
            value = f"({va} = 'true')"
        elif f.kind == "int":
            value = f"TRY_CAST({va} AS BIGINT)"
        elif f.kind == "float":
            value = f"TRY_CAST({va} AS DOUBLE)"
        else:
            whens = " ".join(f"WHEN '{chr(34)}{v}{chr(34)}' THEN '{v}'" for v in f.values)
            value = f"(CASE {va} {whens} END)"
        default = sql_literal(f.default)
        if f.parent is not None:
            # A child of an absent object stays NULL (the per-case engine does not see it at all).
            return [(f.column, f"(CASE WHEN {_parent_present(f)} THEN COALESCE({value}, {default}) END)")]
        return [(f.column, f"COALESCE({value}, {default})")]


FLAT_FIELDS_INDEX = {f.name: i + 1 for i, f in enumerate(FLAT_FIELDS)}


def _present(f: FlatField) -> str:
    return f"COALESCE(starts_with(va[{FLAT_FIELDS_INDEX[f.name]}], '{{'), FALSE)"


def _parent_present(f: FlatField) -> str:
    return _present(FIELDS_BY_NAME[str(f.parent)])


def validation_sql(source: str) -> str:
    """SELECT line, j, ok, <flat columns> FROM source(line, j); columns are meaningful where ok.

    j is kept only for rejected rows (Python reads their reasons); valid rows drop their text early.
    """
    fields = [_Field(f, FLAT_FIELDS_INDEX[f.name]) for f in FLAT_FIELDS]
    paths = "[" + ", ".join(f"'{_json_path(f)}'" for f in FLAT_FIELDS) + "]"
    top = [f.name for f in FLAT_FIELDS if f.parent is None]
    checks = [
        f"list_has_all({sql_strings(top)}, keys)",
        "len(list_distinct(keys)) = len(keys)",
    ]
    for field in fields:
        checks += field.checks()
    values = [f'{expr} AS "{col}"' for field in fields for col, expr in field.values()]
    ok = " AND ".join(checks)
    return f"""
WITH parsed AS (
  SELECT line, j, COALESCE(json_valid(j) AND regexp_matches(j, '^\\s*[{{]'), FALSE) AS obj FROM {source}
),
typed AS (
  SELECT line, j, obj,
    CASE WHEN obj THEN json_keys(j) END AS keys,
    CASE WHEN obj THEN json_extract(j, {paths}) END AS va
  FROM parsed
),
lists AS (SELECT *, {", ".join(p for field in fields for p in field.parsed())} FROM typed)
SELECT line, CASE WHEN ok THEN NULL ELSE j END AS j, ok, * EXCLUDE (line, j, ok)
FROM (SELECT line, j, COALESCE(obj AND {ok}, FALSE) AS ok, {", ".join(values)} FROM lists)
"""
