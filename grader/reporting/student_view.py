"""What a student is shown of their results, by the course's reveal setting.

One view feeds every student-facing output (``grade check``, its JSON, the
feedback files), so the reveal policy is applied in one place.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Mapping

from grader.hashed import HashedAnswer
from grader.course import Reveal
from grader.problems import Problem
from grader.reporting.formatting import feedback_text, points
from grader.memo import IdentityMemo
from grader.results import Lang, Message, PartResult, Status, SubmissionResult, exact_sum
from grader.spec import AnswerKind
from grader.values import format_number

STATUS_WORDS = {
    Status.CORRECT: Message("correct", "درست"),
    Status.PARTIAL: Message("partial", "نیمه‌درست"),
    Status.WRONG: Message("wrong", "نادرست"),
    Status.MISSING: Message("missing", "بی‌پاسخ"),
    Status.INVALID: Message("invalid", "نامعتبر"),
    Status.NEEDS_REVIEW: Message("needs review", "در انتظار بازبینی"),
    Status.ERROR: Message("error", "خطا"),
}


@dataclass(frozen=True)
class PartView:
    """One part as the student sees it; fields beyond the reveal level are None."""

    problem: str
    part: str
    score: str
    max_score: str
    status: Status | None
    feedback: str | None
    expected: str | None


@dataclass(frozen=True)
class StudentView:
    """A submission as the student sees it."""

    student_id: str
    total: str
    max_total: str
    status: str
    error: str | None
    warnings: tuple[str, ...]
    problems: tuple[tuple[str, str, str, str], ...]  # (problem id, title, score, max score)
    parts: tuple[PartView, ...]


def format_expected(kind: AnswerKind, value: Any) -> str | None:
    """An expected value as a student would write it; None for essays (their feedback lists the concepts)
    and for answers known only as digests (the student bundle)."""
    if kind is AnswerKind.TEXT or isinstance(value, HashedAnswer):
        return None
    if kind is AnswerKind.FORMULA:
        return value.text
    if kind is AnswerKind.MATRIX:
        return "[" + ", ".join("[" + ", ".join(format_number(Fraction(v)) for v in row) + "]" for row in value) + "]"
    if kind is AnswerKind.SHAPE:
        return "[" + ", ".join(str(v) for v in value) + "]"
    if kind is AnswerKind.NUMBER:
        return format_number(Fraction(value))
    if kind is AnswerKind.BOOLEAN:
        return "true" if value else "false"
    return str(value)


def expected_answers(problems: tuple[Problem, ...]) -> dict[tuple[str, str], str | None]:
    """Each part's expected answer as text, keyed by (problem, part)."""
    return {(p.id, part.id): format_expected(part.kind, p.expected[part.answer_text])
            for p in problems for part in p.spec.parts}


def student_view(result: SubmissionResult, problems: tuple[Problem, ...], reveal: Reveal, lang: Lang,
                 expected: Mapping[tuple[str, str], str | None] | None = None) -> StudentView:
    """The student's view of a result, with only what ``reveal`` allows."""
    titles, max_total = _headings(problems, lang)
    answers = expected if expected is not None else (expected_answers(problems) if reveal >= Reveal.ANSWER else {})
    status, feedback, answer = reveal >= Reveal.STATUS, reveal >= Reveal.FEEDBACK, reveal >= Reveal.ANSWER

    def view(part: PartResult) -> PartView:
        expected = answers.get((part.problem, part.part)) if answer else None

        def make() -> PartView:
            return PartView(part.problem, part.part, points(part.score), points(part.max_score),
                            part.status if status else None, feedback_text(part.feedback, lang) if feedback else None,
                            expected)

        # A class shares its parts (every right answer to Q3 is graded alike): their views are made once.
        # An essay's part is its own.
        return make() if part.text is not None else _PART_VIEWS.get(part, (status, feedback, lang, expected), make)

    parts = tuple(map(view, result.parts))
    return StudentView(
        student_id=result.student_id,
        total=points(result.total),
        max_total=max_total,
        status=result.status.value,
        error=result.error.text(lang) if result.error else None,
        warnings=tuple(w.text(lang) for w in result.warnings),
        problems=tuple((p.problem, titles.get(p.problem, p.problem), points(p.score), points(p.max_score))
                       for p in result.problems),
        parts=parts,
    )


_PART_VIEWS: IdentityMemo[PartView] = IdentityMemo(1 << 14)


@functools.lru_cache(maxsize=64)  # the same for every student of a class
def _headings(problems: tuple[Problem, ...], lang: Lang) -> tuple[Mapping[str, str], str]:
    """The problems' titles by id, and the points of all of them (as text)."""
    return ({p.id: p.spec.title.text(lang) for p in problems},
            points(exact_sum(p.spec.max_score for p in problems)))


def view_dict(view: StudentView, lang: Lang) -> dict[str, Any]:
    """A view as JSON-ready data (``grade check --json``); hidden fields are left out."""
    def part(p: PartView) -> dict[str, Any]:
        data: dict[str, Any] = {"part": p.part, "score": float(p.score), "max_score": float(p.max_score)}
        if p.status is not None:
            data["status"] = p.status.value
        if p.feedback is not None:
            data["feedback"] = p.feedback
        if p.expected is not None:
            data["expected"] = p.expected
        return data

    return {
        "student_id": view.student_id,
        "status": view.status,
        "total": float(view.total),
        "max_total": float(view.max_total),
        "error": view.error,
        "warnings": list(view.warnings),
        "problems": [
            {"problem": pid, "title": title, "score": float(score), "max_score": float(maximum),
             "parts": [part(p) for p in view.parts if p.problem == pid]}
            for pid, title, score, maximum in view.problems
        ],
    }
