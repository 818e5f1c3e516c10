"""Comparing a student's value with an expected value, per answer kind."""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Callable

from grader.spec import AnswerKind, Tolerance
from grader.values import parse_boolean, parse_integer, parse_matrix, parse_number, parse_shape

READERS: dict[AnswerKind, Callable[[Any], Any]] = {
    AnswerKind.NUMBER: parse_number,
    AnswerKind.INTEGER: parse_integer,
    AnswerKind.SHAPE: parse_shape,
    AnswerKind.MATRIX: parse_matrix,
    AnswerKind.BOOLEAN: parse_boolean,
}
"""How each kind of answer is read from TOML/JSON; each raises ValueReadError."""


def numbers_close(student: Fraction, expected: Fraction, tolerance: Tolerance) -> bool:
    """Whether two exact numbers agree within the tolerance (exactly when it is zero)."""
    difference = abs(student - expected)
    return difference <= tolerance.abs or difference <= tolerance.rel * abs(expected)


def same_answer(kind: AnswerKind, student: Any, expected: Any, tolerance: Tolerance) -> bool:
    """Whether a read student value equals an expected value of the given kind."""
    if kind is AnswerKind.NUMBER:
        return numbers_close(student, Fraction(expected), tolerance)
    if kind is AnswerKind.MATRIX:
        return (len(student) == len(expected)
                and all(len(a) == len(b) for a, b in zip(student, expected))
                and all(numbers_close(x, Fraction(y), tolerance)
                        for a, b in zip(student, expected) for x, y in zip(a, b)))
    if kind is AnswerKind.SHAPE:
        return tuple(student) == tuple(expected)
    return student == expected
