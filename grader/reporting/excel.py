"""The instructor's workbook (``report.xlsx``): scores, parts, summary, item analysis, review queue.

Cells hold numbers as numbers and every text as a text cell (a student's
``=...`` is never a formula). Output is byte-identical for the same results:
a fixed document date, and XlsxWriter's fixed dates on the files inside the
zip. XlsxWriter streams each sheet's rows to a temporary file (in a folder
of its own beside the workbook, removed after), so a class of 10,000, whose
``parts`` sheet has some 300,000 rows, is never held as cells in memory; it
is imported only when a workbook is made, so ``grade check`` does not pay
for it.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course import Course
from grader.reporting.frames import PARTS_COLUMNS, part_rows, scores_frame
from grader.reporting.formatting import feedback_text
from grader.reporting.item_analysis import PartStats, class_summary, item_analysis, review_queue
from grader.results import BatchResult, Lang
from grader.roster import Roster

if TYPE_CHECKING:
    from xlsxwriter.format import Format
    from xlsxwriter.workbook import Workbook

SHEETS = ("scores", "parts", "summary", "item analysis", "review queue")
ROSTER_COLUMNS = ("name", "email", "section")
ITEM_COLUMNS = ("problem", "part", "max_score", "n", "mean_score", "share_correct", "difficulty",
                "upper_lower", "point_biserial", "mistakes", "carried_forward", "overridden")
REVIEW_COLUMNS = ("student_id", "problem", "part", "score", "max_score", "feedback")
SUMMARY_COLUMNS = ("metric", "value")
FIXED_DATE = datetime.datetime(2000, 1, 1)
MAX_CELL = 32_767
MIN_WIDTH, MAX_WIDTH = 8, 60
_RTL = re.compile(r"[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufeff]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")

Cell = str | int | float | None


def _number(value: Fraction | None) -> float | None:
    """Points or a share as an Excel number, rounded to 4 places like the CSVs."""
    return None if value is None else round(float(value), 4)


def _number_text(text: str) -> float | None:
    """A CSV points string (``"0.5"``, ``""``) as a number."""
    return float(text) if text else None


def mistakes_text(stats: PartStats) -> str:
    """A part's mistakes as ``id (count): ids``, joined by ``; ``."""
    return "; ".join(f"{m.diagnosis} ({m.count}): {', '.join(m.student_ids)}" for m in stats.mistakes)


def _text(value: str) -> str:
    """A text as a cell can hold it: XML's forbidden control characters replaced, cut to Excel's limit."""
    text = _ILLEGAL.sub("\ufffd", value)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


@dataclass(frozen=True)
class _Styles:
    """A workbook's cell formats (XlsxWriter makes each once per workbook)."""

    bold: Format  # headers
    right_to_left: Format  # texts in a right-to-left script


def _fill(workbook: Workbook, styles: _Styles, name: str, header: Sequence[str], rows: Sequence[Sequence[Cell]], *,
          filter_rows: bool = True) -> None:
    """A sheet: header (bold, frozen), rows, column widths and an autofilter.

    Texts are written as texts, never read as formulas or numbers; a text in a right-to-left script is
    set to read right to left. Rows are written in order (streamed: see the module's notes).
    """
    sheet = workbook.add_worksheet(name)
    for column, title in enumerate(header):
        longest = max([len(title)] + [len(str(row[column])) for row in rows if row[column] is not None])
        sheet.set_column(column, column, min(MAX_WIDTH, max(MIN_WIDTH, longest + 2)))
    sheet.freeze_panes(1, 0)
    if filter_rows and header:
        sheet.autofilter(0, 0, len(rows), len(header) - 1)
    for column, title in enumerate(header):
        sheet.write_string(0, column, _text(title), styles.bold)
    write_string, write_number = sheet.write_string, sheet.write_number
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if value is None or value == "":
                continue  # an empty cell, not an empty text
            if isinstance(value, str):
                text = _text(value)
                if _RTL.search(text):
                    write_string(row_number, column, text, styles.right_to_left)
                else:
                    write_string(row_number, column, text)
            else:
                write_number(row_number, column, value)


def _scores_rows(batch: BatchResult, roster: Roster | None, lang: Lang) -> tuple[list[str], list[list[Cell]]]:
    frame = scores_frame(batch, lang)
    numeric = {*batch.max_scores, "total", "max_total"}
    columns = list(frame.columns)
    header = [columns[0], *(ROSTER_COLUMNS if roster else ()), *columns[1:]]
    rows = []
    for record in frame.to_dict("records"):
        student = roster.get(record["student_id"]) if roster else None
        extra = [getattr(student, c, "") if student else "" for c in ROSTER_COLUMNS] if roster else []
        values = [_number_text(record[c]) if c in numeric else record[c] for c in columns]
        rows.append([values[0], *extra, *values[1:]])
    return header, rows


def _parts_rows(batch: BatchResult, lang: Lang) -> list[list[Cell]]:
    return [[student, problem, part, _number_text(score), _number_text(maximum), *rest]
            for student, problem, part, score, maximum, *rest in part_rows(batch, lang)]


def _summary_rows(batch: BatchResult, course: Course) -> list[list[Cell]]:
    summary = class_summary(batch)
    rows: list[list[Cell]] = [
        ["course", course.name],
        ["assignment", course.assignment],
        ["students", summary.students],
        ["graded", summary.graded],
        ["partial", summary.partial],
        ["errors", summary.errors],
        ["missing", summary.missing],
        ["max_total", _number(summary.max_total)],
        ["mean_total", _number(summary.mean_total)],
        ["median_total", _number(summary.median_total)],
        ["min_total", _number(summary.min_total)],
        ["max_total_scored", _number(summary.max_total_scored)],
    ]
    rows += [[f"mean_{problem}", _number(mean)] for problem, mean in summary.problem_means]
    rows += [["parts_awaiting_review", summary.review_parts], ["students_awaiting_review", summary.review_students]]
    return rows


def _item_rows(batch: BatchResult) -> list[list[Cell]]:
    return [[s.problem, s.part, _number(s.max_score), s.n, _number(s.mean_score), _number(s.share_correct),
             _number(s.difficulty), _number(s.upper_lower),
             None if s.point_biserial is None else round(s.point_biserial, 4),
             mistakes_text(s), ", ".join(s.carried_forward), ", ".join(s.overridden)]
            for s in item_analysis(batch)]


def _review_rows(batch: BatchResult, roster: Roster | None, lang: Lang) -> tuple[list[str], list[list[Cell]]]:
    header = [REVIEW_COLUMNS[0], *(("name",) if roster else ()), *REVIEW_COLUMNS[1:]]
    rows: list[list[Cell]] = []
    for item in review_queue(batch):
        student = roster.get(item.student_id) if roster else None
        name = [student.name if student else ""] if roster else []
        part = item.part
        rows.append([item.student_id, *name, part.problem, part.part, _number(part.score), _number(part.max_score),
                     feedback_text(part.feedback, lang)])
    return header, rows


def _write_workbook(target: io.BytesIO, scratch: str, batch: BatchResult, course: Course, roster: Roster | None,
                    lang: Lang) -> None:
    """Write the workbook with the five sheets of :data:`SHEETS`, in that order, into ``target``; XlsxWriter's
    temporary files go to the folder ``scratch``."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(target, {
        "constant_memory": True, "tmpdir": scratch,
        # Texts stay texts: a student's "=1+1", "1e5" or "http://..." is not made a formula, number or link.
        "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False,
    })
    workbook.set_properties({"title": f"{course.name}: {course.assignment}", "author": "hw-grader",
                             "created": FIXED_DATE})
    styles = _Styles(workbook.add_format({"bold": True}), workbook.add_format({"reading_order": 2}))
    _fill(workbook, styles, SHEETS[0], *_scores_rows(batch, roster, lang))
    _fill(workbook, styles, SHEETS[1], PARTS_COLUMNS, _parts_rows(batch, lang))
    _fill(workbook, styles, SHEETS[2], SUMMARY_COLUMNS, _summary_rows(batch, course), filter_rows=False)
    _fill(workbook, styles, SHEETS[3], ITEM_COLUMNS, _item_rows(batch))
    _fill(workbook, styles, SHEETS[4], *_review_rows(batch, roster, lang))
    workbook.close()


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def write_xlsx(path: Path, batch: BatchResult, course: Course, roster: Roster | None = None,
               lang: Lang = Lang.EN) -> Path:
    """Write the instructor's workbook to ``path`` atomically; returns ``path``.

    Args:
        path: The ``.xlsx`` file to write (its folder is created).
        batch: The class's results (after overrides and ``join_roster``, if any).
        course: Course and assignment names.
        roster: Adds name, email and section columns.
        lang: Language of feedback and notes.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    target = io.BytesIO()
    # Nothing is written outside the report's folder, and nothing is left there: the scratch folder goes.
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=f".{path.name}.") as scratch:
        _write_workbook(target, scratch, batch, course, roster, lang)
    write_bytes_atomic(path, target.getvalue())
    return path
