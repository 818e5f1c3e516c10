"""Text normalisation shared by every reader of student text (Persian and English)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Extended Arabic-Indic (Persian) ۰-۹ and Arabic-Indic ٠-٩ digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


# Arabic yeh and kaf, as Arabic keyboard layouts type them, to the Persian letters.
_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})


def normalize_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits by ASCII digits."""
    return text.translate(_DIGITS)


def normalize_letters(text: str) -> str:
    """Replace Arabic yeh (ي, ى) and kaf (ك) by Persian ی and ک."""
    return text.translate(_LETTERS)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (for "did you mean ...?" hints), if any is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None
