"""The roster: names joined in, missing students reported, unknown submissions flagged."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

from grader.cli import main
from grader.errors import GraderError
from grader.roster import load_roster
from tests.conftest import PROBLEMS, SUBMISSIONS


def test_roster_adds_missing_and_flags_unknown(tmp_path) -> None:
    """A roster student without a submission is `missing`; a submission not on the roster is flagged."""
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,section\nmistake-no-bias,Sara,s@example.edu,A\n"
                      "absent-student,Reza,r@example.edu,B\n", encoding="utf-8")
    result = CliRunner().invoke(main, [str(SUBMISSIONS), "--out", str(tmp_path / "out"), "--problems", str(PROBLEMS),
                                       "--roster", str(roster), "--lang", "en", "-q"])
    assert result.exit_code == 0, result.output
    rows = {r["student_id"]: r for r in csv.DictReader(io.StringIO((tmp_path / "out" / "scores.csv").read_text()))}
    assert rows["absent-student"]["status"] == "missing" and rows["absent-student"]["total"] == "0"
    assert "not on the roster" in rows["seed-writeup"]["notes"]
    assert "not on the roster" not in rows["mistake-no-bias"]["notes"]


@pytest.mark.parametrize("text, words", [
    ("name,email\nx,y\n", "no student_id column"),
    ("student_id,name\n,x\n", "empty student_id"),
    ("student_id\na\na\n", "appears twice"),
    pytest.param(b"student_id,name\n\xff\xfe,x\n", "not UTF-8", id="not-utf8"),
    pytest.param("student_id,name\n" + "x" * 200_000 + ",y\n", "not readable as CSV", id="field-too-long"),
])
def test_bad_roster_is_a_clear_error(tmp_path, text, words) -> None:
    """A malformed roster raises GraderError naming the file and the problem."""
    path = tmp_path / "roster.csv"
    path.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    with pytest.raises(GraderError, match=words):
        load_roster(path)
