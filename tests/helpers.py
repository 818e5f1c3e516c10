"""Helpers for tests that grade answers written on the fly."""

from __future__ import annotations

from pathlib import Path

from grader.engine import grade_batch
from grader.problems import Problem
from grader.results import BatchResult, SubmissionResult
from grader.submission import find_submissions


def write_submission(root: Path, student_id: str, text: str, name: str = "answers.toml") -> Path:
    """Write one submission folder under ``root`` and return the folder."""
    folder = root / student_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


def grade_path(path: Path, problems: tuple[Problem, ...]) -> BatchResult:
    """Grade a class folder, a submission folder or an answers file."""
    return grade_batch(find_submissions(path), problems, answers_file=path if path.is_file() else None)


def grade_text(tmp_path: Path, problems: tuple[Problem, ...], text: str, student_id: str = "s001") -> SubmissionResult:
    """Grade one TOML submission given as text."""
    return grade_path(write_submission(tmp_path, student_id, text), problems).submissions[0]


def q3_layers(*layers: tuple[object, object]) -> str:
    """A [q3] table with the given (output_shape, params) pairs."""
    rows = ",\n".join(f"  {{ output_shape = {shape}, params = {params} }}" for shape, params in layers)
    return f"[q3]\nlayers = [\n{rows}\n]\n"


def part(result: SubmissionResult, part_id: str):
    """The result of one part of a submission."""
    return next(p for p in result.parts if p.part == part_id)


def problem_result(result: SubmissionResult, problem_id: str):
    """The result of one problem of a submission."""
    return next(p for p in result.problems if p.problem == problem_id)
