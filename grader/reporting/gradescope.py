"""Gradescope autograder results (``results.json``) and the autograder zip an instructor uploads.

Follows Gradescope's "Autograder Specifications"
(https://gradescope-autograders.readthedocs.io/en/latest/specs/, source
``docs/specs.md`` of github.com/gradescope/autograder_samples):

- the zip holds ``setup.sh`` and an executable ``run_autograder`` at its root;
  Gradescope extracts it to ``/autograder/source``, runs ``setup.sh`` once when
  it builds the image, then ``run_autograder`` (from ``/autograder``) for every
  submission, with the student's files in ``/autograder/submission``;
- ``run_autograder`` must leave ``/autograder/results/results.json``:
  a top-level ``score`` (it overrides the sum of the tests), ``output``,
  ``visibility``, ``stdout_visibility`` and ``tests``, each test with ``name``,
  ``score``, ``max_score``, ``status`` (``"passed"``/``"failed"``), ``output``
  and ``visibility``. ``execution_time``, ``extra_data``, ``tags`` and the
  ``*_format`` keys are optional and not written.

One test per graded part (``"q3 layer1.params"``), in problem then part
order; a test passes when the part has its full score.
"""

from __future__ import annotations

import html
import os
import stat
import tempfile
import zipfile
from fractions import Fraction
from pathlib import Path

from grader.course import Reveal
from grader.reporting.formatting import points, score_number
from grader.results import Lang, PartResult, SubmissionResult

VISIBLE = "visible"
"""Gradescope visibility: always shown to the student."""
HIDDEN = "hidden"
"""Gradescope visibility: never shown to the student (the stdout log holds debugging output only)."""

PASSED = "passed"
FAILED = "failed"

ERROR_TEST_NAME = "Autograder error"



def _test_output(part: PartResult, lang: Lang, reveal: Reveal) -> str:
    """What the student reads under one test: score, then status, then feedback, by the reveal level."""
    lines = [f"{points(part.score)}/{points(part.max_score)}"]
    if reveal >= Reveal.STATUS:
        lines[0] += f" {part.status.value}"
    if reveal >= Reveal.FEEDBACK:
        lines += [message.text(lang) for message in part.feedback]
    return "\n".join(lines)


def _summary(result: SubmissionResult, max_total: Fraction, lang: Lang) -> str:
    """The submission-level output: total, why it could not be read, the warnings.

    Gradescope renders the top-level output as ``simple_format`` (HTML, with
    line breaks), so the text is HTML-escaped.
    """
    lines = [f"{result.student_id}: {points(result.total)}/{points(max_total)} ({result.status.value})"]
    if result.error is not None:
        lines.append(result.error.text(lang))
    lines += [warning.text(lang) for warning in result.warnings]
    return html.escape("\n".join(lines), quote=False)


def gradescope_results(result: SubmissionResult, max_scores: dict[str, Fraction], lang: Lang, *,
                       reveal: Reveal = Reveal.FEEDBACK) -> dict:
    """One submission as Gradescope's ``results.json``.

    Args:
        result: The graded submission.
        max_scores: Points possible per problem (``BatchResult.max_scores``);
            a problem the result holds no parts for gets one failed test worth
            its points, so the tests always add up to the assignment's total.
        lang: Language of the feedback.
        reveal: What each test's output shows (the course's ``feedback.reveal``):
            the score, then the status, then the feedback. ``answer`` shows the
            feedback too: results hold no expected values.

    Returns:
        JSON-ready data: ``score`` (the total), ``output``, ``visibility``,
        ``stdout_visibility`` and ``tests``; scores are floats rounded to 4 places.
    """
    tests = [
        {
            "name": f"{part.problem} {part.part}",
            "score": score_number(part.score),
            "max_score": score_number(part.max_score),
            "status": PASSED if part.score >= part.max_score else FAILED,
            "output": _test_output(part, lang, reveal),
            "visibility": VISIBLE,
        }
        for part in result.parts
    ]
    graded = {problem.problem for problem in result.problems if problem.parts}
    for problem_id, max_score in max_scores.items():
        if problem_id not in graded:
            reason = result.error.text(lang) if result.error is not None else "not graded"
            tests.append({"name": problem_id, "score": 0.0, "max_score": score_number(max_score), "status": FAILED,
                          "output": f"0/{points(max_score)}\n{reason}", "visibility": VISIBLE})
    return {
        "score": score_number(result.total),
        "output": _summary(result, sum(max_scores.values(), Fraction(0)), lang),
        "visibility": VISIBLE,
        "stdout_visibility": HIDDEN,
        "tests": tests,
    }


def error_results(message: str, max_score: Fraction = Fraction(0)) -> dict:
    """A valid ``results.json`` for when grading itself failed: one failed test saying why.

    Args:
        message: What went wrong (shown to the student and the instructor).
        max_score: The assignment's points, when known, so the failure shows
            out of the right total; zero otherwise.
    """
    text = f"The autograder could not grade this submission: {message}\nPlease tell the course staff."
    return {
        "score": 0.0,
        "output": html.escape(text, quote=False),
        "visibility": VISIBLE,
        "stdout_visibility": HIDDEN,
        "tests": [{"name": ERROR_TEST_NAME, "score": 0.0, "max_score": score_number(max_score), "status": FAILED,
                   "output": text, "visibility": VISIBLE}],
    }


# --- the autograder zip -------------------------------------------------------------------------------------

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image
# (the zip is extracted to /autograder/source). It installs Python >= 3.11,
# the grader's dependencies and the grader itself into /autograder/venv.
set -euxo pipefail
export DEBIAN_FRONTEND=noninteractive
SOURCE=/autograder/source
VENV=/autograder/venv

python_ok() { "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1; }

PY=""
for candidate in python3 python3.13 python3.12 python3.11; do
  if command -v "$candidate" >/dev/null 2>&1 && python_ok "$candidate"; then PY="$candidate"; break; fi
done
apt-get update
if [ -z "$PY" ]; then
  apt-get install -y python3.11 python3.11-venv
  PY=python3.11
else
  apt-get install -y "$PY-venv" || apt-get install -y python3-venv || true
fi
"$PY" -m venv "$VENV"
"$VENV/bin/pip3" install --upgrade pip
"$VENV/bin/pip3" install "$SOURCE"
# Fail the build now, not at the first submission.
"$VENV/bin/python3" -c "import grader.autograder_gradescope"
"""

FALLBACK_RESULTS = (
    '{"score": 0.0, "output": "The autograder could not run; please tell the course staff.", '
    '"visibility": "visible", "stdout_visibility": "hidden", '
    '"tests": [{"name": "Autograder error", "score": 0.0, "max_score": 0.0, "status": "failed", '
    '"output": "The autograder could not run (Python failed to start or crashed); '
    'please tell the course staff.", "visibility": "visible"}]}'
)
"""What ``run_autograder`` writes itself when Python leaves no results file."""

RUN_AUTOGRADER = f"""\
#!/usr/bin/env bash
# Gradescope runs this for every submission, from /autograder; it must always
# leave a valid results/results.json. The Python entry point writes an error
# result itself when grading fails; this script writes a minimal one when
# Python could not run at all. AUTOGRADER_ROOT and GRADER_PYTHON may be set for testing.
set -uo pipefail
ROOT="${{AUTOGRADER_ROOT:-/autograder}}"
RESULTS="$ROOT/results/results.json"
PYTHON="${{GRADER_PYTHON:-$ROOT/venv/bin/python3}}"
if ! command -v "$PYTHON" >/dev/null 2>&1; then
  PYTHON=python3
fi
mkdir -p "$ROOT/results"
rm -f "$RESULTS"
"$PYTHON" -m grader.autograder_gradescope \\
  --submission "$ROOT/submission" \\
  --results "$RESULTS" \\
  --problems "$ROOT/source/problems" \\
  --course "$ROOT/source/course.toml"
status=$?
if [ ! -s "$RESULTS" ]; then
  echo "run_autograder: the grader exited with status $status and wrote no results; writing an error result" >&2
  cat > "$RESULTS" <<'JSON'
{FALLBACK_RESULTS}
JSON
fi
exit 0
"""

ZIP_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
"""Every zip entry's time: the earliest a zip can hold, so the bytes never depend on the clock."""

EXECUTABLE = stat.S_IFREG | 0o755
REGULAR = stat.S_IFREG | 0o644

PROJECT_FILES = ("pyproject.toml", "README.md", "course.toml")
PROJECT_FOLDERS = ("grader", "problems")
SKIPPED_PARTS = frozenset({"__pycache__", ".git", "tests", "submissions", "build", "dist"})


def autograder_files(project_root: Path, course_file: Path | None = None) -> list[tuple[str, Path]]:
    """The project files the zip carries, as (name in the zip, file), sorted by name.

    ``pyproject.toml``, ``README.md`` and ``course.toml`` (when present; or
    ``course_file`` packed as ``course.toml``), and every file under
    ``grader/`` and ``problems/`` except caches, hidden files, ``tests``,
    ``submissions`` and build output.
    """
    chosen = {"course.toml": course_file} if course_file is not None else {}
    files = [(name, chosen.get(name, project_root / name)) for name in PROJECT_FILES
             if chosen.get(name, project_root / name).is_file()]
    for folder in PROJECT_FOLDERS:
        for path in (project_root / folder).rglob("*"):
            relative = path.relative_to(project_root)
            if not path.is_file() or path.suffix in (".pyc", ".pyo"):
                continue
            if any(part in SKIPPED_PARTS or part.startswith(".") or part.endswith(".egg-info")
                   for part in relative.parts):
                continue
            files.append((relative.as_posix(), path))
    return sorted(files)


def _entry(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.create_system = 3  # Unix, so unzip and Gradescope honour the permission bits
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def build_autograder_zip(dest: Path, project_root: Path, course_file: Path | None = None) -> Path:
    """Write the zip an instructor uploads to Gradescope as is.

    It holds ``setup.sh`` and ``run_autograder`` (both executable) at the root,
    and the project source needed to install and grade: ``pyproject.toml``,
    ``README.md``, ``course.toml``, ``grader/`` and ``problems/``. Entries are
    sorted and time-stamped 1980-01-01, so two builds of the same source give
    byte-identical zips. The file is written atomically.

    Args:
        dest: The zip file to write (its folder is created).
        project_root: The repository root (holding ``pyproject.toml``).
        course_file: The course settings to pack as ``course.toml`` (default: the root's).

    Returns:
        ``dest``.

    Raises:
        FileNotFoundError: When ``project_root`` holds no ``pyproject.toml``.
    """
    if not (project_root / "pyproject.toml").is_file():
        raise FileNotFoundError(f"{project_root} holds no pyproject.toml")
    entries: list[tuple[str, bytes, int]] = [
        ("run_autograder", RUN_AUTOGRADER.encode("utf-8"), EXECUTABLE),
        ("setup.sh", SETUP_SH.encode("utf-8"), EXECUTABLE),
    ]
    entries += [(name, path.read_bytes(), REGULAR) for name, path in autograder_files(project_root, course_file)]
    dest.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for name, data, mode in sorted(entries):
                archive.writestr(_entry(name, mode), data)
        os.replace(temporary, dest)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return dest
