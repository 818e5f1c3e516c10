"""Results as plain JSON data and back (for the result cache; never pickle on disk)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

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


def from_data(data: dict[str, Any]) -> SubmissionResult:
    """Inverse of :func:`to_data`.

    Raises:
        KeyError, ValueError, TypeError: When the data is not a stored result.
    """
    problems = tuple(
        ProblemResult(problem, tuple(
            PartResult(problem, part, Fraction(score), Fraction(maximum), Status(status),
                       tuple(Message(*m) for m in feedback), diagnosis, text)
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
