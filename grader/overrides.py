"""Instructor overrides: ``overrides.csv`` applied on every run, so a regrade never loses them."""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path

from grader.csv_files import read_csv
from grader.errors import GraderError
from grader.results import BatchResult, Message, PartResult, Status
from grader.values import format_number as points

COLUMNS = ("student_id", "problem", "part", "score", "comment")
MAX_OVERRIDES_BYTES = 5_000_000


@dataclass(frozen=True)
class Override:
    """A score an instructor set for one part of one student, with the reason."""

    student_id: str
    problem: str
    part: str
    score: Fraction
    comment: str


def load_overrides(path: Path) -> tuple[Override, ...]:
    """Read ``overrides.csv`` (student_id, problem, part, score, comment).

    Raises:
        GraderError: Naming the file (and line), when it is not UTF-8 CSV, for a
            missing column, a bad score or a part overridden twice.
    """
    columns, rows = read_csv(path, MAX_OVERRIDES_BYTES)
    missing = [c for c in COLUMNS if c not in columns]
    if missing:
        raise GraderError(f"{path}: missing column(s) {', '.join(missing)}; expected {', '.join(COLUMNS)}")
    overrides: dict[tuple[str, str, str], Override] = {}
    for line, row in enumerate(rows, start=2):
        key = tuple((row[column] or "").strip() for column in COLUMNS[:3])  # a short row has None for the rest
        try:
            score = Fraction(row["score"].strip())
        except (ValueError, ZeroDivisionError, AttributeError):
            raise GraderError(f"{path}, line {line}: score {row['score']!r} is not a number") from None
        if key in overrides:
            raise GraderError(f"{path}, line {line}: {'/'.join(key)} is overridden twice")
        overrides[key] = Override(*key, score, (row["comment"] or "").strip())
    return tuple(overrides.values())


def apply_overrides(batch: BatchResult, overrides: tuple[Override, ...]) -> tuple[BatchResult, list[str]]:
    """The batch with the instructor's scores in place of the machine's.

    Returns:
        The new batch, and a warning for each override that matches no part
        or gives more than the part's points.
    """
    by_key = {(o.student_id, o.problem, o.part): o for o in overrides}
    used: set[tuple[str, str, str]] = set()
    warnings: list[str] = []
    submissions = []
    for result in batch.submissions:
        problems = []
        for problem in result.problems:
            parts = []
            for part in problem.parts:
                override = by_key.get((result.student_id, part.problem, part.part))
                if override is not None:
                    used.add((override.student_id, override.problem, override.part))
                    if not 0 <= override.score <= part.max_score:
                        warnings.append(f"override for {result.student_id}/{part.problem}/{part.part} ignored: "
                                        f"score {points(override.score)} is outside 0..{points(part.max_score)}")
                    else:
                        part = _overridden(part, override)
                parts.append(part)
            problems.append(replace(problem, parts=tuple(parts)))
        submissions.append(replace(result, problems=tuple(problems)))
    for key in sorted(set(by_key) - used):
        warnings.append(f"override for {'/'.join(key)} matches no graded part")
    return replace(batch, submissions=tuple(submissions)), warnings


def _overridden(part: PartResult, override: Override) -> PartResult:
    status = Status.CORRECT if override.score == part.max_score else Status.PARTIAL if override.score else Status.WRONG
    note = Message(
        f"Score set by the instructor: {override.comment or 'no comment'} "
        f"(the grader gave {points(part.score)}, {part.status.value}).",
        f"نمره را استاد تعیین کرده است: {override.comment or 'بدون توضیح'} "
        f"(نمره سامانه {points(part.score)}، {part.status.value}).")
    return replace(part, score=override.score, status=status, feedback=(note, *part.feedback), diagnosis="overridden")
