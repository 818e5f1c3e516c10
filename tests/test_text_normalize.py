"""The Persian/English text normaliser: each mapping, one at a time."""

from __future__ import annotations

import pytest

from grader.text import normalize_text, word_count


@pytest.mark.parametrize("raw, expected", [
    ("كتاب", "کتاب"),                      # Arabic kaf -> Persian kaf
    ("علي", "علی"),                        # Arabic yeh -> Persian yeh
    ("مصطفى", "مصطفی"),                    # alef maksura -> Persian yeh
    ("شبکه‌ها", "شبکه ها"),                  # ZWNJ -> space
    ("شبکه\u200dها", "شبکه ها"),            # ZWJ -> space
    ("a\u00a0b", "a b"),                    # non-breaking space -> space
    ("كَپسولِ", "کپسول"),                    # diacritics removed (and kaf mapped)
    ("کـــپسول", "کپسول"),                   # tatweel removed
    ("۱۲۳۴۵۶۷۸۹۰", "1234567890"),           # Persian digits
    ("٠١٢٣٤٥٦٧٨٩", "0123456789"),           # Arabic-Indic digits
    ("چرا؟ بله، نه؛", "چرا? بله, نه;"),      # Arabic punctuation
    ("Capsule NETWORK", "capsule network"),  # English case-folded
    ("  many   spaces\n\tand lines ", "many spaces and lines"),
    ("\u200fمتن\u200e", "متن"),               # direction marks removed
    ("ﻙ", "ک"),                              # Arabic presentation form -> Persian kaf
])
def test_each_mapping(raw, expected) -> None:
    """Each character mapping of the normaliser gives the expected text."""
    assert normalize_text(raw) == expected


def test_normalising_twice_changes_nothing() -> None:
    """The normaliser is idempotent."""
    text = "شبكه‌هاي كپسولي ۱۲ Capsule، ؟"
    assert normalize_text(normalize_text(text)) == normalize_text(text)


def test_whitespace_is_that_of_the_regular_expressions() -> None:
    """Random text of every kind of space, joiner, mark and letter normalises as the earlier passes of
    regular expressions did: zero-width and odd spaces become one space, runs collapse, ends are stripped."""
    import random
    import re
    import unicodedata

    odd_spaces = re.compile("[\u200c\u200d\u00a0\u2000-\u200b\u202f\u205f\u3000\ufeff]+")
    other_whitespace = re.compile(r"\s{2,}|[^\S ]")
    deleted = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
    mapped = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩يكى،؛؟٪«»", "01234567890123456789یکی,;?%\"\"")

    def by_regular_expressions(value: str) -> str:
        value = deleted.sub("", unicodedata.normalize("NFKC", value))
        value = odd_spaces.sub(" ", value).translate(mapped)
        return other_whitespace.sub(" ", value).strip().casefold()

    alphabet = ("a", "B", "ب", "ي", "۳", "ـ", "َ", " ", "\t", "\n", "\r", "\x0b", "\x0c", "\x1c", "\x1f", "\x85",
                "\u00a0", "\u1680", "\u2000", "\u2007", "\u200a", "\u200b", "\u200c", "\u200d", "\u200e", "\u2028",
                "\u2029", "\u202f", "\u205f", "\u3000", "\ufeff", "«", "،", "ß", "ك", "٣", "\u0670", "\u06ed",
                "\u2069", "\u00ad", "\u2060", "\ue000", "\ufb8e", "\u0651")
    generator = random.Random(3)
    for _ in range(6000):
        value = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 14)))
        assert normalize_text(value) == by_regular_expressions(value), repr(value)


@pytest.mark.parametrize("text", ["", "word", " a\tb\n\nc \u00a0d\u200c e\u2028f\x1cg  ", "ب\u200cا  ,، x\r\ny"])
def test_word_count_is_whitespace_split(text) -> None:
    """An essay's word count (for review) is that of splitting its normalised text at whitespace."""
    normalised = normalize_text(text)
    assert word_count(normalised) == len(normalised.split())
