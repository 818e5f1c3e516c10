"""Typed grading results: what the engine produces and the reports consume."""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any


class Status(enum.StrEnum):
    """The status of one graded part (the contract's `parts.csv` values)."""

    CORRECT = "correct"
    PARTIAL = "partial"
    WRONG = "wrong"
    MISSING = "missing"
    INVALID = "invalid"
    NEEDS_REVIEW = "needs_review"
    ERROR = "error"


class SubmissionStatus(enum.StrEnum):
    """The status of one submission (the contract's `scores.csv` values)."""

    GRADED = "graded"
    PARTIAL = "partial"
    ERROR = "error"
    MISSING = "missing"


class Lang(enum.StrEnum):
    """Languages feedback is written in."""

    EN = "en"
    FA = "fa"


def exact_sum(values: Iterable[Fraction]) -> Fraction:
    """The exact sum of Fractions, added on their integer terms and reduced once.

    ``sum`` adds Fraction by Fraction, each addition reduced through the
    numbers ABCs: a class's reports make millions of these sums of scores.
    """
    numerator, denominator = 0, 1
    for value in values:
        top, bottom = value.numerator, value.denominator
        if bottom == denominator:
            numerator += top
        else:
            numerator, denominator = numerator * bottom + top * denominator, denominator * bottom
    return Fraction(numerator, denominator)


@dataclass(frozen=True)
class Message:
    """One piece of feedback, in English and Persian."""

    en: str
    fa: str

    def text(self, lang: Lang) -> str:
        """The message in the given language."""
        return self.fa if lang is Lang.FA else self.en


@dataclass(frozen=True)
class Verdict:
    """A judgement of one answer: from the engine's comparisons, a solver's ``verify`` or a rubric.

    Attributes:
        credit: Share of the part's points (0 to 1).
        messages: Feedback for the student.
        diagnosis: Id of the recognised mistake, if any.
        review: Whether a person must look at it (status ``needs_review``).
    """

    credit: Fraction
    messages: tuple[Message, ...]
    diagnosis: str | None = None
    review: bool = False


@dataclass(frozen=True)
class PartResult:
    """The grade of one part of one problem.

    Attributes:
        problem: Problem id, e.g. ``q3``.
        part: Part id, e.g. ``layer1.output_shape``.
        score: Points given (exact).
        max_score: Points possible.
        status: What happened.
        feedback: Messages for the student, in order.
        diagnosis: Id of the recognised mistake, if any (e.g. ``no_bias``).
        text: The student's text of an essay part, normalised as it was matched
            (:func:`grader.text.normalize_text`); the similarity report reads it.
    """

    problem: str
    part: str
    score: Fraction
    max_score: Fraction
    status: Status
    feedback: tuple[Message, ...] = ()
    diagnosis: str | None = None
    text: str | None = None

    def __getstate__(self) -> tuple[Any, ...]:
        # Scores travel as integer pairs and are made again from a small cache: a class's results come back
        # from the workers by the ten thousand, with two scores a part and few distinct values among them.
        return (self.problem, self.part, self.score.numerator, self.score.denominator, self.max_score.numerator,
                self.max_score.denominator, self.status, self.feedback, self.diagnosis, self.text)

    def __setstate__(self, state: tuple[Any, ...]) -> None:
        problem, part, score, score_of, most, most_of, status, feedback, diagnosis, text = state
        self.__dict__.update(problem=problem, part=part, score=_fraction(score, score_of),
                             max_score=_fraction(most, most_of), status=status, feedback=feedback,
                             diagnosis=diagnosis, text=text)


@functools.lru_cache(maxsize=1024)
def _fraction(numerator: int, denominator: int) -> Fraction:
    """A Fraction made once per value (Fractions are immutable: sharing one is safe)."""
    return Fraction(numerator, denominator)


@dataclass(frozen=True)
class ProblemResult:
    """The parts of one problem for one submission."""

    problem: str
    parts: tuple[PartResult, ...]

    @functools.cached_property
    def score(self) -> Fraction:
        """Points given over all parts."""
        return exact_sum(p.score for p in self.parts)

    @functools.cached_property
    def max_score(self) -> Fraction:
        """Points possible over all parts."""
        return exact_sum(p.max_score for p in self.parts)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything the grader found for one submission.

    Attributes:
        student_id: The submission folder's name.
        source: The answers file graded, if one was found.
        status: Overall status.
        problems: Results per problem, in problem order.
        warnings: Notes that cost no points (unknown keys, id mismatch).
        error: Why the submission could not be graded, when ``status`` is error.
        ungraded_tables: Top-level tables of the answers file that no problem grades.
    """

    student_id: str
    source: Path | None
    status: SubmissionStatus
    problems: tuple[ProblemResult, ...] = ()
    warnings: tuple[Message, ...] = ()
    error: Message | None = None
    ungraded_tables: tuple[str, ...] = ()

    @functools.cached_property
    def total(self) -> Fraction:
        """Points given over all problems (computed once: reports ask for it often)."""
        return exact_sum(p.score for p in self.problems)

    @property
    def parts(self) -> tuple[PartResult, ...]:
        """All part results, in problem then part order."""
        return tuple(part for problem in self.problems for part in problem.parts)


@dataclass(frozen=True)
class BatchResult:
    """The results of a whole class, with the problems' maximum scores."""

    submissions: tuple[SubmissionResult, ...]
    max_scores: dict[str, Fraction] = field(default_factory=dict)
    ungraded_problems: tuple[str, ...] = ()

    @property
    def max_total(self) -> Fraction:
        """Points possible for the whole assignment."""
        return exact_sum(self.max_scores.values())
