"""A seeded generator of valid Cases (as JSON-ready dicts) covering every field of the flat layout.

Used by the differential test and the throughput benchmark. Each case draws its own "how many warning
signs" density, so the output mixes plain back pain with every red-flag combination the rules know.
Numbers land often on and around every threshold the knowledge base compares a Case field with
(age 65, 18 weeks of pregnancy ...), read from the knowledge base itself: a new threshold is tested at
its edge without anyone adding it here, and an edge is where SQL and Python could disagree (< or <=).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

from ..core.flat_case import FIELDS_BY_NAME, FLAT_FIELDS, FlatField

# Durations around every boundary the rules use (weeks 1, 2, 4, 6, 12) plus arbitrary floats.
_DURATIONS = (0, 0.5, 1, 1.0001, 1.5, 2, 3, 3.9, 4, 5.9, 5.99, 6, 6.01, 11.9, 12, 12.1, 13, 52, 104)
_AGES = (0, 4, 5, 15, 16, 24, 25, 44, 45, 64, 65, 69, 70, 75, 120)
_DENSITIES = (0.0, 0.02, 0.05, 0.1, 0.3, 0.6)
_COMPARISONS = frozenset({"lt", "le", "gt", "ge", "eq", "ne"})


def _compared_numbers(node: Any, found: dict[str, set[float]]) -> None:
    """Collects {field: numbers} from every `{op: [field, number]}` comparison in a condition tree."""
    if isinstance(node, Mapping):
        for op, args in node.items():
            if op in _COMPARISONS and isinstance(args, list) and len(args) == 2:
                name, number = args
                is_number = isinstance(number, int | float) and not isinstance(number, bool)
                if isinstance(name, str) and name in FIELDS_BY_NAME and is_number:
                    found.setdefault(name, set()).add(number)
            _compared_numbers(args, found)
    elif isinstance(node, list):
        for item in node:
            _compared_numbers(item, found)


@cache
def thresholds() -> dict[str, tuple[float, ...]]:
    """Every number the packaged knowledge base compares a numeric Case field with, per field."""
    from ..knowledge.loader import default_knowledge

    found: dict[str, set[float]] = {}
    _compared_numbers(default_knowledge().spec.model_dump(mode="json"), found)
    numeric = {n: v for n, v in found.items() if FIELDS_BY_NAME[n].kind in ("int", "float")}
    return {n: tuple(sorted(v)) for n, v in sorted(numeric.items())}


def _in_range(f: FlatField, value: float) -> bool:
    return (f.ge is None or value >= f.ge) and (f.le is None or value <= f.le)


@cache
def edge_values(name: str) -> tuple[int | float, ...]:
    """Values on and just beside every threshold of a numeric field (within its allowed range)."""
    f = FIELDS_BY_NAME[name]
    steps: tuple[int | float, ...] = (-1, 0, 1) if f.kind == "int" else (-0.01, 0, 0.0001)
    values = {t + s for t in thresholds().get(name, ()) for s in steps}
    if f.kind == "int":
        values = {int(v) for v in values if float(v).is_integer()}
    return tuple(sorted(v for v in values if _in_range(f, v)))


def _number(rng: random.Random, f: FlatField) -> int | float:
    lo = int(f.ge or 0)
    hi = int(f.le) if f.le is not None else 600
    edges = edge_values(f.name)
    if f.kind == "int":
        roll = rng.random()
        if f.name == "age" and roll < 0.25:
            return rng.choice(_AGES)
        if edges and roll < 0.5:
            return rng.choice(edges)
        return rng.randint(lo, hi)
    roll = rng.random()
    if roll < 0.2:
        return rng.choice(_DURATIONS)
    if edges and roll < 0.4:
        return rng.choice(edges)
    if roll < 0.6:
        return rng.randint(lo, 60)
    return round(rng.uniform(lo, 30 if roll < 0.9 else hi), rng.choice((1, 2, 6, 15)))


def _value(rng: random.Random, f: FlatField, density: float) -> Any:
    if f.kind == "bool":
        return rng.random() < density
    if f.kind in ("int", "float"):
        return _number(rng, f)
    if f.kind == "enum":
        # The first value is the harmless default; the others are rarer, like warning signs.
        return f.values[0] if rng.random() > max(density, 0.2) else rng.choice(f.values)
    if f.kind == "list":
        items = [v for v in f.values if rng.random() < 0.35]
        if f.required and not items:
            items = [rng.choice(f.values)]
        rng.shuffle(items)
        return items
    raise ValueError(f"no generator for {f.kind}")


def generate_case(rng: random.Random) -> dict[str, Any]:
    """One valid Case as a dict; absent optional fields are left out (never null)."""
    density = rng.choice(_DENSITIES)
    case: dict[str, Any] = {}
    present_objects: set[str] = set()
    for f in FLAT_FIELDS:
        if f.kind == "object":
            if rng.random() < 0.5:
                present_objects.add(f.name)
                case[f.name] = {}
            continue
        if f.parent is not None:
            if f.parent in present_objects and (f.required or rng.random() < 0.7):
                case[f.parent][f.path[-1]] = _value(rng, f, 0.4)
            continue
        if f.required or rng.random() < 0.6:
            case[f.name] = _value(rng, f, density)
    return case


def generate_cases(n: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for _ in range(n):
        yield generate_case(rng)


def arrow_schema() -> Any:
    """The Parquet layout of a Case (lists as lists, nested answers as structs), for writing test files."""
    import pyarrow as pa

    def arrow_type(f: FlatField) -> Any:
        if f.kind == "object":
            children = [c for c in FLAT_FIELDS if c.parent == f.name]
            return pa.struct([pa.field(c.path[-1], arrow_type(c)) for c in children])
        simple = {"bool": pa.bool_(), "int": pa.int64(), "float": pa.float64(), "enum": pa.string()}
        return pa.list_(pa.string()) if f.kind == "list" else simple[f.kind]

    return pa.schema([pa.field(f.name, arrow_type(f)) for f in FLAT_FIELDS if f.parent is None])
