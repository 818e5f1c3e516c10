"""Parsed formulas cached by their normalised text: a class writes the same formulas again and again."""

from __future__ import annotations

import functools
import unicodedata
from typing import Any, Collection

from grader.errors import ValueReadError
from grader.formulas.parse import FormulaError, parse_formula

CACHE_SIZE = 65536


@functools.lru_cache(maxsize=CACHE_SIZE)
def _parse_cached(text: str, symbols: frozenset[str]) -> tuple[Any, FormulaError | None]:
    try:
        return parse_formula(text, symbols), None
    except FormulaError as error:
        return None, error


def read_formula(raw: Any, symbols: Collection[str]) -> Any:
    """Parse a formula, reusing the parse of any earlier formula with the same normalised text.

    Raises:
        FormulaError: When the formula cannot be read.
    """
    if not isinstance(raw, str):
        return parse_formula(raw, symbols)  # raises the "expected a string" error
    # Length is capped inside parse_formula; normalising first is bounded by the same cap.
    text = " ".join(unicodedata.normalize("NFC", raw).split()) if len(raw) <= 4096 else raw
    expression, error = _parse_cached(text, frozenset(symbols))
    if error is not None:
        raise ValueReadError(error.en, error.fa)
    return expression
