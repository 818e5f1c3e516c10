"""Deciding whether a student's formula equals a reference formula, and how it differs.

Formulas built by :mod:`grader.formulas.parse` are rational functions, so the
decisive test is exact evaluation at random rational points (Schwartz–Zippel:
a non-zero difference vanishes at a random point with probability at most
degree / range). A difference at one exact point proves the formulas differ;
agreement at every point proves equality with overwhelming probability. The
points are evaluated on the formulas' trees with fractions; SymPy is imported
only for what needs algebra: ``cancel`` when no random point can be evaluated
(a denominator vanishing everywhere, on small expressions only), and the
term-by-term diagnosis of a wrong formula.
"""

from __future__ import annotations

import enum
import functools
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Iterable, Mapping

from grader.formulas import polynomial
from grader.formulas.expr import Expr, number
from grader.memo import IdentityMemo

POINTS = 3
"""Random points a formula must agree on."""
_RANGE = 10**6
_TRIES = 12
_SEED = 20261126  # fixed: the same points, so the same verdict, on every run
_MAX_CANCEL_OPS = 300
_MAX_EXPAND_OPS = 200


@dataclass(frozen=True)
class Formula:
    """A reference formula and what a student may substitute into it.

    Attributes:
        expr: The formula, a tree in the problem's symbols.
        upstream: Known values of upstream quantities (``dL_dO11 = 1/4``) that a
            student may write as numbers instead of symbols.
        values: The value of every symbol, giving the formula's number.
        definitions: Symbols that stand for expressions (``dO11_dF11 = X11``),
            substituted into the student's formula before comparing.
    """

    expr: Expr
    upstream: Mapping[str, Fraction] = field(default_factory=dict)
    values: Mapping[str, Fraction] = field(default_factory=dict)
    definitions: Mapping[str, Expr] = field(default_factory=dict)

    @functools.cached_property
    def substituted(self) -> Expr:
        """The formula with the upstream values written in, as a student who substitutes them writes it.

        Only the reference is substituted: a student who writes the upstream
        symbols must pair each with the right entry, since in the homework all
        upstream values are equal and substituting both sides would hide a
        wrong pairing (an unrotated kernel, transposed indices).
        """
        return self.expr.substitute({name: number(value) for name, value in self.upstream.items()})

    @functools.cached_property
    def number(self) -> Fraction:
        """The formula's value with every symbol replaced by its value."""
        return self.expr.value(self.values)

    @property
    def text(self) -> str:
        """The formula in plain math, as SymPy prints it (``**`` written ``^``): the contract's form."""
        return str(self.expr.to_sympy()).replace("**", "^")


class Match(enum.Enum):
    """How a student's formula relates to the reference."""

    EQUAL = "equal"
    NUMBER_ONLY = "number_only"
    DIFFERENT = "different"


def random_point(names: Iterable[str], generator: random.Random) -> dict[str, Fraction]:
    """A random rational value for each named symbol: a numerator up to ``_RANGE`` in size over 1 to 997."""
    return {name: Fraction(generator.randint(-_RANGE, _RANGE), generator.randint(1, 997)) for name in names}


@functools.lru_cache(maxsize=4096)
def _random_points(names: tuple[str, ...]) -> tuple[dict[str, Fraction], ...]:
    """The ``_TRIES`` random points over the named symbols, the same on every call (callers must not change them)."""
    generator = random.Random(_SEED)
    return tuple(random_point(names, generator) for _ in range(_TRIES))


@functools.lru_cache(maxsize=65536)
def _equal(a: Expr, b: Expr, fixed: tuple[tuple[str, Fraction], ...]) -> bool:
    """Whether ``a == b`` for all values of their free symbols, ``fixed`` ones held at their values."""
    if a == b:
        return True
    held = dict(fixed)
    free = tuple(sorted((a.free | b.free) - held.keys()))
    agreed = 0
    for point in _random_points(free):
        if held:
            point = point | held
        try:
            left, right = a.value(point), b.value(point)
        except ZeroDivisionError:
            continue  # a denominator vanished at this point; draw another
        if left != right:
            return False
        agreed += 1
        if agreed == POINTS:
            return True
    return _cancels(a, b, held)


def _cancels(a: Expr, b: Expr, held: Mapping[str, Fraction]) -> bool:
    """Whether SymPy cancels ``a - b`` to zero (``held`` symbols at their values), on small expressions only."""
    import sympy

    substitution = {sympy.Symbol(k): sympy.Rational(v.numerator, v.denominator) for k, v in held.items()}
    difference = a.to_sympy().xreplace(substitution) - b.to_sympy().xreplace(substitution)
    return sympy.count_ops(difference) <= _MAX_CANCEL_OPS and sympy.cancel(difference) == 0


def equal(a: Expr, b: Expr, fixed: Mapping[str, Fraction] | None = None) -> bool:
    """Whether two formulas are equal for all values (``fixed`` symbols held at their values)."""
    return _equal(a, b, tuple(sorted((fixed or {}).items())))


def compare(student: Expr, reference: Formula) -> Match:
    """Compare a parsed student formula with a reference formula.

    Equal to the reference, or to the reference with the known upstream values
    written in, is ``EQUAL``; a bare number equal to the reference's value is
    ``NUMBER_ONLY``. Remembered per process: a class writes the same formulas,
    and grading compares each with the key, the mistakes' answers and the
    answers carried forward.
    """
    return _COMPARED.get(reference, student, lambda: _compare(student, reference))


_COMPARED: IdentityMemo[Match] = IdentityMemo(1 << 16)


def _compare(student: Expr, reference: Formula) -> Match:
    student = expand_definitions(student, reference)
    if equal(student, reference.expr) or (reference.upstream and equal(student, reference.substituted)):
        return Match.EQUAL
    if reference.values and constant(student) == reference.number:
        return Match.NUMBER_ONLY
    return Match.DIFFERENT


@functools.lru_cache(maxsize=65536)  # a class writes the same formulas, compared with many references
def constant(expr: Expr) -> Fraction | None:
    """The number ``expr`` is when SymPy would build it as a number (``2*X11 - 2*X11 + 1/4`` too), else None.

    A tree whose value differs at two random points is no number; one that
    agrees (a constant written with symbols, a rare thing) is built in SymPy
    to decide as SymPy would.
    """
    if not expr.free:
        return expr.value({})  # the parser refused every division by zero without symbols
    first, second = _random_points(tuple(sorted(expr.free)))[:2]
    try:
        if expr.value(first) != expr.value(second):
            return None
    except ZeroDivisionError:
        pass
    built = expr.to_sympy()
    return Fraction(int(built.p), int(built.q)) if built.is_Rational else None


def expand_definitions(student: Expr, reference: Formula) -> Expr:
    """Replace defined symbols (local gradients) by what they stand for."""
    if not reference.definitions or not (student.free & reference.definitions.keys()):
        return student
    return student.substitute(reference.definitions)


class TermDiagnosis(enum.Enum):
    """How a wrong polynomial formula differs from the reference, term by term."""

    SIGN_WRONG = "sign_wrong"
    TERM_MISSING = "term_missing"
    TERM_EXTRA = "term_extra"
    OPERATOR_MISSING = "operator_missing"


@dataclass(frozen=True)
class TermReport:
    """A diagnosis and the terms it is about (as text)."""

    diagnosis: TermDiagnosis
    terms: tuple[str, ...] = ()


def diagnose_terms(student: Expr, reference: Formula) -> TermReport | None:
    """Name how ``student`` differs from the reference when both are small polynomials.

    Compared with the reference in the student's own form (with the upstream
    symbols, or with their values written in): the whole formula negated (sign), reference terms left out (missing), terms that are
    not in the reference (extra), or a term of higher degree than any in the
    reference (an operator missing, as when two terms run together).

    The terms come from multiplying the trees out (:mod:`grader.formulas.polynomial`);
    SymPy is asked only when that cannot be sure to see what SymPy sees: a
    division by symbols (``X11^2/X11``), symbols that cancel (``X11 - X11``), or
    a large formula.
    """
    mine = expand_definitions(student, reference)
    try:
        return _diagnose_multiplied_out(mine, reference)
    except polynomial.NotPolynomial:
        return _diagnose_with_sympy(mine, reference)


_SURELY_SMALL = 60
"""Nodes of a tree below which SymPy's ``count_ops`` of it stays under ``_MAX_EXPAND_OPS`` (at most 2 per node)."""


def _diagnose_multiplied_out(mine: Expr, reference: Formula) -> TermReport | None:
    """:func:`diagnose_terms` without SymPy (NotPolynomial when unsure)."""
    if polynomial.size(mine) > _SURELY_SMALL:
        raise polynomial.NotPolynomial("SymPy may count it as too large")
    given = polynomial.expand(mine)
    if polynomial.symbols(given) != mine.free:
        raise polynomial.NotPolynomial("symbols cancel: SymPy may have dropped some as it built the formula")
    theirs = reference.expr if (mine.free & reference.upstream.keys()) or not reference.upstream else reference.substituted
    expected = polynomial.expand(theirs)
    return _report(mine, theirs, _terms(expected), _terms(given))


def _terms(multiplied_out: polynomial.Polynomial) -> dict[str, int]:
    if not multiplied_out:
        return {"0": 0}  # SymPy's expansion of zero is the one term 0
    return {polynomial.term_text(m, c): polynomial.degree(m) for m, c in multiplied_out.items()}


def _diagnose_with_sympy(mine: Expr, reference: Formula) -> TermReport | None:
    import sympy

    built = mine.to_sympy()
    wrote_upstream = any(s.name in reference.upstream for s in built.free_symbols)
    theirs = reference.expr if wrote_upstream or not reference.upstream else reference.substituted
    if sympy.count_ops(built) > _MAX_EXPAND_OPS or not (built.is_polynomial() and theirs.to_sympy().is_polynomial()):
        return None

    def terms(expression: Any) -> dict[str, int]:
        return {str(t): _degree(t) for t in sympy.Add.make_args(sympy.expand(expression))}

    return _report(mine, theirs, terms(theirs.to_sympy()), terms(built))


def _report(mine: Expr, theirs: Expr, expected: dict[str, int], given: dict[str, int]) -> TermReport | None:
    """The diagnosis from the terms (as SymPy prints them, with their degrees) of the reference and the student's formula."""
    if equal(mine, -theirs):
        return TermReport(TermDiagnosis.SIGN_WRONG)
    missing = expected.keys() - given.keys()
    extra = given.keys() - expected.keys()
    top = max(expected.values())
    if any(given[t] > top for t in extra):
        return TermReport(TermDiagnosis.OPERATOR_MISSING, _texts(extra))
    if missing and not extra:
        return TermReport(TermDiagnosis.TERM_MISSING, _texts(missing))
    if extra and not missing:
        return TermReport(TermDiagnosis.TERM_EXTRA, _texts(extra))
    return None


def _degree(term: Any) -> int:
    import sympy

    return sympy.Poly(term, *term.free_symbols).total_degree() if term.free_symbols else 0


def _texts(terms: set[str]) -> tuple[str, ...]:
    return tuple(sorted(t.replace("**", "^") for t in terms))
