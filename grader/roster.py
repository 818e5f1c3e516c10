"""The class roster (``--roster roster.csv``): who should have submitted, with names and emails."""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from pathlib import Path

from grader.csv_files import read_csv
from grader.errors import GraderError
from grader.results import BatchResult, Message, SubmissionResult, SubmissionStatus

COLUMNS = ("student_id", "name", "email", "section")
MAX_ROSTER_BYTES = 20_000_000


@dataclass(frozen=True)
class Student:
    """One roster row."""

    student_id: str
    name: str = ""
    email: str = ""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    """The students of a course, by id."""

    students: tuple[Student, ...]

    def get(self, student_id: str) -> Student | None:
        """The roster entry of a student, if any."""
        return self._by_id.get(student_id)

    @functools.cached_property
    def _by_id(self) -> dict[str, Student]:
        return {s.student_id: s for s in self.students}


def load_roster(path: Path) -> Roster:
    """Read ``roster.csv`` (student_id, name, email, section; only student_id is required).

    Raises:
        GraderError: Naming the file (and line), when it is not UTF-8 CSV, for a missing column,
            an empty or repeated id.
    """
    columns, rows = read_csv(path, MAX_ROSTER_BYTES)
    if "student_id" not in columns:
        raise GraderError(f"{path}: no student_id column; expected {', '.join(COLUMNS)}")
    students: dict[str, Student] = {}
    for line, row in enumerate(rows, start=2):
        student_id = (row.get("student_id") or "").strip()
        if not student_id:
            raise GraderError(f"{path}, line {line}: empty student_id")
        if student_id in students:
            raise GraderError(f"{path}, line {line}: student_id {student_id!r} appears twice")
        students[student_id] = Student(student_id, *((row.get(c) or "").strip() for c in COLUMNS[1:]))
    return Roster(tuple(sorted(students.values(), key=lambda s: s.student_id)))


NOT_ON_ROSTER = Message("This submission's student id is not on the roster.",
                        "شناسه دانشجوی این پاسخ در فهرست کلاس نیست.")
NO_SUBMISSION = Message("No submission from this student.", "از این دانشجو پاسخی دریافت نشده است.")


def join_roster(batch: BatchResult, roster: Roster) -> BatchResult:
    """Add a ``missing`` result for each roster student without a submission, and flag the others.

    Submissions whose id is not on the roster keep their grade and get a warning.
    """
    graded = {r.student_id for r in batch.submissions}
    results = [r if roster.get(r.student_id) else replace(r, warnings=(NOT_ON_ROSTER, *r.warnings))
               for r in batch.submissions]
    results += [SubmissionResult(s.student_id, None, SubmissionStatus.MISSING, error=NO_SUBMISSION)
                for s in roster.students if s.student_id not in graded]
    return replace(batch, submissions=tuple(sorted(results, key=lambda r: r.student_id)))
