"""GitHub Classroom autograding: the "runner result" the grading reporter reads.

GitHub Classroom's reporter action (``classroom-resources/autograding-grading-reporter@v1``)
reads, for each id in its ``runners`` input, the environment variable
``<ID>_RESULTS`` (id upper-cased), base64-decodes it and parses the JSON. The
format is the one its own runners (``autograding-command-grader``,
``autograding-io-grader``, ``autograding-python-grader``) produce::

    {"version": 1, "status": "pass" | "fail" | "error", "max_score": N,
     "tests": [{"name", "status": "pass" | "fail" | "error", "score", "message",
                "test_code", "filename", "line_no", "duration"}]}

The reporter sums ``tests[].score`` for the points and ``max_score`` for the
points possible (posting ``Points X/Y`` to Classroom), prints each test with
✅/❌ by its ``status``, and fails the workflow when ``status`` is ``fail`` or
``error``. Each test also carries ``max_score`` (**extension**: the reporter
ignores it; it lets a reader see what a part was worth).

One test per graded part (``"q3 layer1.params"``): ``pass`` with its full
score, ``error`` when the part could not be graded (status ``error``), else
``fail``. The result's ``status`` is ``error`` when the answers file could not
be read, ``fail`` when some part lacks points, else ``pass``.

Run as ``python -m grader.reporting.github_classroom [--output $GITHUB_OUTPUT] REPO``
(see ``grader/templates/github-classroom.yml``), it grades the student's
repository and appends ``result=<base64>`` to the step's outputs.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from fractions import Fraction
from pathlib import Path

from grader.reporting.formatting import feedback_text, points, score_number
from grader.results import Lang, Status, SubmissionResult, SubmissionStatus

VERSION = 1
PASS = "pass"
FAIL = "fail"
ERROR = "error"
RUNNER_ID = "grader"
"""The step id the workflow template gives the grading step (the reporter's ``runners`` input)."""



def classroom_result(result: SubmissionResult, max_scores: dict[str, Fraction], lang: Lang) -> dict:
    """One submission as a GitHub Classroom runner result (before base64).

    Args:
        result: The graded submission.
        max_scores: Points possible per problem (``BatchResult.max_scores``);
            their sum is ``max_score``.
        lang: Language of the test messages.

    Returns:
        JSON-ready data; scores are floats rounded to 4 places.
    """
    tests = []
    for part in result.parts:
        if part.status is Status.ERROR:
            status = ERROR
        else:
            status = PASS if part.score >= part.max_score else FAIL
        message = f"{points(part.score)}/{points(part.max_score)} {part.status.value}"
        feedback = feedback_text(part.feedback, lang)
        tests.append({
            "name": f"{part.problem} {part.part}",
            "status": status,
            "score": score_number(part.score),
            "max_score": score_number(part.max_score),
            "message": f"{message}: {feedback}" if feedback else message,
            "test_code": "",
            "filename": str(result.source.name) if result.source else "",
            "line_no": 0,
            "duration": 0,
        })
    if result.status is SubmissionStatus.ERROR or (result.error is not None and not tests):
        overall = ERROR
    elif all(test["status"] == PASS for test in tests):
        overall = PASS
    else:
        overall = FAIL
    return {
        "version": VERSION,
        "status": overall,
        "max_score": score_number(sum(max_scores.values(), Fraction(0))),
        "tests": tests,
    }


def encode_result(data: dict) -> str:
    """The runner result as the reporter reads it: base64 of the compact UTF-8 JSON."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def error_result(message: str, max_score: Fraction = Fraction(0)) -> dict:
    """A runner result for when grading itself failed: status ``error`` and one errored test."""
    return {
        "version": VERSION,
        "status": ERROR,
        "max_score": score_number(max_score),
        "tests": [{"name": "Autograder error", "status": ERROR, "score": 0, "max_score": score_number(max_score),
                   "message": message, "test_code": "", "filename": "", "line_no": 0, "duration": 0}],
    }


def main(argv: list[str] | None = None) -> int:
    """Grade a student's repository and append ``result=<base64>`` to ``--output`` (``$GITHUB_OUTPUT``).

    Always exits 0 once the output is written, so the reporter step runs and
    reports the grade (a grading failure is reported as status ``error``).
    """
    from grader.autograder_gradescope import submission_in, with_variant_id  # entry-point helpers
    from grader.course import COURSE_FILE, Course, load_course
    from grader.engine import grade_folder
    from grader.problems import default_problems_dir, load_problems
    from grader.variants import variants_for

    parser = argparse.ArgumentParser(prog="python -m grader.reporting.github_classroom",
                                     description="Grade a repository for GitHub Classroom's grading reporter.")
    parser.add_argument("repo", type=Path, nargs="?", default=Path("."), help="the student's repository")
    parser.add_argument("--problems", type=Path, default=None, help="problem folders")
    parser.add_argument("--course", type=Path, default=None, help="course.toml (feedback language)")
    parser.add_argument("--output", type=Path, default=None,
                        help="file to append result=<base64> to (default: print it)")
    arguments = parser.parse_args(argv)
    max_score = Fraction(0)
    try:
        problems_dir = arguments.problems or default_problems_dir()
        problems = load_problems(problems_dir)
        max_scores = {p.id: p.spec.max_score for p in problems}
        max_score = sum(max_scores.values(), Fraction(0))
        course_path = arguments.course or problems_dir.parent / COURSE_FILE
        course = load_course(course_path) if course_path.is_file() else Course()
        submission, variants = submission_in(arguments.repo), variants_for(course, problems)
        if variants is not None:  # no roster here: the id the answers file names, or an error
            submission = with_variant_id(submission, arguments.repo)
        result = grade_folder(submission, problems, variants=variants)
        data = classroom_result(result, max_scores, course.lang)
        print(f"{result.student_id}: {points(result.total)}/{points(max_score)} ({result.status.value})")
    except Exception as error:  # the reporter must still get a result
        data = error_result(f"{type(error).__name__}: {error}", max_score)
        print(f"grading failed: {type(error).__name__}: {error}", file=sys.stderr)
    line = f"result={encode_result(data)}\n"
    if arguments.output is None:
        sys.stdout.write(line)
    else:
        with arguments.output.open("a", encoding="utf-8") as handle:
            handle.write(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
