"""Results as plain JSON data and back (for the result cache; never pickle on disk).

The JSON of a result is its cache line's and how a worker sends it: the worker
writes it, so its strings' UTF-8 copies (which an encoder caches on each
string) die with the worker's result instead of doubling the memory a class
run holds.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson

from grader.results import Message, PartResult, ProblemResult, Status, SubmissionResult, SubmissionStatus


def _message(m: Message) -> list[str]:
    return [m.en, m.fa]


def to_data(result: SubmissionResult) -> dict[str, Any]:
    """A submission result as JSON-ready data (exact scores as "p/q" strings)."""
    return {
        "student_id": result.student_id,
        "source": str(result.source) if result.source else None,
        "status": result.status.value,
        "warnings": [_message(w) for w in result.warnings],
        "error": _message(result.error) if result.error else None,
        "ungraded": list(result.ungraded_tables),
        "problems": [
            [p.problem, [[part.part, str(part.score), str(part.max_score), part.status.value,
                          [_message(m) for m in part.feedback], part.diagnosis, part.text]
                         for part in p.parts]]
            for p in result.problems
        ],
    }


def to_json(result: SubmissionResult) -> bytes | None:
    """A result's :func:`to_data` as compact JSON with sorted keys, in UTF-8 (by orjson: compiled, 4x the
    json module's speed); None when UTF-8 cannot hold its text (a name's undecodable bytes, kept as lone
    surrogates)."""
    try:
        return orjson.dumps(to_data(result), option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None


def from_json(data: bytes) -> SubmissionResult:
    """Inverse of :func:`to_json`."""
    return from_data(orjson.loads(data))


def from_data(data: dict[str, Any]) -> SubmissionResult:
    """Inverse of :func:`to_data`.

    Scores and feedback lines a class repeats are made once and shared (they are immutable).

    Raises:
        KeyError, ValueError, TypeError: When the data is not a stored result.
    """
    problems = tuple(
        ProblemResult(problem, tuple(
            _shared_part(problem, part, score, maximum, status, tuple(map(tuple, feedback)), diagnosis)
            if text is None else _part(problem, part, score, maximum, status, feedback, diagnosis, text)
            for part, score, maximum, status, feedback, diagnosis, text in parts))
        for problem, parts in data["problems"])
    return SubmissionResult(
        student_id=data["student_id"],
        source=Path(data["source"]) if data["source"] else None,
        status=SubmissionStatus(data["status"]),
        problems=problems,
        warnings=tuple(Message(*w) for w in data["warnings"]),
        error=Message(*data["error"]) if data["error"] else None,
        ungraded_tables=tuple(data["ungraded"]),
    )


_STATUSES = {status.value: status for status in Status}
_fraction = functools.lru_cache(maxsize=1024)(Fraction)  # a score as "p/q": a class has few distinct values


def _part(problem: str, part: str, score: str, maximum: str, status: str, feedback: Iterable[Sequence[str]],
          diagnosis: str | None, text: str | None) -> PartResult:
    return PartResult(problem, part, _fraction(score), _fraction(maximum), _STATUSES[status],
                      tuple(_shared_message(*m) for m in feedback), diagnosis, text)


@functools.lru_cache(maxsize=4096)
def _shared_part(problem: str, part: str, score: str, maximum: str, status: str,
                 feedback: tuple[tuple[str, ...], ...], diagnosis: str | None) -> PartResult:
    """A part without an essay's text, made once while it recurs (every right answer to Q3 is graded alike);
    an essay's part is its own."""
    return _part(problem, part, score, maximum, status, feedback, diagnosis, None)


@functools.lru_cache(maxsize=4096)
def _shared_message(en: str, fa: str) -> Message:
    """A feedback line, made once while it recurs (most lines but an essay's evidence do)."""
    return Message(en, fa)
