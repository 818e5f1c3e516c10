"""Text normalisation shared by every reader of student text (Persian and English)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

# Extended Arabic-Indic (Persian) ۰-۹ and Arabic-Indic ٠-٩ digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def normalize_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits by ASCII digits."""
    return text.translate(_DIGITS)


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (for "did you mean ...?" hints), if any is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None
