"""The Persian/English text normaliser: each mapping, one at a time."""

from __future__ import annotations

import pytest

from grader.text import normalize_text


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
