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


# Deleted: Arabic diacritics (fatha, kasra, tanwin, shadda, sukun, superscript alef...) and tatweel;
# direction marks, embeddings and isolates.
_DELETED = dict.fromkeys([*range(0x064B, 0x0660), 0x0670, *range(0x06D6, 0x06EE), 0x0640,
                          0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# Zero-width non-joiner, joiner and space, and the BOM: word breaks that are not whitespace to str.split
# (NFKC has already made the non-breaking and other odd spaces plain ones).
_ZERO_WIDTH = ("\u200c", "\u200d", "\u200b", "\ufeff")
_PUNCTUATION = str.maketrans({"،": ",", "؛": ";", "؟": "?", "٪": "%", "«": '"', "»": '"'})
# The deletions and the three tables map disjoint characters to characters none of them maps again:
# one pass over them all does what the passes one by one do, in one scan of the text.
_translate_characters = _translator({**_DELETED, **_DIGITS, **_LETTERS, **_PUNCTUATION})


@functools.lru_cache(maxsize=64)  # an essay is normalised for its rubric, then again for its result's text
def normalize_text(text: str) -> str:
    """Normalise Persian and English text for matching.

    Arabic ي/ى/ك become Persian ی/ک; diacritics and tatweel are removed; ZWNJ
    and other spacing variants become a plain space; Persian and Arabic-Indic
    digits become ASCII; Arabic punctuation becomes ASCII; English is
    case-folded; runs of whitespace become one space.
    """
    text = unicodedata.normalize("NFKC", text)
    for mark in _ZERO_WIDTH:
        text = text.replace(mark, " ")  # in C, and no copy when there is none
    text = _translate_characters(text)
    # Split and joined only when needed: text with no whitespace but single inner spaces is printable
    # (every other whitespace character is a control or separator character), a scan in C.
    if not text.isprintable() or "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())  # str.split's whitespace is the regular expressions' \s
    return text.casefold()


def word_count(normalised: str) -> int:
    """The words of normalised text, split at whitespace: normalising leaves single spaces only, so spaces + 1."""
    return normalised.count(" ") + 1 if normalised else 0


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (for "did you mean ...?" hints), if any is close."""
    matches = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return matches[0] if matches else None
