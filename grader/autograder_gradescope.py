"""Gradescope's entry point: grade ``/autograder/submission`` and write ``results.json``.

``run_autograder`` (see :mod:`grader.reporting.gradescope`) runs::

    python3 -m grader.autograder_gradescope --submission /autograder/submission \\
        --results /autograder/results/results.json --problems /autograder/source/problems \\
        --course /autograder/source/course.toml

Every path has a default under ``$AUTOGRADER_ROOT`` (``/autograder`` unless
set), so tests can lay out a temporary folder like ``/autograder``. Whatever
happens, a valid results file is written: a submission that cannot be read is
an ordinary graded result (every part scores zero with the reason), and a
failure of the grader itself (broken problem folders, a bug) becomes
:func:`~grader.reporting.gradescope.error_results`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from dataclasses import replace
from fractions import Fraction
from pathlib import Path

from grader.course import COURSE_FILE, Course, load_course
from grader.engine import grade_folder
from grader.errors import GraderError
from grader.problems import load_problems
from grader.reporting.files import write_atomic
from grader.reporting.gradescope import error_results, gradescope_results
from grader.submission import ANSWER_FILES, IdSource, SubmissionFolder, declared_id
from grader.variants import variants_for

DEFAULT_ROOT = Path("/autograder")
SUBMISSION_ID = "submission"
METADATA_FILE = "submission_metadata.json"
"""Gradescope's file beside ``submission/``: the submitters, with their roster ids (``sid``)."""
"""Student id used when the answers file names none."""


def submission_in(folder: Path) -> SubmissionFolder:
    """The submission folder inside an upload: ``folder`` itself, or the one sub-folder holding the answers.

    Students upload ``answers.toml`` directly, a folder, or a repository; the
    answers file is looked for in ``folder`` first, then below it (hidden
    folders and ``__MACOSX`` skipped). When no single folder holds one,
    ``folder`` is returned and grading reports the missing or ambiguous file.
    The student id is ``[student].id`` from the answers file when it has one
    (so no id-mismatch warning is raised against the upload folder's name).
    """
    chosen = folder
    if not any((folder / name).is_file() for name in ANSWER_FILES):
        parents = sorted({path.parent for name in ANSWER_FILES for path in folder.rglob(name)
                          if path.is_file() and not any(part.startswith(".") or part == "__MACOSX"
                                                        for part in path.relative_to(folder).parts)})
        if len(parents) == 1:
            chosen = parents[0]
    return SubmissionFolder(declared_id(SubmissionFolder(SUBMISSION_ID, chosen)) or SUBMISSION_ID, chosen)


def write_results(results_path: Path, data: dict) -> None:
    """Write ``results.json`` atomically (UTF-8, keys in the spec's order)."""
    write_atomic(results_path, json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def main(submission_dir: Path, results_path: Path, problems_dir: Path, course_file: Path | None = None) -> int:
    """Grade one Gradescope submission and write its ``results.json``.

    Args:
        submission_dir: The student's upload (``/autograder/submission``).
        results_path: Where Gradescope reads the results (``/autograder/results/results.json``).
        problems_dir: The problem folders (``/autograder/source/problems``).
        course_file: ``course.toml`` (feedback language and reveal policy);
            by default the one beside ``problems_dir``.

    Returns:
        0 when the submission was graded (whatever the score, even if its file
        could not be read), 1 when the grader failed and an error result was
        written instead.
    """
    max_score = Fraction(0)
    try:
        problems = load_problems(problems_dir)
        max_scores = {p.id: p.spec.max_score for p in problems}
        max_score = sum(max_scores.values(), Fraction(0))
        course_path = course_file if course_file is not None else problems_dir.parent / COURSE_FILE
        course = load_course(course_path) if course_path.is_file() else Course()
        submission = submission_in(submission_dir)
        variants = variants_for(course, problems)
        if variants is not None:
            submission = with_variant_id(submission, submission_dir.parent)
        result = grade_folder(submission, problems, variants=variants)
        data = gradescope_results(result, max_scores, course.lang, reveal=course.reveal)
    except Exception as error:  # any failure must still leave a valid results file
        traceback.print_exc()  # goes to Gradescope's stdout log, shown to instructors only
        write_results(results_path, error_results(f"{type(error).__name__}: {error}", max_score))
        return 1
    write_results(results_path, data)
    return 0


def with_variant_id(submission: SubmissionFolder, root: Path) -> SubmissionFolder:
    """The submission under the id whose numbers to grade with: Gradescope's roster id (``sid``) of the
    submitter, else ``[student] id`` (which :func:`submission_in` has made its id already).

    Raises:
        GraderError: When neither is there (grading with someone else's numbers would be silently wrong).
    """
    try:
        users = json.loads((root / METADATA_FILE).read_text(encoding="utf-8")).get("users") or []
        sid = str(users[0].get("sid") or "").strip() if users and isinstance(users[0], dict) else ""
    except (OSError, ValueError, AttributeError):
        sid = ""
    if sid:
        return replace(submission, student_id=sid, named_by=IdSource.ROSTER)
    if submission.student_id != SUBMISSION_ID:
        return submission
    raise GraderError("every student has their own numbers, and this submission names no student: "
                      "write your student id under [student] id in answers.toml")


def _parse(argv: list[str]) -> argparse.Namespace:
    root = Path(os.environ.get("AUTOGRADER_ROOT", str(DEFAULT_ROOT)))
    parser = argparse.ArgumentParser(prog="python -m grader.autograder_gradescope",
                                     description="Grade a Gradescope submission and write results.json.")
    parser.add_argument("--submission", type=Path, default=root / "submission", help="the student's upload")
    parser.add_argument("--results", type=Path, default=root / "results" / "results.json", help="results file")
    parser.add_argument("--problems", type=Path, default=root / "source" / "problems", help="problem folders")
    parser.add_argument("--course", type=Path, default=None, help="course.toml (default: beside --problems)")
    return parser.parse_args(argv)


if __name__ == "__main__":
    arguments = _parse(sys.argv[1:])
    sys.exit(main(arguments.submission, arguments.results, arguments.problems, arguments.course))
