"""Formulas as small expression trees of exact rational arithmetic, with SymPy only on request.

Importing SymPy takes half a second or more, longer than everything else a
``grade check`` does. The formulas of a homework are rational functions, and
grading them needs only their exact values at random rational points, so
students' formulas are read into these trees and evaluated exactly, on
whole numbers; a tree becomes a SymPy expression only for the
symbolic steps (a term-by-term diagnosis, a cancellation no random point can
decide, printing a solver's formula), which import SymPy then.

A tree records the operations the formula parser applied, and
:meth:`Expr.to_sympy` replays them with SymPy's own constructors and
operators, so it builds exactly the expression the parser used to build (SymPy
simplifies as it builds: ``X11 - X11`` becomes 0 there, not here).
"""

from __future__ import annotations

import enum
from fractions import Fraction
from typing import Any, Mapping


class Op(enum.Enum):
    """What an expression node does with its arguments."""

    NUMBER = "n"  # args: (the Fraction,)
    SYMBOL = "s"  # args: (the name,)
    ADD = "+"
    MUL = "*"
    POW = "^"  # args: (base, whole-number exponent)
    NEG = "-"  # args: (operand,)


class Expr:
    """One node of a formula: an operation and its arguments (nodes, or a number, name or exponent).

    Not changed once built; compared by structure, hashed once.

    Attributes:
        op: The operation.
        args: Its arguments.
        free: The names of the symbols in the tree.
    """

    __slots__ = ("op", "args", "free", "_hash", "_sympy")

    def __init__(self, op: Op, args: tuple[Any, ...]) -> None:
        self.op = op
        self.args = args
        if op is Op.SYMBOL:
            self.free: frozenset[str] = frozenset(args)
        elif op is Op.NUMBER:
            self.free = frozenset()
        else:
            self.free = frozenset().union(*(a.free for a in args if isinstance(a, Expr)))
        self._hash = hash((op, args))
        self._sympy: Any = None

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, Expr) and self._hash == other._hash
                                 and self.op is other.op and self.args == other.args)

    def __repr__(self) -> str:
        return f"Expr({self.op.name}, {self.args!r})"

    def __neg__(self) -> Expr:
        return Expr(Op.NEG, (self,))

    def value(self, point: Mapping[str, Fraction]) -> Fraction:
        """The exact value with each symbol at its value in ``point``.

        Raises:
            ZeroDivisionError: When a denominator is zero at the point.
            KeyError: When ``point`` lacks a symbol of the tree.
        """
        numerator, denominator = self._ratio(point)
        return Fraction(numerator, denominator)

    def _ratio(self, point: Mapping[str, Fraction]) -> tuple[int, int]:
        """The value as a numerator and a non-zero denominator, not reduced.

        Whole-number arithmetic, reduced once at the end: the same exact value
        as with fractions, without a gcd at every step (several times faster).
        """
        op, args = self.op, self.args
        if op is Op.NUMBER or op is Op.SYMBOL:
            value = args[0] if op is Op.NUMBER else point[args[0]]
            return value.numerator, value.denominator
        if op is Op.ADD:
            numerator, denominator = args[0]._ratio(point)
            for term in args[1:]:
                n, d = term._ratio(point)
                numerator, denominator = numerator * d + n * denominator, denominator * d
            return numerator, denominator
        if op is Op.MUL:
            numerator, denominator = args[0]._ratio(point)
            for factor in args[1:]:
                n, d = factor._ratio(point)
                numerator, denominator = numerator * n, denominator * d
            return numerator, denominator
        if op is Op.POW:
            (numerator, denominator), exponent = args[0]._ratio(point), args[1]
            if exponent < 0:
                if numerator == 0:
                    raise ZeroDivisionError("a power of zero with a negative exponent")
                numerator, denominator, exponent = denominator, numerator, -exponent
            return numerator ** exponent, denominator ** exponent
        numerator, denominator = args[0]._ratio(point)
        return -numerator, denominator

    def substitute(self, replacements: Mapping[str, Expr]) -> Expr:
        """The tree with the named symbols replaced by trees (others kept)."""
        if not (self.free & replacements.keys()):
            return self
        if self.op is Op.SYMBOL:
            return replacements[self.args[0]]
        return Expr(self.op, tuple(a.substitute(replacements) if isinstance(a, Expr) else a for a in self.args))

    def to_sympy(self) -> Any:
        """The SymPy expression the parser's operations build (SymPy is imported here; kept: converted once)."""
        if self._sympy is None:
            self._sympy = self._build_sympy()
        return self._sympy

    def _build_sympy(self) -> Any:
        import sympy

        op, args = self.op, self.args
        if op is Op.NUMBER:
            return sympy.Rational(args[0].numerator, args[0].denominator)
        if op is Op.SYMBOL:
            return sympy.Symbol(args[0])
        if op is Op.ADD:
            return sympy.Add(*(a.to_sympy() for a in args))
        if op is Op.MUL:
            return sympy.Mul(*(a.to_sympy() for a in args))
        if op is Op.POW:
            return sympy.Pow(args[0].to_sympy(), sympy.Integer(args[1]))
        return -args[0].to_sympy()

    def to_data(self) -> Any:
        """The tree as JSON data: ``["+", a, b]``, ``["s", "X11"]``, ``["n", "1/4"]``, ``["^", a, -1]``."""
        if self.op is Op.NUMBER:
            return [Op.NUMBER.value, str(self.args[0])]
        if self.op is Op.SYMBOL:
            return [Op.SYMBOL.value, self.args[0]]
        return [self.op.value, *(a.to_data() if isinstance(a, Expr) else a for a in self.args)]


def number(value: Fraction | int) -> Expr:
    """A number node."""
    return Expr(Op.NUMBER, (Fraction(value),))


def symbol(name: str) -> Expr:
    """A symbol node."""
    return Expr(Op.SYMBOL, (name,))


def add(*terms: Expr) -> Expr:
    """A sum (one term is the term itself, as SymPy's ``Add`` of one argument is)."""
    return terms[0] if len(terms) == 1 else Expr(Op.ADD, terms)


def mul(*factors: Expr) -> Expr:
    """A product (one factor is the factor itself)."""
    return factors[0] if len(factors) == 1 else Expr(Op.MUL, factors)


def power(base: Expr, exponent: int) -> Expr:
    """``base`` to a whole-number power."""
    return Expr(Op.POW, (base, exponent))


def from_sympy(expr: Any) -> Expr:
    """The tree of a SymPy expression built from symbols, rationals, sums, products and whole powers.

    Raises:
        TypeError: For anything else (a function, a float, a non-integer power).
    """
    if expr.is_Symbol:
        return symbol(expr.name)
    if expr.is_Rational:
        return number(Fraction(int(expr.p), int(expr.q)))
    if expr.is_Add:
        return Expr(Op.ADD, tuple(from_sympy(a) for a in expr.args))
    if expr.is_Mul:
        return Expr(Op.MUL, tuple(from_sympy(a) for a in expr.args))
    if expr.is_Pow and expr.exp.is_Integer:
        return power(from_sympy(expr.base), int(expr.exp))
    raise TypeError(f"not a rational function of symbols: {expr}")


_ARITY = {Op.POW: 2, Op.NEG: 1}


def from_data(data: Any) -> Expr:
    """The tree :meth:`Expr.to_data` wrote.

    Raises:
        ValueError: When ``data`` is not such a tree.
    """
    if not (isinstance(data, list) and data and isinstance(data[0], str)):
        raise ValueError("an expression must be a list that starts with its operation")
    try:
        op = Op(data[0])
    except ValueError:
        raise ValueError(f"unknown operation {data[0]!r}") from None
    rest = data[1:]
    if op in (Op.NUMBER, Op.SYMBOL):
        if len(rest) != 1 or not isinstance(rest[0], str):
            raise ValueError(f"{op.name.lower()} needs one string")
        return number(Fraction(rest[0])) if op is Op.NUMBER else symbol(rest[0])
    if len(rest) != _ARITY.get(op, len(rest)) or not rest:
        raise ValueError(f"wrong number of arguments for {op.name.lower()}")
    if op is Op.POW:
        if not isinstance(rest[1], int) or isinstance(rest[1], bool):
            raise ValueError("an exponent must be a whole number")
        return power(from_data(rest[0]), rest[1])
    return Expr(op, tuple(from_data(a) for a in rest))
