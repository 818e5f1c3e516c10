"""scores.csv and parts.csv: the contract's columns, order and determinism."""

from __future__ import annotations

import csv
import io
import itertools
import os
from fractions import Fraction

import pytest

from click.testing import CliRunner

from grader.cli import main
from grader.reporting import files
from grader.reporting.files import write_atomic
from grader.results import (
    BatchResult, Lang, Message, PartResult, ProblemResult, Status, SubmissionResult, SubmissionStatus,
)
from tests.conftest import PROBLEMS, SUBMISSIONS

SCORES_CONTRACT = ["student_id", "q1", "q2a", "q2b", "q3", "q4", "total", "max_total", "status"]
PARTS_CONTRACT = ["student_id", "problem", "part", "score", "max_score", "status", "feedback"]


def grade_into(out) -> None:
    """Grade the sample class into ``out``."""
    result = CliRunner().invoke(main, [str(SUBMISSIONS), "--out", str(out), "--problems", str(PROBLEMS), "-q"])
    assert result.exit_code == 0, result.output


def read_csv(path):
    """Rows of a CSV file as dicts, and its header."""
    reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8")))
    return list(reader), reader.fieldnames


def test_columns_follow_the_contract(tmp_path) -> None:
    """The contract's columns come first, in its order; extensions only follow them."""
    grade_into(tmp_path)
    _, scores_header = read_csv(tmp_path / "scores.csv")
    _, parts_header = read_csv(tmp_path / "parts.csv")
    assert scores_header[:len(SCORES_CONTRACT)] == SCORES_CONTRACT
    assert parts_header[:len(PARTS_CONTRACT)] == PARTS_CONTRACT


def test_rows_are_sorted(tmp_path) -> None:
    """Rows are sorted by student id, then problem, then part."""
    grade_into(tmp_path)
    parts, _ = read_csv(tmp_path / "parts.csv")
    keys = [(r["student_id"], r["problem"], r["part"]) for r in parts]
    assert keys == sorted(keys)
    scores, _ = read_csv(tmp_path / "scores.csv")
    assert [r["student_id"] for r in scores] == sorted(r["student_id"] for r in scores)


def test_values_are_points_and_statuses(tmp_path) -> None:
    """Scores are points, statuses are the contract's words, and totals add up."""
    grade_into(tmp_path)
    scores, _ = read_csv(tmp_path / "scores.csv")
    parts, _ = read_csv(tmp_path / "parts.csv")
    by_id = {r["student_id"]: r for r in scores}
    assert by_id["mistake-pool-stride"]["q3"] == "5.25" and by_id["mistake-pool-stride"]["max_total"] == "45.5"
    assert {r["status"] for r in scores} <= {"graded", "partial", "error", "missing"}
    assert {r["status"] for r in parts} <= {"correct", "partial", "wrong", "missing", "invalid", "needs_review",
                                              "error"}
    for student_id, row in by_id.items():
        total = sum(float(p["score"]) for p in parts if p["student_id"] == student_id)
        assert abs(total - float(row["total"])) < 1e-9


def test_two_runs_are_byte_identical(tmp_path) -> None:
    """Grading the same class twice gives byte-identical CSVs."""
    grade_into(tmp_path / "a")
    grade_into(tmp_path / "b")
    for name in ("scores.csv", "parts.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_error_submission_has_a_row_and_a_reason(tmp_path) -> None:
    """An unreadable submission still has its row, status `error`, and the parser's message in notes."""
    grade_into(tmp_path)
    scores, _ = read_csv(tmp_path / "scores.csv")
    row = next(r for r in scores if r["student_id"] == "malformed-toml")
    assert row["status"] == "error" and row["total"] == "0" and "line 9" in row["notes"]


def test_submissions_are_not_modified(tmp_path) -> None:
    """Grading leaves every file under submissions/ as it was."""
    before = {p: p.read_bytes() for p in SUBMISSIONS.rglob("*") if p.is_file()}
    grade_into(tmp_path)
    after = {p: p.read_bytes() for p in SUBMISSIONS.rglob("*") if p.is_file()}
    assert before == after


@pytest.fixture(params=["unnamed", "named"])
def naming(request, monkeypatch) -> str:
    """Atomic writes through unnamed files (Linux's O_TMPFILE) where the system has them, and through named
    temporary files (other systems, or where linking is refused)."""
    if request.param == "unnamed" and not files._unnamed_files:
        pytest.skip("no unnamed files on this system")
    monkeypatch.setattr(files, "_unnamed_files", request.param == "unnamed")
    return request.param


def test_atomic_write_leaves_no_temporary_files(tmp_path, naming) -> None:
    """write_atomic replaces the file whole and leaves no temporary file behind."""
    target = tmp_path / "r" / "scores.csv"
    write_atomic(target, "old\n")
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert [p.name for p in target.parent.iterdir()] == ["scores.csv"]


def test_atomic_write_skips_a_stale_temporary_file(tmp_path, monkeypatch, naming) -> None:
    """A temporary file left by an interrupted run is not overwritten: the write takes the next name."""
    monkeypatch.setattr(files, "_TEMPORARY_NUMBERS", itertools.count(7))
    stale = tmp_path / f".scores.csv.{os.getpid()}.7.tmp"
    stale.write_text("stale")
    (tmp_path / "scores.csv").write_text("old\n")  # replaced, so even unnamed files take a temporary name
    write_atomic(tmp_path / "scores.csv", "new\n")
    assert (tmp_path / "scores.csv").read_text() == "new\n" and stale.read_text() == "stale"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([stale.name, "scores.csv"])


def test_failed_atomic_write_leaves_no_temporary_file(tmp_path, naming) -> None:
    """When the rename fails (a folder stands at the path), the error is raised and no temporary file stays."""
    (tmp_path / "scores.csv").mkdir()
    with pytest.raises(OSError):
        write_atomic(tmp_path / "scores.csv", "x")
    assert [p.name for p in tmp_path.iterdir()] == ["scores.csv"]


def test_failed_streamed_write_keeps_the_old_file(tmp_path, naming) -> None:
    """When the writer of a streamed report fails midway, the old file stays whole and no temporary file is left."""
    target = tmp_path / "parts.csv"
    write_atomic(target, "old\n")

    def fail(file) -> None:
        file.write("half")
        raise OSError("disk full")

    for path in (target, tmp_path / "new.csv"):
        with pytest.raises(OSError, match="disk full"):
            files.write_atomic_with(path, fail)
    assert target.read_text() == "old\n" and [p.name for p in tmp_path.iterdir()] == ["parts.csv"]


def test_new_file_gets_its_name_only_when_whole(tmp_path, monkeypatch) -> None:
    """Where unnamed files exist, a new report appears by one link, never renamed from a temporary name."""
    if not files._unnamed_files:
        pytest.skip("no unnamed files on this system")
    monkeypatch.setattr(files, "_at_temporary_name", lambda path, make: pytest.fail(f"a temporary name for {path}"))
    write_atomic(tmp_path / "feedback" / "s1.md", "# s1\n")
    files.write_atomic_with(tmp_path / "parts.csv", lambda file: file.write("a,b\n"))
    assert (tmp_path / "feedback" / "s1.md").read_text() == "# s1\n"
    assert (tmp_path / "parts.csv").read_text() == "a,b\n"


def test_forked_child_links_its_own_unnamed_files(tmp_path) -> None:
    """A forked child (the feedback writers) links its own unnamed files, not the parent's of the same number."""
    if not files._unnamed_files or not hasattr(os, "fork"):
        pytest.skip("no unnamed files or no fork on this system")
    write_atomic(tmp_path / "parent.txt", "parent\n")  # the parent's /proc/self/fd is open now
    with open(tmp_path / "parent.txt", "rb"):  # and so is one more of its files, whose number a child may reuse
        pid = os.fork()
        if pid == 0:
            try:
                write_atomic(tmp_path / "child.txt", "child\n")
                os._exit(0 if files._unnamed_files else 3)
            finally:
                os._exit(4)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert (tmp_path / "child.txt").read_text() == "child\n" and (tmp_path / "parent.txt").read_text() == "parent\n"


def test_refused_link_falls_back_to_temporary_names(tmp_path, monkeypatch) -> None:
    """Where the system refuses to link an unnamed file, the write is done again through a named temporary file."""
    if not files._unnamed_files:
        pytest.skip("no unnamed files on this system")

    def refuse(*args, **kwargs) -> None:
        raise PermissionError("linking refused")

    monkeypatch.setattr(files, "_unnamed_files", True)
    monkeypatch.setattr(files.os, "link", refuse)
    write_atomic(tmp_path / "scores.csv", "new\n")
    files.write_atomic_with(tmp_path / "parts.csv", lambda file: file.write("a,b\n"))
    assert files._unnamed_files is False
    assert (tmp_path / "scores.csv").read_text() == "new\n" and (tmp_path / "parts.csv").read_text() == "a,b\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["parts.csv", "scores.csv"]


def test_parts_csv_is_the_frame_as_pandas_writes_it(tmp_path) -> None:
    """parts.csv is byte for byte the parts frame as pandas writes it."""
    from grader.reporting.frames import parts_frame

    awkward = ('a "quoted", comma\nand a new line', "پاسخ «درست» است، ولی", " leading space", "", "x\r\ny")
    batch = BatchResult(tuple(
        SubmissionResult(sid, None, SubmissionStatus.GRADED, (ProblemResult("q1", tuple(
            PartResult("q1", part, Fraction(index, 3), Fraction(2), Status.PARTIAL,
                       (Message(awkward[index], awkward[-1 - index]),), diagnosis=awkward[index] or None)
            for index, part in enumerate(("b", "a,b", 'c"'))),),))
        for sid in ("s2", "s,1", 's"3')))
    for lang in Lang:
        files.write_score_reports(batch, tmp_path, lang)
        expected = parts_frame(batch, lang).to_csv(index=False, lineterminator="\n")
        assert (tmp_path / "parts.csv").read_bytes() == expected.encode("utf-8")


def test_similarity_csv_is_the_pairs_as_pandas_writes_them(tmp_path) -> None:
    """similarity.csv is byte for byte the sorted pairs as pandas writes them, awkward ids included."""
    import pandas as pd

    from grader.similarity import SimilarPair

    pairs = (SimilarPair("q2a", "answer", 's"3', "s,1", Fraction(2, 3), 40),
             SimilarPair("q1", "answer", "ب", "a\nb", Fraction(1, 2), 7),
             SimilarPair("q1", "answer", "a", "ب", Fraction(5, 7), 12))
    path = files.write_similarity_report(tmp_path, pairs)
    frame = pd.DataFrame([(p.problem, p.part, p.student_a, p.student_b, f"{float(p.similarity):.3f}",
                           str(p.shared_shingles)) for p in pairs], columns=list(files.SIMILARITY_COLUMNS),
                         dtype=object).sort_values(["problem", "part", "student_a", "student_b"], kind="stable")
    assert path == tmp_path / "similarity.csv"
    assert path.read_bytes() == frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert path.read_text(encoding="utf-8").splitlines()[1] == "q1,answer,a,ب,0.714,12"


def test_rows_written_as_the_csv_module_writes_them(monkeypatch) -> None:
    """5,000 random rows (quotes, commas, line ends, NUL, Persian, empty fields, one-field rows) come out as csv.writer's."""
    import random

    monkeypatch.setattr(files, "_LINES_AT_ONCE", 7)  # lines are written in several batches
    pieces = ["a", "پاسخ", ",", '"', "\n", "\r", "\r\n", "\x00", " ", "\t", "،", "«»", ""]
    chooser = random.Random(20261127)
    rows = [tuple("".join(chooser.choices(pieces, k=chooser.randrange(4))) for _ in range(width))
            for width in [chooser.choice((1, 2, 3, 8)) for _ in range(5000)]]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows([("c1", "c2"), *rows])
    written = io.StringIO()
    files._write_rows(written, ("c1", "c2"), rows)
    assert written.getvalue() == expected.getvalue()


def test_rows_with_recurring_tails_are_written_as_the_csv_module_writes_them(monkeypatch) -> None:
    """Rows whose fields after the first recur (as a class's parts do), written with few of them kept as CSV
    at a time, are the lines the csv module writes."""
    import random

    monkeypatch.setattr(files, "_TAILS_KEPT", 3)  # the kept tails are dropped often
    pieces = ["a", "پاسخ", ",", '"', "\n", "\r", " ", ""]
    chooser = random.Random(20261128)
    tails = [tuple("".join(chooser.choices(pieces, k=chooser.randrange(3))) for _ in range(width))
             for width in [chooser.choice((0, 1, 2, 7)) for _ in range(12)]]
    firsts = ["s1", "s,2", 's"3', "s\n4", "s\r5", ""]
    rows = [(chooser.choice(firsts), *chooser.choice(tails)) for _ in range(3000)]
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows([("c1", "c2"), *rows])
    written = io.StringIO()
    files._write_rows(written, ("c1", "c2"), rows)
    assert written.getvalue() == expected.getvalue()


def test_exact_sum_is_the_sum() -> None:
    """exact_sum of 5,000 random lists of scores (halves, thirds, tenths, negatives, empty) equals sum()."""
    import random

    from grader.results import exact_sum

    generator = random.Random(7)
    for _ in range(5000):
        values = [Fraction(generator.randint(-60, 60), generator.choice([1, 2, 3, 4, 6, 7, 10, 12, 100, 1000]))
                  for _ in range(generator.randint(0, 40))]
        found = exact_sum(values)
        assert found == sum(values, Fraction(0)) and type(found) is Fraction
