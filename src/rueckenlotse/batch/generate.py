"""A seeded generator of valid Cases (as JSON-ready dicts) covering every field of the flat layout.

Used by the differential test and the throughput benchmark. Each case draws its own "how many warning
signs" density, so the output mixes plain back pain with every red-flag combination the rules know.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

from ..core.flat_case import FLAT_FIELDS, FlatField

# Durations around every boundary the rules use (weeks 1, 2, 4, 6, 12) plus arbitrary floats.
_DURATIONS = (0, 0.5, 1, 1.0001, 1.5, 2, 3, 3.9, 4, 5.9, 5.99, 6, 6.01, 11.9, 12, 12.1, 13, 52, 104)
_AGES = (0, 4, 5, 15, 16, 24, 25, 44, 45, 64, 65, 69, 70, 75, 120)
_DENSITIES = (0.0, 0.02, 0.05, 0.1, 0.3, 0.6)


def _number(rng: random.Random, f: FlatField) -> int | float:
    lo = int(f.ge or 0)
    hi = int(f.le) if f.le is not None else 600
    if f.kind == "int":
        if f.name == "age" and rng.random() < 0.5:
            return rng.choice(_AGES)
        return rng.randint(lo, hi)
    roll = rng.random()
    if roll < 0.4:
        return rng.choice(_DURATIONS)
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
