"""Moodle gradebook import CSV (Grades > Import > CSV file).

Moodle's CSV import asks the teacher to map the columns: "Map from" a column
holding the user's identity "to" a user field (ID number, email address,
username), and each other column to a grade item or to "Feedback for <item>",
or to a new grade item named by the column's header. So the file holds:

- ``ID number``: the grader's ``student_id`` (map it to the user's ID number;
  it is the first column, which Moodle pre-selects in "Map from");
- ``Email address``: from the roster, when it gives any email (map to email
  address instead if ID numbers are not filled in in Moodle);
- the assignment (e.g. ``Homework 7``): the total, points rounded to 4 places;
- ``Homework 7 (Feedback)``: named as Moodle's own grade export names a
  feedback column (``<item> (Feedback)``); one line per student: the total,
  each problem's points, then the reason the file could not be read and what
  to fix in each part short of full marks.

Moodle's documentation warns that importing feedback rewrites the grades of
that item, so grade and feedback are always imported together. Rows are left
out when the import would do harm: students without a submission (an empty
grade would clear a grade entered by hand) and, when a roster is given,
submissions whose id is not on it (an identifier that matches no Moodle user
stops the whole import).
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from grader.course import Course
from grader.reporting.formatting import feedback_text, points
from grader.results import BatchResult, Lang, SubmissionResult, SubmissionStatus
from grader.roster import Roster

ID_COLUMN = "ID number"
EMAIL_COLUMN = "Email address"


def feedback_column(course: Course) -> str:
    """The feedback column's header, as Moodle's export names it: ``Homework 7 (Feedback)``."""
    return f"{course.assignment} (Feedback)"


def moodle_feedback(result: SubmissionResult, max_total_text: str, lang: Lang) -> str:
    """One line of feedback: total, per-problem points, the file error, then each part short of full marks."""
    pieces = [f"{points(result.total)}/{max_total_text}"]
    pieces += [f"{problem.problem} {points(problem.score)}/{points(problem.max_score)}" for problem in result.problems]
    if result.error is not None:
        pieces.append(result.error.text(lang))
    else:
        for part in result.parts:
            if part.score < part.max_score:
                text = feedback_text(part.feedback, lang)
                pieces.append(f"{part.problem} {part.part}: {text}" if text else f"{part.problem} {part.part}")
    pieces += [warning.text(lang) for warning in result.warnings]
    return " | ".join(" ".join(piece.split()) for piece in pieces)


def write_moodle_csv(file: TextIO, batch: BatchResult, course: Course, roster: Roster | None = None,
                     lang: Lang = Lang.EN) -> None:
    """Write the class's totals and feedback (:func:`moodle_csv`'s text) to ``file``, a row at a time: the
    text of a class of 10,000 is some 60 MB.

    Args:
        file: Where the text goes.
        batch: The graded class (after overrides and the roster join, if any).
        course: Gives the grade and feedback columns' names.
        roster: Emails, and which ids Moodle knows; optional.
        lang: Language of the feedback column.
    """
    with_email = roster is not None and any(student.email for student in roster.students)
    header = [ID_COLUMN, *([EMAIL_COLUMN] if with_email else []), course.assignment, feedback_column(course)]
    writer = csv.writer(file, lineterminator="\n")
    writer.writerow(header)
    max_total = points(batch.max_total)
    for result in sorted(batch.submissions, key=lambda r: r.student_id):
        if result.status is SubmissionStatus.MISSING:
            continue
        student = roster.get(result.student_id) if roster is not None else None
        if roster is not None and student is None:
            continue
        email = [student.email if student else ""] if with_email else []
        writer.writerow([result.student_id, *email, points(result.total), moodle_feedback(result, max_total, lang)])


def moodle_csv(batch: BatchResult, course: Course, roster: Roster | None = None, lang: Lang = Lang.EN) -> str:
    """The class's totals and feedback as a Moodle grade import file.

    Args:
        batch: The graded class (after overrides and the roster join, if any).
        course: Gives the grade and feedback columns' names.
        roster: Emails, and which ids Moodle knows; optional.
        lang: Language of the feedback column.

    Returns:
        CSV text (UTF-8, Unix line ends): the header, then one row per student
        sorted by ``student_id``.
    """
    buffer = io.StringIO()
    write_moodle_csv(buffer, batch, course, roster, lang)
    return buffer.getvalue()
