"""Reading student values as exact numbers, matrices, shapes and booleans.

Student input is data: nothing here evaluates text. Numbers become
:class:`fractions.Fraction` so that ``0.1``, ``"1/10"`` and ``"۰٫۱"`` are equal
exactly. Sizes are capped before any work is done.
"""

from __future__ import annotations

import functools
import math
import re
from fractions import Fraction
from typing import Any

from grader.errors import ValueReadError
from grader.text import normalize_digits, normalize_letters

MAX_NUMBER_TEXT = 64
"""Longest number string read; longer ones are refused before parsing."""

MAX_EXPONENT = 400
"""Largest |exponent| in scientific notation; ``1e999999999`` is refused, not built."""

MAX_MATRIX_CELLS = 10_000
"""Largest matrix read (rows × columns)."""

MAX_SHAPE_RANK = 4

MAX_TEXT_CHARS = 50_000
"""Longest essay read; longer text is refused before any matching."""

_NUMBER = re.compile(
    r"""^(?P<sign>[+-])?
    (?:(?P<num>\d+)\s*/\s*(?P<den>\d+)
      |(?P<int>\d*)(?:\.(?P<frac>\d*))?(?:[eE](?P<exp>[+-]?\d+))?)$""",
    re.VERBOSE,
)

_TRUE_WORDS = frozenset({"true", "yes", "y", "1", "بله", "بلی", "آری", "درست", "صحیح"})
_FALSE_WORDS = frozenset({"false", "no", "n", "0", "خیر", "نه", "نخیر", "غلط", "نادرست"})
_SHAPE_SEPARATORS = re.compile(r"\s*(?:[x×*,]|\s)\s*", re.IGNORECASE)


def _fail(en: str, fa: str) -> ValueReadError:
    return ValueReadError(en, fa)


def describe(value: Any) -> str:
    """A student's value as a message shows it: its TOML/JSON-like text, cut to 40 characters."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _number_text(text: str) -> str:
    """Normalise digits, minus signs and separators of a number string."""
    text = normalize_digits(text.strip())
    # U+2212 minus and the dashes students paste from word processors.
    for minus in "\u2212\u2013\u2010\u2012\ufe63\uff0d":
        text = text.replace(minus, "-")
    # Persian decimal separator ٫ and the Arabic comma used as one; ٬ groups thousands.
    return text.replace("\u066b", ".").replace("\u060c", ".").replace("\u066c", "").replace("_", "")


def parse_number(value: Any) -> Fraction:
    """Read an exact number from a TOML/JSON value.

    Args:
        value: An int, a float, or a string such as ``"1/4"``, ``"−0.75"``,
            ``"2.5e-1"`` or ``"۰٫۲۵"``.

    Returns:
        The exact value. Floats are read by their shortest decimal form, so
        ``0.1`` is exactly one tenth.

    Raises:
        ValueReadError: When the value is not a finite number.
    """
    if isinstance(value, bool):
        raise _fail(f"expected a number, got the boolean {str(value).lower()}",
                    f"یک عدد انتظار می‌رفت، اما مقدار منطقی {str(value).lower()} داده شده است")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _fail(f"expected a finite number, got {value}",
                        f"یک عدد متناهی انتظار می‌رفت، اما {value} داده شده است")
        return _exact_float(value)
    if not isinstance(value, str):
        raise _fail(f"expected a number, got {describe(value)}",
                    f"یک عدد انتظار می‌رفت، اما {describe(value)} داده شده است")
    if len(value) > MAX_NUMBER_TEXT:
        raise _fail(f"number text too long ({len(value)} characters; at most {MAX_NUMBER_TEXT})",
                    f"متن عدد بیش از حد طولانی است ({len(value)} نویسه؛ حداکثر {MAX_NUMBER_TEXT})")
    match = _NUMBER.match(_number_text(value))
    if match is None or (match["num"] is None and not (match["int"] or match["frac"])):
        raise _fail(f"expected a number such as 0.25, \"1/4\" or \"۰٫۲۵\", got {describe(value)}",
                    f"عددی مانند 0.25 یا \"1/4\" یا \"۰٫۲۵\" انتظار می‌رفت، اما {describe(value)} داده شده است")
    sign = -1 if match["sign"] == "-" else 1
    if match["num"] is not None:
        den = int(match["den"])
        if den == 0:
            raise _fail(f"division by zero in {describe(value)}",
                        f"تقسیم بر صفر در {describe(value)}")
        return sign * Fraction(int(match["num"]), den)
    exponent = int(match["exp"] or 0)
    if abs(exponent) > MAX_EXPONENT:
        raise _fail(f"exponent too large in {describe(value)} (at most {MAX_EXPONENT})",
                    f"توان در {describe(value)} بیش از حد بزرگ است (حداکثر {MAX_EXPONENT})")
    digits = (match["int"] or "") + (match["frac"] or "")
    scale = exponent - len(match["frac"] or "")
    magnitude = Fraction(int(digits)) * (Fraction(10) ** scale)
    return sign * magnitude


@functools.lru_cache(maxsize=4096)  # a class writes the same few numbers (0.25, -0.5) again and again
def _exact_float(value: float) -> Fraction:
    """A finite float's exact value by its shortest decimal form (``0.1`` is one tenth)."""
    return Fraction(repr(value))


def parse_integer(value: Any, *, minimum: int | None = None) -> int:
    """Read a whole number (a count such as a parameter total).

    Raises:
        ValueReadError: When the value is not a whole number, or is below ``minimum``.
    """
    number = parse_number(value)
    if number.denominator != 1:
        raise _fail(f"expected a whole number, got {describe(value)}",
                    f"یک عدد صحیح انتظار می‌رفت، اما {describe(value)} داده شده است")
    if minimum is not None and number < minimum:
        raise _fail(f"expected a whole number of at least {minimum}, got {describe(value)}",
                    f"عدد صحیحی دست‌کم {minimum} انتظار می‌رفت، اما {describe(value)} داده شده است")
    return int(number)


def parse_count(value: Any) -> int:
    """Read a count (a parameter total): a whole number, 0 or more.

    A negative count is unreadable rather than wrong, so the student is told
    what a count is instead of being graded against the key.

    Raises:
        ValueReadError: When the value is not a whole number, or is negative.
    """
    return parse_integer(value, minimum=0)


def parse_shape(value: Any) -> tuple[int, ...]:
    """Read a tensor shape: ``[62, 62, 64]``, or a string ``"62x62x64"`` / ``"۶۲×۶۲×۶۴"``.

    Raises:
        ValueReadError: When the value is not a list of positive whole numbers.
    """
    expected_en = "a shape such as [62, 62, 64] (height, width, channels) or \"62x62x64\""
    expected_fa = "ابعادی مانند [62, 62, 64] (ارتفاع، عرض، کانال) یا \"62x62x64\""
    if isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT:
        items: list[Any] = [p for p in _SHAPE_SEPARATORS.split(value.strip().strip("()[]")) if p]
    elif isinstance(value, list):
        items = value
    else:
        items = []
    if not 1 <= len(items) <= MAX_SHAPE_RANK:
        raise _fail(f"expected {expected_en}, got {describe(value)}",
                    f"{expected_fa} انتظار می‌رفت، اما {describe(value)} داده شده است")
    try:
        return tuple(parse_integer(item, minimum=1) for item in items)
    except ValueReadError as error:
        if isinstance(value, str):
            raise _fail(f"expected {expected_en}, got {describe(value)}",
                        f"{expected_fa} انتظار می‌رفت، اما {describe(value)} داده شده است") from None
        raise _fail(f"in shape {describe(value)}: {error.en}", f"در ابعاد {describe(value)}: {error.fa}") from None


def parse_matrix(value: Any) -> tuple[tuple[Fraction, ...], ...]:
    """Read a matrix: a non-empty list of equally long rows of numbers.

    Raises:
        ValueReadError: On ragged rows, non-numbers, or more than ``MAX_MATRIX_CELLS`` cells.
    """
    if not isinstance(value, list) or not value or not all(isinstance(row, list) for row in value):
        raise _fail(f"expected a matrix: a list of rows such as [[1, 2], [3, 4]], got {describe(value)}",
                    f"یک ماتریس (فهرستی از سطرها مانند [[1, 2], [3, 4]]) انتظار می‌رفت، اما {describe(value)} داده شده است")
    width = len(value[0])
    if width == 0 or any(len(row) != width for row in value):
        raise _fail("matrix rows must all have the same, non-zero length",
                    "همه سطرهای ماتریس باید طول یکسان و غیرصفر داشته باشند")
    if len(value) * width > MAX_MATRIX_CELLS:
        raise _fail(f"matrix too large ({len(value)}×{width}; at most {MAX_MATRIX_CELLS} entries)",
                    f"ماتریس بیش از حد بزرگ است ({len(value)}×{width}؛ حداکثر {MAX_MATRIX_CELLS} درایه)")
    rows = []
    for i, row in enumerate(value, start=1):
        cells = []
        for j, cell in enumerate(row, start=1):
            try:
                cells.append(parse_number(cell))
            except ValueReadError as error:
                raise _fail(f"entry ({i}, {j}): {error.en}", f"درایه ({i}، {j}): {error.fa}") from None
        rows.append(tuple(cells))
    return tuple(rows)


def parse_boolean(value: Any) -> bool:
    """Read a yes/no answer: ``true``/``false`` or words such as ``"yes"``, ``"بله"``, ``"خیر"``.

    Raises:
        ValueReadError: When the value is not recognisably yes or no.
    """
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= MAX_NUMBER_TEXT:
        word = normalize_letters(normalize_digits(value)).strip().casefold()
        if word in _TRUE_WORDS:
            return True
        if word in _FALSE_WORDS:
            return False
    raise _fail(f"expected true or false (or \"yes\"/\"no\", \"بله\"/\"خیر\"), got {describe(value)}",
                f"true یا false (یا «بله»/«خیر») انتظار می‌رفت، اما {describe(value)} داده شده است")


def parse_text(value: Any) -> str:
    """Read an essay: a string, refused before any matching when it is absurdly long.

    Raises:
        ValueReadError: When the value is not a string or is over ``MAX_TEXT_CHARS``.
    """
    if not isinstance(value, str):
        raise _fail(f"expected text (a string), got {describe(value)}",
                    f"متن (رشته) انتظار می‌رفت، اما {describe(value)} داده شده است")
    if len(value) > MAX_TEXT_CHARS:
        raise _fail(f"text too long ({len(value)} characters; at most {MAX_TEXT_CHARS})",
                    f"متن بیش از حد طولانی است ({len(value)} نویسه؛ حداکثر {MAX_TEXT_CHARS})")
    return value


def format_number(value: Fraction) -> str:
    """Show an exact number the way a student writes it: ``1200``, ``0.25`` or ``1/3``."""
    if value.denominator == 1:
        return str(value.numerator)
    den = value.denominator
    for prime in (2, 5):
        while den % prime == 0:
            den //= prime
    if den == 1:  # a finite decimal: print it exactly
        text = f"{float(value):.12f}".rstrip("0").rstrip(".")
        if Fraction(text) == value:
            return text
    return f"{value.numerator}/{value.denominator}"
