"""Text normalisation shared by every reader of student text (Persian and English).

A small normaliser rather than an NLP toolkit: the toolkits on the package
index are heavy or rewrite numbers, and what grading needs is a handful of
character mappings.
"""

from __future__ import annotations

import difflib
import functools
import re
import unicodedata
from collections.abc import Callable, Iterable

# Extended Arabic-Indic (Persian) ۰-۹ and Arabic-Indic ٠-٩ digits to ASCII.
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


# Arabic yeh and kaf, as Arabic keyboard layouts type them, to the Persian letters.
_LETTERS = str.maketrans({"\u064a": "\u06cc", "\u0643": "\u06a9", "\u0649": "\u06cc"})


def _translator(table: dict[int, str]) -> Callable[[str], str]:
    """``str.translate(table)``, fast on long text where few characters change.

    ``str.translate`` looks every character of non-ASCII text up in the table
    one by one; a regular expression finds the few that change in C first.
    """
    finder = re.compile("[" + "".join(re.escape(chr(c)) for c in table) + "]")

    def translate(text: str) -> str:
        return finder.sub(lambda match: match.group().translate(table), text) if finder.search(text) else text

    return translate


_translate_digits = _translator(_DIGITS)
_translate_letters = _translator(_LETTERS)


def normalize_digits(text: str) -> str:
    """Replace Persian and Arabic-Indic digits by ASCII digits."""
    return _translate_digits(text)


def normalize_letters(text: str) -> str:
    """Replace Arabic yeh (ي, ى) and kaf (ك) by Persian ی and ک."""
    return _translate_letters(text)


# Arabic diacritics (fatha, kasra, tanwin, shadda, sukun, superscript alef...) and tatweel.
_DIACRITICS = re.compile("[\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
# Zero-width non-joiner, joiner and space, and the BOM: word breaks that are not whitespace to str.split
# (NFKC has already made the non-breaking and other odd spaces plain ones).
_ZERO_WIDTH = ("\u200c", "\u200d", "\u200b", "\ufeff")
# Direction marks, embeddings and isolates: deleted.
_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PUNCTUATION = str.maketrans({"،": ",", "؛": ";", "؟": "?", "٪": "%", "«": '"', "»": '"', "ـ": ""})
# The marks and the diacritics are both deleted, and the three tables map disjoint characters
# to characters none of them maps again: one pass of each does what the passes one by one do.
_DELETED = re.compile(f"{_MARKS.pattern}|{_DIACRITICS.pattern}")
_translate_characters = _translator({**_DIGITS, **_LETTERS, **_PUNCTUATION})


@functools.lru_cache(maxsize=64)  # an essay is normalised for its rubric, then again for its result's text
def normalize_text(text: str) -> str:
    """Normalise Persian and English text for matching.

    Arabic ي/ى/ك become Persian ی/ک; diacritics and tatweel are removed; ZWNJ
    and other spacing variants become a plain space; Persian and Arabic-Indic
    digits become ASCII; Arabic punctuation becomes ASCII; English is
    case-folded; runs of whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _DELETED.sub("", text)
    for mark in _ZERO_WIDTH:
        text = text.replace(mark, " ")  # in C, and no copy when there is none
    text = _translate_characters(text)
    return " ".join(text.split()).casefold()  # str.split's whitespace is the regular expressions' \s


def word_count(normalised: str) -> int:
    """The words of normalised text, split at whitespace: normalising leaves single spaces only, so spaces + 1."""
    return normalised.count(" ") + 1 if normalised else 0


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (for "did you mean ...?" hints), if any is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None
