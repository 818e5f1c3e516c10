"""Per-student feedback files: ``feedback/<id>.md`` and ``feedback/<id>.html``, English or Persian."""

from __future__ import annotations

import functools
import html
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from grader.reporting.files import write_atomic
from grader.memo import IdentityMemo
from grader.reporting.student_view import STATUS_WORDS, PartView, StudentView
from grader.results import Lang, Message
from grader.safe_names import safe_file_name

_WORDS = {
    "title": Message("Feedback", "بازخورد"),
    "total": Message("Total", "مجموع"),
    "status": Message("Status", "وضعیت"),
    "part": Message("Part", "بخش"),
    "score": Message("Score", "نمره"),
    "feedback": Message("Feedback", "بازخورد"),
    "expected": Message("Expected", "پاسخ مورد انتظار"),
    "error": Message("Your answers file could not be read", "پرونده پاسخ شما خوانده نشد"),
    "warnings": Message("Notes", "یادداشت‌ها"),
}


_escape = functools.lru_cache(maxsize=4096)(html.escape)  # most cells repeat: part names, scores, common feedback


@functools.lru_cache(maxsize=4096)
def _markdown_cell(text: str) -> str:
    """A table cell's text as Markdown: backslashes and pipes escaped, on one line."""
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _word(key: str, lang: Lang) -> str:
    return _WORDS[key].text(lang)


def _columns(view: StudentView, lang: Lang) -> list[str]:
    shown = view.parts[0] if view.parts else None
    columns = [_word("part", lang), _word("score", lang)]
    if shown is not None and shown.status is not None:
        columns.append(_word("status", lang))
    if shown is not None and shown.feedback is not None:
        columns.append(_word("feedback", lang))
    if any(p.expected is not None for p in view.parts):
        columns.append(_word("expected", lang))
    return columns


def _cells(view: StudentView, lang: Lang) -> dict[str, list[Row]]:
    """Each problem's table rows, by problem id (one pass over the parts)."""
    expected = any(p.expected is not None for p in view.parts)
    rows: dict[str, list[Row]] = {problem: [] for problem, *_ in view.problems}
    for part in view.parts:
        rows.setdefault(part.problem, []).append(_row(part, expected, lang))
    return rows


@dataclass(frozen=True)
class Row:
    """A part's row of a feedback table, as both renderings write it."""

    markdown: str
    html: str


def _row(part: PartView, expected: bool, lang: Lang) -> Row:
    """A part's row (``expected``: whether the table has the expected answers' column).

    A class shares most of its parts' views (every right answer to Q3 is graded alike): the row of a
    shared view is made once. Rows of long feedback are not kept: an essay's view is its own, and its
    row is large.
    """
    if part.feedback is not None and len(part.feedback) > _LONGEST_KEPT:
        return _make_row(part, expected, lang)
    return _ROWS.get(part, (expected, lang), lambda: _make_row(part, expected, lang))


_ROWS: IdentityMemo[Row] = IdentityMemo(1 << 14)
_LONGEST_KEPT = 300
"""Characters of feedback in the longest row :func:`_row` keeps: 16,384 rows of 2 kB at most."""


def _make_row(part: PartView, expected: bool, lang: Lang) -> Row:
    cells = [part.part, f"{part.score}/{part.max_score}"]
    if part.status is not None:
        cells.append(STATUS_WORDS[part.status].text(lang))
    if part.feedback is not None:
        cells.append(part.feedback)
    if expected:
        cells.append(part.expected or "")
    return Row("| " + " | ".join(map(_markdown_cell, cells)) + " |",
               "<tr>" + "".join(f"<td>{_escape(c)}</td>" for c in cells) + "</tr>")


@dataclass(frozen=True)
class Tables:
    """A view's tables of parts, as both renderings show them: made once for a student's two files."""

    columns: list[str]
    rows: dict[str, list[Row]]  # by problem id


def _tables(view: StudentView, lang: Lang) -> Tables:
    return Tables(_columns(view, lang), _cells(view, lang))


def feedback_markdown(view: StudentView, assignment: str, lang: Lang, tables: Tables | None = None) -> str:
    """A student's feedback as Markdown (``tables``: the view's, when made already)."""
    lines = [f"# {assignment}: {_word('title', lang)} ({view.student_id})", "",
             f"**{_word('total', lang)}: {view.total}/{view.max_total}**", ""]
    if view.error:
        lines += [f"> {_word('error', lang)}: {view.error}", ""]
    tables = tables if tables is not None else _tables(view, lang)
    columns, cells = tables.columns, tables.rows
    for problem, title, score, maximum in view.problems:
        lines += [f"## {problem}: {title} ({score}/{maximum})", ""]
        lines += ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
        lines += [row.markdown for row in cells[problem]]
        lines.append("")
    if view.warnings:
        lines += [f"### {_word('warnings', lang)}", ""] + [f"- {w}" for w in view.warnings] + [""]
    return "\n".join(lines)


def feedback_html(view: StudentView, assignment: str, lang: Lang, tables: Tables | None = None) -> str:
    """A student's feedback as one self-contained HTML page, right-to-left in Persian (``tables``: the
    view's, when made already)."""
    e = _escape
    direction = "rtl" if lang is Lang.FA else "ltr"
    body = [f"<h1>{e(assignment)}: {e(_word('title', lang))} ({e(view.student_id)})</h1>",
            f"<p class=total>{e(_word('total', lang))}: {e(view.total)}/{e(view.max_total)}</p>"]
    if view.error:
        body.append(f"<p class=error>{e(_word('error', lang))}: {e(view.error)}</p>")
    tables = tables if tables is not None else _tables(view, lang)
    columns, cells = tables.columns, tables.rows
    head = "".join(f"<th>{e(c)}</th>" for c in columns)
    for problem, title, score, maximum in view.problems:
        body.append(f"<h2>{e(problem)}: {e(title)} ({e(score)}/{e(maximum)})</h2>")
        rows = "".join(row.html for row in cells[problem])
        body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
    if view.warnings:
        body.append(f"<h3>{e(_word('warnings', lang))}</h3><ul>"
                    + "".join(f"<li>{e(w)}</li>" for w in view.warnings) + "</ul>")
    style = ("body{font-family:Vazirmatn,Tahoma,'DejaVu Sans',sans-serif;max-width:60rem;margin:2rem auto;"
             "line-height:1.6}table{border-collapse:collapse;width:100%}td,th{border:1px solid #ccc;"
             "padding:.3rem .5rem;vertical-align:top;text-align:start}th{background:#f3f3f3}"
             ".total{font-weight:bold}.error{color:#b00}")
    return (f'<!DOCTYPE html>\n<html lang="{lang.value}" dir="{direction}"><head><meta charset="utf-8">'
            f"<title>{e(assignment)} {e(view.student_id)}</title><style>{style}</style></head>"
            f"<body>{''.join(body)}</body></html>\n")


def feedback_paths(student_id: str, out: Path) -> tuple[Path, Path]:
    """The two feedback files of a student in ``out``: Markdown and HTML."""
    name = safe_file_name(student_id)
    return out / f"{name}.md", out / f"{name}.html"


def write_feedback_files(views: Iterable[StudentView], out: Path, assignment: str, lang: Lang) -> None:
    """Write ``<out>/<id>.md`` and ``<out>/<id>.html`` for each student (their paths: :func:`feedback_paths`)."""
    for view in views:
        markdown, page = feedback_paths(view.student_id, out)
        tables = _tables(view, lang)
        write_atomic(markdown, feedback_markdown(view, assignment, lang, tables))
        write_atomic(page, feedback_html(view, assignment, lang, tables))
