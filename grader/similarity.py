"""Pairs of essays that are suspiciously alike: shingled word n-grams after normalisation.

Shingle sets are compared by Jaccard similarity; MinHash signatures with
banding (locality-sensitive hashing) find the candidate pairs, so a class of
thousands costs about one pass over its essays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from grader.report_formats import DEFAULT_EXCLUDED
from grader.results import BatchResult
from grader.text import normalize_text, word_count

SHINGLE_WORDS = 5
MIN_WORDS = 40
"""Shortest text compared: one or two sentences on the same point coincide without anyone copying
(a class's short explanations would fill the report with pairs that mean nothing)."""
THRESHOLD = Fraction(2, 5)
"""Jaccard similarity of the shingle sets from which a pair is reported."""
MAX_BUCKET = 50
"""A signature band shared by more essays than this is stock phrasing (or one huge cluster that a
person spots at once); it proposes no pairs, which keeps the work linear in the class size."""
HASHES = 64
ROWS = 2
ESTIMATE_MARGIN = 0.25
"""Candidates whose MinHash estimate is this far below the threshold are not checked exactly: with 64
hashes the estimate's standard error is at most 1/16, so this is four of them."""
_BASE = np.uint64(1099511628211)  # the FNV prime: combines word hashes into a sequence hash
BANDS = HASHES // ROWS
_generator = np.random.default_rng(20261126)  # fixed: the same pairs on every run
_MULTIPLIERS = _generator.integers(1, 2**63, size=HASHES, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_OFFSETS = _generator.integers(0, 2**63, size=HASHES, dtype=np.uint64)


@dataclass(frozen=True)
class SimilarPair:
    """Two students' answers to one essay part that share many word sequences."""

    problem: str
    part: str
    student_a: str
    student_b: str
    similarity: Fraction
    shared_shingles: int


def shingles(text: str, size: int = SHINGLE_WORDS) -> frozenset[int]:
    """The set of ``size``-word sequences of the normalised text, each as its 64-bit hash."""
    return frozenset(shingle_hashes(text, size).tolist())


def shingle_hashes(text: str, size: int = SHINGLE_WORDS, *, normalised: bool = False) -> np.ndarray:
    """The sorted, distinct 64-bit hashes of the ``size``-word sequences of the normalised text.

    A sequence's hash is a polynomial in its words' hashes, computed for every
    window at once; an array of them takes a tenth of the memory of a set of
    word tuples, which matters for a class of thousands. ``normalised`` says
    the text is normalised already (graded essays are kept so).
    """
    return _shingle_hashes_of([text if normalised else normalize_text(text)], size)[0]


def _shingle_hashes_of(texts: list[str], size: int = SHINGLE_WORDS) -> list[np.ndarray]:
    """:func:`shingle_hashes` of many normalised texts, their words hashed and combined in one pass.

    Windows are combined over the texts' words end to end; those that run
    from one text into the next are then left out.
    """
    found: list[np.ndarray] = []
    kept = _Powers()
    for chunk in _chunks(texts):
        word_hashes = _word_hashes(chunk, kept)
        # A normalised text's words are parted by single spaces; an empty text counts one empty word.
        ends = np.cumsum([text.count(" ") + 1 for text in chunk]).tolist()
        count = len(word_hashes) - size + 1
        combined = np.zeros(max(count, 0), dtype=np.uint64)
        with np.errstate(over="ignore"):  # arithmetic modulo 2**64 is the hash
            for offset in range(size):
                combined = combined * _BASE + word_hashes[offset:offset + len(combined)]
        for text, start, end in zip(chunk, [0, *ends[:-1]], ends):
            found.append(_distinct(combined[start:end - size + 1]) if text and end - start >= size
                         else np.empty(0, dtype=np.uint64))
    return found


CHARS_AT_ONCE = 1 << 19
"""Characters of text :func:`_shingle_hashes_of` hashes together (a few arrays of 8 bytes each): a bounded
memory, however long the essays."""


def _chunks(texts: list[str]) -> Iterator[list[str]]:
    """The texts in runs of about ``CHARS_AT_ONCE`` characters (a longer text is a run of its own)."""
    chunk: list[str] = []
    chars = 0
    for text in texts:
        if chunk and chars + len(text) > CHARS_AT_ONCE:
            yield chunk
            chunk, chars = [], 0
        chunk.append(text)
        chars += len(text) + 1
    if chunk:
        yield chunk


_WORD_BASE = 0x100000001B3  # odd, so invertible modulo 2**64: a word's hash is a difference of prefix sums
_WORD_BASE_INVERSE = pow(_WORD_BASE, -1, 2**64)
_MIX = (0xBF58476D1CE4E5B9, 0x94D049BB133111EB)


def word_hash(word: str) -> int:
    """A word's 64-bit hash: the polynomial of its UTF-8 bytes modulo 2**64, then mixed (SplitMix64's finish).

    The definition :func:`_word_hashes` computes for every word at once.
    """
    value = 0
    for byte in word.encode("utf-8"):
        value = (value * _WORD_BASE + byte) % 2**64
    value = ((value ^ value >> 30) * _MIX[0]) % 2**64
    value = ((value ^ value >> 27) * _MIX[1]) % 2**64
    return value ^ value >> 31


def _word_hashes(texts: list[str], kept: _Powers | None = None) -> np.ndarray:
    """:func:`word_hash` of each word of the normalised texts, end to end, computed in NumPy (not word by word).

    With ``a`` the bytes and ``B`` the base, the bytes ``s`` up to ``e`` hash to
    ``B**e * (S[e] - S[s])`` where ``S[k]`` sums ``a[i] * B**-(i + 1)`` over
    ``i < k``: one cumulative sum gives every word's hash (an empty word's is 0).
    """
    data = np.frombuffer(" ".join(texts).encode("utf-8"), dtype=np.uint8)
    size = len(data)
    powers, inverse_powers = (kept or _Powers()).upto(size)
    zero = np.zeros(1, dtype=np.uint64)  # not [0]: a list of ints would make the sums floats
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64
        sums = np.concatenate((zero, np.cumsum(data * inverse_powers[1:size + 1], dtype=np.uint64)))
        spaces = np.flatnonzero(data == ord(" "))
        starts, ends = np.concatenate(([0], spaces + 1)), np.concatenate((spaces, [size]))
        value = (sums[ends] - sums[starts]) * powers[ends]
        value ^= value >> np.uint64(30)
        value *= np.uint64(_MIX[0])
        value ^= value >> np.uint64(27)
        value *= np.uint64(_MIX[1])
        value ^= value >> np.uint64(31)
    return value


class _Powers:
    """``B**k`` and ``B**-k`` modulo 2**64 (``B`` the word base), kept while a class's essays are hashed.

    Every chunk of texts needs the same powers: they are computed for the longest chunk yet and an
    eighth more (so that a slightly longer chunk need not compute them again), not once a chunk:
    16 bytes a byte of text: 13 MB for the synthetic 10,000's essays, freed once they are hashed.
    """

    def __init__(self) -> None:
        self.powers = self.inverse = np.ones(1, dtype=np.uint64)

    def upto(self, size: int) -> tuple[np.ndarray, np.ndarray]:
        """The powers and inverse powers for ``k`` from 0 to at least ``size``."""
        if len(self.powers) <= size:
            length = (size + 1) * 9 // 8
            self.powers, self.inverse = _powers_of(_WORD_BASE, length), _powers_of(_WORD_BASE_INVERSE, length)
        return self.powers, self.inverse


def _powers_of(base: int, length: int) -> np.ndarray:
    """``base**k`` modulo 2**64 for ``k`` from 0 to ``length - 1``."""
    factors = np.full(length, base, dtype=np.uint64)
    factors[0] = 1
    with np.errstate(over="ignore"):  # arithmetic modulo 2**64
        return np.cumprod(factors, dtype=np.uint64)


def _signatures(found: list[np.ndarray]) -> np.ndarray:
    """MinHash signatures, one row per essay: for each fixed hash function, the smallest hash of any shingle."""
    rows = np.empty((len(found), HASHES), dtype=np.uint64)
    with np.errstate(over="ignore"):  # multiplication modulo 2**64 is the hash family
        for index, hashes in enumerate(found):
            rows[index] = (hashes[:, None] * _MULTIPLIERS[None, :] + _OFFSETS[None, :]).min(axis=0)
    return rows


def _candidates(signatures: np.ndarray) -> np.ndarray:
    """Index pairs (i < j, sorted) of essays whose signatures agree on a whole band (locality-sensitive hashing)."""
    count = len(signatures)
    codes = np.empty(0, dtype=np.int64)  # a pair (i, j) as i * count + j: 8 bytes a pair, not a tuple's 100
    pending: list[np.ndarray] = []  # the bands' pairs, merged into ``codes`` now and then: bounded memory
    waiting = 0
    for band in range(BANDS):
        # Essays sorted by their band; a bucket is a run of equal bands (found in C, not in a dict).
        keys = signatures[:, band * ROWS:(band + 1) * ROWS]
        order = np.lexsort(keys.T[::-1])
        ordered = keys[order]
        starts = np.flatnonzero(np.concatenate(([True], (ordered[1:] != ordered[:-1]).any(axis=1), [True])))
        sizes = np.diff(starts)
        shared = (sizes > 1) & (sizes <= MAX_BUCKET)
        bucket_starts, bucket_sizes = starts[:-1][shared], sizes[shared]
        for size in np.unique(bucket_sizes).tolist():  # the buckets of one size at once: a row each
            at = bucket_starts[bucket_sizes == size]
            members = np.sort(order[at[:, None] + np.arange(size)], axis=1)
            first, second = _PAIRS[size]
            pending.append((members[:, first] * count + members[:, second]).ravel())
            waiting += len(at) * len(first)
        if waiting > MERGE_PAIRS or band == BANDS - 1:
            codes = _distinct(np.concatenate([codes, *pending]))
            pending, waiting = [], 0
    return np.stack([codes // count, codes % count], axis=1) if codes.size else np.empty((0, 2), dtype=np.int64)


_PAIRS = [np.triu_indices(size, 1) for size in range(MAX_BUCKET + 1)]
"""The index pairs (i < j) of a bucket of each size."""
MERGE_PAIRS = 1 << 22
"""Pairs gathered from the bands before the duplicates among them are dropped (32 MB)."""


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (sorting and comparing neighbours: faster than ``np.unique`` on large arrays)."""
    values = np.sort(values)
    return values[np.concatenate(([True], values[1:] != values[:-1]))] if values.size else values


def _likely(signatures: np.ndarray, candidates: np.ndarray, floor: float, chunk: int = 1 << 14) -> np.ndarray:
    """The candidate pairs whose signatures agree on at least ``floor`` of their hashes (in chunks: bounded memory)."""
    kept = []
    for start in range(0, len(candidates), chunk):
        pairs = candidates[start:start + chunk]
        agreement = (signatures[pairs[:, 0]] == signatures[pairs[:, 1]]).mean(axis=1)
        kept.append(pairs[agreement >= floor])
    return np.concatenate(kept) if kept else candidates


def _exact(found: list[np.ndarray], candidates: np.ndarray, threshold: Fraction
           ) -> list[tuple[int, int, int, int]]:
    """The candidate pairs (sorted by first essay) at or above the threshold: (a, b, shared shingles, union).

    The pairs of one first essay are counted together: the others' shingles,
    concatenated, are looked up in its sorted array at once.
    """
    kept: list[tuple[int, int, int, int]] = []
    if not len(candidates):
        return kept
    lengths = np.array([len(hashes) for hashes in found])
    firsts = candidates[:, 0]
    bounds = np.flatnonzero(np.concatenate(([True], firsts[1:] != firsts[:-1], [True]))).tolist()
    for start, end in zip(bounds[:-1], bounds[1:]):
        a = int(firsts[start])
        others = candidates[start:end, 1]
        mine = found[a]
        sizes = lengths[others]
        flat = np.concatenate([found[b] for b in others.tolist()])
        at = np.minimum(np.searchsorted(mine, flat), len(mine) - 1)
        shared = np.add.reduceat(mine[at] == flat, np.concatenate(([0], np.cumsum(sizes)[:-1])))
        union = len(mine) + sizes - shared
        passed = shared * threshold.denominator >= threshold.numerator * union
        kept += [(a, b, s, u) for b, s, u in zip(others[passed].tolist(), shared[passed].tolist(),
                                                   union[passed].tolist())]
    return kept


def similar_essays(batch: BatchResult, *, exclude: tuple[str, ...] = DEFAULT_EXCLUDED,
                   threshold: Fraction = THRESHOLD) -> tuple[SimilarPair, ...]:
    """Pairs of essays (of ``MIN_WORDS`` words or more) whose shingle sets have a Jaccard similarity of at
    least ``threshold``.

    Candidate pairs come from MinHash signatures split into bands (pairs at
    the threshold share a band with probability above 0.99), so the cost grows
    with the class, not with its square. The signatures' agreement estimates
    each candidate's similarity; those estimated within ``ESTIMATE_MARGIN`` of
    the threshold or above are computed exactly from the shingle sets.
    """
    texts: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for result in batch.submissions:
        if result.student_id in exclude:
            continue
        for part in result.parts:
            if part.text and word_count(part.text) >= MIN_WORDS:  # results hold essays normalised
                texts[(part.problem, part.part)][result.student_id] = part.text
    # Every text compared has MIN_WORDS words, so shingles: none is left with an empty set.
    essays = {key: dict(zip(by_student, _shingle_hashes_of(list(by_student.values()))))
              for key, by_student in texts.items()}
    pairs = []
    for (problem, part), by_student in sorted(essays.items()):
        students = sorted(by_student)
        found = [by_student[student] for student in students]
        signatures = _signatures(found)
        candidates = _candidates(signatures)
        if not len(candidates):
            continue
        for a, b, shared, union in _exact(found, _likely(signatures, candidates, float(threshold) - ESTIMATE_MARGIN),
                                          threshold):
            pairs.append(SimilarPair(problem, part, students[a], students[b], Fraction(shared, union), shared))
    return tuple(pairs)
