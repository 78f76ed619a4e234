"""The declarative condition language of the knowledge base.

Rules are data, never Python: a condition is a small tree of YAML values that this module
validates, compiles to small Python functions for one case at a time, and explains (which input
names made it true). Every operator has a direct SQL counterpart, so the same tree can be
compiled to a `CASE WHEN` expression for batch runs.

Grammar (``name`` is a field or derived value, ``lit`` a literal number, string, bool or null):

    cond  := name | true | false
           | {all: [cond, ...]} | {any: [cond, ...]} | {not: cond}
           | {at_least: [int, [cond, ...]]}
           | {eq|ne|lt|le|gt|ge: [value, lit]}
           | {in: [value, [lit, ...]]}
           | {has: [name, lit]}          list contains lit
           | {only: [name, [lit, ...]]}  every list element is one of lit (and the list is not empty)
           | {is_set: name}              value is not null
    value := name | number | {sum: [cond|value, ...]} | {sub: [value, value]} | {div: [value, number]}
           | {case: [[cond, lit], ...], else: lit}
           | {lookup: [table, value, value]}

Semantics are two-valued on purpose: a null operand makes a comparison false (SQL: COALESCE(..., FALSE)),
so ``not`` of a comparison with a missing value is true, exactly as the SQL compiler will render it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Env = Mapping[str, Any]
BoolFn = Callable[[Env], bool]
ValueFn = Callable[[Env], Any]
ExplainFn = Callable[[Env, dict[str, None]], None]

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "lt": lambda a, b: bool(a < b),
    "le": lambda a, b: bool(a <= b),
    "gt": lambda a, b: bool(a > b),
    "ge": lambda a, b: bool(a >= b),
}
COMPARE_SYMBOLS = {"eq": "==", "ne": "!=", "lt": "<", "le": "<=", "gt": ">", "ge": ">="}
BOOL_OPS = frozenset({"all", "any", "not", "at_least", "in", "has", "only", "is_set", *COMPARATORS})
VALUE_OPS = frozenset({"sum", "sub", "div", "case", "lookup"})


class ConditionError(ValueError):
    """A condition tree does not follow the grammar or names something unknown."""


def _only(value: Any, allowed: frozenset[object]) -> bool:
    items = value or ()
    return bool(items) and all(i in allowed for i in items)


def _sub(x: Any, y: Any) -> Any:
    # Both operands are evaluated before either is checked, as for every other operator.
    return None if x is None or y is None else x - y


def _lookup(table: Mapping[str, Mapping[str, Any]], row: Any, col: Any) -> Any:
    return table.get(str(row), {}).get(str(col))


class _Source:
    """The source of one compiled condition: constants are bound by name, never written as text."""

    def __init__(self) -> None:
        self.consts: dict[str, object] = {}
        self._temps = 0

    def const(self, value: object) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def temp(self) -> str:
        self._temps += 1
        return f"_t{self._temps}"

    def function(self, body: str) -> Callable[[Env], Any]:
        # Constants become default arguments: local look-ups are the fastest Python has.
        params = "".join(f", {name}={name}" for name in self.consts)
        code = f"def _condition(env{params}):\n    _get = env.get\n    return {body}\n"
        namespace: dict[str, Any] = {"_only": _only, "_sub": _sub, "_lookup": _lookup, **self.consts}
        try:
            exec(compile(code, "<condition>", "exec"), namespace)  # noqa: S102 (our own generated source)
        except (SyntaxError, RecursionError, MemoryError) as e:  # Python's parser allows ~200 levels
            raise ConditionError("the condition is nested too deeply") from e
        return namespace["_condition"]  # type: ignore[no-any-return]


class Compiler:
    """Compiles condition trees against a fixed set of known names and tables."""

    def __init__(
        self,
        names: Mapping[str, frozenset[str]],
        tables: Mapping[str, Mapping[str, Mapping[str, float]]] | None = None,
    ) -> None:
        # names maps each usable name to the input fields it stands for (itself for an input field,
        # the fields it is computed from for a derived value); explanations report those fields.
        self.names = dict(names)
        self.tables = dict(tables or {})
        # Derived boolean names and their definitions: explaining one explains its definition.
        self.definitions: dict[str, object] = {}
        # Sub-trees compiled while explaining, keyed by identity; the tree is kept alive beside its
        # function so that the id cannot be reused by another object.
        self._explain_cache: dict[int, tuple[object, BoolFn]] = {}
        self._explainers: dict[int, tuple[object, ExplainFn]] = {}
        self._explain_stamp = (0, 0)

    # ---- validation helpers -------------------------------------------------------------
    def _name(self, value: object) -> str:
        if not isinstance(value, str) or value not in self.names:
            raise ConditionError(f"unknown name {value!r}")
        return value

    @staticmethod
    def _op(expr: Mapping[str, Any], allowed: frozenset[str]) -> tuple[str, Any]:
        keys = [k for k in expr if k != "else"]
        if len(keys) != 1 or keys[0] not in allowed:
            raise ConditionError(f"expected one operator of {sorted(allowed)}, got {sorted(expr)}")
        if "else" in expr and keys[0] != "case":
            raise ConditionError("'else' belongs to 'case' only")
        return keys[0], expr[keys[0]]

    @staticmethod
    def _pair(args: object, op: str) -> tuple[Any, Any]:
        if not isinstance(args, list) or len(args) != 2:
            raise ConditionError(f"{op!r} takes a list of two arguments")
        return args[0], args[1]

    @staticmethod
    def _literal(value: object) -> object:
        if value is not None and not isinstance(value, str | int | float | bool):
            raise ConditionError(f"expected a literal, got {value!r}")
        return value

    # ---- compilation to Python functions ------------------------------------------------
    # Each tree becomes the source of one small Python function (validated node by node, literals and
    # tables bound as constants, never spliced in as text), compiled once. That keeps one function call
    # per condition instead of one per node: the engine evaluates a few hundred nodes per case.
    # The generated expressions mirror the grammar's semantics exactly, in evaluation order too.
    def compile_bool(self, expr: object) -> BoolFn:
        src = _Source()
        return src.function(self._bool(expr, src))

    def compile_value(self, expr: object) -> ValueFn:
        src = _Source()
        return src.function(self._value(expr, src))

    def _bool(self, expr: object, src: _Source) -> str:
        if isinstance(expr, bool):
            return repr(expr)
        if isinstance(expr, str):
            return f"(not not _get({src.const(self._name(expr))}))"
        if not isinstance(expr, Mapping):
            raise ConditionError(f"not a condition: {expr!r}")
        op, args = self._op(expr, BOOL_OPS)
        return getattr(self, f"_bool_{op}", self._bool_compare)(op, args, src)

    def _conds(self, args: object, op: str, src: _Source) -> list[str]:
        if not isinstance(args, list) or not args:
            raise ConditionError(f"{op!r} takes a non-empty list of conditions")
        return [self._bool(a, src) for a in args]

    def _bool_all(self, op: str, args: object, src: _Source) -> str:
        return "(" + " and ".join(self._conds(args, op, src)) + ")"

    def _bool_any(self, op: str, args: object, src: _Source) -> str:
        return "(" + " or ".join(self._conds(args, op, src)) + ")"

    def _bool_not(self, op: str, args: object, src: _Source) -> str:
        return f"(not {self._bool(args, src)})"

    def _bool_at_least(self, op: str, args: object, src: _Source) -> str:
        n, conds = self._pair(args, op)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConditionError("'at_least' needs a positive integer count")
        # Every condition is evaluated (no short cut), as counting them all does.
        return "((" + " + ".join(self._conds(conds, op, src)) + f") >= {src.const(n)})"

    def _bool_compare(self, op: str, args: object, src: _Source) -> str:
        left, right = self._pair(args, op)
        value = self._value(left, src)
        literal = self._literal(right)
        if literal is None:
            raise ConditionError(f"{op!r} cannot compare with null; use 'is_set'")
        v = src.temp()
        return (
            f"(({v} := {value}) is not None and (not not ({v} {COMPARE_SYMBOLS[op]} {src.const(literal)})))"
        )

    def _bool_in(self, op: str, args: object, src: _Source) -> str:
        left, options = self._pair(args, op)
        value = self._value(left, src)
        if not isinstance(options, list) or not options:
            raise ConditionError("'in' needs a non-empty list of literals")
        allowed = src.const(frozenset(self._literal(o) for o in options))
        v = src.temp()
        return f"(({v} := {value}) is not None and {v} in {allowed})"

    def _bool_has(self, op: str, args: object, src: _Source) -> str:
        left, item = self._pair(args, op)
        name = self._name(left)
        literal = self._literal(item)
        return f"({src.const(literal)} in (_get({src.const(name)}) or ()))"

    def _bool_only(self, op: str, args: object, src: _Source) -> str:
        left, options = self._pair(args, op)
        name = self._name(left)
        if not isinstance(options, list) or not options:
            raise ConditionError("'only' needs a non-empty list of literals")
        allowed = frozenset(self._literal(o) for o in options)
        return f"_only(_get({src.const(name)}), {src.const(allowed)})"

    def _bool_is_set(self, op: str, args: object, src: _Source) -> str:
        name = self._name(args)
        return f"(_get({src.const(name)}) is not None)"

    # ---- values -------------------------------------------------------------------------
    def _value(self, expr: object, src: _Source) -> str:
        if isinstance(expr, int | float) and not isinstance(expr, bool):
            return src.const(expr)
        if isinstance(expr, str):
            return f"_get({src.const(self._name(expr))})"
        if not isinstance(expr, Mapping):
            raise ConditionError(f"not a value: {expr!r}")
        op, args = self._op(expr, VALUE_OPS)
        if op == "case":
            return self._value_case(args, expr.get("else"), src)
        return getattr(self, f"_value_{op}")(op, args, src)  # type: ignore[no-any-return]

    def _term(self, expr: object, src: _Source) -> str:
        """A summand: a boolean condition counts 1 when true, a value counts as itself."""
        if isinstance(expr, Mapping) and self._op(expr, BOOL_OPS | VALUE_OPS)[0] in VALUE_OPS:
            return f"({self._value(expr, src)} or 0)"
        if isinstance(expr, int | float) and not isinstance(expr, bool):
            return f"({self._value(expr, src)} or 0)"
        return f"(1 if {self._bool(expr, src)} else 0)"

    def _value_sum(self, op: str, args: object, src: _Source) -> str:
        if not isinstance(args, list) or not args:
            raise ConditionError("'sum' takes a non-empty list")
        # Starts from 0 and adds left to right, exactly as sum() does.
        return "(0 + " + " + ".join(self._term(a, src) for a in args) + ")"

    def _value_sub(self, op: str, args: object, src: _Source) -> str:
        a, b = (self._value(x, src) for x in self._pair(args, op))
        return f"_sub({a}, {b})"

    def _value_div(self, op: str, args: object, src: _Source) -> str:
        left, divisor = self._pair(args, op)
        a = self._value(left, src)
        if not isinstance(divisor, int | float) or isinstance(divisor, bool) or divisor == 0:
            raise ConditionError("'div' needs a non-zero number as divisor")
        x = src.temp()
        return f"(None if ({x} := {a}) is None else {x} / {src.const(divisor)})"

    def _value_case(self, args: object, default: object, src: _Source) -> str:
        if not isinstance(args, list) or not args:
            raise ConditionError("'case' takes a non-empty list of [condition, literal] pairs")
        branches = [
            (self._bool(c, src), src.const(self._literal(v)))
            for c, v in (self._pair(b, "case") for b in args)
        ]
        fallback = src.const(self._literal(default))
        return "(" + " ".join(f"{result} if {cond} else" for cond, result in branches) + f" {fallback})"

    def _value_lookup(self, op: str, args: object, src: _Source) -> str:
        if not isinstance(args, list) or len(args) != 3 or args[0] not in self.tables:
            raise ConditionError("'lookup' takes [table, row key, column key] with a known table")
        table = src.const(self.tables[args[0]])
        return f"_lookup({table}, {self._value(args[1], src)}, {self._value(args[2], src)})"

    # ---- explanation --------------------------------------------------------------------
    # Explaining is compiled too: once per tree, on first use. A sub-tree without 'any', 'at_least' or
    # a derived definition always names the same fields, so it becomes a constant; only the branches
    # that depend on the case stay functions. The order of the fields is that of a walk of the tree.
    def explain(self, expr: object, env: Env) -> list[str]:
        """The input fields that made ``expr`` hold for ``env`` (call only when it holds)."""
        found: dict[str, None] = {}
        self.explainer(expr)(env, found)
        return list(found)

    def explainer(self, expr: object) -> ExplainFn:
        """A function adding to ``found`` (in order) the input fields that made ``expr`` hold."""
        # Names and definitions are only ever added (while a knowledge base compiles): a change in
        # their number makes every cached explanation stale.
        stamp = (len(self.names), len(self.definitions))
        if stamp != self._explain_stamp:
            self._explainers.clear()
            self._explain_stamp = stamp
        entry = self._explainers.get(id(expr))
        if entry is None:
            plan = self._explain_plan(expr)
            if isinstance(plan, dict):
                fields = plan

                def fn(env: Env, found: dict[str, None]) -> None:
                    found.update(fields)

                plan = fn
            entry = self._explainers[id(expr)] = (expr, plan)
        return entry[1]

    def _cached_bool(self, expr: object) -> BoolFn:
        entry = self._explain_cache.get(id(expr))
        if entry is None:
            entry = self._explain_cache[id(expr)] = (expr, self.compile_bool(expr))
        return entry[1]

    def _add(self, name: str, found: dict[str, None]) -> None:
        for field in sorted(self.names[name]):
            found.setdefault(field, None)

    def _names_in(self, expr: object, found: dict[str, None]) -> None:
        if isinstance(expr, str) and expr in self.names:
            self._add(expr, found)
        elif isinstance(expr, Mapping):
            for value in expr.values():
                self._names_in(value, found)
        elif isinstance(expr, list):
            for value in expr:
                self._names_in(value, found)

    def _explain_plan(self, expr: object) -> dict[str, None] | ExplainFn:
        """The fields ``expr`` always names (a dict used as ordered set), or a function of the case."""
        if isinstance(expr, str) and expr in self.definitions:
            return self._explain_plan(self.definitions[expr])
        if isinstance(expr, Mapping):
            op = next(k for k in expr if k != "else")
            args = expr[op]
            if op == "all":
                return self._explain_all([self._explain_plan(sub) for sub in args])
            if op in ("any", "at_least"):
                subs = args if op == "any" else args[1]
                return self._explain_some([(self._cached_bool(sub), self.explainer(sub)) for sub in subs])
        # A leaf, a negation or a comparison: every name it reads contributed.
        found: dict[str, None] = {}
        self._names_in(expr, found)
        return found

    @staticmethod
    def _explain_all(parts: list[dict[str, None] | ExplainFn]) -> dict[str, None] | ExplainFn:
        if all(isinstance(p, dict) for p in parts):
            merged: dict[str, None] = {}
            for p in parts:
                merged.update(p)  # type: ignore[arg-type]
            return merged
        steps = tuple(parts)

        def fn(env: Env, found: dict[str, None]) -> None:
            for step in steps:
                if isinstance(step, dict):
                    found.update(step)
                else:
                    step(env, found)

        return fn

    @staticmethod
    def _explain_some(branches: list[tuple[BoolFn, ExplainFn]]) -> ExplainFn:
        pairs = tuple(branches)

        def fn(env: Env, found: dict[str, None]) -> None:
            for holds, explain in pairs:
                if holds(env):
                    explain(env, found)

        return fn


def referenced_names(expr: object, known: Sequence[str] | frozenset[str]) -> set[str]:
    """All known names a tree mentions (used to order derived values and check dependencies)."""
    out: set[str] = set()
    if isinstance(expr, str) and expr in known:
        out.add(expr)
    elif isinstance(expr, Mapping):
        for value in expr.values():
            out |= referenced_names(value, known)
    elif isinstance(expr, list):
        for value in expr:
            out |= referenced_names(value, known)
    return out
