"""The `grade` command line, through click's CliRunner."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import PROBLEMS, SUBMISSIONS
from tests.helpers import q3_layers, write_submission


@pytest.fixture()
def runner() -> CliRunner:
    """A CliRunner."""
    return CliRunner()


def run(runner: CliRunner, *args: str):
    """Invoke `grade` (English feedback unless the test asks otherwise)."""
    if args and args[0] not in ("--help", "key", "problems") and "--lang" not in args:
        args = (*args, "--lang", "en")
    return runner.invoke(main, [*args], catch_exceptions=False)


def test_grade_path_writes_both_reports(runner, tmp_path) -> None:
    """`grade submissions/ --out DIR` exits 0, writes the three reports and prints a summary."""
    result = run(runner, str(SUBMISSIONS), "--out", str(tmp_path), "--problems", str(PROBLEMS))
    assert result.exit_code == 0, result.output
    assert all((tmp_path / name).is_file() for name in ("scores.csv", "parts.csv", "similarity.csv"))
    count = sum(1 for p in SUBMISSIONS.iterdir() if p.is_dir())
    assert f"Graded {count} submissions: 1 error(s)" in result.output
    assert "Not graded" not in result.output  # every sample section has a problem folder


def test_run_subcommand_is_the_default(runner, tmp_path) -> None:
    """`grade PATH` and `grade run PATH` write the same reports."""
    a, b = tmp_path / "a", tmp_path / "b"
    run(runner, str(SUBMISSIONS), "--out", str(a), "--problems", str(PROBLEMS), "-q")
    run(runner, "run", str(SUBMISSIONS), "--out", str(b), "--problems", str(PROBLEMS), "-q")
    assert (a / "parts.csv").read_bytes() == (b / "parts.csv").read_bytes()


def test_persian_feedback(runner, tmp_path) -> None:
    """`--lang fa` writes the feedback in Persian."""
    run(runner, str(SUBMISSIONS), "--out", str(tmp_path), "--problems", str(PROBLEMS), "--lang", "fa", "-q")
    assert "بایاس" in (tmp_path / "parts.csv").read_text(encoding="utf-8")


def test_check_prints_every_part(runner) -> None:
    """`grade check` on a sample prints each part, the named mistake and the total, and exits 0."""
    result = run(runner, "check", str(SUBMISSIONS / "mistake-no-bias"), "--problems", str(PROBLEMS))
    assert result.exit_code == 0
    assert "layer1.params" in result.output and "without the biases" in result.output
    assert "q3  5/6" in result.output and "Total: 42.5/45.5" in result.output


def test_check_json(runner) -> None:
    """`grade check --json` prints the per-part results as JSON."""
    result = run(runner, "check", str(SUBMISSIONS / "answer-key" / "answers.toml"), "--json",
                 "--problems", str(PROBLEMS))
    data = json.loads(result.output)
    assert result.exit_code == 0
    assert (data["student_id"], data["status"]) == ("answer-key", "graded")
    assert data["total"] == data["max_total"] == sum(p["max_score"] for p in data["problems"])
    assert {part["status"] for p in data["problems"] for part in p["parts"]} == {"correct"}


def test_check_unreadable_file_exits_1(runner) -> None:
    """`grade check` on invalid TOML exits 1 and shows the parser's line and column."""
    result = run(runner, "check", str(SUBMISSIONS / "malformed-toml"), "--problems", str(PROBLEMS))
    assert result.exit_code == 1
    assert "line 9, column 33" in result.output


def test_check_wrong_answers_still_exit_0(runner, tmp_path) -> None:
    """A readable submission exits 0 whatever its score."""
    folder = write_submission(tmp_path, "s1", q3_layers(("[1, 1, 1]", 1)))
    assert run(runner, "check", str(folder), "--problems", str(PROBLEMS)).exit_code == 0


def test_check_of_a_folder_named_in_other_bytes_prints_on_a_strict_terminal(tmp_path) -> None:
    """`grade check` of a folder whose name is not UTF-8 shows it as \\xNN, even where stdout refuses other bytes."""
    folder = tmp_path / os.fsdecode(b"bad\xffid")
    folder.mkdir()
    shutil.copy(SUBMISSIONS / "answer-key" / "answers.toml", folder)
    result = subprocess.run([sys.executable, "-m", "grader.cli", "check", str(folder), "--problems", str(PROBLEMS)],
                            capture_output=True, env={**os.environ, "PYTHONIOENCODING": "utf-8:strict"})
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Submission bad\\xffid" in result.stdout and b"bad\\xffid/answers.toml" in result.stdout


def test_check_imports_no_numpy_nor_pandas() -> None:
    """`grade check` of the answer key loads neither NumPy nor pandas (their start-up time would count)."""
    code = ("import sys; from grader.cli import main\n"
            "try:\n    main(['check', sys.argv[1], '--problems', sys.argv[2]])\n"
            "except SystemExit as end:\n    assert not end.code, end.code\n"
            "print(sorted(m for m in ('numpy', 'pandas') if m in sys.modules), file=sys.stderr)")
    result = subprocess.run([sys.executable, "-c", code, str(SUBMISSIONS / "answer-key"), str(PROBLEMS)],
                            capture_output=True, text=True, check=True)
    assert "avg_kernel" in result.stdout and result.stderr.strip().splitlines()[-1] == "[]"


def test_usage_errors_exit_2(runner, tmp_path) -> None:
    """A path that does not exist, or a class folder given to `check`, is a usage error (exit 2)."""
    assert runner.invoke(main, ["check", str(tmp_path / "nope")]).exit_code == 2
    result = runner.invoke(main, ["check", str(SUBMISSIONS), "--problems", str(PROBLEMS)])
    assert result.exit_code == 2 and "one submission" in result.output


def test_broken_problem_folder_is_a_clear_error(runner, tmp_path) -> None:
    """A broken spec stops the run with exit 1 and a message naming the file and key."""
    broken = tmp_path / "problems"
    shutil.copytree(PROBLEMS, broken)
    spec = broken / "q3_cnn_shapes" / "problem.toml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("points = 1\n", 'points = "many"\n', 1), encoding="utf-8")
    result = runner.invoke(main, [str(SUBMISSIONS), "--problems", str(broken), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "problem.toml: key 'parts[0].points'" in result.output


def test_key_command_writes_the_key(runner, tmp_path) -> None:
    """`grade key --out FILE` writes a key that `grade check` scores full marks."""
    out = tmp_path / "answer-key" / "answers.toml"
    assert run(runner, "key", "--out", str(out), "--problems", str(PROBLEMS)).exit_code == 0
    data = json.loads(run(runner, "check", str(out), "--json", "--problems", str(PROBLEMS)).output)
    assert data["total"] == data["max_total"] > 0


def test_problems_lists_problems(runner) -> None:
    """`grade problems` lists each problem with its points."""
    result = run(runner, "problems", "--problems", str(PROBLEMS))
    assert "q3" in result.output and "6 points" in result.output


def test_help_mentions_every_command(runner) -> None:
    """`grade --help` shows the main uses."""
    result = run(runner, "--help")
    for word in ("grade submissions/", "check", "key", "problems"):
        assert word in result.output


def test_derive_reports_a_missing_or_unwritable_folder(runner, tmp_path) -> None:
    """`grade derive` exits 1 with the reason for a problems folder that is missing, or whose derivations cannot
    be written, and writes nothing into a folder it cannot write."""
    missing = runner.invoke(main, ["derive", "--problems", str(tmp_path / "none")])
    assert missing.exit_code == 1 and "none" in missing.output and "Traceback" not in missing.output
    copy = tmp_path / "problems"
    shutil.copytree(PROBLEMS, copy, ignore=shutil.ignore_patterns("derivations", "__pycache__"))
    (copy / "q4_conv_backprop" / "derivations").write_text("a file where the folder should be")
    blocked = runner.invoke(main, ["derive", "--problems", str(copy)])
    assert blocked.exit_code == 1 and "cannot write the derivations" in blocked.output, blocked.output
