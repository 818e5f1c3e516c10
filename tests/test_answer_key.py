"""The committed answer key is what the solvers produce, and it scores full marks."""

from __future__ import annotations

import tomllib
from fractions import Fraction

from grader.answer_key import answer_key_toml, key_value, to_toml
from tests.conftest import ROOT, SUBMISSIONS
from tests.helpers import grade_path


def test_committed_key_is_up_to_date(problems) -> None:
    """solutions/answers.toml and the answer-key sample equal a freshly generated key."""
    fresh = answer_key_toml(problems)
    assert (ROOT / "solutions" / "answers.toml").read_text(encoding="utf-8") == fresh
    assert (SUBMISSIONS / "answer-key" / "answers.toml").read_text(encoding="utf-8") == fresh


def test_key_scores_full_marks(problems) -> None:
    """The generated key scores every point of every problem."""
    result = grade_path(ROOT / "solutions" / "answers.toml", problems).submissions[0]
    assert result.total == sum(p.spec.max_score for p in problems)


def test_exact_values_stay_exact() -> None:
    """Fractions are written as ints, short decimals, or "p/q" strings, never rounded."""
    assert [key_value(Fraction(v)) for v in ("3", "1/4", "1/3")] == [3, 0.25, "1/3"]


def test_toml_writer_round_trips() -> None:
    """to_toml writes text that tomllib reads back to the same data, escapes included."""
    data = {"q": {"s": 'a "quote"\n\\ and ۱/۴', "m": [[1, 2], [3, 4]], "b": True, "f": 0.25,
                  "rows": [{"x": 1}, {"x": 2}], "sub": {"k": "v"}}}
    assert tomllib.loads(to_toml(data)) == data
