"""The instructor's workbook (``report.xlsx``): scores, parts, summary, item analysis, review queue.

Cells hold numbers as numbers and every text as a text cell (a student's
``=...`` is never a formula). Output is byte-identical for the same results:
fixed document dates and fixed dates on the files inside the zip, and the
same XML writer whether or not lxml is installed. openpyxl is imported only
when a workbook is made, so ``grade check`` does not pay for it.
"""

from __future__ import annotations

import datetime
import io
import os
import re
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

from grader.course import Course
from grader.reporting.frames import PARTS_COLUMNS, parts_frame, scores_frame
from grader.reporting.formatting import feedback_text
from grader.reporting.item_analysis import PartStats, class_summary, item_analysis, review_queue
from grader.results import BatchResult, Lang
from grader.roster import Roster

if TYPE_CHECKING:
    from openpyxl.workbook import Workbook
    from openpyxl.worksheet.worksheet import Worksheet

SHEETS = ("scores", "parts", "summary", "item analysis", "review queue")
ROSTER_COLUMNS = ("name", "email", "section")
ITEM_COLUMNS = ("problem", "part", "max_score", "n", "mean_score", "share_correct", "difficulty",
                "upper_lower", "point_biserial", "mistakes", "carried_forward", "overridden")
REVIEW_COLUMNS = ("student_id", "problem", "part", "score", "max_score", "feedback")
SUMMARY_COLUMNS = ("metric", "value")
FIXED_DATE = datetime.datetime(2000, 1, 1)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
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


def _put(sheet: Worksheet, row: int, column: int, value: Cell) -> None:
    from openpyxl.styles import Alignment

    cell = sheet.cell(row=row, column=column)
    if value == "":
        return  # an empty cell, not an empty text
    if isinstance(value, str):
        text = _ILLEGAL.sub("\ufffd", value)
        if len(text) > MAX_CELL:
            text = text[:MAX_CELL - 1] + "…"
        cell.value = text
        cell.data_type = "s"  # text, never a formula, whatever it starts with
        if _RTL.search(text):
            cell.alignment = Alignment(readingOrder=2)
    else:
        cell.value = value


def _fill(sheet: Worksheet, header: Sequence[str], rows: Sequence[Sequence[Cell]], *, filter_rows: bool = True) -> None:
    """Header (bold, frozen), rows, column widths and an autofilter."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    bold = Font(bold=True)
    for column, name in enumerate(header, start=1):
        _put(sheet, 1, column, name)
        sheet.cell(row=1, column=column).font = bold
    for row_number, row in enumerate(rows, start=2):
        for column, value in enumerate(row, start=1):
            _put(sheet, row_number, column, value)
    sheet.freeze_panes = "A2"
    for column, name in enumerate(header, start=1):
        longest = max([len(name)] + [len(str(row[column - 1])) for row in rows if row[column - 1] is not None])
        sheet.column_dimensions[get_column_letter(column)].width = min(MAX_WIDTH, max(MIN_WIDTH, longest + 2))
    if filter_rows and header:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(header))}{len(rows) + 1}"


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
    frame = parts_frame(batch, lang)
    return [[_number_text(record[c]) if c in ("score", "max_score") else record[c] for c in PARTS_COLUMNS]
            for record in frame.to_dict("records")]


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


def _same_writer_everywhere() -> None:
    """Have openpyxl write with the standard library's XML writer, before its first import.

    openpyxl writes through lxml when that is installed, and its files then
    differ in bytes (the same cells): one class's workbook is to be the same
    file on every machine. Once openpyxl is imported, its choice is made.
    """
    if "openpyxl" not in sys.modules:
        os.environ["OPENPYXL_LXML"] = "False"


def build_workbook(batch: BatchResult, course: Course, roster: Roster | None = None,
                   lang: Lang = Lang.EN) -> Workbook:
    """The workbook with the five sheets of :data:`SHEETS`, in that order.

    Args:
        batch: The class's results (after overrides and ``join_roster``, if any).
        course: Names for the document properties and the summary.
        roster: Adds name, email and section to ``scores`` (and name to ``review queue``).
        lang: Language of feedback and notes.
    """
    _same_writer_everywhere()
    from openpyxl import Workbook

    workbook = Workbook()
    properties = workbook.properties
    properties.creator = "hw-grader"
    properties.lastModifiedBy = None
    properties.title = f"{course.name}: {course.assignment}"
    properties.created = properties.modified = FIXED_DATE
    scores = workbook.active
    scores.title = SHEETS[0]
    _fill(scores, *_scores_rows(batch, roster, lang))
    _fill(workbook.create_sheet(SHEETS[1]), PARTS_COLUMNS, _parts_rows(batch, lang))
    _fill(workbook.create_sheet(SHEETS[2]), SUMMARY_COLUMNS, _summary_rows(batch, course), filter_rows=False)
    _fill(workbook.create_sheet(SHEETS[3]), ITEM_COLUMNS, _item_rows(batch))
    _fill(workbook.create_sheet(SHEETS[4]), *_review_rows(batch, roster, lang))
    return workbook


def workbook_bytes(workbook: Workbook) -> bytes:
    """The ``.xlsx`` file of a workbook, byte-identical for the same content.

    openpyxl stamps the save time into the document properties and the zip
    entries; both are replaced by fixed dates.
    """
    from openpyxl.writer.excel import ExcelWriter

    workbook.properties.created = workbook.properties.modified = FIXED_DATE
    raw = io.BytesIO()
    with zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(workbook, archive).save()
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            entry = zipfile.ZipInfo(info.filename, date_time=ZIP_DATE)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            target.writestr(entry, source.read(info.filename))
    return fixed.getvalue()


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
    write_bytes_atomic(path, workbook_bytes(build_workbook(batch, course, roster, lang)))
    return path
