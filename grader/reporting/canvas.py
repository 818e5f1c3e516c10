"""Canvas gradebook import CSV (Grades > Import).

The layout of Canvas's own gradebook export, which its import reads back:
the columns ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``,
``Section``, then one column per assignment (here the course's assignment,
e.g. ``Homework 7``). The first data row is the points-possible row:
``Student`` is ``"    Points Possible"`` (four leading spaces, as Canvas
writes it), the identity columns are empty and the assignment column holds
the assignment's maximum total.

Students are matched by Canvas on ``SIS User ID`` (the grader's
``student_id``); ``ID`` (Canvas's internal user id) and ``SIS Login ID`` are
left empty because the grader does not know them. ``Student`` and
``Section`` come from the roster when one is given. A student without a
submission (roster status ``missing``) gets an empty score, which Canvas
shows as ungraded; an unreadable submission scores 0, as in ``scores.csv``.
"""

from __future__ import annotations

import csv
import io

from grader.course import Course
from grader.reporting.formatting import points
from grader.results import BatchResult, SubmissionStatus
from grader.roster import Roster

IDENTITY_COLUMNS = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "    Points Possible"


def canvas_columns(course: Course) -> list[str]:
    """The header row: the identity columns, then the assignment's name."""
    return [*IDENTITY_COLUMNS, course.assignment]


def canvas_csv(batch: BatchResult, course: Course, roster: Roster | None = None) -> str:
    """The class's totals as a Canvas gradebook import file.

    Args:
        batch: The graded class (after overrides and the roster join, if any).
        course: Gives the assignment column's name.
        roster: Names and sections; without it ``Student`` and ``Section`` are empty.

    Returns:
        CSV text with Unix line ends: the header, the points-possible row,
        then one row per student sorted by ``student_id``; scores are points
        rounded to 4 places.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(canvas_columns(course))
    writer.writerow([POINTS_POSSIBLE, "", "", "", "", points(batch.max_total)])
    for result in sorted(batch.submissions, key=lambda r: r.student_id):
        student = roster.get(result.student_id) if roster is not None else None
        score = "" if result.status is SubmissionStatus.MISSING else points(result.total)
        writer.writerow([student.name if student else "", "", result.student_id, "",
                         student.section if student else "", score])
    return buffer.getvalue()
