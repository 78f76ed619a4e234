"""The condition language: grammar, null semantics, explanations, and errors."""

from __future__ import annotations

from typing import Any

import pytest

from rueckenlotse.core.conditions import Compiler, ConditionError

NAMES = {n: frozenset({n}) for n in ("a", "b", "c", "n", "items", "s")}


@pytest.fixture
def compiler() -> Compiler:
    return Compiler(NAMES, tables={"t": {"x": {"1": 5.0}}})


@pytest.mark.parametrize(
    ("expr", "env", "expected"),
    [
        ("a", {"a": True}, True),
        ("a", {}, False),
        ({"all": ["a", "b"]}, {"a": True, "b": False}, False),
        ({"any": ["a", "b"]}, {"a": False, "b": True}, True),
        ({"not": "a"}, {}, True),
        ({"at_least": [2, ["a", "b", "c"]]}, {"a": True, "c": True}, True),
        ({"at_least": [2, ["a", "b", "c"]]}, {"a": True}, False),
        ({"lt": ["n", 5]}, {"n": 4}, True),
        ({"lt": ["n", 5]}, {"n": None}, False),
        ({"not": {"lt": ["n", 5]}}, {"n": None}, True),
        ({"ge": [{"sub": ["n", {"div": ["n", 2]}]}, 3]}, {"n": 6}, True),
        ({"eq": ["s", "x"]}, {"s": "x"}, True),
        ({"ne": ["s", "x"]}, {"s": None}, False),
        ({"in": ["s", ["x", "y"]]}, {"s": "y"}, True),
        ({"has": ["items", "x"]}, {"items": ["x"]}, True),
        ({"has": ["items", "x"]}, {"items": None}, False),
        ({"only": ["items", ["x"]]}, {"items": ["x"]}, True),
        ({"only": ["items", ["x"]]}, {"items": ["x", "y"]}, False),
        ({"only": ["items", ["x"]]}, {"items": None}, False),
        ({"is_set": "n"}, {"n": 0}, True),
        ({"ge": [{"sum": ["a", "b", {"ge": ["n", 3]}]}, 2]}, {"a": True, "n": 3}, True),
        ({"eq": [{"case": [["a", "p"], ["b", "q"]], "else": "r"}, "q"]}, {"b": True}, True),
        ({"eq": [{"lookup": ["t", "s", "n"]}, 5]}, {"s": "x", "n": 1}, True),
    ],
)
def test_evaluation(compiler: Compiler, expr: Any, env: dict[str, Any], expected: bool) -> None:
    assert compiler.compile_bool(expr)(env) is expected


@pytest.mark.parametrize(
    "expr",
    [
        "unknown",
        {"all": []},
        {"all": "a"},
        {"xor": ["a", "b"]},
        {"lt": ["n"]},
        {"lt": ["n", None]},
        {"lt": ["n", [1]]},
        {"at_least": [0, ["a"]]},
        {"div": ["n", 0]},
        {"all": ["a"], "any": ["b"]},
        {"not": "a", "else": 1},
        {"eq": [{"lookup": ["missing", "s", "n"]}, 1]},
        3.5,
    ],
)
def test_bad_trees_are_rejected(compiler: Compiler, expr: Any) -> None:
    with pytest.raises(ConditionError):
        fn = compiler.compile_bool(expr) if not (isinstance(expr, dict) and "div" in expr) else None
        if fn is None:
            compiler.compile_value(expr)


def test_explain_reports_only_contributing_fields(compiler: Compiler) -> None:
    expr = {"any": ["a", {"all": ["b", {"lt": ["n", 5]}]}, "c"]}
    env = {"a": False, "b": True, "n": 1, "c": True}
    assert compiler.explain(expr, env) == ["b", "n", "c"]


def test_explain_expands_derived_definitions() -> None:
    compiler = Compiler({**NAMES, "d": frozenset({"a", "b"})})
    compiler.definitions["d"] = {"any": ["a", "b"]}
    assert compiler.explain({"all": ["d", "c"]}, {"a": False, "b": True, "c": True}) == ["b", "c"]
