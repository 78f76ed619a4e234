"""What a test looks at, read from its source: the helpers of the guard tests (tests/test_guards_*.py).

A test "names" a Case field when the field's name occurs in the test function (its decorators and
parameters included) or in a module-level table or helper the function uses, directly or through
another one: a string, a keyword argument, an attribute or a variable name. Imports from other modules
are not followed, so a test names a field only where its own file spells it out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent


@dataclass(frozen=True)
class ParsedTest:
    nodeid: str  # tests/x.py::test_name
    safety: frozenset[str]  # the SR ids of its @pytest.mark.safety
    names: frozenset[str]  # every name the test looks at (see the module docstring)


def _words(node: ast.AST) -> Iterator[str]:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            yield sub.value
        elif isinstance(sub, ast.Name):
            yield sub.id
        elif isinstance(sub, ast.Attribute):
            yield sub.attr
        elif isinstance(sub, ast.keyword) and sub.arg:
            yield sub.arg
        elif isinstance(sub, ast.arg):
            yield sub.arg


def _top_level(tree: ast.Module) -> dict[str, ast.AST]:
    """Module-level names -> the statement that binds them (assignments, functions, classes)."""
    out: dict[str, ast.AST] = {}
    for stmt in tree.body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            out[stmt.name] = stmt
        elif isinstance(stmt, ast.Assign):
            for target in stmt.targets:
                for name in ast.walk(target):
                    if isinstance(name, ast.Name):
                        out[name.id] = stmt
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
            out[stmt.target.id] = stmt
    return out


def _safety_ids(function: ast.FunctionDef | ast.AsyncFunctionDef) -> frozenset[str]:
    ids: set[str] = set()
    for decorator in function.decorator_list:
        if (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr == "safety"
        ):
            ids |= {
                a.value for a in decorator.args if isinstance(a, ast.Constant) and isinstance(a.value, str)
            }
    return frozenset(ids)


def parse_tests(source: str, path: str) -> list[ParsedTest]:
    """Every module-level test function of one file, with its SR ids and the names it looks at."""
    tree = ast.parse(source)
    bound = _top_level(tree)
    found = []
    for stmt in tree.body:
        if not isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef) or not stmt.name.startswith("test"):
            continue
        names: set[str] = set()
        todo: list[ast.AST] = [stmt]
        seen: set[int] = set()
        while todo:
            node = todo.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            words = set(_words(node))
            names |= words
            todo += [bound[w] for w in words if w in bound]
        found.append(ParsedTest(f"{path}::{stmt.name}", _safety_ids(stmt), frozenset(names)))
    return found


def project_tests() -> list[ParsedTest]:
    """Every test function under tests/ (the guards' own companions plant fakes, never real tests)."""
    out: list[ParsedTest] = []
    for path in sorted(TESTS.rglob("test_*.py")):
        out += parse_tests(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())
    return out
