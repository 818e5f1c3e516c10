"""Random answers: seeded mutations of the key's values and of answers files' bytes never break grading.

A guard for what the hand-written hostile cases miss: a Q2b kernel weight of
``"1e400"`` once ended a whole submission in an internal error. Seeded, so
every run tries the same cases and a failure can be replayed.
"""

from __future__ import annotations

import copy
import random
from typing import Any

import tomli

from grader.engine import grade_folder, grade_submission
from grader.submission import LoadedSubmission, find_submissions
from tests.conftest import SUBMISSIONS

KEY = SUBMISSIONS / "answer-key" / "answers.toml"
_NUMBERS: list[Any] = [0, -1, 2**63, -2**70, 10**20, 0.25, -0.0, 1e308, 5e-324, float("inf"), float("nan"),
                       "1e400", "-2e308", "1e-400", "9" * 60, "1/0", "0/0", "۰٫۵", "−3", "2^64", "1e3", True]
_TEXTS = ["", " ", "yes", "بله", "62x62x64", "x*", "X11*dL_dO11 +", "\\frac{1}{0}", "((((X11))))" * 30,
          "X11^(10^10)", "__import__('os')", "lambda: 0", "dL_dO11 * (X11 + X12) ^ 400", "sqrt(-1)", "‌\u200f"]
_SAMPLES = [path / "answers.toml" for path in sorted(SUBMISSIONS.iterdir()) if (path / "answers.toml").is_file()]
_DAMAGE = [b"[", b"]", b"{", b"}", b"=", b'"', b"'", b'"""', b"\n", b",", b"inf", b"nan", b"1e400", b"\\u",
           b"\xff", b"\xd8\x00", b"#", b"1979-05-27T07:32:00Z", b"[q2b]", b"avg_kernel = ", b"\x00", b"9" * 30]


def _odd_value(rng: random.Random, depth: int = 0) -> Any:
    """A value a careless or hostile student might write: odd numbers, texts, lists, matrices, tables."""
    choice = rng.random()
    if choice < 0.3:
        return rng.choice(_NUMBERS)
    if choice < 0.5:
        return rng.choice(_TEXTS)
    if choice < 0.75 and depth < 2:
        return [[rng.choice(_NUMBERS + [0.25]) for _ in range(rng.randint(1, 3))] for _ in range(rng.randint(1, 3))]
    if choice < 0.9 and depth < 2:
        return [_odd_value(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["params", "output_shape", "O", "dL_dF11"]): _odd_value(rng, depth + 1)} if depth < 2 else None


def _places(node: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) under ``node``, each before the places inside its value."""
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    return [place for key, value in items for place in ((node, key), *_places(value))]


def _mutated(data: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """The key with one to four of its values, at any depth, replaced by odd ones."""
    mutated = copy.deepcopy(data)
    for _ in range(rng.randint(1, 4)):
        node, key = rng.choice(_places(mutated))  # found again each time: a replaced value's places are gone
        node[key] = _odd_value(rng)
    return {k: v for k, v in mutated.items() if v is not None}


def test_odd_values_in_the_key_are_graded_without_internal_errors(problems) -> None:
    """Each of 400 seeded mutations of the key's values is graded part by part, none with an internal error."""
    rng = random.Random(20261126)
    key = tomli.loads(KEY.read_text(encoding="utf-8"))
    for _ in range(400):
        data = _mutated(key, rng)
        result = grade_submission(LoadedSubmission("fuzz", None, data), problems)  # raising fails the test
        assert len(result.parts) == sum(len(p.spec.parts) for p in problems)
        assert not any("internal error" in m.en for part in result.parts for m in part.feedback), data


def test_damaged_answers_files_never_stop_grading(tmp_path, problems) -> None:
    """Each of 600 seeded byte-level damages of the sample answers files gives a result with a readable reason."""
    rng = random.Random(20261126)
    originals = [path.read_bytes() for path in _SAMPLES]
    (tmp_path / "s1").mkdir()
    answers = tmp_path / "s1" / "answers.toml"
    answers.write_bytes(originals[0])
    submission = find_submissions(tmp_path)[0]
    for _ in range(600):
        damaged = bytearray(rng.choice(originals))
        for _ in range(rng.randint(1, 6)):
            at = rng.randint(0, len(damaged))
            if rng.random() < 0.5:
                damaged[at:at] = rng.choice(_DAMAGE)
            else:
                del damaged[at:at + rng.randint(1, 20)]
        answers.write_bytes(bytes(damaged))
        result = grade_folder(submission, problems)
        assert result.error is None or ("internal error" not in result.error.en and result.error.fa), bytes(damaged)
