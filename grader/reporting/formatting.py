"""How points and feedback read in every report (kept free of heavy imports: `grade check` uses it)."""

from __future__ import annotations

import functools
from fractions import Fraction

from grader.results import Lang, Message


def points(value: Fraction) -> str:
    """Points as a CSV shows them: ``4``, ``0.5``, ``0.3333`` (rounded to 4 places)."""
    return _points(value.numerator, value.denominator)


@functools.lru_cache(maxsize=4096)  # a class has a million of these, of a few hundred values
def _points(numerator: int, denominator: int) -> str:
    # What float(value) computes, without the numbers ABC's slower path.
    text = f"{numerator / denominator:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def score_number(value: Fraction) -> float:
    """Points as a JSON or spreadsheet number, rounded to 4 places."""
    return round(float(value), 4)


def feedback_text(messages: tuple[Message, ...], lang: Lang) -> str:
    """Messages joined into one line of feedback."""
    if len(messages) == 1:  # most parts (a report has hundreds of thousands): no list to join
        return messages[0].text(lang)
    return " ".join([message.fa for message in messages] if lang is Lang.FA else [message.en for message in messages])
