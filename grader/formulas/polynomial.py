"""Polynomial formula trees multiplied out into terms, and the terms written as SymPy prints them.

The term-by-term diagnosis of a wrong formula needs its terms: SymPy's
``expand`` gives them, but importing SymPy costs ``grade check`` more than all
the rest. A tree whose only divisions are by numbers is multiplied out here
instead, with exact coefficients; each term is written exactly as SymPy's
``str`` writes it (``-3*X11*dL_dO11/4``, ``X11**2``), so a diagnosis names the
same terms whichever way it was made.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Mapping

from grader.formulas.expr import Expr, Op

Monomial = tuple[tuple[str, int], ...]
"""Symbols and their (positive) exponents, sorted by name; ``()`` for a number."""
Polynomial = dict[Monomial, Fraction]
"""Monomials and their non-zero coefficients."""

MAX_TERMS = 2000
"""Most terms a product may have while multiplying out (beyond, the caller asks SymPy)."""


class NotPolynomial(Exception):
    """A tree that divides by a symbol, or that grows too large to multiply out here."""


def expand(tree: Expr) -> Polynomial:
    """The tree multiplied out: each monomial with its coefficient (none zero; ``{}`` for zero).

    Raises:
        NotPolynomial: When the tree divides by an expression with symbols (SymPy
            may still cancel it: ``X11^2/X11``), or a product exceeds ``MAX_TERMS``.
    """
    op, args = tree.op, tree.args
    if op is Op.NUMBER:
        return {(): args[0]} if args[0] else {}
    if op is Op.SYMBOL:
        return {((args[0], 1),): Fraction(1)}
    if op is Op.ADD:
        total: Polynomial = {}
        for term in args:
            for monomial, coefficient in expand(term).items():
                _accumulate(total, monomial, coefficient)
        return total
    if op is Op.MUL:
        product: Polynomial = {(): Fraction(1)}
        for factor in args:
            product = _multiply(product, expand(factor))
        return product
    if op is Op.NEG:
        return {monomial: -coefficient for monomial, coefficient in expand(args[0]).items()}
    base, exponent = args
    if exponent < 0:
        if base.free:
            raise NotPolynomial("a division by an expression with symbols")
        value = base.value({}) ** exponent  # the parser refused every division by zero without symbols
        return {(): value} if value else {}
    result: Polynomial = {(): Fraction(1)}
    factor = expand(base)
    for _ in range(exponent):
        result = _multiply(result, factor)
    return result


def _accumulate(total: Polynomial, monomial: Monomial, coefficient: Fraction) -> None:
    value = total.get(monomial, 0) + coefficient
    if value:
        total[monomial] = value
    else:
        total.pop(monomial, None)


def _multiply(a: Polynomial, b: Polynomial) -> Polynomial:
    if len(a) * len(b) > MAX_TERMS:
        raise NotPolynomial("too many terms to multiply out")
    product: Polynomial = {}
    for left, x in a.items():
        for right, y in b.items():
            _accumulate(product, _monomial_product(left, right), x * y)
    return product


def _monomial_product(a: Monomial, b: Monomial) -> Monomial:
    if not a or not b:
        return a or b
    powers = dict(a)
    for name, exponent in b:
        powers[name] = powers.get(name, 0) + exponent
    return tuple(sorted(powers.items()))


def degree(monomial: Monomial) -> int:
    """The total degree of a monomial (0 for a number)."""
    return sum(exponent for _, exponent in monomial)


def symbols(polynomial: Mapping[Monomial, Fraction]) -> frozenset[str]:
    """The symbols of the polynomial's terms (those that did not cancel)."""
    return frozenset(name for monomial in polynomial for name, _ in monomial)


def term_text(monomial: Monomial, coefficient: Fraction) -> str:
    """One term as SymPy's ``str`` writes it: ``X11``, ``-X11**2``, ``3*X11*dL_dO11/4``, ``-1/4``.

    SymPy orders a product's symbols by name (as Python compares strings),
    puts the coefficient's numerator first and its denominator after a ``/``.
    """
    if not monomial:
        return str(coefficient)
    factors = [name if exponent == 1 else f"{name}**{exponent}" for name, exponent in monomial]
    sign = "-" if coefficient < 0 else ""
    size = abs(coefficient)
    if size.numerator != 1:
        factors.insert(0, str(size.numerator))
    text = sign + "*".join(factors)
    return f"{text}/{size.denominator}" if size.denominator != 1 else text


def size(tree: Expr) -> int:
    """The number of nodes of a tree."""
    return 1 + sum(size(a) for a in tree.args if isinstance(a, Expr))
