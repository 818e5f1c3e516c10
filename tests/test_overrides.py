"""Instructor overrides: applied on every run, shown as overridden, never lost on a regrade."""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.errors import GraderError
from grader.overrides import load_overrides
from tests.conftest import PROBLEMS, SUBMISSIONS


def parts_rows(out):
    """parts.csv as a dict keyed by (student, problem, part)."""
    rows = csv.DictReader(io.StringIO((out / "parts.csv").read_text(encoding="utf-8")))
    return {(r["student_id"], r["problem"], r["part"]): r for r in rows}


def grade(path, out, *extra) -> str:
    """Run `grade PATH --out OUT` and return its output."""
    result = CliRunner().invoke(main, [str(path), "--out", str(out), "--problems", str(PROBLEMS), "--lang", "en",
                                       *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_override_survives_regrade(tmp_path) -> None:
    """An override in the class folder's overrides.csv is applied on the first and every later run."""
    klass = tmp_path / "class"
    shutil.copytree(SUBMISSIONS, klass)
    (klass / "overrides.csv").write_text(
        "student_id,problem,part,score,comment\nmistake-no-bias,q3,layer1.params,1,explained biases in class\n",
        encoding="utf-8")
    for run in ("first", "second"):
        grade(klass, tmp_path / run)
        row = parts_rows(tmp_path / run)[("mistake-no-bias", "q3", "layer1.params")]
        assert (row["score"], row["status"], row["diagnosis"]) == ("1", "correct", "overridden")
        assert "explained biases in class" in row["feedback"] and "the grader gave 0.5" in row["feedback"]
    assert (tmp_path / "first" / "parts.csv").read_bytes() == (tmp_path / "second" / "parts.csv").read_bytes()


def test_override_changes_totals(tmp_path) -> None:
    """The overridden score counts in scores.csv's problem column and total."""
    overrides = tmp_path / "o.csv"
    overrides.write_text("student_id,problem,part,score,comment\nmistake-no-bias,q3,layer2.params,0,no\n",
                         encoding="utf-8")
    grade(SUBMISSIONS, tmp_path / "out", "--overrides", str(overrides))
    scores = {r["student_id"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "scores.csv").read_text()))}
    assert scores["mistake-no-bias"]["q3"] == "4.5"


def test_unmatched_override_is_a_warning(tmp_path) -> None:
    """An override for no graded part is reported, and the run still succeeds."""
    overrides = tmp_path / "o.csv"
    overrides.write_text("student_id,problem,part,score,comment\nnobody,q3,layer1.params,1,x\n", encoding="utf-8")
    result = CliRunner().invoke(
        main, [str(SUBMISSIONS), "--out", str(tmp_path / "out"), "--problems", str(PROBLEMS),
               "--overrides", str(overrides), "-q"])
    assert result.exit_code == 0 and "matches no graded part" in result.stderr


@pytest.mark.parametrize("text, words", [
    ("student_id,problem,score\ns,q3,1\n", "missing column"),
    ("student_id,problem,part,score,comment\ns,q3,layer1.params,lots,x\n", "line 2"),
    ("student_id,problem,part,score,comment\ns,q3,p,1,x\ns,q3,p,0,y\n", "overridden twice"),
    ("student_id,problem,part,score,comment\ns,q3\n", "line 2: score None is not a number"),
    pytest.param(b"\xff\xfestudent_id,problem,part,score,comment\n", "not UTF-8", id="not-utf8"),
])
def test_bad_overrides_file_is_a_clear_error(tmp_path, text, words) -> None:
    """A malformed overrides file raises GraderError naming the file and the problem."""
    path = tmp_path / "overrides.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(GraderError, match=words):
        load_overrides(path)
