"""The similarity report: near-copies are flagged, independent essays are not."""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from grader import similarity
from grader.results import BatchResult, PartResult, ProblemResult, Status, SubmissionResult, SubmissionStatus
from grader.similarity import (
    _BASE, CHARS_AT_ONCE, MIN_WORDS, SHINGLE_WORDS, THRESHOLD, _exact, _shingle_hashes_of, _word_hashes, shingles,
    similar_essays, word_hash,
)
from tests.conftest import ROOT

ESSAYS = ROOT / "tests" / "data" / "essays"


def batch_of(essays: dict[str, str]) -> BatchResult:
    """A batch where each student wrote one Q1 essay."""
    return BatchResult(tuple(
        SubmissionResult(sid, None, SubmissionStatus.GRADED, (ProblemResult("q1", (
            PartResult("q1", "answer", Fraction(0), Fraction(10), Status.NEEDS_REVIEW, text=text),)),))
        for sid, text in sorted(essays.items())))


def read(name: str) -> str:
    """One of the test essays."""
    return (ESSAYS / name).read_text(encoding="utf-8")


def test_near_copy_is_flagged_and_independent_essays_are_not() -> None:
    """A lightly edited copy is reported; two independent strong essays on the same topic are not."""
    pairs = similar_essays(batch_of({
        "s1": read("q1_fa_strong.txt"), "s2": read("q1_fa_nearcopy.txt"), "s3": read("q1_fa_independent.txt"),
    }), exclude=())
    assert [(p.student_a, p.student_b) for p in pairs] == [("s1", "s2")]
    assert pairs[0].similarity >= Fraction(1, 2) and pairs[0].problem == "q1"


def test_excluded_ids_are_left_out() -> None:
    """The key and the sample write-up are never part of a pair."""
    text = read("q1_fa_strong.txt")
    assert similar_essays(batch_of({"answer-key": text, "seed-writeup": text, "s1": text})) == ()


def test_shingles_are_normalised() -> None:
    """Shingles ignore ZWNJ, Arabic letters and case."""
    assert shingles("شبکه‌های كپسولی Capsule Network are here") == shingles("شبکه های کپسولی capsule network are here")


def test_exact_check_counts_shared_shingles_like_sets() -> None:
    """For every candidate pair, the shared and total shingle counts are those of the sets, and the threshold holds."""
    generator = np.random.default_rng(5)
    pool = generator.integers(0, 2**63, size=60, dtype=np.uint64)
    found = [np.unique(generator.choice(pool, size=int(generator.integers(1, 80)))) for _ in range(40)]
    candidates = np.array([(a, b) for a in range(40) for b in range(a + 1, 40)], dtype=np.int64)
    kept = _exact(found, candidates, THRESHOLD)
    expected = []
    for a, b in candidates.tolist():
        mine, theirs = set(found[a].tolist()), set(found[b].tolist())
        shared, union = len(mine & theirs), len(mine | theirs)
        if Fraction(shared, union) >= THRESHOLD:
            expected.append((a, b, shared, union))
    assert kept == expected and 0 < len(kept) < len(candidates)


def test_class_of_near_copies_reports_each_close_pair_once() -> None:
    """Thirty edits of one essay: every reported pair is distinct, ordered, and at or above the threshold."""
    words = read("q1_en_strong.txt").split()
    essays = {f"s{i:02}": " ".join(w for j, w in enumerate(words) if (j + i) % 7) for i in range(30)}
    pairs = similar_essays(batch_of(essays), exclude=())
    keys = [(p.student_a, p.student_b) for p in pairs]
    assert len(keys) == len(set(keys)) > 0 and all(a < b for a, b in keys)
    assert all(p.similarity >= THRESHOLD for p in pairs)


def test_no_likely_candidates_means_no_pairs() -> None:
    """When no candidate pair is left after the estimate, the exact check finds none (and does not fail)."""
    found = [np.array([1, 2, 3], dtype=np.uint64), np.array([7, 8, 9], dtype=np.uint64)]
    assert _exact(found, np.empty((0, 2), dtype=np.int64), THRESHOLD) == []


def test_shingles_of_many_texts_are_those_of_each_text() -> None:
    """Hashing many texts at once (across chunks, with short and empty texts) gives each text's own shingles."""
    words = read("q1_en_strong.txt").split()
    texts = [" ".join(words[i % 40:i % 40 + i % 23]) for i in range(CHARS_AT_ONCE // 20)]  # 0 to 22 words
    assert sum(map(len, texts)) > 2 * CHARS_AT_ONCE  # three chunks or more

    def by_hand(text: str) -> list[int]:  # the polynomial of each 5-word window, modulo 2**64
        hashes = [word_hash(word) for word in text.split()]
        windows = set()
        for start in range(len(hashes) - SHINGLE_WORDS + 1):
            value = 0
            for hashed in hashes[start:start + SHINGLE_WORDS]:
                value = (value * int(_BASE) + hashed) % 2**64
            windows.add(value)
        return sorted(windows)

    found = _shingle_hashes_of(texts)
    assert len(found) == len(texts)
    assert all(hashes.tolist() == by_hand(text) for hashes, text in zip(found, texts))
    assert sum(1 for hashes in found if hashes.size == 0) > 100  # texts under five words have none


def test_word_hashes_at_once_are_each_words_own() -> None:
    """Hashing many texts' words at once (Persian, English, empty texts, one letter) gives each word's word_hash."""
    texts = [read("q1_fa_strong.txt"), "", "a", "x y", read("q1_en_strong.txt"), "", "ء ب‌پ 12 ۳۴"]
    texts = [" ".join(text.split()) for text in texts]  # normalised: single spaces
    words = [word for text in texts for word in (text.split(" ") if text else [""])]
    found = _word_hashes(texts).tolist()
    assert len(found) == len(words) > 500
    assert [value for value, word in zip(found, words) if word] == [word_hash(word) for word in words if word]
    assert len({word_hash(word) for word in words}) == len(set(words))  # no two words alike
    assert _word_hashes([""]).tolist() == [0] and shingles("") == frozenset()


def test_word_hashes_are_right_after_the_kept_powers_grow() -> None:
    """Word hashes are each word's word_hash from the first text on, as the powers kept for longer texts grow."""
    kept = similarity._Powers()
    words = read("q1_fa_strong.txt").split()
    for text in ("x", " ".join(words[:3]), " ".join(words), " ".join(words * 3), " ".join(words[:7])):
        assert _word_hashes([text], kept).tolist() == [word_hash(word) for word in text.split(" ")]
    assert len(kept.powers) > len(" ".join(words * 3).encode())


def test_short_texts_are_not_compared() -> None:
    """Two identical texts under MIN_WORDS words are not a pair; two identical texts of MIN_WORDS words are."""
    words = read("q1_en_strong.txt").split()
    short, long = " ".join(words[:MIN_WORDS - 1]), " ".join(words[:MIN_WORDS])
    assert similar_essays(batch_of({"s1": short, "s2": short}), exclude=()) == ()
    assert [(p.student_a, p.student_b) for p in similar_essays(batch_of({"s1": long, "s2": long}), exclude=())] \
        == [("s1", "s2")]
