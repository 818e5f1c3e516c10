"""Deciding whether a student's formula equals a reference formula, and how it differs.

Formulas built by :mod:`grader.formulas.parse` are rational functions, so
after a structural check the decisive test is exact evaluation at random
rational points (Schwartz–Zippel: a non-zero difference vanishes at a random
point with probability at most degree / range). A difference at one exact
point proves the formulas differ; agreement at every point proves equality
with overwhelming probability. SymPy's ``cancel`` is used only when no random
point can be evaluated (a denominator vanishing everywhere), and only on small
expressions.
"""

from __future__ import annotations

import enum
import functools
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Mapping

import sympy

from grader.memo import IdentityMemo

POINTS = 3
"""Random points a formula must agree on."""
_RANGE = 10**6
_TRIES = 12
_MAX_CANCEL_OPS = 300
_MAX_EXPAND_OPS = 200


@dataclass(frozen=True)
class Formula:
    """A reference formula and what a student may substitute into it.

    Attributes:
        expr: The formula, a SymPy expression in the problem's symbols.
        upstream: Known values of upstream quantities (``dL_dO11 = 1/4``) that a
            student may write as numbers instead of symbols.
        values: The value of every symbol, giving the formula's number.
        definitions: Symbols that stand for expressions (``dO11_dF11 = X11``),
            substituted into the student's formula before comparing.
    """

    expr: Any
    upstream: Mapping[str, Fraction] = field(default_factory=dict)
    values: Mapping[str, Fraction] = field(default_factory=dict)
    definitions: Mapping[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def substituted(self) -> Any:
        """The formula with the upstream values written in, as a student who substitutes them writes it.

        Only the reference is substituted: a student who writes the upstream
        symbols must pair each with the right entry, since in the homework all
        upstream values are equal and substituting both sides would hide a
        wrong pairing (an unrotated kernel, transposed indices).
        """
        return self.expr.xreplace(_symbol_map(self.upstream))

    @functools.cached_property
    def number(self) -> Any:
        """The formula's value with every symbol replaced by its value."""
        return self.expr.xreplace(_symbol_map(self.values))


class Match(enum.Enum):
    """How a student's formula relates to the reference."""

    EQUAL = "equal"
    NUMBER_ONLY = "number_only"
    DIFFERENT = "different"


def _symbol_map(values: Mapping[str, Any]) -> dict[Any, Any]:
    return {sympy.Symbol(name): _rational(value) if isinstance(value, Fraction) else value
            for name, value in values.items()}


def _rational(value: Fraction) -> Any:
    return sympy.Rational(value.numerator, value.denominator)


@functools.lru_cache(maxsize=65536)
def _equal(a: Any, b: Any, fixed: tuple[tuple[Any, Any], ...]) -> bool:
    """Whether ``a == b`` for all values of their free symbols, ``fixed`` ones held at their values."""
    if a == b:
        return True
    held = dict(fixed)
    a, b = a.xreplace(held), b.xreplace(held)
    if a == b:
        return True
    free = sorted(a.free_symbols | b.free_symbols, key=str)
    generator = random.Random(20261126)  # fixed seed: the same verdict on every run
    agreed = 0
    for _ in range(_TRIES):
        point = {s: sympy.Rational(generator.randint(-_RANGE, _RANGE), generator.randint(1, 997)) for s in free}
        left, right = a.xreplace(point), b.xreplace(point)
        if not (left.is_Rational and right.is_Rational):
            continue  # a denominator vanished at this point; draw another
        if left != right:
            return False
        agreed += 1
        if agreed == POINTS:
            return True
    difference = a - b
    return sympy.count_ops(difference) <= _MAX_CANCEL_OPS and sympy.cancel(difference) == 0


def equal(a: Any, b: Any, fixed: Mapping[str, Fraction] | None = None) -> bool:
    """Whether two formulas are equal for all values (``fixed`` symbols held at their values)."""
    held = tuple(sorted(((sympy.Symbol(k), _rational(v)) for k, v in (fixed or {}).items()), key=lambda p: str(p[0])))
    return _equal(a, b, held)


def compare(student: Any, reference: Formula) -> Match:
    """Compare a parsed student formula with a reference formula.

    Equal to the reference, or to the reference with the known upstream values
    written in, is ``EQUAL``; a bare number equal to the reference's value is
    ``NUMBER_ONLY``. Remembered per process: a class writes the same formulas,
    and grading compares each with the key, the mistakes' answers and the
    answers carried forward.
    """
    return _COMPARED.get(reference, student, lambda: _compare(student, reference))


_COMPARED: IdentityMemo[Match] = IdentityMemo(1 << 16)


def _compare(student: Any, reference: Formula) -> Match:
    student = expand_definitions(student, reference)
    if equal(student, reference.expr) or (reference.upstream and equal(student, reference.substituted)):
        return Match.EQUAL
    if not student.free_symbols and reference.values and student == reference.number:
        return Match.NUMBER_ONLY
    return Match.DIFFERENT


def expand_definitions(student: Any, reference: Formula) -> Any:
    """Replace defined symbols (local gradients) by what they stand for."""
    if not reference.definitions or not any(s.name in reference.definitions for s in student.free_symbols):
        return student
    return student.xreplace({sympy.Symbol(k): v for k, v in reference.definitions.items()})


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


def diagnose_terms(student: Any, reference: Formula) -> TermReport | None:
    """Name how ``student`` differs from the reference when both are small polynomials.

    Compared with the reference in the student's own form (with the upstream
    symbols, or with their values written in): the whole formula negated (sign), reference terms left out (missing), terms that are
    not in the reference (extra), or a term of higher degree than any in the
    reference (an operator missing, as when two terms run together).
    """
    mine = expand_definitions(student, reference)
    # Compare like with like: a student who wrote the upstream symbols against the
    # reference, one who wrote their values in against the substituted reference.
    wrote_upstream = any(s.name in reference.upstream for s in mine.free_symbols)
    theirs = reference.expr if wrote_upstream or not reference.upstream else reference.substituted
    if sympy.count_ops(mine) > _MAX_EXPAND_OPS or not (mine.is_polynomial() and theirs.is_polynomial()):
        return None
    if equal(mine, -theirs):
        return TermReport(TermDiagnosis.SIGN_WRONG)
    expected_terms = set(sympy.Add.make_args(sympy.expand(theirs)))
    given_terms = set(sympy.Add.make_args(sympy.expand(mine)))
    missing = expected_terms - given_terms
    extra = given_terms - expected_terms
    top = max(_degree(t) for t in expected_terms)
    if any(_degree(t) > top for t in extra):
        return TermReport(TermDiagnosis.OPERATOR_MISSING, _texts(extra))
    if missing and not extra:
        return TermReport(TermDiagnosis.TERM_MISSING, _texts(missing))
    if extra and not missing:
        return TermReport(TermDiagnosis.TERM_EXTRA, _texts(extra))
    return None


def _degree(term: Any) -> int:
    return sympy.Poly(term, *term.free_symbols).total_degree() if term.free_symbols else 0


def _texts(terms: set[Any]) -> tuple[str, ...]:
    return tuple(sorted(str(t).replace("**", "^") for t in terms))
