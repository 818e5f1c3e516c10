"""Pairs of essays that are suspiciously alike: shingled word n-grams after normalisation."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

from grader.results import BatchResult
from grader.text import normalize_text

SHINGLE_WORDS = 5
THRESHOLD = Fraction(2, 5)
"""Jaccard similarity of the shingle sets from which a pair is reported."""
COMMON_MIN = 20
"""A shingle in more essays than this (or a tenth of the class) is a stock phrase and is not counted."""
DEFAULT_EXCLUDED = ("answer-key", "seed-writeup")
"""The key and the sample write-up: every answer resembles them a little."""


@dataclass(frozen=True)
class SimilarPair:
    """Two students' answers to one essay part that share many word sequences."""

    problem: str
    part: str
    student_a: str
    student_b: str
    similarity: Fraction
    shared_shingles: int


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[tuple[str, ...]]:
    """The set of ``size``-word sequences of the normalised text."""
    words = normalize_text(text).split()
    return frozenset(tuple(words[i:i + size]) for i in range(len(words) - size + 1))


def similar_essays(batch: BatchResult, *, exclude: tuple[str, ...] = DEFAULT_EXCLUDED,
                   threshold: Fraction = THRESHOLD) -> tuple[SimilarPair, ...]:
    """Pairs of essays whose shingle sets have a Jaccard similarity of at least ``threshold``.

    Shingles are indexed, so only essays that share a word sequence are ever
    compared: a class of independent essays costs about one pass.
    """
    essays: dict[tuple[str, str], dict[str, frozenset[tuple[str, ...]]]] = defaultdict(dict)
    for result in batch.submissions:
        if result.student_id in exclude:
            continue
        for part in result.parts:
            if part.text:
                essays[(part.problem, part.part)][result.student_id] = shingles(part.text)
    pairs = []
    for (problem, part), by_student in sorted(essays.items()):
        index: dict[tuple[str, ...], list[str]] = defaultdict(list)
        for student, found in sorted(by_student.items()):
            for shingle in found:
                index[shingle].append(student)
        shared: dict[tuple[str, str], int] = defaultdict(int)
        common = max(COMMON_MIN, len(by_student) // 10)
        for students in index.values():
            if len(students) > common:
                continue  # a stock phrase many students use is no evidence of copying
            for a, b in combinations(students, 2):
                shared[(a, b)] += 1
        for (a, b), count in sorted(shared.items()):
            union = len(by_student[a]) + len(by_student[b]) - count
            similarity = Fraction(count, union)
            if similarity >= threshold:
                pairs.append(SimilarPair(problem, part, a, b, similarity, count))
    return tuple(pairs)
