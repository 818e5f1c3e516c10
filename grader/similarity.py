"""Pairs of essays that are suspiciously alike: shingled word n-grams after normalisation.

Shingle sets are compared by Jaccard similarity; MinHash signatures with
banding (locality-sensitive hashing) find the candidate pairs, so a class of
thousands costs about one pass over its essays.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction
from itertools import combinations

import numpy as np

from grader.results import BatchResult
from grader.text import normalize_text

SHINGLE_WORDS = 5
THRESHOLD = Fraction(2, 5)
"""Jaccard similarity of the shingle sets from which a pair is reported."""
MAX_BUCKET = 50
"""A signature band shared by more essays than this is stock phrasing (or one huge cluster that a
person spots at once); it proposes no pairs, which keeps the work linear in the class size."""
HASHES = 64
ROWS = 2
BANDS = HASHES // ROWS
_generator = np.random.default_rng(20261126)  # fixed: the same pairs on every run
_MULTIPLIERS = _generator.integers(1, 2**63, size=HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_OFFSETS = _generator.integers(0, 2**63, size=HASHES, dtype=np.uint64)
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


def _signature(found: frozenset[tuple[str, ...]]) -> np.ndarray:
    """A MinHash signature: for each of the fixed hash functions, the smallest hash of any shingle."""
    hashes = np.fromiter((int.from_bytes(hashlib.blake2b("\x1f".join(s).encode(), digest_size=8).digest(), "little")
                          for s in found), dtype=np.uint64, count=len(found))
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the hash family
        return (hashes[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]).min(axis=0)


def _candidates(signatures: dict[str, np.ndarray]) -> set[tuple[str, str]]:
    """Pairs of students whose signatures agree on a whole band (locality-sensitive hashing)."""
    pairs: set[tuple[str, str]] = set()
    for band in range(BANDS):
        buckets: dict[bytes, list[str]] = defaultdict(list)
        for student, signature in signatures.items():
            buckets[signature[band * ROWS:(band + 1) * ROWS].tobytes()].append(student)
        for students in buckets.values():
            if 1 < len(students) <= MAX_BUCKET:
                pairs.update(combinations(students, 2))
    return pairs


def similar_essays(batch: BatchResult, *, exclude: tuple[str, ...] = DEFAULT_EXCLUDED,
                   threshold: Fraction = THRESHOLD) -> tuple[SimilarPair, ...]:
    """Pairs of essays whose shingle sets have a Jaccard similarity of at least ``threshold``.

    Candidate pairs come from MinHash signatures split into bands (pairs at
    the threshold share a band with probability above 0.99), so the cost grows
    with the class, not with its square; each candidate's similarity is then
    computed exactly from the shingle sets.
    """
    essays: dict[tuple[str, str], dict[str, frozenset[tuple[str, ...]]]] = defaultdict(dict)
    for result in batch.submissions:
        if result.student_id in exclude:
            continue
        for part in result.parts:
            if part.text:
                found = shingles(part.text)
                if found:
                    essays[(part.problem, part.part)][result.student_id] = found
    pairs = []
    for (problem, part), by_student in sorted(essays.items()):
        signatures = {student: _signature(found) for student, found in sorted(by_student.items())}
        for a, b in sorted(_candidates(signatures)):
            shared = len(by_student[a] & by_student[b])
            similarity = Fraction(shared, len(by_student[a]) + len(by_student[b]) - shared)
            if similarity >= threshold:
                pairs.append(SimilarPair(problem, part, a, b, similarity, shared))
    return tuple(pairs)
