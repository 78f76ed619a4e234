"""Strict Case validation on typed columns (Parquet): no JSON parsing for rows whose types already fit.

A Parquet column whose type matches the field (BOOLEAN for yes/no, an integer type for whole numbers,
an integer type or DOUBLE for decimals, VARCHAR for choices, VARCHAR[] for lists, a STRUCT for nested
answers) is checked value by value like the JSON path does (ranges, allowed values, unique and non-null
list items, required nested answers). A column of any other type, and any column the Case does not
know, makes a row invalid wherever it holds a value. NULL means absent, as in batch.readers.

Only invalid rows get their JSON text (`j`, the same text batch.readers would build), for Python's
authoritative reasons; valid rows never leave the columnar form.
"""

from __future__ import annotations

from typing import Any

from ..core.flat_case import FLAT_FIELDS, FlatField
from .validate_sql import children_of, ident, items_allowed, sql_literal, sql_strings

_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER")
_FITS: dict[str, tuple[str, ...]] = {
    "bool": ("BOOLEAN",),
    "int": _INTEGERS,
    "float": (*_INTEGERS, "DOUBLE"),
    "enum": ("VARCHAR",),
    "list": ("VARCHAR[]",),
}


class TypedValidator:
    """Builds the checks and typed values from the input's (name -> DuckDB type) columns."""

    def __init__(self, columns: dict[str, str], struct_children: dict[str, dict[str, str]]) -> None:
        self.columns = columns
        self.struct_children = struct_children
        self.checks: list[str] = []
        self.values: list[tuple[str, str]] = []

    def _fits(self, f: FlatField, type_: str | None) -> bool:
        return type_ is not None and type_ in _FITS.get(f.kind, ())

    def _field(self, f: FlatField, ref: str, type_: str | None, parent_present: str | None) -> None:
        """Checks and value of one scalar or list field read from the SQL reference `ref`."""
        if type_ is None:  # the column is not in the file: absent everywhere
            present, ref = "FALSE", "NULL"
        elif not self._fits(f, type_):
            self.checks.append(f"{ref} IS NULL")
            present, ref = "FALSE", "NULL"
        else:
            present = f"{ref} IS NOT NULL"
        if f.required:
            self.checks.append(present if parent_present is None else f"(NOT {parent_present} OR {present})")
        if f.kind in ("int", "float"):
            cast = f"CAST({ref} AS {'BIGINT' if f.kind == 'int' else 'DOUBLE'})"
            bounds = [f"isfinite({cast})" if f.kind == "float" else "TRUE"]
            bounds += [f"{cast} >= {f.ge!r}"] if f.ge is not None else []
            bounds += [f"{cast} <= {f.le!r}"] if f.le is not None else []
            self.checks.append(f"({ref} IS NULL OR ({' AND '.join(bounds)}))")
            value = cast
        elif f.kind == "enum":
            self.checks.append(f"({ref} IS NULL OR list_contains({sql_strings(f.values)}, {ref}))")
            value = ref
        elif f.kind == "list":
            contains = [f"list_contains({ref}, '{v}')" for v in f.values]
            cond = [items_allowed(f"len({ref})", contains)] + ([f"len({ref}) >= 1"] if f.required else [])
            self.checks.append(f"({ref} IS NULL OR ({' AND '.join(cond)}))")
            for v in f.values:
                self.values.append((f.flag_column(v), f"COALESCE(list_contains({ref}, '{v}'), FALSE)"))
            return
        else:
            value = ref
        default = sql_literal(f.default)
        if parent_present is not None:
            self.values.append(
                (f.column, f"(CASE WHEN {parent_present} THEN COALESCE({value}, {default}) END)")
            )
        else:
            self.values.append((f.column, f"COALESCE({value}, {default})"))

    def _object(self, f: FlatField) -> None:
        type_ = self.columns.get(f.name)
        children = self.struct_children.get(f.name)
        ref = ident(f.name)
        if type_ is None or children is None:
            if type_ is not None:
                self.checks.append(f"{ref} IS NULL")
            self.values.append((f.column, "CAST(NULL AS BOOLEAN)"))
            for c in children_of(f):
                self._field(c, "NULL", None, "FALSE")
            return
        present = f"({ref} IS NOT NULL)"
        self.values.append((f.column, f"(CASE WHEN {present} THEN TRUE END)"))
        known = {c.path[-1] for c in children_of(f)}
        for name in children:
            if name not in known:
                self.checks.append(f"{ref}.{ident(name)} IS NULL")
        for c in children_of(f):
            child_type = children.get(c.path[-1])
            self._field(c, f"{ref}.{ident(c.path[-1])}", child_type, present)

    def build(self) -> None:
        known = {f.name for f in FLAT_FIELDS if f.parent is None}
        for name in self.columns:
            if name not in known:
                self.checks.append(f"{ident(name)} IS NULL")
        for f in FLAT_FIELDS:
            if f.parent is not None:
                continue
            if f.kind == "object":
                self._object(f)
            else:
                self._field(f, ident(f.name), self.columns.get(f.name), None)


def typed_validation_sql(source: str, columns: dict[str, str], struct_children: dict[str, dict[str, str]],
                         json_text: str) -> str:  # fmt: skip
    """SELECT j, ok, <flat columns> FROM source, row for row; j (the row as JSON) only where not ok."""
    v = TypedValidator(columns, struct_children)
    v.build()
    # A check that is NULL fails: COALESCE once around the conjunction (FALSE wins over NULL in AND).
    ok = f"COALESCE({' AND '.join(v.checks) or 'TRUE'}, FALSE)"
    # The typed values get a prefix inside: their names may equal the input's own column names.
    inner = ", ".join(f"{expr} AS {ident('f__' + col)}" for col, expr in v.values)
    outer = ", ".join(f"{ident('f__' + col)} AS {ident(col)}" for col, _ in v.values)
    return f"""
SELECT ok, CASE WHEN NOT ok THEN {json_text} END AS j, {outer}
FROM (SELECT *, {ok} AS ok, {inner} FROM {source})
"""


def describe(con: Any, source: str) -> tuple[dict[str, str], dict[str, dict[str, str]]]:
    """Column types of `source`, and the children's types of every STRUCT column."""
    columns = {str(r[0]): str(r[1]) for r in con.execute(f"DESCRIBE {source}").fetchall()}
    children: dict[str, dict[str, str]] = {}
    for name, type_ in columns.items():
        if type_.startswith("STRUCT") and not type_.endswith("]"):
            rel = con.execute(f"DESCRIBE SELECT unnest({ident(name)}) FROM {source}").fetchall()
            children[name] = {str(r[0]): str(r[1]) for r in rel}
    return columns, children
