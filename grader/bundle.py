"""The self-check bundle: what a student needs to run ``grade check`` offline, without the answers.

A bundle is a folder students install with ``pip install .``::

    README.md        how to install and check (Persian and English)
    pyproject.toml   the grader's package, with its dependencies
    grader/          the grader's code: readers, parsers, checkers (no answers live here)
    course.toml      names and language; never the variant secret
    problems/<id>_<slug>/problem.toml    statements, parts, hints, mistakes
    problems/<id>_<slug>/checks.json     salted scrypt digests of the answers (grader/hashed.py)
    problems/<id>_<slug>/<rubric>.toml   essay rubrics, their model answers removed
    sheet.md, answers.toml               the problem sheet and a blank answer template

No solver is shipped: it would compute the key. Offline, a part is right or
wrong (or a known mistake); error-carried-forward credit, the engine's term
diagnoses and every other right form of a ``check = "solver"`` part are left
to the real grading. With variants on, each student gets a bundle of their
own numbers.
"""

from __future__ import annotations

import importlib.metadata
import json
import random
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, Mapping

import grader
from grader.errors import GraderError
from grader.answer_key import to_toml
from grader.compare import same_expected
from grader.course import Course, Reveal
from grader.hashed import CHECKS_FILE, HashedAnswer, checks_document, hash_answer, new_salt, random_points
from grader.problems import Problem, load_problems
from grader.reporting.files import write_atomic
from grader.safe_names import safe_file_name
from grader.sheets import SHEET_FILE, TEMPLATE_FILE, answer_template, problem_sheet, student_problems
from grader.spec import AnswerKind
from grader.toml_files import read_toml

_PLAIN_MODEL_ANSWER = {"en": "(not in the student bundle)", "fa": "(در بسته دانشجو نیست)"}
_HASHED_DIAGNOSES = {"number_only": "number", "sign_wrong": "negated"}
"""Engine diagnoses of formulas the offline check can still make, by hashing the key's answer so altered."""


def hashed_checks(problem: Problem) -> dict[str, Any]:
    """The ``checks.json`` document of a problem: digests of its key and of its mistakes' answers."""
    generator = random.SystemRandom()
    definitions: dict[str, Any] = {}
    for value in problem.expected.values():
        definitions.update(getattr(value, "definitions", {}))
    points = random_points(problem.symbols, definitions, generator) if problem.symbols else ()
    salts = {part.id: new_salt() for part in problem.spec.parts}
    expected: dict[str, HashedAnswer] = {}
    mistaken: dict[str, dict[str, HashedAnswer]] = {}
    for part in problem.spec.parts:
        path, salt = part.answer_text, salts[part.id]
        expected[path] = hash_answer(part, problem.expected[path], salt, points)
        for mistake, answers in problem.mistaken.items():
            if path in answers and not same_expected(part.kind, answers[path], problem.expected[path], part.tolerance):
                mistaken.setdefault(mistake, {})[path] = hash_answer(part, answers[path], salt, points)
        if part.kind is AnswerKind.FORMULA:
            for mistake, variant in _HASHED_DIAGNOSES.items():
                if mistake in problem.spec.mistakes:
                    mistaken.setdefault(mistake, {})[path] = hash_answer(
                        part, problem.expected[path], salt, points, variant)
    return checks_document(problem.spec.parameters, problem.symbols, points, expected, mistaken)


def build_bundle(problems: tuple[Problem, ...], course: Course, out: Path, student_id: str | None = None) -> list[Path]:
    """Write a student bundle into ``out``; returns the files written.

    Args:
        problems: The homework's problems.
        course: The course settings (with variants on, the bundle holds ``student_id``'s variant).
        out: The bundle folder (created; files in it are replaced).
        student_id: Whose bundle (needed when variants are on).

    Raises:
        GraderError: When variants are on without a secret.
        SolverError: When a problem has no valid variant.
    """
    if course.variants and not student_id:
        raise GraderError("variants are on: a bundle is made for one student (give their id)")
    _claim(out)
    own = student_problems(problems, course, student_id or "")
    written = _copy_package(out)
    for problem in own:
        folder = out / "problems" / problem.spec.folder.name
        written.append(_copy(problem.spec.folder / "problem.toml", folder / "problem.toml"))
        for part in problem.spec.parts:
            if part.rubric is not None:
                written.append(_write(folder / part.rubric.file.name, _without_model_answer(part.rubric.file)))
        written.append(_write(folder / CHECKS_FILE, json.dumps(hashed_checks(problem), ensure_ascii=False, indent=1)
                              + "\n"))
    shown_id = student_id or ""  # a shared bundle's template leaves the id for the student
    written.append(_write(out / "course.toml", _course_toml(course)))
    written.append(_write(out / SHEET_FILE, problem_sheet(problems, course, shown_id)))
    written.append(_write(out / TEMPLATE_FILE, answer_template(problems, course, shown_id)))
    written.append(_write(out / "README.md", _readme(course, student_id)))
    return written


_worker_problems: tuple[Problem, ...] = ()


def _load_worker(problems_dir: Path) -> None:
    global _worker_problems
    _worker_problems = load_problems(problems_dir)


def _build_one(course: Course, out: Path, student_id: str) -> int:
    return len(build_bundle(_worker_problems, course, out / safe_file_name(student_id), student_id))


def build_bundles(problems_dir: Path, course: Course, out: Path, student_ids: list[str], workers: int) -> int:
    """One bundle per student under ``out/<safe id>/``, built in ``workers`` processes (hashing is the slow part).

    Returns:
        The number of files written.

    Raises:
        GraderError: When variants are on without a secret.
        SolverError: When a problem has no valid variant.
    """
    with ProcessPoolExecutor(max_workers=max(1, workers), initializer=_load_worker,
                             initargs=(problems_dir,)) as pool:
        return sum(pool.map(_build_one, *zip(*((course, out, s) for s in student_ids))))


MARKER = ".grade-bundle"
"""Marks a folder as a bundle, so writing one again may replace its files."""


def _claim(out: Path) -> None:
    """Make ``out`` a bundle folder: new, empty, or a bundle already (never a project or any other folder).

    Raises:
        GraderError: When ``out`` holds other files (``grader/`` in it would be replaced).
    """
    if out.exists() and not (out / MARKER).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise GraderError(f"{out} is not empty and is not a bundle made by `grade bundle`; "
                          "give --out a new or empty folder")
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("written by `grade bundle --students`\n", encoding="utf-8")


def _copy_package(out: Path) -> list[Path]:
    """The grader package and a pyproject.toml that installs it with its dependencies."""
    package = Path(grader.__file__).resolve().parent
    target = out / "grader"
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(package, target, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    requirements = [r for r in importlib.metadata.requires("hw-grader") or [] if "extra ==" not in r]
    pyproject = "\n".join([
        "[build-system]", 'requires = ["setuptools>=68"]', 'build-backend = "setuptools.build_meta"', "",
        "[project]", 'name = "hw-grader"', f'version = "{grader.__version__}"',
        'description = "Offline self-check of homework answers (student bundle)."', 'requires-python = ">=3.11"',
        "dependencies = " + json.dumps(requirements), "", "[project.scripts]", 'grade = "grader.cli:main"', "",
        "[tool.setuptools.packages.find]", 'include = ["grader*"]', "",
        "[tool.setuptools.package-data]", 'grader = ["templates/*"]', ""])
    return [*sorted(p for p in target.rglob("*") if p.is_file()), _write(out / "pyproject.toml", pyproject)]


def _without_model_answer(file: Path) -> str:
    """A rubric's text with its model answer (the essay key) replaced."""
    data = read_toml(file)
    data["model_answer"] = dict(_PLAIN_MODEL_ANSWER)
    return "# Essay rubric for the offline check; the model answer is not included.\n" + to_toml(data)


def _course_toml(course: Course) -> str:
    """The bundle's course.toml: no secret, no variants (its problems are already the student's), no answers shown."""
    reveal = min(course.check_reveal, Reveal.FEEDBACK)
    document: Mapping[str, Any] = {
        "course": {"name": course.name, "assignment": course.assignment},
        "feedback": {"lang": course.lang.value, "reveal": reveal.name.lower()},
        "variants": {"enabled": False},
    }
    return "# Course settings of the student bundle.\n" + to_toml(dict(document))


def _readme(course: Course, student_id: str | None) -> str:
    whose = f" for `{student_id}`" if student_id else ""
    whose_fa = f" برای `{student_id}`" if student_id else ""
    return f"""# {course.assignment}: offline self-check{whose}

<div dir="rtl" lang="fa">

## بررسی پاسخ‌ها بدون اینترنت{whose_fa}

۱. یک بار نصب کنید (پایتون ۳٫۱۱ یا جدیدتر): `pip install .`
۲. صورت مسئله‌ها در `sheet.md` است. پاسخ‌ها را در `answers.toml` بنویسید.
۳. بررسی کنید: `grade check answers.toml`

این بسته پاسخ‌ها را ندارد: هر پاسخ به صورت «چکیده» (hash) نمک‌زده و کُند (scrypt) نگه داشته شده است و فقط
می‌گوید پاسخ شما درست است یا نه. پاسخی که از میان چند گزینه کوچک است (بله/خیر، یک عدد کوچک) را می‌توان با امتحان
همه گزینه‌ها پیدا کرد؛ scrypt فقط هر امتحان را پرهزینه می‌کند. نمره نهایی را نمره‌دهی اصلی تعیین می‌کند: نمره
انتقال خطا (error carried forward) و شکل‌های درست دیگر پاسخ در بررسی آفلاین دیده نمی‌شوند.

</div>

## Checking your answers offline{whose}

1. Install once (Python 3.11 or newer): `pip install .`
2. The problems are in `sheet.md`. Write your answers in `answers.toml`.
3. Check them: `grade check answers.toml`

This bundle does not contain the answers. Each is kept as a salted, deliberately slow hash (scrypt), which
tells you whether your answer is right and nothing more. An answer from a small set (yes/no, a small
number) can still be found by trying every candidate; scrypt only makes each try cost. The real grading
decides your score: error-carried-forward credit and other right forms of an answer are not seen offline.
"""


def _copy(source: Path, target: Path) -> Path:
    return _write(target, source.read_text(encoding="utf-8"))


def _write(path: Path, text: str) -> Path:
    write_atomic(path, text)
    return path
