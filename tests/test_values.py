"""Reading student values (grader.values): numbers, integers, shapes, matrices, booleans."""

from __future__ import annotations

import time
from fractions import Fraction

import pytest

from grader.errors import ValueReadError
from grader.values import (
    MAX_EXPONENT,
    MAX_MATRIX_CELLS,
    MAX_NUMBER_TEXT,
    MAX_SHAPE_RANK,
    format_number,
    parse_boolean,
    parse_count,
    parse_integer,
    parse_matrix,
    parse_number,
    parse_shape,
)


def assert_bilingual(error: ValueReadError) -> None:
    """Helper: a ValueReadError shown to a student has both an English and a Persian message."""
    assert isinstance(error.en, str) and error.en.strip()
    assert isinstance(error.fa, str) and error.fa.strip()
    assert error.en != error.fa


# --- parse_number -----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (0, Fraction(0)),
    (4864, Fraction(4864)),
    (-3, Fraction(-3)),
    (0.1, Fraction(1, 10)),
    (0.25, Fraction(1, 4)),
    (-0.75, Fraction(-3, 4)),
    (1e-7, Fraction(1, 10_000_000)),
    (2.0, Fraction(2)),
    ("1/4", Fraction(1, 4)),
    ("-1/4", Fraction(-1, 4)),
    (" 3 / 8 ", Fraction(3, 8)),
    ("-0.75", Fraction(-3, 4)),
    ("+3", Fraction(3)),
    ("0.1", Fraction(1, 10)),
    (".5", Fraction(1, 2)),
    ("2.5e-1", Fraction(1, 4)),
    ("1E3", Fraction(1000)),
    ("\u22121", Fraction(-1)),             # U+2212 minus sign
    ("\u22120.75", Fraction(-3, 4)),
    ("۰٫۲۵", Fraction(1, 4)),               # Persian digits with the Persian decimal separator
    ("۰.۲۵", Fraction(1, 4)),               # Persian digits with a dot
    ("٠٫٥", Fraction(1, 2)),                # Arabic-Indic digits
    ("۱/۴", Fraction(1, 4)),                # Persian digits in a fraction
    ("−۳/۴", Fraction(-3, 4)),
    ("۴۸۶۴", Fraction(4864)),
])
def test_parse_number_reads_exact_value(value, expected):
    """Every accepted notation reads as the exact Fraction it denotes."""
    result = parse_number(value)
    assert isinstance(result, Fraction)
    assert result == expected


def test_float_is_read_by_shortest_decimal():
    """The float 0.1 is exactly one tenth, not its binary approximation."""
    assert parse_number(0.1) == Fraction(1, 10)
    assert parse_number(0.1) != Fraction(0.1)
    assert parse_number(0.1) == parse_number("1/10") == parse_number("۰٫۱")


@pytest.mark.parametrize("value", [
    True,
    False,
    None,
    [1, 2],
    {"a": 1},
    Fraction(1, 2),                 # not a TOML/JSON value
    float("nan"),
    float("inf"),
    float("-inf"),
    "abc",
    "",
    "   ",
    ".",
    "-",
    "1/0",
    "--1",
    "1..2",
    "1/2/3",
    "1/-2",
    "e5",
    "1e",
    "0x10",
    "1 2",
    "nan",
    "inf",
    "2**3",
    "1+1",
])
def test_parse_number_rejects_non_numbers(value):
    """Booleans, non-scalars, non-finite floats and malformed strings raise ValueReadError."""
    with pytest.raises(ValueReadError) as info:
        parse_number(value)
    assert_bilingual(info.value)


@pytest.mark.parametrize(("value", "fragment"), [
    (True, "boolean"),
    (float("nan"), "finite"),
    ("1/0", "division by zero"),
    ("abc", "'abc'"),
])
def test_parse_number_error_says_what_was_wrong(value, fragment):
    """The English message names the problem (boolean, non-finite, division by zero, the text)."""
    with pytest.raises(ValueReadError) as info:
        parse_number(value)
    assert fragment in info.value.en


def test_parse_number_refuses_overlong_text():
    """A string longer than MAX_NUMBER_TEXT is refused, even if it is all digits."""
    assert parse_number("1" * MAX_NUMBER_TEXT) == int("1" * MAX_NUMBER_TEXT)
    with pytest.raises(ValueReadError) as info:
        parse_number("1" * (MAX_NUMBER_TEXT + 1))
    assert "too long" in info.value.en
    assert_bilingual(info.value)


@pytest.mark.parametrize("text", ["1e999999999", "1e-999999999", "-5e" + "9" * 50, f"1e{MAX_EXPONENT + 1}"])
def test_parse_number_refuses_huge_exponent_fast(text):
    """Exponents beyond MAX_EXPONENT are refused at once, without building the number."""
    start = time.perf_counter()
    with pytest.raises(ValueReadError) as info:
        parse_number(text)
    assert time.perf_counter() - start < 0.5
    assert "exponent" in info.value.en
    assert_bilingual(info.value)


def test_parse_number_accepts_largest_allowed_exponent():
    """An exponent of exactly MAX_EXPONENT is still read exactly."""
    assert parse_number(f"1e{MAX_EXPONENT}") == 10 ** MAX_EXPONENT
    assert parse_number(f"1e-{MAX_EXPONENT}") == Fraction(1, 10 ** MAX_EXPONENT)


# --- parse_integer ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (4864, 4864),
    (0, 0),
    (-2, -2),
    ("4864", 4864),
    ("4864.0", 4864),          # a whole number written with a decimal point is still whole
    (4864.0, 4864),
    ("1e3", 1000),
    ("۴۸۶۴", 4864),
    ("8/2", 4),
])
def test_parse_integer_reads_whole_numbers(value, expected):
    """Whole numbers in any accepted notation read as a Python int."""
    result = parse_integer(value)
    assert type(result) is int
    assert result == expected


@pytest.mark.parametrize("value", [2.5, "2.5", "1/3", "۰٫۵", True, "abc", None])
def test_parse_integer_rejects_non_whole(value):
    """Fractions, booleans and non-numbers are not whole numbers."""
    with pytest.raises(ValueReadError) as info:
        parse_integer(value)
    assert_bilingual(info.value)


def test_parse_integer_enforces_minimum():
    """A value below ``minimum`` is refused and the message states the minimum; the minimum itself passes."""
    assert parse_integer(1, minimum=1) == 1
    with pytest.raises(ValueReadError) as info:
        parse_integer(0, minimum=1)
    assert "at least 1" in info.value.en
    assert_bilingual(info.value)


@pytest.mark.parametrize("value", [-3, "-3", "−3", "-۳"])
def test_parse_count_refuses_negative_counts(value):
    """A negative count (``params = -3``) is unreadable, and the message says a count starts at 0."""
    with pytest.raises(ValueReadError) as info:
        parse_count(value)
    assert "at least 0" in info.value.en
    assert_bilingual(info.value)
    assert parse_count(0) == 0


# --- parse_shape ------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    [62, 62, 64],
    [62.0, "62", "۶۴"],
    "62x62x64",
    "62X62X64",
    "62×62×64",
    "۶۲×۶۲×۶۴",
    "62 × 62 × 64",
    "62, 62, 64",
    "[62, 62, 64]",
    "(62, 62, 64)",
    "62*62*64",
    " 62 62 64 ",
])
def test_parse_shape_reads_notations(value):
    """Lists and the usual string notations of a shape read as a tuple of ints."""
    assert parse_shape(value) == (62, 62, 64)


def test_parse_shape_keeps_rank():
    """One- and four-dimensional shapes are read as given."""
    assert parse_shape([10]) == (10,)
    assert parse_shape("1x2x3x4") == (1, 2, 3, 4)


@pytest.mark.parametrize("value", [
    [62, 0, 64],
    [62, -1, 64],
    "62x0x64",
    "-62x62x64",
    [62, 2.5, 64],
    [62, True, 64],
    ["a", 62, 64],
    "axbxc",
    [],
    "",
    [1] * (MAX_SHAPE_RANK + 1),
    "x".join(["2"] * (MAX_SHAPE_RANK + 1)),
    62,
    None,
    {"h": 62},
    "6" * (MAX_NUMBER_TEXT + 1),
])
def test_parse_shape_rejects_invalid(value):
    """Zero/negative/fractional sizes, too many dimensions and non-numbers are refused."""
    with pytest.raises(ValueReadError) as info:
        parse_shape(value)
    assert_bilingual(info.value)
    assert "shape" in info.value.en


# --- parse_matrix -----------------------------------------------------------------------------

def test_parse_matrix_reads_mixed_notations():
    """Entries may be ints, floats, fractions and Persian digits; all become exact Fractions."""
    matrix = parse_matrix([[1, 0.25, "1/3"], ["۰٫۵", "−2", "2.5e-1"]])
    assert matrix == (
        (Fraction(1), Fraction(1, 4), Fraction(1, 3)),
        (Fraction(1, 2), Fraction(-2), Fraction(1, 4)),
    )
    assert all(isinstance(cell, Fraction) for row in matrix for cell in row)


def test_parse_matrix_single_cell():
    """A 1×1 matrix is a valid matrix."""
    assert parse_matrix([[7]]) == ((Fraction(7),),)


@pytest.mark.parametrize("value", [
    [[1, 2], [3]],
    [[1], [2, 3]],
    [],
    [[]],
    [[], []],
    [1, 2],
    [[1, 2], 3],
    "[[1, 2], [3, 4]]",
    None,
    7,
])
def test_parse_matrix_rejects_malformed(value):
    """Ragged rows, empty matrices and non-lists are refused."""
    with pytest.raises(ValueReadError) as info:
        parse_matrix(value)
    assert_bilingual(info.value)


def test_parse_matrix_refuses_too_many_cells_before_reading_entries():
    """More than MAX_MATRIX_CELLS cells is refused as too large, before any entry is parsed."""
    rows = MAX_MATRIX_CELLS // 100 + 1
    with pytest.raises(ValueReadError) as info:
        parse_matrix([["not a number"] * 100 for _ in range(rows)])
    assert "too large" in info.value.en
    assert_bilingual(info.value)


def test_parse_matrix_accepts_exactly_max_cells():
    """A matrix of exactly MAX_MATRIX_CELLS cells is still read."""
    matrix = parse_matrix([[0] * 100 for _ in range(MAX_MATRIX_CELLS // 100)])
    assert len(matrix) * len(matrix[0]) == MAX_MATRIX_CELLS


@pytest.mark.parametrize(("value", "where"), [
    ([[1, "abc"], [3, 4]], "(1, 2)"),
    ([[1, 2], [True, 4]], "(2, 1)"),
    ([[1, 2], [3, "1/0"]], "(2, 2)"),
])
def test_parse_matrix_error_names_the_entry(value, where):
    """A bad entry's message gives its 1-based (row, column) in both languages."""
    with pytest.raises(ValueReadError) as info:
        parse_matrix(value)
    assert f"entry {where}" in info.value.en
    row, column = where.strip("()").split(", ")
    assert row in info.value.fa and column in info.value.fa
    assert_bilingual(info.value)


# --- parse_boolean ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "expected"), [
    (True, True),
    (False, False),
    ("true", True),
    ("false", False),
    ("True", True),
    ("FALSE", False),
    ("yes", True),
    ("no", False),
    (" Yes ", True),
    ("بله", True),
    ("خیر", False),
    ("نه", False),
])
def test_parse_boolean_reads_yes_and_no(value, expected):
    """Booleans and yes/no words in English and Persian read as True/False."""
    assert parse_boolean(value) is expected


@pytest.mark.parametrize("value", ["maybe", "", "truee", "yes no", None, 1, 0, 0.0, [True], "y" * (MAX_NUMBER_TEXT + 1)])
def test_parse_boolean_rejects_garbage(value):
    """Anything that is not recognisably yes or no is refused with a bilingual message."""
    with pytest.raises(ValueReadError) as info:
        parse_boolean(value)
    assert_bilingual(info.value)
    assert "true or false" in info.value.en


# --- format_number ----------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "text"), [
    (Fraction(4864), "4864"),
    (Fraction(0), "0"),
    (Fraction(-3), "-3"),
    (Fraction(1, 4), "0.25"),
    (Fraction(-3, 4), "-0.75"),
    (Fraction(1, 3), "1/3"),
    (Fraction(-2, 3), "-2/3"),
    (Fraction(1, 10), "0.1"),
])
def test_format_number(value, text):
    """Whole numbers print as integers, finite decimals as decimals, the rest as n/d."""
    assert format_number(value) == text


@pytest.mark.parametrize("value", [Fraction(1, 2 ** 60), Fraction(10 ** 20 + 1, 2), Fraction(-1, 10 ** 13)])
def test_format_number_is_exact(value):
    """The printed text always reads back as the same exact value (no float rounding)."""
    assert parse_number(format_number(value)) == value


@pytest.mark.parametrize("word, expected", [("خير", False), ("بلي", True), ("نه", False)])
def test_boolean_accepts_arabic_keyboard_letters(word, expected) -> None:
    """Yes/no words typed with Arabic yeh/kaf read like their Persian spellings."""
    assert parse_boolean(word) is expected


def test_numbers_close_is_the_tolerance_on_the_exact_difference() -> None:
    """Numbers are close when |a − b| ≤ abs or ≤ rel·|b|, computed exactly, for every tolerance."""
    import random

    from grader.compare import numbers_close
    from grader.spec import Tolerance

    rng = random.Random(7)
    close = 0
    for _ in range(20_000):
        expected = Fraction(rng.randint(-50, 50), rng.randint(1, 12))
        student = expected + Fraction(rng.randint(-3, 3), rng.randint(40, 400)) if rng.random() < 0.5 else \
            Fraction(rng.randint(-50, 50), rng.randint(1, 12))
        tolerance = Tolerance(rel=Fraction(rng.choice([0, 1, 5, 10]), 1000), abs=Fraction(rng.choice([0, 1, 2]), 100))
        difference = abs(student - expected)
        assert numbers_close(student, expected, tolerance) == (
            difference <= tolerance.abs or difference <= tolerance.rel * abs(expected))
        close += numbers_close(student, expected, tolerance)
    assert 1000 < close < 19_000  # both outcomes are tested, often
