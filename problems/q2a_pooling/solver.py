"""Reference solution for Q2a: the rubric's model answer (essays are graded by rubric.toml)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

from grader.rubric import load_rubric


def solve(parameters: Mapping[str, Any], *, mistakes: frozenset[str] = frozenset(),
          given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The model answer, in Persian (the course's language), for the answer key."""
    return {"answer": load_rubric(Path(__file__).with_name("rubric.toml")).model_answer.fa}
