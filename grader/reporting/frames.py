"""Results as pandas frames, in the contract's columns and row order."""

from __future__ import annotations

from operator import itemgetter

import pandas as pd

from grader.reporting.formatting import feedback_text, points
from grader.results import BatchResult, Lang, Status

SCORES_COLUMNS_AFTER = ("total", "max_total", "status", "notes")
PARTS_COLUMNS = ("student_id", "problem", "part", "score", "max_score", "status", "feedback", "diagnosis")


def scores_frame(batch: BatchResult, lang: Lang) -> pd.DataFrame:
    """One row per student: a column per problem, total, max_total, status, notes.

    ``notes`` extends the contract's columns (it is the last column): why a
    submission could not be read, then the warnings (unknown keys, id mismatch).
    """
    problem_ids = list(batch.max_scores)
    max_total = points(batch.max_total)
    rows = []
    for result in batch.submissions:
        scores = {p.problem: points(p.score) for p in result.problems}
        rows.append({
            "student_id": result.student_id,
            **{pid: scores.get(pid, "") for pid in problem_ids},
            "total": points(result.total),
            "max_total": max_total,
            "status": result.status.value,
            "notes": feedback_text(((result.error,) if result.error else ()) + result.warnings, lang),
        })
    frame = pd.DataFrame(rows, columns=["student_id", *problem_ids, *SCORES_COLUMNS_AFTER], dtype=object)
    return frame.sort_values("student_id", kind="stable").reset_index(drop=True)


_STATUS_VALUES = {status: status.value for status in Status}  # an enum's .value is a slow property


def part_rows(batch: BatchResult, lang: Lang) -> list[tuple[str, ...]]:
    """One row (in :data:`PARTS_COLUMNS`) per student and part, sorted by student, problem, part.

    Plain tuples, so that ``parts.csv`` can be streamed by the csv module: a large
    class has hundreds of thousands of parts, and a frame of them would only be
    built to be sorted and written.
    """
    tails: dict[int, tuple[str, ...]] = {}  # a part's columns after the student's, by part: a class shares parts
    rows = []
    for result in batch.submissions:
        student = result.student_id
        for part in result.parts:
            tail = tails.get(id(part))  # the batch holds every part meanwhile: an id is not reused
            if tail is None:
                tail = tails[id(part)] = (part.problem, part.part, points(part.score), points(part.max_score),
                                          _STATUS_VALUES[part.status], feedback_text(part.feedback, lang),
                                          part.diagnosis or "")
            rows.append((student, *tail))
    rows.sort(key=itemgetter(0, 1, 2))  # stable: parts with the same key keep their order
    return rows


def parts_frame(batch: BatchResult, lang: Lang) -> pd.DataFrame:
    """:func:`part_rows` as a frame.

    ``diagnosis`` (the id of a recognised mistake) extends the contract's columns.
    """
    return pd.DataFrame(part_rows(batch, lang), columns=list(PARTS_COLUMNS), dtype=object)
