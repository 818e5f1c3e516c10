"""LMS and CI formats: Gradescope, GitHub Classroom, Canvas, Moodle and JUnit, checked against their published structure."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import os
import shutil
import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest

from grader import autograder_gradescope
from grader.course import Course, Reveal
from grader.engine import grade_batch
from grader.reporting import github_classroom
from grader.reporting.canvas import canvas_csv
from grader.reporting.formatting import points
from grader.reporting.github_classroom import classroom_result, encode_result
from grader.reporting.gradescope import build_autograder_zip, error_results, gradescope_results
from grader.reporting.junit import junit_xml, write_junit
from grader.reporting.moodle import moodle_csv, write_moodle_csv
from grader.results import BatchResult, Lang, Status, SubmissionResult, SubmissionStatus
from grader.roster import Roster, Student, join_roster
from grader.submission import find_submissions
from tests.conftest import PROBLEMS, ROOT, SUBMISSIONS

# Gradescope "Autograder Specifications", section "Output format"
# (https://gradescope-autograders.readthedocs.io/en/latest/specs/, docs/specs.md in
# github.com/gradescope/autograder_samples): every top-level and per-test key the spec defines.
GRADESCOPE_TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format",
                       "test_name_format", "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
GRADESCOPE_TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format",
                        "tags", "visibility", "extra_data"}
# Same spec, "Controlling Test Case Visibility" and "Test case status".
GRADESCOPE_VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
GRADESCOPE_STATUSES = {"passed", "failed"}
# What this grader writes (a subset of the spec's keys).
WRITTEN_TOP_KEYS = {"score", "output", "visibility", "stdout_visibility", "tests"}
WRITTEN_TEST_KEYS = {"name", "score", "max_score", "status", "output", "visibility"}

# The runner result of GitHub Classroom's runners (classroom-resources/autograding-command-grader
# generateResult, autograding-python-grader) as read by classroom-resources/autograding-grading-reporter
# (src/main.js: base64 JSON from <ID>_RESULTS; src/notify-classroom.js: sums tests[].score and max_score).
CLASSROOM_TOP_KEYS = {"version", "status", "max_score", "tests"}
CLASSROOM_TEST_KEYS = {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"}
CLASSROOM_STATUSES = {"pass", "fail", "error"}

CANVAS_HEADER = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Homework 7"]
COURSE = Course(assignment="Homework 7")


@pytest.fixture(scope="module")
def batch(problems) -> BatchResult:
    """The sample class, graded."""
    return grade_batch(find_submissions(SUBMISSIONS), problems)


def submission(batch: BatchResult, student_id: str) -> SubmissionResult:
    """One student's result."""
    return next(r for r in batch.submissions if r.student_id == student_id)


def rows(text: str) -> list[list[str]]:
    """CSV text as rows."""
    return list(csv.reader(io.StringIO(text)))


def check_gradescope_shape(data: dict) -> None:
    """Assert that ``data`` is a results.json the Gradescope spec accepts."""
    assert set(data) <= GRADESCOPE_TOP_KEYS
    assert isinstance(data["score"], float)
    assert isinstance(data["output"], str)
    assert data["visibility"] in GRADESCOPE_VISIBILITIES
    assert data["stdout_visibility"] in GRADESCOPE_VISIBILITIES
    assert isinstance(data["tests"], list) and data["tests"]
    for test in data["tests"]:
        assert set(test) <= GRADESCOPE_TEST_KEYS
        assert isinstance(test["name"], str) and test["name"]
        assert isinstance(test["score"], float) and isinstance(test["max_score"], float)
        assert test["status"] in GRADESCOPE_STATUSES
        assert isinstance(test["output"], str)
        assert test["visibility"] in GRADESCOPE_VISIBILITIES
    json.loads(json.dumps(data))


def is_error_result(data: dict) -> bool:
    """Whether ``data`` is the single-failed-test error result."""
    return len(data["tests"]) == 1 and data["tests"][0]["name"] == "Autograder error" \
        and data["tests"][0]["status"] == "failed" and data["score"] == 0.0


# --- Gradescope results.json ---------------------------------------------------------------------------------

def test_gradescope_keys_and_types_follow_the_spec(batch) -> None:
    """Every submission's results use only the spec's keys, with the spec's types and values."""
    for result in batch.submissions:
        data = gradescope_results(result, batch.max_scores, Lang.EN)
        check_gradescope_shape(data)
        assert set(data) == WRITTEN_TOP_KEYS
        assert all(set(test) == WRITTEN_TEST_KEYS for test in data["tests"])


def test_gradescope_has_one_test_per_part_named_problem_and_part(batch) -> None:
    """Each part is one test named "<problem> <part>", in the result's order."""
    result = submission(batch, "mistake-no-bias")
    data = gradescope_results(result, batch.max_scores, Lang.EN)
    assert [t["name"] for t in data["tests"]] == [f"{p.problem} {p.part}" for p in result.parts]
    assert "q3 layer1.params" in [t["name"] for t in data["tests"]]


def test_gradescope_test_scores_sum_to_the_total(batch) -> None:
    """The tests' scores add up to the top-level score (the total) and their maxima to the assignment's points."""
    for result in batch.submissions:
        data = gradescope_results(result, batch.max_scores, Lang.EN)
        assert data["score"] == round(float(result.total), 4)
        assert math.isclose(sum(t["score"] for t in data["tests"]), data["score"], abs_tol=1e-3)
        assert math.isclose(sum(t["max_score"] for t in data["tests"]), float(batch.max_total), abs_tol=1e-3)


def test_gradescope_status_is_passed_exactly_at_full_score(batch) -> None:
    """A test is "passed" when its part has full marks and "failed" otherwise."""
    result = submission(batch, "mistake-no-bias")
    data = gradescope_results(result, batch.max_scores, Lang.EN)
    for part, test in zip(result.parts, data["tests"]):
        assert test["status"] == ("passed" if part.score == part.max_score else "failed")
    wrong = next(t for t in data["tests"] if t["name"] == "q3 layer1.params")
    assert wrong["status"] == "failed" and "bias" in wrong["output"]


def test_gradescope_unreadable_submission_fails_every_test(batch) -> None:
    """A submission whose file is not valid TOML scores 0 with every test failed and says why."""
    data = gradescope_results(submission(batch, "malformed-toml"), batch.max_scores, Lang.EN)
    check_gradescope_shape(data)
    assert data["score"] == 0.0
    assert all(t["status"] == "failed" for t in data["tests"])
    assert "not valid TOML" in data["output"]


def test_gradescope_reveal_score_hides_the_feedback(batch) -> None:
    """With reveal = score, a test's output shows the score only, neither status nor feedback."""
    result = submission(batch, "mistake-no-bias")
    data = gradescope_results(result, batch.max_scores, Lang.EN, reveal=Reveal.SCORE)
    wrong = next(t for t in data["tests"] if t["name"] == "q3 layer1.params")
    assert wrong["output"] == "0.5/1"


def test_gradescope_missing_problems_still_count_toward_the_maximum(batch) -> None:
    """A result without parts (no submission) gets one failed test per problem worth its points."""
    missing = SubmissionResult("s999", None, SubmissionStatus.MISSING)
    data = gradescope_results(missing, batch.max_scores, Lang.EN)
    check_gradescope_shape(data)
    assert [t["name"] for t in data["tests"]] == list(batch.max_scores)
    assert math.isclose(sum(t["max_score"] for t in data["tests"]), float(batch.max_total))


def test_gradescope_error_results_are_valid() -> None:
    """error_results gives a valid results file with one failed test that explains the error."""
    data = error_results("KeyError: 'q3'", Fraction(91, 2))
    check_gradescope_shape(data)
    assert is_error_result(data)
    assert "KeyError: 'q3'" in data["tests"][0]["output"]
    assert data["tests"][0]["max_score"] == 45.5


def test_gradescope_output_is_deterministic(batch) -> None:
    """Two renderings of the same result are identical JSON."""
    result = submission(batch, "seed-writeup")
    first = json.dumps(gradescope_results(result, batch.max_scores, Lang.FA), ensure_ascii=False)
    assert first == json.dumps(gradescope_results(result, batch.max_scores, Lang.FA), ensure_ascii=False)


# --- the autograder zip --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory) -> Path:
    """The Gradescope autograder zip built from the repository."""
    return build_autograder_zip(tmp_path_factory.mktemp("zip") / "autograder.zip", ROOT)


def test_zip_holds_the_scripts_and_the_source(autograder_zip) -> None:
    """The zip has setup.sh and run_autograder at its root, and pyproject, README, course.toml, grader/ and problems/."""
    names = zipfile.ZipFile(autograder_zip).namelist()
    for name in ("setup.sh", "run_autograder", "pyproject.toml", "README.md", "course.toml",
                 "grader/__init__.py", "grader/autograder_gradescope.py", "grader/reporting/gradescope.py",
                 "problems/q3_cnn_shapes/problem.toml", "problems/q3_cnn_shapes/solver.py"):
        assert name in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or n.startswith(("tests/", "submissions/"))]
    assert not [n for n in names if n.startswith(".") or "/." in n]
    assert names == sorted(names)


def test_zip_scripts_are_executable(autograder_zip) -> None:
    """setup.sh and run_autograder carry Unix executable bits; the other files do not."""
    with zipfile.ZipFile(autograder_zip) as archive:
        for info in archive.infolist():
            mode = info.external_attr >> 16
            assert stat.S_ISREG(mode)
            executable = bool(mode & 0o111)
            assert executable == (info.filename in ("setup.sh", "run_autograder")), info.filename
            assert info.date_time == (1980, 1, 1, 0, 0, 0)


def test_zip_is_byte_identical_across_builds(autograder_zip, tmp_path) -> None:
    """Building the zip twice gives the same bytes."""
    again = build_autograder_zip(tmp_path / "again.zip", ROOT)
    assert again.read_bytes() == autograder_zip.read_bytes()


def test_setup_installs_the_bundled_source_with_pip(autograder_zip) -> None:
    """setup.sh installs the grader and its dependencies with pip from /autograder/source."""
    setup = zipfile.ZipFile(autograder_zip).read("setup.sh").decode("utf-8")
    assert setup.startswith("#!/usr/bin/env bash\n")
    assert 'pip3" install "$SOURCE"' in setup and "SOURCE=/autograder/source" in setup
    run = zipfile.ZipFile(autograder_zip).read("run_autograder").decode("utf-8")
    assert run.startswith("#!/usr/bin/env bash\n") and "-m grader.autograder_gradescope" in run


# --- the Gradescope entry point ------------------------------------------------------------------------------

def autograder_root(tmp_path: Path, answers: str | None = None) -> Path:
    """A folder laid out like /autograder: submission/ (with answers.toml) and results/."""
    root = tmp_path / "autograder"
    (root / "submission").mkdir(parents=True)
    (root / "results").mkdir()
    if answers is not None:
        (root / "submission" / "answers.toml").write_text(answers, encoding="utf-8")
    return root


def sample_answers(student_id: str) -> str:
    """The answers file of a sample submission."""
    return (SUBMISSIONS / student_id / "answers.toml").read_text(encoding="utf-8")


def read_results(root: Path) -> dict:
    """The results.json written under ``root``."""
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


def test_entry_point_grades_a_submission(tmp_path) -> None:
    """main() grades /autograder/submission/answers.toml and writes a valid results.json with its score."""
    root = autograder_root(tmp_path, sample_answers("mistake-no-bias"))
    code = autograder_gradescope.main(root / "submission", root / "results" / "results.json", PROBLEMS)
    assert code == 0
    data = read_results(root)
    check_gradescope_shape(data)
    assert data["score"] == 42.5 and len(data["tests"]) == 30
    assert "mistake-no-bias:" in data["output"] and "does not match" not in data["output"]


def test_entry_point_reads_paths_from_argv_and_env(tmp_path) -> None:
    """python -m grader.autograder_gradescope finds submission/ and results/ under $AUTOGRADER_ROOT."""
    root = autograder_root(tmp_path, sample_answers("answer-key"))
    env = {**os.environ, "AUTOGRADER_ROOT": str(root)}
    completed = subprocess.run([sys.executable, "-m", "grader.autograder_gradescope", "--problems", str(PROBLEMS)],
                               env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr
    data = read_results(root)
    check_gradescope_shape(data)
    assert data["score"] == 45.5 and all(t["status"] == "passed" for t in data["tests"])


def test_entry_point_finds_answers_in_a_subfolder(tmp_path) -> None:
    """An upload holding a folder with answers.toml is graded from that folder."""
    root = autograder_root(tmp_path)
    (root / "submission" / "hw7").mkdir()
    (root / "submission" / "hw7" / "answers.toml").write_text(sample_answers("answer-key"), encoding="utf-8")
    assert autograder_gradescope.main(root / "submission", root / "results" / "results.json", PROBLEMS) == 0
    assert read_results(root)["score"] == 45.5


def test_entry_point_with_a_broken_answers_file_writes_a_graded_zero(tmp_path) -> None:
    """A broken answers file still gives valid JSON: score 0, every test failed, the parser's message shown."""
    root = autograder_root(tmp_path, sample_answers("malformed-toml"))
    assert autograder_gradescope.main(root / "submission", root / "results" / "results.json", PROBLEMS) == 0
    data = read_results(root)
    check_gradescope_shape(data)
    assert data["score"] == 0.0 and all(t["status"] == "failed" for t in data["tests"])
    assert "not valid TOML" in data["tests"][0]["output"]


def test_entry_point_with_broken_problems_writes_an_error_test(tmp_path) -> None:
    """When the problem folders are broken, grading crashes and an error result is written instead."""
    root = autograder_root(tmp_path, sample_answers("answer-key"))
    broken = tmp_path / "problems"
    shutil.copytree(PROBLEMS / "q3_cnn_shapes", broken / "q3_cnn_shapes")
    (broken / "q3_cnn_shapes" / "problem.toml").write_text("this is [not toml", encoding="utf-8")
    assert autograder_gradescope.main(root / "submission", root / "results" / "results.json", broken) == 1
    data = read_results(root)
    check_gradescope_shape(data)
    assert is_error_result(data)
    assert "problem.toml" in data["tests"][0]["output"]


def test_entry_point_with_a_missing_problems_folder_writes_an_error_test(tmp_path) -> None:
    """A problems folder that does not exist gives the error result, not a traceback without results."""
    root = autograder_root(tmp_path, sample_answers("answer-key"))
    assert autograder_gradescope.main(root / "submission", root / "results" / "results.json",
                                      tmp_path / "nowhere") == 1
    assert is_error_result(read_results(root))


def test_entry_point_when_grading_crashes_writes_an_error_test(tmp_path, monkeypatch) -> None:
    """An unexpected exception inside grading still leaves a valid results file with the error test."""
    def crash(*_args, **_kwargs):
        raise RuntimeError("solver exploded")

    monkeypatch.setattr(autograder_gradescope, "grade_folder", crash)
    root = autograder_root(tmp_path, sample_answers("answer-key"))
    assert autograder_gradescope.main(root / "submission", root / "results" / "results.json", PROBLEMS) == 1
    data = read_results(root)
    check_gradescope_shape(data)
    assert is_error_result(data) and "solver exploded" in data["tests"][0]["output"]
    assert data["tests"][0]["max_score"] == 45.5


def unpack_autograder(autograder_zip: Path, tmp_path: Path, answers: str) -> Path:
    """Extract the zip to <root>/source as Gradescope does, with a submission, and return <root>."""
    root = autograder_root(tmp_path, answers)
    with zipfile.ZipFile(autograder_zip) as archive:
        archive.extractall(root / "source")
        for info in archive.infolist():  # extractall drops permission bits; restore them as unzip does
            (root / "source" / info.filename).chmod((info.external_attr >> 16) & 0o777)
    return root


def run_script(root: Path, python: str) -> subprocess.CompletedProcess:
    """Run the extracted run_autograder from <root>, with the bundled source first on the import path."""
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "GRADER_PYTHON": python, "PYTHONPATH": str(root / "source")}
    return subprocess.run([str(root / "source" / "run_autograder")], env=env, cwd=root,
                          capture_output=True, text=True, timeout=300)


def test_run_autograder_grades_with_the_bundled_source(autograder_zip, tmp_path) -> None:
    """The zip's run_autograder, run from a folder laid out like /autograder, writes the submission's results."""
    root = unpack_autograder(autograder_zip, tmp_path, sample_answers("mistake-pool-stride"))
    completed = run_script(root, sys.executable)
    assert completed.returncode == 0, completed.stderr
    data = read_results(root)
    check_gradescope_shape(data)
    assert data["score"] == 44.75
    where = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root / "source")}, capture_output=True, text=True)
    assert where.stdout.strip().startswith(str(root / "source"))


def test_run_autograder_writes_a_valid_file_when_python_fails(autograder_zip, tmp_path) -> None:
    """When Python itself fails, the bash fallback still writes a valid results.json with an error test."""
    root = unpack_autograder(autograder_zip, tmp_path, sample_answers("answer-key"))
    completed = run_script(root, "false")
    assert completed.returncode == 0, completed.stderr
    data = read_results(root)
    check_gradescope_shape(data)
    assert is_error_result(data)


# --- GitHub Classroom ----------------------------------------------------------------------------------------

def decode(encoded: str) -> dict:
    """What the grading reporter does: base64-decode, then parse the JSON."""
    return json.loads(base64.b64decode(encoded).decode("utf-8"))


def test_classroom_result_decodes_to_the_runner_format(batch) -> None:
    """The base64 runner result decodes to version 1 with status, max_score and the runners' test fields."""
    for result in batch.submissions:
        data = decode(encode_result(classroom_result(result, batch.max_scores, Lang.FA)))
        assert set(data) == CLASSROOM_TOP_KEYS
        assert data["version"] == 1 and data["status"] in CLASSROOM_STATUSES
        assert data["max_score"] == 45.5
        assert len(data["tests"]) == len(result.parts)
        for test in data["tests"]:
            assert CLASSROOM_TEST_KEYS <= set(test)
            assert test["status"] in CLASSROOM_STATUSES
            assert isinstance(test["score"], float) and isinstance(test["message"], str)
            assert test["line_no"] == 0
        assert math.isclose(sum(t["score"] for t in data["tests"]), float(result.total), abs_tol=1e-3)


def test_classroom_statuses_follow_the_grades(batch) -> None:
    """Full marks pass, a wrong part fails, an unreadable file errors (every test and the whole result)."""
    key = classroom_result(submission(batch, "answer-key"), batch.max_scores, Lang.EN)
    assert key["status"] == "pass" and {t["status"] for t in key["tests"]} == {"pass"}
    no_bias = classroom_result(submission(batch, "mistake-no-bias"), batch.max_scores, Lang.EN)
    assert no_bias["status"] == "fail"
    assert next(t for t in no_bias["tests"] if t["name"] == "q3 layer1.params")["status"] == "fail"
    broken = classroom_result(submission(batch, "malformed-toml"), batch.max_scores, Lang.EN)
    assert broken["status"] == "error" and {t["status"] for t in broken["tests"]} == {"error"}


def test_classroom_main_appends_the_step_output(tmp_path) -> None:
    """The module's main grades a repository and appends one result=<base64> line to $GITHUB_OUTPUT."""
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "answers.toml").write_text(sample_answers("mistake-no-bias"), encoding="utf-8")
    output = tmp_path / "github_output"
    output.write_text("earlier=1\n", encoding="utf-8")
    assert github_classroom.main(["--problems", str(PROBLEMS), "--output", str(output), str(repo)]) == 0
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "earlier=1" and len(lines) == 2 and lines[1].startswith("result=")
    data = decode(lines[1].removeprefix("result="))
    assert data["status"] == "fail" and math.isclose(sum(t["score"] for t in data["tests"]), 42.5)


def test_classroom_main_reports_an_error_when_grading_fails(tmp_path) -> None:
    """With broken problem folders the step output is still a decodable result with status error."""
    output = tmp_path / "github_output"
    assert github_classroom.main(["--problems", str(tmp_path / "nowhere"), "--output", str(output),
                                  str(tmp_path)]) == 0
    data = decode(output.read_text(encoding="utf-8").strip().removeprefix("result="))
    assert data["status"] == "error" and data["tests"][0]["status"] == "error"


def test_workflow_template_follows_the_reporter_usage() -> None:
    """The workflow is "Autograding Tests" with job run-autograding-tests, and feeds the grader step's result to the reporter."""
    text = (ROOT / "grader" / "templates" / "github-classroom.yml").read_text(encoding="utf-8")
    assert "\nname: Autograding Tests\n" in text
    assert "\n  run-autograding-tests:\n" in text
    assert "id: grader\n" in text
    assert "python -m grader.reporting.github_classroom" in text and '--output "$GITHUB_OUTPUT"' in text
    assert "uses: classroom-resources/autograding-grading-reporter@v1" in text
    assert 'GRADER_RESULTS: "${{ steps.grader.outputs.result }}"' in text
    assert "runners: grader\n" in text
    assert "\t" not in text


# --- Canvas --------------------------------------------------------------------------------------------------

def test_canvas_header_and_points_possible_row(batch) -> None:
    """The header is Canvas's, and the first data row is "    Points Possible" with the maximum total."""
    table = rows(canvas_csv(batch, COURSE))
    assert table[0] == CANVAS_HEADER
    assert table[1] == ["    Points Possible", "", "", "", "", "45.5"]


def test_canvas_has_one_row_per_student_with_the_total(batch) -> None:
    """Each student is one row: SIS User ID is the student id, the assignment column the total."""
    table = rows(canvas_csv(batch, COURSE))[2:]
    assert [row[2] for row in table] == sorted(r.student_id for r in batch.submissions)
    for row in table:
        assert row[5] == points(submission(batch, row[2]).total)
    assert dict((row[2], row[5]) for row in table)["malformed-toml"] == "0"


def test_canvas_takes_names_and_sections_from_the_roster(batch) -> None:
    """With a roster, Student and Section are filled in, and a roster student without a submission has an empty score."""
    roster = Roster((Student("mistake-no-bias", "Sara Ahmadi", "sara@example.edu", "2"),
                     Student("s999", "Reza Karimi", "reza@example.edu", "1")))
    text = canvas_csv(join_roster(batch, roster), COURSE, roster)
    table = {row[2]: row for row in rows(text)[2:]}
    assert table["mistake-no-bias"] == ["Sara Ahmadi", "", "mistake-no-bias", "", "2", "42.5"]
    assert table["s999"] == ["Reza Karimi", "", "s999", "", "1", ""]
    assert text == canvas_csv(join_roster(batch, roster), COURSE, roster)


# --- Moodle --------------------------------------------------------------------------------------------------

def test_moodle_header_and_rows(batch) -> None:
    """Without a roster: ID number, the assignment and its feedback column, one row per submission with the total."""
    table = rows(moodle_csv(batch, COURSE, None, Lang.EN))
    assert table[0] == ["ID number", "Homework 7", "Homework 7 (Feedback)"]
    assert [row[0] for row in table[1:]] == sorted(r.student_id for r in batch.submissions)
    for student_id, grade, feedback in table[1:]:
        result = submission(batch, student_id)
        assert grade == points(result.total)
        assert feedback.startswith(f"{points(result.total)}/45.5 | q1 ")
        assert "\n" not in feedback
    no_bias = next(row for row in table if row[0] == "mistake-no-bias")
    assert "q3 layer1.params: Parameters counted without the biases" in no_bias[2]


def test_moodle_with_roster_adds_email_and_keeps_only_known_students(batch) -> None:
    """With emails in the roster an Email address column follows ID number; unknown and missing students are left out."""
    roster = Roster((Student("answer-key", "Key", "key@example.edu"), Student("mistake-no-bias", "Sara", ""),
                     Student("s999", "Reza", "reza@example.edu")))
    table = rows(moodle_csv(join_roster(batch, roster), COURSE, roster, Lang.FA))
    assert table[0] == ["ID number", "Email address", "Homework 7", "Homework 7 (Feedback)"]
    assert [row[:3] for row in table[1:]] == [["answer-key", "key@example.edu", "45.5"],
                                              ["mistake-no-bias", "", "42.5"]]
    assert any("\u0600" <= ch <= "\u06ff" for ch in table[2][3])


def test_moodle_is_written_a_row_at_a_time(batch) -> None:
    """The file is written one row per write (a class of 10,000 is some 60 MB of text), and holds moodle_csv's rows."""

    class Recorder(io.StringIO):
        def __init__(self) -> None:
            super().__init__()
            self.writes: list[str] = []

        def write(self, text: str) -> int:
            self.writes.append(text)
            return super().write(text)

    file = Recorder()
    write_moodle_csv(file, batch, COURSE, None, Lang.FA)
    table = rows(moodle_csv(batch, COURSE, None, Lang.FA))
    assert len(table) > 2 and len(file.writes) == len(table)
    assert [rows(text) for text in file.writes] == [[row] for row in table]


def test_moodle_feedback_is_in_persian_when_asked(batch) -> None:
    """The feedback column uses the requested language."""
    english = rows(moodle_csv(batch, COURSE, None, Lang.EN))
    persian = rows(moodle_csv(batch, COURSE, None, Lang.FA))
    row_en = next(row for row in english if row[0] == "mistake-no-bias")
    row_fa = next(row for row in persian if row[0] == "mistake-no-bias")
    assert row_en[2] != row_fa[2]
    assert any("\u0600" <= ch <= "\u06ff" for ch in row_fa[2])


# --- JUnit ---------------------------------------------------------------------------------------------------

def test_junit_parses_with_one_testcase_per_part(batch) -> None:
    """The XML parses; there is one suite per student and one testcase per part, totals matching."""
    root = ET.fromstring(junit_xml(batch, Lang.EN).encode("utf-8"))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == sorted(r.student_id for r in batch.submissions)
    cases = root.findall("testsuite/testcase")
    assert len(cases) == sum(len(r.parts) for r in batch.submissions) == int(root.get("tests"))
    for suite in suites:
        result = submission(batch, suite.get("name"))
        assert len(suite.findall("testcase")) == len(result.parts) == int(suite.get("tests"))
        assert {c.get("classname") for c in suite.findall("testcase")} == \
            {f"{result.student_id}.{p.problem}" for p in result.parts}


def test_junit_marks_wrong_parts_as_failures(batch) -> None:
    """Parts short of full marks are <failure>s with the score and feedback; correct parts have no child."""
    root = ET.fromstring(junit_xml(batch, Lang.EN).encode("utf-8"))
    suite = next(s for s in root.findall("testsuite") if s.get("name") == "mistake-no-bias")
    case = next(c for c in suite.findall("testcase") if c.get("name") == "layer1.params")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "partial"
    assert failure.get("message").startswith("0.5/1 partial: Parameters counted without the biases")
    correct = next(c for c in suite.findall("testcase") if c.get("name") == "layer1.output_shape")
    assert list(correct) == []
    result = submission(batch, "mistake-no-bias")
    short = [p for p in result.parts if p.score < p.max_score and p.status is not Status.NEEDS_REVIEW]
    assert int(suite.get("failures")) == len(short) == len(suite.findall("testcase/failure"))


def test_junit_marks_errors_and_reviews(batch) -> None:
    """An unreadable file gives <error> for every part; essays awaiting review are <skipped>."""
    root = ET.fromstring(junit_xml(batch, Lang.EN).encode("utf-8"))
    broken = next(s for s in root.findall("testsuite") if s.get("name") == "malformed-toml")
    assert len(broken.findall("testcase/error")) == 30 == int(broken.get("errors"))
    reviews = sum(p.status is Status.NEEDS_REVIEW for r in batch.submissions for p in r.parts)
    assert len(root.findall("testsuite/testcase/skipped")) == reviews == int(root.get("skipped")) > 0
    invalid = next(s for s in root.findall("testsuite") if s.get("name") == "malformed-types")
    assert [e.get("type") for e in invalid.findall("testcase/error")] == ["invalid", "invalid"]


def test_junit_written_suite_by_suite_is_laid_out_as_one_indented_tree(batch, tmp_path) -> None:
    """The report written a student at a time is the text ElementTree gives the whole tree, indented."""
    for lang in (Lang.EN, Lang.FA):
        with open(tmp_path / "junit.xml", "w", encoding="utf-8", newline="") as file:
            write_junit(file, batch, lang)
        text = (tmp_path / "junit.xml").read_text(encoding="utf-8")
        root = ET.fromstring(text.encode("utf-8"))
        ET.indent(root)
        assert text == '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
        assert text == junit_xml(batch, lang) and text.count("<testsuite ") == len(batch.submissions)
    empty = junit_xml(BatchResult((), batch.max_scores))
    assert ET.fromstring(empty.encode("utf-8")).attrib == {"name": "hw-grader", "tests": "0", "failures": "0",
                                                            "errors": "0", "skipped": "0"}


def test_junit_is_deterministic_and_escapes_control_characters(batch) -> None:
    """Two renderings are identical, and a control character in a student id still gives parseable XML."""
    assert junit_xml(batch, Lang.FA) == junit_xml(batch, Lang.FA)
    odd = BatchResult((SubmissionResult("bad\x01id", None, SubmissionStatus.MISSING),), batch.max_scores)
    root = ET.fromstring(junit_xml(odd).encode("utf-8"))
    assert root.find("testsuite").get("name") == "bad\ufffdid"
