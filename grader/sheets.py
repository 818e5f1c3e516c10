"""A student's own problems: their numbers as data, their problem sheet, their answer template.

The plain functions behind ``grade variant``. With variants off every student
gets the homework's numbers, so the sheet is the homework itself.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Any

from grader.answer_key import answer_key, put_path, to_toml
from grader.course import Course
from grader.problems import Problem
from grader.reporting.files import write_atomic
from grader.reporting.formatting import points
from grader.safe_names import safe_file_name
from grader.statement import render
from grader.variants import variants_for

SHEET_FILE = "sheet.md"
TEMPLATE_FILE = "answers.toml"


def student_problems(problems: tuple[Problem, ...], course: Course, student_id: str) -> tuple[Problem, ...]:
    """The problems the student is graded on: their variant when variants are on, else the homework's.

    Raises:
        GraderError: When variants are on without a secret.
        SolverError: When a problem has no valid variant.
    """
    variants = variants_for(course, problems)
    return problems if variants is None else variants.for_student(student_id)


def variant_document(problems: tuple[Problem, ...], course: Course, student_id: str) -> dict[str, Any]:
    """The student's numbers, as ``grade variant --json`` prints them (documented in docs/variants.md)."""
    own = student_problems(problems, course, student_id)
    return {
        "student_id": student_id,
        "assignment": course.assignment,
        "variants": course.variants,
        "problems": {p.id: {"varies": bool(course.variants and p.spec.variants), "numbers": numbers(p)} for p in own},
    }


def numbers(problem: Problem) -> dict[str, Any]:
    """The parameters that make up a student's numbers: ``[variants] show``, else all of them."""
    shown = problem.spec.variants.get("show")
    parameters = problem.spec.parameters
    return {key: parameters[key] for key in shown if key in parameters} if isinstance(shown, list) else dict(parameters)


def problem_sheet(problems: tuple[Problem, ...], course: Course, student_id: str) -> str:
    """The student's problem sheet in Markdown: each statement in Persian, then in English, with their numbers."""
    own = student_problems(problems, course, student_id)
    total = sum((p.spec.max_score for p in own), Fraction(0))
    lines = [f"# {course.assignment} · {course.name}", "",
             (f"**Student / دانشجو:** `{student_id}`  ·  " if student_id else "")
             + f"**Points / نمره:** {points(total)}", ""]
    if course.variants:
        lines += ['<div dir="rtl" lang="fa">', "",
                  "این برگه مخصوص شماست: اعداد هر دانشجو با دیگران فرق دارد و پاسخ‌های شما با همین اعداد نمره‌دهی می‌شود.",
                  "", "</div>", "",
                  "This sheet is yours: every student has their own numbers, and your answers are graded with these.", ""]
    for problem in own:
        spec = problem.spec
        lines += [f"## {spec.id} · {spec.title.fa} · {spec.title.en} ({points(spec.max_score)})", "",
                  '<div dir="rtl" lang="fa">', "", render(spec.statement.fa, spec.parameters).strip(), "", "</div>",
                  "", render(spec.statement.en, spec.parameters).strip(), "",
                  "Answer keys / کلیدهای پاسخ: " + ", ".join(f"`{spec.id}.{part.answer_text}`" for part in spec.parts),
                  ""]
    lines += [f"Write your answers in `{TEMPLATE_FILE}` (every key is there, left blank) and check them with "
              f"`grade check {TEMPLATE_FILE}`.", ""]
    return "\n".join(lines)


def answer_template(problems: tuple[Problem, ...], course: Course, student_id: str) -> str:
    """An ``answers.toml`` with every key the student must fill and every value left blank.

    Blanks keep the shape of the answer (a matrix of blanks, one per entry),
    and the grader reads a blank as no answer.
    """
    own = student_problems(problems, course, student_id)
    document = {name: _blanked(table) for name, table in answer_key(own).items()}
    document["student"] = {"id": student_id}
    for problem in own:  # answers a check reads besides the graded ones (Q2b's avg_stride)
        for path in (path for part in problem.spec.parts for path in part.reads):
            put_path(document[problem.id], path, "")
    header = (f"# {course.assignment}: your answers. Fill in every blank (\"\") and run `grade check {TEMPLATE_FILE}`.\n"
              "# Numbers may be exact (\"1/4\") or decimals; formulas use the symbols of the problem sheet.\n"
              f"# {course.assignment}: پاسخ‌های شما. هر جای خالی (\"\") را پر کنید و `grade check {TEMPLATE_FILE}` را اجرا کنید.\n")
    return header + to_toml(document)


def _blanked(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _blanked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_blanked(item) for item in value]
    return ""


def write_sheet(problems: tuple[Problem, ...], course: Course, student_id: str, out: Path) -> tuple[Path, ...]:
    """Write the student's sheet and answer template into ``out/<safe id>/``; returns the files written."""
    folder = out / safe_file_name(student_id)
    sheet, template = folder / SHEET_FILE, folder / TEMPLATE_FILE
    write_atomic(sheet, problem_sheet(problems, course, student_id))
    write_atomic(template, answer_template(problems, course, student_id))
    return sheet, template
