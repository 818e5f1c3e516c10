"""Per-student variants: each student's own numbers, drawn from a secret and their id.

A problem whose ``problem.toml`` has a ``[variants]`` table is drawn anew for
each student: the solver's ``vary(parameters, variants, rng)`` picks numbers
within the table's choices, with ``rng`` seeded by HMAC-SHA256 of the course
secret over the assignment, the problem id and the student id. The same student
always gets the same numbers; without the secret nobody can work out another
student's. A draw is kept only when the solver solves it and every mistake the
spec diagnoses still shows in it (changes some answer, and not every answer the
same way as another mistake), so grading stays exact in every variant.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import random
import unicodedata
from dataclasses import dataclass
from typing import Any, Mapping

from grader.compare import same_expected
from grader.course import Course
from grader.errors import SolverError
from grader.problems import Problem

MAX_DRAWS = 200
"""Draws tried before a problem's ``[variants]`` is declared too narrow."""


def normalize_id(student_id: str) -> str:
    """The id as seeds use it: Unicode NFKC, no surrounding space, case-folded (``S123 `` is ``s123``)."""
    return unicodedata.normalize("NFKC", student_id).strip().casefold()


def variant_rng(secret: str, assignment: str, problem_id: str, student_id: str) -> random.Random:
    """The random generator of one student's variant of one problem."""
    message = "\0".join((assignment, problem_id, normalize_id(student_id))).encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return random.Random(int.from_bytes(digest, "big"))


def draw_parameters(problem: Problem, secret: str, assignment: str, student_id: str) -> dict[str, Any]:
    """A student's parameters of ``problem``: the homework's when it has no ``[variants]``.

    Raises:
        SolverError: When no acceptable variant turns up in ``MAX_DRAWS`` draws.
    """
    if not problem.spec.variants:
        return dict(problem.spec.parameters)
    rng = variant_rng(secret, assignment, problem.id, student_id)
    for _ in range(MAX_DRAWS):
        try:
            parameters = problem.solver.vary(problem.spec.parameters, problem.spec.variants, rng)
        except (SolverError, ValueError, KeyError, TypeError) as error:
            raise SolverError(f"{problem.spec.folder / 'problem.toml'}: [variants]: {error}") from None
        if variant_problem(problem, parameters) is not None:
            return parameters
    raise SolverError(f"{problem.id}: no valid variant in {MAX_DRAWS} draws; widen its [variants] choices")


def variant_problem(problem: Problem, parameters: Mapping[str, Any]) -> Problem | None:
    """``problem`` with ``parameters``, solved; None when the solver cannot solve them or a mistake would not show."""
    return _solved(problem, json.dumps(parameters, sort_keys=True))


@functools.lru_cache(maxsize=512)  # a worker meets each variant once per submission; keep memory bounded
def _solved(problem: Problem, parameters_json: str) -> Problem | None:
    try:
        solved = problem.with_parameters(json.loads(parameters_json))
    except (SolverError, ValueError, KeyError, TypeError):
        return None
    return solved if mistakes_show(solved) else None


def mistakes_show(problem: Problem) -> bool:
    """Whether every mistake switch changes some answer, and no two mistakes change them all alike."""
    parts = problem.spec.parts
    mistaken = list(problem.mistaken.values())
    return (all(any(_differs(part, answers, problem.expected) for part in parts) for answers in mistaken)
            and all(any(_differs(part, a, b) or _differs(part, b, a) for part in parts)
                    for i, a in enumerate(mistaken) for b in mistaken[i + 1:]))


def _differs(part: Any, answers: Mapping[str, Any], other: Mapping[str, Any]) -> bool:
    path = part.answer_text
    if path not in answers:
        return False
    return path not in other or not same_expected(part.kind, answers[path], other[path], part.tolerance)


@dataclass(frozen=True)
class Variants:
    """Where each student's problems come from when variants are on.

    Attributes:
        problems: The homework's problems (the variants are drawn from their ``[variants]``).
        secret: The course secret.
        assignment: The assignment name (part of every seed, so homeworks differ).
    """

    problems: tuple[Problem, ...]
    secret: str
    assignment: str

    def parameters(self, student_id: str) -> dict[str, dict[str, Any]]:
        """Each problem's parameters for the student, by problem id."""
        return {p.id: draw_parameters(p, self.secret, self.assignment, student_id) for p in self.problems}

    def for_student(self, student_id: str) -> tuple[Problem, ...]:
        """The student's own problems, solved.

        Raises:
            SolverError: When a problem has no valid variant.
        """
        result = []
        for problem in self.problems:
            if not problem.spec.variants:
                result.append(problem)
                continue
            solved = variant_problem(problem, draw_parameters(problem, self.secret, self.assignment, student_id))
            assert solved is not None  # draw_parameters keeps only draws that solve
            result.append(solved)
        return tuple(result)


def variant_seed(course: Course) -> tuple[str, str] | None:
    """The secret and assignment name the course's numbers are drawn from; None when variants are off.

    Raises:
        GraderError: When variants are on without a secret.
    """
    return (course.variant_secret, course.assignment) if course.variants else None


def variants_for(course: Course, problems: tuple[Problem, ...]) -> Variants | None:
    """The course's variants when they are on, else None (everyone grades against the homework's numbers).

    Raises:
        GraderError: When variants are on without a secret.
    """
    seed = variant_seed(course)
    return Variants(problems, *seed) if seed is not None else None
