"""Instructions run per submission, counted by Valgrind: a measure this machine's changing speed does not move.

    python bench/instructions.py                    # every stage, on a synthetic class
    python bench/instructions.py --stage grade --count 100
    python bench/instructions.py --run --count 1000 # a whole `grade run`, every process

This machine's speed drifts by the hour (docs/performance.md), so two timings
taken minutes apart need not compare; the instructions a stage runs do. Each
stage is run twice under Valgrind's cachegrind (no cache simulation, one hash
seed), once over ``--count`` submissions and once over none, and the
difference is divided by the count:

- ``grade``: read an answers file, grade it and write its result as JSON (a worker's work);
- ``read``: make a result from that JSON (the main process's, for each result a worker sends);
- ``feedback``: a student's view and their two feedback files (the feedback writer's).

The stages ``read`` and ``feedback`` start from results graded beforehand, outside Valgrind.
Instructions are not time: a cache miss costs more than an addition. They say
whether a change does less work, which a noisy clock cannot say in one run.

``--run`` counts a whole ``grade run --workers 2`` of the class instead: every process's own work, under
callgrind. A forked process starts with a copy of its parent's counters, so summing each process's count
would count the main process's work before each fork again in every worker and feedback writer; callgrind
zeroes them where Python's forked child begins (``PyOS_AfterFork_Child``).

Needs ``valgrind`` (``apt-get install valgrind``).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

STAGES = ("grade", "read", "feedback")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", choices=STAGES, action="append", help="stage to count (default: all)")
    parser.add_argument("--count", type=int, default=300,
                        help="submissions per count, or in the synthetic class with --run (default 300)")
    parser.add_argument("--class", dest="class_dir", type=Path, help="a class folder (default: a synthetic one)")
    parser.add_argument("--run", action="store_true", help="count a whole `grade run` of the class instead")
    parser.add_argument("--inner", nargs=4, metavar=("STAGE", "CLASS", "RESULTS", "COUNT"), help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.run and arguments.stage:
        parser.error("--run counts a whole run, not a stage")
    if arguments.inner:
        stage, class_dir, results, count = arguments.inner
        run_stage(stage, Path(class_dir), Path(results), int(count))
        return
    if shutil.which("valgrind") is None:
        sys.exit("valgrind is not installed (apt-get install valgrind)")
    with tempfile.TemporaryDirectory(prefix="grader-instructions-") as scratch:
        class_dir = arguments.class_dir.resolve() if arguments.class_dir else None  # Valgrind runs from the project
        if class_dir is None:
            from generate_class import generate

            class_dir = Path(scratch) / "class"
            generate(class_dir, arguments.count)
        if arguments.run:
            whole_run(class_dir, Path(scratch))
            return
        results = Path(scratch) / "results.jsonl"
        graded(class_dir, results, arguments.count)
        for stage in arguments.stage or STAGES:
            spent = instructions(stage, class_dir, results, arguments.count) - instructions(
                stage, class_dir, results, 0)
            print(f"{stage:8} {spent / arguments.count / 1e6:8.3f} million instructions a submission "
                  f"({arguments.count} submissions)")


def graded(class_dir: Path, results: Path, count: int) -> None:
    """Grade the first ``count`` submissions and write their results as JSON lines (the later stages' input)."""
    from grader.engine import grade_folder
    from grader.problems import load_problems
    from grader.results_io import to_json
    from grader.submission import find_submissions

    problems = load_problems(ROOT / "problems")
    with results.open("wb") as file:
        for submission in find_submissions(class_dir)[:count]:
            file.write(to_json(grade_folder(submission, problems)) + b"\n")


def instructions(stage: str, class_dir: Path, results: Path, count: int) -> int:
    """The instructions a Python process doing ``stage`` over ``count`` submissions runs, start-up included."""
    report = _valgrind(["--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
                        sys.executable, __file__, "--inner", stage, str(class_dir), str(results), str(count)])
    found = re.search(r"I\s+refs:\s+([\d,]+)", report)
    if found is None:
        sys.exit(f"no instruction count in Valgrind's output:\n{report}")
    return int(found.group(1).replace(",", ""))


def _valgrind(arguments: list[str]) -> str:
    """Valgrind's report (its standard error) of a run with these arguments, from the project's folder."""
    # One hash seed for every run: the seed moves how dictionaries fill, and with it a few instructions.
    environment = {**os.environ, "PYTHONHASHSEED": "0"}
    return subprocess.run(["valgrind", *arguments], capture_output=True, text=True, check=True, env=environment,
                          cwd=ROOT).stderr


WORKERS = 2


def whole_run(class_dir: Path, scratch: Path) -> None:
    """Count ``grade run --workers 2`` of the class and print each process's own instructions and their sum."""
    report = _valgrind(["--tool=callgrind", "--zero-before=PyOS_AfterFork_Child",
                        f"--callgrind-out-file={scratch / 'callgrind.%p'}", "--trace-children=yes",
                        sys.executable, "-m", "grader.cli", "run", str(class_dir), "--out", str(scratch / "out"),
                        "-q", "--workers", str(WORKERS)])
    counts = {int(pid): int(count) for pid, count in re.findall(r"==(\d+)== Collected : (\d+)", report)}
    started = re.search(r"==(\d+)== Command:", report)  # the process Valgrind started; the rest forked
    if not counts or started is None:
        sys.exit(f"no instruction counts in Valgrind's output:\n{report}")
    main_count = counts.pop(int(started.group(1)))
    forked = sorted(counts.values(), reverse=True)
    print(f"run      {(main_count + sum(forked)) / 1e9:8.3f} billion instructions (a class of "
          f"{len(list(class_dir.iterdir()))}, --workers {WORKERS}): the main process {main_count / 1e9:.3f}, "
          f"forked {', '.join(f'{count / 1e9:.3f}' for count in forked)}")


def run_stage(stage: str, class_dir: Path, results: Path, count: int) -> None:
    """Do ``stage`` over ``count`` submissions; what both counts do alike (loading, the input) cancels out."""
    from grader.problems import load_problems

    problems = load_problems(ROOT / "problems")
    if stage == "grade":
        from grader.engine import grade_folder
        from grader.results_io import to_json
        from grader.submission import find_submissions

        for submission in find_submissions(class_dir)[:count]:
            to_json(grade_folder(submission, problems))
        return
    from grader.results_io import from_json

    lines = results.read_bytes().splitlines()
    if stage == "read":
        for line in lines[:count]:
            from_json(line)
        return
    from grader.course import Course, Reveal
    from grader.engine import make_batch
    from grader.pipeline import _sum_scores
    from grader.reporting.feedback_files import write_feedback_files
    from grader.reporting.student_view import expected_answers, student_view
    from grader.results import Lang

    # As the feedback writer has them: read from the workers' JSON, their scores summed before it forks.
    batch = make_batch([from_json(line) for line in lines], problems)
    _sum_scores(batch)
    course = Course()
    expected = expected_answers(problems) if course.reveal >= Reveal.ANSWER else {}
    with tempfile.TemporaryDirectory(prefix="grader-feedback-") as out:
        views = (student_view(result, problems, course.reveal, Lang.FA, expected)
                 for result in batch.submissions[:count])
        write_feedback_files(views, Path(out), course.assignment, Lang.FA)


if __name__ == "__main__":
    main()
