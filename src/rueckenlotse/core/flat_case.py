"""The Case as one flat row of typed columns: the table layout that compiled (SQL) assessment reads.

Derived from the Case model itself, so a new contract field shows up here (or fails loudly with an
unsupported type) instead of being silently ignored. Pure: no I/O.

Layout rules, chosen so that the compiled SQL needs nothing but scalar columns on every engine:
- a plain field is one column, holding the Case's value (its default when absent);
- a list of enum strings (regions, imaging_findings) is one BOOLEAN column per allowed value;
- a nested answer object (startback, neuroplastic) is a presence column (TRUE, or NULL when absent)
  plus one column per child, NULL when the object is absent, the child's default when only the child is.
"""

from __future__ import annotations

import types
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from .models import Case

Kind = Literal["bool", "int", "float", "enum", "list", "object"]


class FlatLayoutError(TypeError):
    """A Case field has a type the flat layout (and so the SQL compiler) does not know."""


@dataclass(frozen=True)
class FlatField:
    """One field of the Case as the condition language names it ('age', 'startback.bothersomeness')."""

    name: str
    kind: Kind
    required: bool
    default: Any
    values: tuple[str, ...] = ()  # allowed strings of an enum or of a list's items
    ge: float | None = None
    le: float | None = None
    parent: str | None = None  # the nested object a child belongs to

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(self.name.split("."))

    @property
    def column(self) -> str:
        """The column name (no dots: they mean something else in Spark SQL)."""
        return self.name.replace(".", "__")

    def flag_column(self, value: str) -> str:
        return f"{self.column}__{value}"

    @property
    def columns(self) -> tuple[str, ...]:
        if self.kind == "list":
            return tuple(self.flag_column(v) for v in self.values)
        return (self.column,)


def _unwrap(annotation: Any) -> tuple[Any, list[Any]]:
    """The annotation without its `| None` and `Annotated[...]`, and the metadata the latter carried."""
    metadata: list[Any] = []
    if get_origin(annotation) in (Union, types.UnionType):
        args = [a for a in get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            annotation = args[0]
    if get_origin(annotation) is Annotated:
        annotation, *extra = get_args(annotation)
        for meta in extra:
            metadata += list(getattr(meta, "metadata", [meta]))
    return annotation, metadata


def _bounds(metadata: list[Any]) -> tuple[float | None, float | None]:
    ge = le = None
    for meta in metadata:
        ge = getattr(meta, "ge", None) if getattr(meta, "ge", None) is not None else ge
        le = getattr(meta, "le", None) if getattr(meta, "le", None) is not None else le
    return ge, le


def _field(name: str, info: FieldInfo, parent: str | None) -> FlatField:
    annotation, metadata = _unwrap(info.annotation)
    default = None if info.default is PydanticUndefined else info.default
    if info.default_factory is not None:
        default = info.default_factory()  # type: ignore[call-arg]
    common: dict[str, Any] = {
        "name": name,
        "required": info.is_required(),
        "default": default,
        "parent": parent,
    }
    ge, le = _bounds([*info.metadata, *metadata])
    if annotation is bool:
        return FlatField(kind="bool", **common)
    if annotation is int:
        return FlatField(kind="int", ge=ge, le=le, **common)
    if annotation is float:
        return FlatField(kind="float", ge=ge, le=le, **common)
    if get_origin(annotation) is Literal:
        return FlatField(kind="enum", values=tuple(get_args(annotation)), **common)
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        if get_origin(item) is Literal:
            return FlatField(
                kind="list", values=tuple(get_args(item)), default=(), **_without(common, "default")
            )
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return FlatField(kind="object", **common)
    raise FlatLayoutError(f"Case field {name!r}: type {info.annotation!r} has no flat column layout")


def _without(d: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in d.items() if k != key}


def _children(info: FieldInfo) -> dict[str, FieldInfo]:
    annotation = _unwrap(info.annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return dict(annotation.model_fields)
    return {}


def flat_fields() -> tuple[FlatField, ...]:
    """Every Case field and nested child, in model order (children right after their object)."""
    out: list[FlatField] = []
    for name, info in Case.model_fields.items():
        out.append(_field(name, info, None))
        for child, child_info in _children(info).items():
            out.append(_field(f"{name}.{child}", child_info, name))
    return tuple(out)


FLAT_FIELDS: tuple[FlatField, ...] = flat_fields()
FIELDS_BY_NAME: dict[str, FlatField] = {f.name: f for f in FLAT_FIELDS}


def flat_columns() -> list[tuple[str, Kind]]:
    """(column, kind) of the flat table, list items as 'bool' flags."""
    out: list[tuple[str, Kind]] = []
    for f in FLAT_FIELDS:
        if f.kind == "list":
            out += [(c, "bool") for c in f.columns]
        elif f.kind == "object":
            out.append((f.column, "bool"))
        else:
            out.append((f.column, f.kind))
    return out


def flatten_case(case: Case) -> dict[str, Any]:
    """A validated Case as one flat row (what a loader must produce for the compiled SQL)."""
    row: dict[str, Any] = {}
    for f in FLAT_FIELDS:
        owner: Any = case if f.parent is None else getattr(case, f.parent)
        if owner is None:
            value = None
        else:
            value = getattr(owner, f.path[-1])
        if f.kind == "list":
            items = set(value or ())
            row.update({f.flag_column(v): v in items for v in f.values})
        elif f.kind == "object":
            row[f.column] = True if value is not None else None
        else:
            row[f.column] = value
    return row
