"""One run with every format: each file exists and opens in the tool it is for."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ElementTree

import openpyxl
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import PROBLEMS, SUBMISSIONS


def test_one_run_writes_every_report(tmp_path) -> None:
    """`grade submissions/ --roster R --formats all` writes every report, each readable by its tool."""
    roster = tmp_path / "roster.csv"
    roster.write_text("student_id,name,email,section\nseed-writeup,Sample Student,s@example.edu,A\n"
                      "absent,Reza,r@example.edu,B\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, [str(SUBMISSIONS), "--out", str(out), "--problems", str(PROBLEMS),
                                       "--roster", str(roster), "--formats", "all", "--lang", "fa", "-q"])
    assert result.exit_code == 0, result.output
    students = sorted([p.name for p in SUBMISSIONS.iterdir() if p.is_dir()] + ["absent"])
    scores = list(csv.DictReader(io.StringIO((out / "scores.csv").read_text(encoding="utf-8"))))
    assert [r["student_id"] for r in scores] == students
    workbook = openpyxl.load_workbook(out / "report.xlsx")
    assert {"scores", "parts", "summary", "item analysis", "review queue"} <= set(workbook.sheetnames)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'dir="rtl"' in page and "feedback/seed-writeup.html" in page
    ElementTree.fromstring((out / "junit.xml").read_text(encoding="utf-8"))
    assert (out / "canvas.csv").read_text(encoding="utf-8").startswith("Student,ID,SIS User ID")
    assert "ID number" in (out / "moodle.csv").read_text(encoding="utf-8").splitlines()[0]
    gradescope = json.loads((out / "gradescope" / "seed-writeup.json").read_text(encoding="utf-8"))
    assert {"score", "tests"} <= set(gradescope) and all({"name", "score", "max_score"} <= set(t)
                                                          for t in gradescope["tests"])
    assert sorted(p.stem for p in (out / "feedback").glob("*.html")) == students
    assert "بایاس" in (out / "feedback" / "mistake-no-bias.md").read_text(encoding="utf-8")
