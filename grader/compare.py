"""Reading a student's value as a part's kind, and comparing it with an expected value."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable, Collection

from grader.hashed import HashedAnswer
from grader.spec import AnswerKind, Tolerance
from grader.values import parse_boolean, parse_count, parse_matrix, parse_number, parse_shape, parse_text

_READERS: dict[AnswerKind, Callable[[Any], Any]] = {
    AnswerKind.NUMBER: parse_number,
    AnswerKind.INTEGER: parse_count,
    AnswerKind.SHAPE: parse_shape,
    AnswerKind.MATRIX: parse_matrix,
    AnswerKind.BOOLEAN: parse_boolean,
    AnswerKind.TEXT: parse_text,
}


def read_answer(kind: AnswerKind, raw: Any, symbols: Collection[str]) -> Any:
    """Read a raw TOML/JSON value as ``kind``.

    Args:
        kind: The part's answer kind.
        raw: The student's value.
        symbols: Symbol names a formula may use (the problem's).

    Raises:
        ValueReadError: With a message in English and Persian saying what was expected.
    """
    if kind is AnswerKind.FORMULA:
        from grader.formulas.cache import read_formula  # SymPy is imported only for formulas

        return read_formula(raw, symbols)
    return _READERS[kind](raw)


def numbers_close(student: Fraction, expected: Fraction, tolerance: Tolerance) -> bool:
    """Whether two exact numbers agree within the tolerance (exactly when it is zero)."""
    # Most comparisons are of equal numbers, or under no tolerance: decided on the (lowest) terms, without
    # Fraction's operators, which go through the numbers ABCs (a class makes hundreds of thousands of these).
    a, b, c, d = student.numerator, student.denominator, expected.numerator, expected.denominator
    if a == c and b == d:
        return True
    if not (tolerance.abs or tolerance.rel):
        return False
    # The difference is gap / (b·d); each bound is compared on integers, multiplied out.
    gap = abs(a * d - c * b)
    return (gap * tolerance.abs.denominator <= tolerance.abs.numerator * b * d
            or gap * tolerance.rel.denominator <= tolerance.rel.numerator * abs(c) * b)


def matrix_size(matrix: Any) -> tuple[int, int]:
    """Rows and columns of a matrix (tuple of rows, or a hashed matrix's recorded size)."""
    if isinstance(matrix, HashedAnswer):
        return matrix.size or (0, 0)
    return len(matrix), len(matrix[0]) if matrix else 0


def same_answer(kind: AnswerKind, student: Any, expected: Any, tolerance: Tolerance) -> bool:
    """Whether a read student value equals an expected value of the given kind (or has its digest, offline)."""
    if isinstance(expected, HashedAnswer):
        return expected.matches(student)
    if kind is AnswerKind.NUMBER:
        return numbers_close(student, _fraction(expected), tolerance)
    if kind is AnswerKind.MATRIX:
        return (matrix_size(student) == matrix_size(expected)
                and all(numbers_close(x, _fraction(y), tolerance)
                        for a, b in zip(student, expected) for x, y in zip(a, b)))
    if kind is AnswerKind.SHAPE:
        return tuple(student) == tuple(expected)
    if kind is AnswerKind.FORMULA:
        from grader.formulas.equivalence import Match, compare

        return compare(student, expected) is Match.EQUAL
    return student == expected


def _fraction(value: Any) -> Fraction:
    """A solver's number as a Fraction (as it is, when it is one: converting goes through the ABCs)."""
    return value if type(value) is Fraction else Fraction(value)


def same_expected(kind: AnswerKind, a: Any, b: Any, tolerance: Tolerance) -> bool:
    """Whether two solver answers grade alike (so a mistake that changes nothing here is no mistake here)."""
    if isinstance(a, HashedAnswer) and isinstance(b, HashedAnswer):
        return a.digests == b.digests
    return same_answer(kind, a.expr if kind is AnswerKind.FORMULA else a, b, tolerance)
