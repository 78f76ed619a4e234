"""The declarative condition language of the knowledge base.

Rules are data, never Python: a condition is a small tree of YAML values that this module
validates, compiles to fast closures for one case at a time, and explains (which input
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

COMPARATORS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda a, b: bool(a == b),
    "ne": lambda a, b: bool(a != b),
    "lt": lambda a, b: bool(a < b),
    "le": lambda a, b: bool(a <= b),
    "gt": lambda a, b: bool(a > b),
    "ge": lambda a, b: bool(a >= b),
}
BOOL_OPS = frozenset({"all", "any", "not", "at_least", "in", "has", "only", "is_set", *COMPARATORS})
VALUE_OPS = frozenset({"sum", "sub", "div", "case", "lookup"})


class ConditionError(ValueError):
    """A condition tree does not follow the grammar or names something unknown."""


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

    # ---- boolean conditions -------------------------------------------------------------
    def compile_bool(self, expr: object) -> BoolFn:
        if isinstance(expr, bool):
            constant = expr
            return lambda env: constant
        if isinstance(expr, str):
            name = self._name(expr)
            return lambda env: bool(env.get(name))
        if not isinstance(expr, Mapping):
            raise ConditionError(f"not a condition: {expr!r}")
        op, args = self._op(expr, BOOL_OPS)
        return getattr(self, f"_bool_{op}", self._bool_compare)(op, args)

    def _conds(self, args: object, op: str) -> list[BoolFn]:
        if not isinstance(args, list) or not args:
            raise ConditionError(f"{op!r} takes a non-empty list of conditions")
        return [self.compile_bool(a) for a in args]

    def _bool_all(self, op: str, args: object) -> BoolFn:
        fns = self._conds(args, op)
        return lambda env: all(f(env) for f in fns)

    def _bool_any(self, op: str, args: object) -> BoolFn:
        fns = self._conds(args, op)
        return lambda env: any(f(env) for f in fns)

    def _bool_not(self, op: str, args: object) -> BoolFn:
        fn = self.compile_bool(args)
        return lambda env: not fn(env)

    def _bool_at_least(self, op: str, args: object) -> BoolFn:
        n, conds = self._pair(args, op)
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ConditionError("'at_least' needs a positive integer count")
        fns = self._conds(conds, op)
        return lambda env: sum(1 for f in fns if f(env)) >= n

    def _bool_compare(self, op: str, args: object) -> BoolFn:
        left, right = self._pair(args, op)
        value = self.compile_value(left)
        literal = self._literal(right)
        if literal is None:
            raise ConditionError(f"{op!r} cannot compare with null; use 'is_set'")
        cmp = COMPARATORS[op]

        def fn(env: Env) -> bool:
            v = value(env)
            return v is not None and cmp(v, literal)

        return fn

    def _bool_in(self, op: str, args: object) -> BoolFn:
        left, options = self._pair(args, op)
        value = self.compile_value(left)
        if not isinstance(options, list) or not options:
            raise ConditionError("'in' needs a non-empty list of literals")
        allowed = frozenset(self._literal(o) for o in options)

        def fn(env: Env) -> bool:
            v = value(env)
            return v is not None and v in allowed

        return fn

    def _bool_has(self, op: str, args: object) -> BoolFn:
        left, item = self._pair(args, op)
        name = self._name(left)
        literal = self._literal(item)
        return lambda env: literal in (env.get(name) or ())

    def _bool_only(self, op: str, args: object) -> BoolFn:
        left, options = self._pair(args, op)
        name = self._name(left)
        if not isinstance(options, list) or not options:
            raise ConditionError("'only' needs a non-empty list of literals")
        allowed = frozenset(self._literal(o) for o in options)

        def fn(env: Env) -> bool:
            items = env.get(name) or ()
            return bool(items) and all(i in allowed for i in items)

        return fn

    def _bool_is_set(self, op: str, args: object) -> BoolFn:
        name = self._name(args)
        return lambda env: env.get(name) is not None

    # ---- values -------------------------------------------------------------------------
    def compile_value(self, expr: object) -> ValueFn:
        if isinstance(expr, int | float) and not isinstance(expr, bool):
            constant = expr
            return lambda env: constant
        if isinstance(expr, str):
            name = self._name(expr)
            return lambda env: env.get(name)
        if not isinstance(expr, Mapping):
            raise ConditionError(f"not a value: {expr!r}")
        op, args = self._op(expr, VALUE_OPS)
        if op == "case":
            return self._value_case(args, expr.get("else"))
        return getattr(self, f"_value_{op}")(op, args)  # type: ignore[no-any-return]

    def _term(self, expr: object) -> ValueFn:
        """A summand: a boolean condition counts 1 when true, a value counts as itself."""
        if isinstance(expr, Mapping) and self._op(expr, BOOL_OPS | VALUE_OPS)[0] in VALUE_OPS:
            return self.compile_value(expr)
        if isinstance(expr, int | float) and not isinstance(expr, bool):
            return self.compile_value(expr)
        fn = self.compile_bool(expr)
        return lambda env: 1 if fn(env) else 0

    def _value_sum(self, op: str, args: object) -> ValueFn:
        if not isinstance(args, list) or not args:
            raise ConditionError("'sum' takes a non-empty list")
        terms = [self._term(a) for a in args]
        return lambda env: sum((t(env) or 0) for t in terms)

    def _value_sub(self, op: str, args: object) -> ValueFn:
        a, b = (self.compile_value(x) for x in self._pair(args, op))

        def fn(env: Env) -> Any:
            x, y = a(env), b(env)
            return None if x is None or y is None else x - y

        return fn

    def _value_div(self, op: str, args: object) -> ValueFn:
        left, divisor = self._pair(args, op)
        a = self.compile_value(left)
        if not isinstance(divisor, int | float) or isinstance(divisor, bool) or divisor == 0:
            raise ConditionError("'div' needs a non-zero number as divisor")
        d = divisor

        def fn(env: Env) -> Any:
            x = a(env)
            return None if x is None else x / d

        return fn

    def _value_case(self, args: object, default: object) -> ValueFn:
        if not isinstance(args, list) or not args:
            raise ConditionError("'case' takes a non-empty list of [condition, literal] pairs")
        branches = [
            (self.compile_bool(c), self._literal(v)) for c, v in (self._pair(b, "case") for b in args)
        ]
        fallback = self._literal(default)

        def fn(env: Env) -> Any:
            for cond, result in branches:
                if cond(env):
                    return result
            return fallback

        return fn

    def _value_lookup(self, op: str, args: object) -> ValueFn:
        if not isinstance(args, list) or len(args) != 3 or args[0] not in self.tables:
            raise ConditionError("'lookup' takes [table, row key, column key] with a known table")
        table = self.tables[args[0]]
        row, col = self.compile_value(args[1]), self.compile_value(args[2])

        def fn(env: Env) -> Any:
            return table.get(str(row(env)), {}).get(str(col(env)))

        return fn

    # ---- explanation --------------------------------------------------------------------
    def explain(self, expr: object, env: Env) -> list[str]:
        """The input fields that made ``expr`` hold for ``env`` (call only when it holds)."""
        found: dict[str, None] = {}
        self._explain(expr, env, found)
        return list(found)

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

    def _explain(self, expr: object, env: Env, found: dict[str, None]) -> None:
        if isinstance(expr, str) and expr in self.definitions:
            self._explain(self.definitions[expr], env, found)
            return
        if isinstance(expr, Mapping):
            op = next(k for k in expr if k != "else")
            args = expr[op]
            if op == "all":
                for sub in args:
                    self._explain(sub, env, found)
                return
            if op in ("any", "at_least"):
                subs = args if op == "any" else args[1]
                for sub in subs:
                    if self._cached_bool(sub)(env):
                        self._explain(sub, env, found)
                return
        # A leaf, a negation or a comparison: every name it reads contributed.
        self._names_in(expr, found)


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
