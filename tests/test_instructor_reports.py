"""Instructor reports: item analysis, the xlsx workbook and the one-page HTML report."""

from __future__ import annotations

import base64
import hashlib
import math
import os
import random
import re
import shutil
import subprocess
import sys
import time
import zipfile
from fractions import Fraction
from html.parser import HTMLParser
from urllib.parse import quote

import openpyxl
import pytest

from grader.course import Course
from grader.reporting.excel import ITEM_COLUMNS, REVIEW_COLUMNS, SHEETS, SUMMARY_COLUMNS, write_xlsx
from grader.reporting.frames import PARTS_COLUMNS
from grader.reporting.html_report import feedback_href, render_html, write_html
from grader.reporting.item_analysis import class_summary, correlation, group_size, item_analysis, \
    mistake_frequencies, review_queue
from grader.results import BatchResult, Lang, Message, PartResult, ProblemResult, Status, SubmissionResult, \
    SubmissionStatus
from grader.roster import Roster, Student, join_roster
from grader.safe_names import safe_file_name
from tests.conftest import ROOT, SUBMISSIONS
from tests.helpers import grade_path

HOSTILE_ID = "<script>alert(1)</script>"
HOSTILE_NAME = '"><img src=x onerror=alert(1)>'
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync")


# --- building results by hand ---------------------------------------------------------------------------------

def part_result(part: str, score: object, max_score: object, status: Status, diagnosis: str | None = None,
                problem: str = "p") -> PartResult:
    """One part result of problem ``p``."""
    return PartResult(problem, part, Fraction(score), Fraction(max_score), status,
                      (Message(f"feedback on {part}", f"بازخورد {part}"),), diagnosis)


def submission(student_id: str, *parts: PartResult, status: SubmissionStatus = SubmissionStatus.GRADED
               ) -> SubmissionResult:
    """A submission holding ``parts``, grouped by problem in order of appearance."""
    problems: dict[str, list[PartResult]] = {}
    for part in parts:
        problems.setdefault(part.problem, []).append(part)
    return SubmissionResult(student_id, None, status, tuple(ProblemResult(p, tuple(ps)) for p, ps in problems.items()))


C, P, W, M, E = Status.CORRECT, Status.PARTIAL, Status.WRONG, Status.MISSING, Status.ERROR


@pytest.fixture()
def small_batch() -> BatchResult:
    """Four graded students on parts a (1 pt), b (2 pts), c (1 pt), plus a missing and an unreadable submission.

    totals: s1 = 1+2+0 = 3, s2 = 1+1+0 = 2, s3 = 0+2+0 = 2, s4 = 0+0+1 = 1.
    """
    return BatchResult((
        submission("s1", part_result("a", 1, 1, C), part_result("b", 2, 2, C), part_result("c", 0, 1, W)),
        submission("s2", part_result("a", 1, 1, C), part_result("b", 1, 2, P, "sign"), part_result("c", 0, 1, W)),
        submission("s3", part_result("a", 0, 1, W, "off_by_one"), part_result("b", 2, 2, C, "carried_forward"),
                   part_result("c", 0, 1, M)),
        submission("s4", part_result("a", 0, 1, W, "sign"), part_result("b", 0, 2, W, "sign"),
                   part_result("c", 1, 1, C)),
        SubmissionResult("s5", None, SubmissionStatus.MISSING, error=Message("none", "none")),
        submission("s6", part_result("a", 0, 1, E), part_result("b", 0, 2, E), part_result("c", 0, 1, E),
                   status=SubmissionStatus.ERROR),
    ), {"p": Fraction(4)})


def hostile_batch() -> BatchResult:
    """A class whose student ids and feedback try to inject HTML and spreadsheet formulas."""
    evil = Message('<b>bold</b> & "quoted" <script>alert(2)</script>', "<i>فارسی</i>")
    return BatchResult((
        submission(HOSTILE_ID, PartResult("p", "a", Fraction(1), Fraction(1), Status.NEEDS_REVIEW, (evil,))),
        submission("=1+1", PartResult("p", "a", Fraction(0), Fraction(1), Status.WRONG, (evil,), "sign")),
        submission("سارا", PartResult("p", "a", Fraction(1), Fraction(1), Status.CORRECT)),
    ), {"p": Fraction(1)})


@pytest.fixture(scope="module")
def sample_batch(problems) -> BatchResult:
    """The graded sample class in submissions/."""
    return grade_path(SUBMISSIONS, problems)


@pytest.fixture(scope="module")
def sample_page(sample_batch) -> str:
    """The sample class's report page, rendered once."""
    return render_html(sample_batch, Course())


def stats_of(stats, part: str):
    """The statistics of one part."""
    return next(s for s in stats if s.part == part)


# --- item analysis -----------------------------------------------------------------------------------------------

def test_item_analysis_counts_only_readable_submissions(small_batch) -> None:
    """n counts graded/partial submissions only: the missing (s5) and unreadable (s6) ones are left out."""
    stats = item_analysis(small_batch)
    assert [(s.problem, s.part) for s in stats] == [("p", "a"), ("p", "b"), ("p", "c")]
    assert {s.n for s in stats} == {4}


def test_item_analysis_difficulty_and_share_correct(small_batch) -> None:
    """Mean, difficulty (mean / max) and share correct match the hand computation."""
    a, b, c = item_analysis(small_batch)
    assert (a.mean_score, a.difficulty, a.share_correct) == (Fraction(1, 2), Fraction(1, 2), Fraction(1, 2))
    assert (b.mean_score, b.difficulty, b.share_correct) == (Fraction(5, 4), Fraction(5, 8), Fraction(1, 2))
    assert (c.mean_score, c.difficulty, c.share_correct) == (Fraction(1, 4), Fraction(1, 4), Fraction(1, 4))
    assert b.max_score == 2


def test_item_analysis_upper_lower_discrimination(small_batch) -> None:
    """With 4 students the groups hold round(0.27*4)=1: top s1 (3 pts), bottom s4 (1 pt)."""
    a, b, c = item_analysis(small_batch)
    assert a.upper_lower == 1   # s1 correct, s4 wrong
    assert b.upper_lower == 1   # s1 correct, s4 wrong
    assert c.upper_lower == -1  # s1 wrong, s4 correct
    assert (group_size(1), group_size(2), group_size(4), group_size(10), group_size(100)) == (1, 1, 1, 3, 27)


def test_item_analysis_point_biserial(small_batch) -> None:
    """The point-biserial is the correlation of the part's points with the rest of the total."""
    a, b, c = item_analysis(small_batch)
    # a: x = [1, 1, 0, 0], rest = [2, 1, 2, 1] -> covariance 0
    assert a.point_biserial == pytest.approx(0.0, abs=1e-12)
    # b: x = [2, 1, 2, 0], rest = [1, 1, 0, 1]: Sxy = -3/4, Sxx = 11/4, Syy = 3/4
    assert b.point_biserial == pytest.approx(-0.75 / math.sqrt(2.75 * 0.75))
    # c: x = [0, 0, 0, 1], rest = [3, 2, 2, 0]: Sxy = -7/4, Sxx = 3/4, Syy = 19/4
    assert c.point_biserial == pytest.approx(-1.75 / math.sqrt(0.75 * 4.75))
    assert c.point_biserial == pytest.approx(-0.9271726499)


def fraction_correlation(xs: list[Fraction], ys: list[Fraction]) -> float | None:
    """Pearson correlation the textbook way, in fractions, rounded once (the reference)."""
    n = len(xs)
    if n < 2:
        return None
    mean_x, mean_y = sum(xs, Fraction(0)) / n, sum(ys, Fraction(0)) / n
    cov = sum(((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys)), Fraction(0))
    var_x, var_y = sum((x - mean_x) ** 2 for x in xs), sum((y - mean_y) ** 2 for y in ys)
    if var_x == 0 or var_y == 0:
        return None
    return max(-1.0, min(1.0, math.copysign(math.sqrt(cov * cov / (var_x * var_y)), cov)))


def test_item_analysis_is_exact_on_awkward_fractions() -> None:
    """Means, ranks and correlations of scores in thirds, sevenths and elevenths equal the fractions' own."""
    rng = random.Random(7)
    students = []
    for number in range(300):
        parts = [part_result(name, Fraction(rng.randrange(0, 3 * 7 * 11 + 1), 3 * 7 * 11) * rng.choice((1, 2)),
                             2, rng.choice((C, P, W))) for name in ("a", "b", "c")]
        students.append(submission(f"s{number:03d}", *parts))
    batch = BatchResult(tuple(students), {"p": Fraction(6)})
    for stats, name in zip(item_analysis(batch), ("a", "b", "c")):
        entries = [(r.student_id, r.total, next(p for p in r.parts if p.part == name)) for r in students]
        scores = [part.score for _, _, part in entries]
        ranked = sorted(entries, key=lambda e: (e[1], e[0]))
        k = group_size(len(entries))
        correct = [sum(part.status is C for _, _, part in group) for group in (ranked[:k], ranked[-k:])]
        assert stats.mean_score == sum(scores, Fraction(0)) / len(scores)
        assert stats.upper_lower == Fraction(correct[1] - correct[0], k)
        assert stats.point_biserial == fraction_correlation(scores, [total - part.score for _, total, part in entries])
    xs = [Fraction(rng.randrange(1, 50), rng.choice((3, 7, 11))) for _ in range(200)]
    ys = [x * Fraction(5, 3) + Fraction(rng.randrange(-9, 9), 13) for x in xs]
    assert correlation(xs, ys) == fraction_correlation(xs, ys) and correlation(xs, xs) == 1.0
    assert correlation(xs, [Fraction(1, 3)] * len(xs)) is None


def test_item_analysis_mistakes_and_carried_forward(small_batch) -> None:
    """Diagnoses are counted with the students' ids; carried_forward is listed apart, not as a mistake."""
    a, b, c = item_analysis(small_batch)
    assert [(m.diagnosis, m.count, m.student_ids) for m in a.mistakes] == [("off_by_one", 1, ("s3",)),
                                                                            ("sign", 1, ("s4",))]
    assert [(m.diagnosis, m.count, m.student_ids) for m in b.mistakes] == [("sign", 2, ("s2", "s4"))]
    assert b.carried_forward == ("s3",) and a.carried_forward == () and c.mistakes == ()
    frequencies = mistake_frequencies(small_batch)
    assert [(m.problem, m.diagnosis, m.student_ids, m.occurrences) for m in frequencies] == [
        ("p", "sign", ("s2", "s4"), 3), ("p", "off_by_one", ("s3",), 1)]


def test_item_analysis_one_student_is_undefined() -> None:
    """With one student, both discrimination indices are None (not NaN), and the means are still given."""
    batch = BatchResult((submission("s1", part_result("a", 1, 1, C)),), {"p": Fraction(1)})
    (a,) = item_analysis(batch)
    assert (a.n, a.mean_score, a.difficulty, a.upper_lower, a.point_biserial) == (1, 1, 1, None, None)


def test_item_analysis_zero_variance_is_undefined() -> None:
    """Equal totals make upper-lower None; a part everyone got right has no point-biserial."""
    batch = BatchResult((
        submission("s1", part_result("a", 1, 1, C), part_result("b", 0, 1, W)),
        submission("s2", part_result("a", 0, 1, W), part_result("b", 1, 1, C)),
        submission("s3", part_result("a", 1, 1, C), part_result("b", 1, 1, C), part_result("k", 1, 1, C)),
    ), {"p": Fraction(3)})
    a, b, k = item_analysis(batch)
    assert k.n == 1 and k.point_biserial is None and k.upper_lower is None
    # totals s1 = 1, s2 = 1, s3 = 3; the tie at the bottom is broken by id, so s1 is the lower group
    assert a.upper_lower == 0 and b.upper_lower == 1
    same = BatchResult((submission("s1", part_result("a", 1, 1, C), part_result("b", 0, 1, W)),
                        submission("s2", part_result("a", 0, 1, W), part_result("b", 1, 1, C))), {"p": Fraction(2)})
    a, b = item_analysis(same)
    assert a.upper_lower is None and b.upper_lower is None  # both totals are 1
    assert a.point_biserial == pytest.approx(-1.0)  # a = [1, 0], rest = [0, 1]: defined, perfectly opposite
    constant = BatchResult((submission("s1", part_result("a", 1, 1, C), part_result("b", 0, 1, W)),
                            submission("s2", part_result("a", 1, 1, C), part_result("b", 1, 1, C))),
                           {"p": Fraction(2)})
    assert stats_of(item_analysis(constant), "a").point_biserial is None  # a never varies


def test_item_analysis_without_readable_students() -> None:
    """A part only unreadable submissions have is listed with n = 0 and no statistics."""
    batch = BatchResult((submission("s1", part_result("a", 0, 1, E), status=SubmissionStatus.ERROR),),
                        {"p": Fraction(1)})
    (a,) = item_analysis(batch)
    assert (a.n, a.mean_score, a.share_correct, a.difficulty, a.upper_lower, a.point_biserial) == (
        0, None, None, None, None, None)


def test_class_summary_of_the_small_class(small_batch) -> None:
    """The summary counts statuses and takes totals over the four readable submissions."""
    summary = class_summary(small_batch)
    assert (summary.students, summary.graded, summary.errors, summary.missing, summary.counted) == (6, 4, 1, 1, 4)
    assert (summary.mean_total, summary.median_total, summary.min_total, summary.max_total_scored) == (
        2, 2, 1, 3)
    assert summary.problem_means == (("p", Fraction(2)),)


def test_item_analysis_of_the_sample_class(sample_batch) -> None:
    """The sample class gives one row per part, sorted, with the known Q3 mistakes named."""
    stats = item_analysis(sample_batch)
    keys = [(s.problem, s.part) for s in stats]
    assert keys == sorted(keys) and len(keys) == len(set(keys))
    assert all(s.n == 10 for s in stats)  # 11 folders, one unreadable
    params = stats_of(stats, "layer1.params")
    assert {m.diagnosis for m in params.mistakes} == {"no_bias", "input_channels_one"}
    assert "carried-forward" in stats_of(stats, "layer2.output_shape").carried_forward


# --- xlsx ---------------------------------------------------------------------------------------------------------

def header(sheet) -> list:
    """The first row of a sheet."""
    return [cell.value for cell in sheet[1]]


def test_xlsx_has_five_sheets_with_headers_and_rows(tmp_path, sample_batch) -> None:
    """The workbook opens with openpyxl and holds the five sheets with the right headers and row counts."""
    path = write_xlsx(tmp_path / "report.xlsx", sample_batch, Course())
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == list(SHEETS)
    problems = list(sample_batch.max_scores)
    students = len(sample_batch.submissions)
    parts = sum(len(r.parts) for r in sample_batch.submissions)
    review = sum(p.status is Status.NEEDS_REVIEW for r in sample_batch.submissions for p in r.parts)
    expected = {
        "scores": (["student_id", *problems, "total", "max_total", "status", "notes"], students),
        "parts": (list(PARTS_COLUMNS), parts),
        "summary": (list(SUMMARY_COLUMNS), 12 + len(problems) + 2),
        "item analysis": (list(ITEM_COLUMNS), len(item_analysis(sample_batch))),
        "review queue": (list(REVIEW_COLUMNS), review),
    }
    for name, (columns, rows) in expected.items():
        sheet = book[name]
        assert header(sheet) == columns, name
        assert sheet.max_row - 1 == rows, name
        assert sheet.freeze_panes == "A2" and sheet["A1"].font.b, name
    assert review == 10
    scores = {row[0]: row for row in book["scores"].iter_rows(min_row=2, values_only=True)}
    assert scores["mistake-pool-stride"][problems.index("q3") + 1] == 5.25  # numbers are numbers
    summary = dict(book["summary"].iter_rows(min_row=2, values_only=True))
    assert summary["students"] == students and summary["errors"] == 1 and summary["parts_awaiting_review"] == 10
    items = {(r[0], r[1]): r for r in book["item analysis"].iter_rows(min_row=2, values_only=True)}
    assert "no_bias (1): mistake-no-bias" in items[("q3", "layer1.params")][ITEM_COLUMNS.index("mistakes")]


def test_xlsx_with_roster_adds_name_columns(tmp_path, sample_batch) -> None:
    """A roster adds name, email and section after student_id, and its students without a submission."""
    roster = Roster(tuple(sorted([Student(r.student_id, f"Name {r.student_id}", f"{r.student_id}@uni.ir", "A")
                                  for r in sample_batch.submissions] + [Student("zz-absent", "غایب", "", "B")],
                                 key=lambda s: s.student_id)))
    batch = join_roster(sample_batch, roster)
    book = openpyxl.load_workbook(write_xlsx(tmp_path / "report.xlsx", batch, Course(), roster, Lang.FA))
    assert header(book["scores"])[:4] == ["student_id", "name", "email", "section"]
    rows = list(book["scores"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(sample_batch.submissions) + 1
    assert rows[-1][:4] == ("zz-absent", "غایب", None, "B") and rows[-1][-2] == "missing"
    assert header(book["review queue"])[:2] == ["student_id", "name"]


def test_xlsx_writes_are_byte_identical(tmp_path, sample_batch, monkeypatch) -> None:
    """Two writes of the same results, a day apart, give byte-identical files with fixed dates."""
    first = write_xlsx(tmp_path / "one.xlsx", sample_batch, Course()).read_bytes()
    later = time.time() + 86_400
    monkeypatch.setattr(time, "time", lambda: later)
    second = write_xlsx(tmp_path / "two.xlsx", sample_batch, Course()).read_bytes()
    assert first == second
    with zipfile.ZipFile(tmp_path / "two.xlsx") as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 31, 0, 0, 0)}  # XlsxWriter's own
        assert b"2000-01-01T00:00:00Z" in archive.read("docProps/core.xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.xlsx", "two.xlsx"]  # no temporary file or folder left


def test_xlsx_bytes_do_not_depend_on_the_time_zone(tmp_path, sample_batch, monkeypatch) -> None:
    """Machines in Tehran and in Los Angeles write the same report.xlsx bytes for the same results."""
    written = []
    for zone in ("Asia/Tehran", "America/Los_Angeles"):
        monkeypatch.setenv("TZ", zone)
        time.tzset()  # the zip's dates go through local time
        written.append(write_xlsx(tmp_path / f"{len(written)}.xlsx", sample_batch, Course()).read_bytes())
    monkeypatch.undo()
    time.tzset()
    assert written[0] == written[1]


def test_xlsx_bytes_do_not_depend_on_lxml(tmp_path) -> None:
    """A machine with lxml installed writes the same report.xlsx bytes as one without it."""
    fake = tmp_path / "fake" / "lxml"  # a stand-in lxml that openpyxl would take for a usable one
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "etree.py").write_text("LXML_VERSION = (9, 9, 9, 0)\n")

    def workbook(out: str, *path: Path) -> bytes:
        env = {key: value for key, value in os.environ.items() if key != "OPENPYXL_LXML"}
        env["PYTHONPATH"] = os.pathsep.join(map(str, (*path, ROOT)))
        subprocess.run([sys.executable, "-m", "grader.cli", "run", str(SUBMISSIONS), "--out", str(tmp_path / out),
                        "--formats", "xlsx", "--workers", "0", "-q"], cwd=ROOT, env=env, check=True)
        return (tmp_path / out / "report.xlsx").read_bytes()

    assert workbook("with-lxml", fake.parent) == workbook("without")


def test_xlsx_keeps_hostile_text_as_text(tmp_path) -> None:
    """A student id starting with '=' is a text cell, never a formula; markup is kept verbatim."""
    book = openpyxl.load_workbook(write_xlsx(tmp_path / "r.xlsx", hostile_batch(), Course()))
    cells = {cell.value: cell for row in book["scores"].iter_rows(min_row=2) for cell in row[:1]}
    assert cells["=1+1"].data_type == "s" and HOSTILE_ID in cells
    review = list(book["review queue"].iter_rows(min_row=2, values_only=True))
    assert review == [(HOSTILE_ID, "p", "a", 1, 1, '<b>bold</b> & "quoted" <script>alert(2)</script>')]


def test_xlsx_keeps_text_that_looks_like_an_excel_escape(tmp_path) -> None:
    """A student id "_x0041_" is stored escaped (_x005F_x0041_), so Excel shows it as typed, not as "A"."""
    batch = BatchResult((submission("_x0041_", PartResult("p", "a", Fraction(1), Fraction(1), Status.CORRECT)),),
                        {"p": Fraction(1)})
    with zipfile.ZipFile(write_xlsx(tmp_path / "r.xlsx", batch, Course())) as archive:
        xml = "".join(archive.read(name).decode("utf-8") for name in archive.namelist() if name.endswith(".xml"))
    assert ">_x005F_x0041_<" in xml and ">_x0041_<" not in xml


# --- HTML ---------------------------------------------------------------------------------------------------------

class PageParser(HTMLParser):
    """Collects the student rows, their feedback links and every resource reference of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[str] = []
        self.links: list[str] = []
        self.resources: list[tuple[str, str, str]] = []
        self.root: dict[str, str | None] = {}
        self.table: dict[str, str | None] | None = None
        self._in_body = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "html":
            self.root = attributes
        if tag == "table" and attributes.get("id") == "students":
            self.table = attributes
        if tag == "tbody":
            self._in_body = True
        if tag == "tr" and self._in_body and "data-student" in attributes:
            self.rows.append(attributes["data-student"] or "")
        if tag == "a" and self._in_body:
            self.links.append(attributes.get("href") or "")
        for name in ("src", "href", "action", "data", "poster"):
            if attributes.get(name) is not None and tag != "a":
                self.resources.append((tag, name, attributes[name] or ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False


def parse(page: str) -> PageParser:
    """A parsed report page."""
    parser = PageParser()
    parser.feed(page)
    return parser


def assert_offline(page: str) -> None:
    """The page references no network resource."""
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.I)
    assert not re.search(r"<link[^>]*\bhref\s*=", page, re.I)
    assert "url(" not in page and "@import" not in page
    for tag, name, value in parse(page).resources:
        assert value.startswith("data:image/png;base64,"), (tag, name, value[:40])


def test_html_is_self_contained_with_a_row_and_link_per_student(tmp_path, sample_batch) -> None:
    """The page loads nothing from the network and lists every student once, linked to feedback/<id>.html."""
    page = write_html(tmp_path / "report.html", sample_batch, Course()).read_text(encoding="utf-8")
    assert_offline(page)
    parsed = parse(page)
    ids = [r.student_id for r in sample_batch.submissions]
    assert parsed.table is not None and sorted(parsed.rows) == sorted(ids) and len(parsed.rows) == len(ids)
    assert parsed.links == [f"feedback/{quote(i, safe='')}.html" for i in sorted(ids)]
    assert page.count("data:image/png;base64,") == 3  # histogram, problem means, mistakes
    assert 'lang="en" dir="ltr"' in page and "Deep Learning — Homework 7" in page
    assert ">10 <small>parts" in page  # the review queue count
    for uri in re.findall(r'src="data:image/png;base64,([^"]+)"', page):
        assert base64.b64decode(uri).startswith(b"\x89PNG\r\n\x1a\n")


def test_html_csp_allows_exactly_the_inline_script(sample_page) -> None:
    """The Content-Security-Policy carries the hash of the page's one inline script (so it runs, nothing else)."""
    page = sample_page
    scripts = re.findall(r"<script>(.*?)</script>", page, re.S)
    assert len(scripts) == 1 and page.count("<script") == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page and "default-src 'none'" in page


def test_html_escapes_hostile_ids_names_and_links(tmp_path) -> None:
    """A student id like <script>alert(1)</script> and a hostile name are escaped, and the link is URL-escaped."""
    batch = hostile_batch()
    roster = Roster((Student(HOSTILE_ID, HOSTILE_NAME), Student("=1+1", "x"), Student("سارا", "سارا")))
    page = write_html(tmp_path / "report.html", batch, Course(name="<b>DL</b>"), roster).read_text(encoding="utf-8")
    assert HOSTILE_ID not in page and HOSTILE_NAME not in page and "<b>DL</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.count("<script") == 1 and "<img src=x" not in page
    parsed = parse(page)
    assert sorted(parsed.rows) == sorted(r.student_id for r in batch.submissions)
    href = feedback_href(HOSTILE_ID)
    assert href == f"feedback/{quote(safe_file_name(HOSTILE_ID), safe='')}.html" and "<" not in href
    assert href in parsed.links and "feedback/%D8%B3%D8%A7%D8%B1%D8%A7.html" in parsed.links
    assert_offline(page)


def test_html_persian_is_right_to_left(sample_batch) -> None:
    """lang=fa gives <html lang="fa" dir="rtl"> and Persian headings."""
    page = render_html(sample_batch, Course(), lang=Lang.FA)
    assert parse(page).root == {"lang": "fa", "dir": "rtl"}
    assert "دانشجویان" in page


def test_html_is_deterministic(tmp_path, sample_batch, sample_page) -> None:
    """Two renders are byte-identical and carry no timestamp unless one is passed in."""
    written = write_html(tmp_path / "a.html", sample_batch, Course()).read_bytes()
    assert written == sample_page.encode("utf-8") and "Generated" not in sample_page
    assert "Generated: 2025-01-31" in render_html(sample_batch, Course(), generated="2025-01-31")


def test_report_modules_import_no_heavy_libraries() -> None:
    """Importing the writers loads neither matplotlib nor openpyxl (they are imported when a report is made)."""
    code = ("import sys, grader.reporting.html_report, grader.reporting.excel, grader.reporting.item_analysis;"
            "print(sorted(m for m in ('matplotlib', 'openpyxl') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"


def test_review_queue_is_sorted(sample_batch) -> None:
    """The review queue lists every needs_review part, sorted by student, problem and part."""
    queue = review_queue(sample_batch)
    keys = [(i.student_id, i.part.problem, i.part.part) for i in queue]
    assert keys == sorted(keys) and all(i.part.status is Status.NEEDS_REVIEW for i in queue) and len(keys) == 10


# --- a real browser -----------------------------------------------------------------------------------------------

def chromium() -> str:
    """The chromium executable, or skip."""
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.skip("chromium not installed (CI installs it: .ci/run)")
    return found


def test_html_in_headless_chromium(tmp_path, sample_batch) -> None:
    """In headless Chromium the script runs (table marked sortable, #sort=-total sorts it) and a screenshot is made."""
    browser = chromium()
    page = write_html(tmp_path / "report.html", sample_batch, Course())
    url = page.as_uri() + "#sort=-total"
    dom = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-dom'}", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert re.search(r'<table id="students"[^>]*data-sortable="ready"', dom.stdout), "the page's script did not run"
    rows = re.findall(r'<tr class="status-\w+" data-student="([^"]*)"', dom.stdout)
    totals = {r.student_id: r.total for r in sample_batch.submissions}
    assert sorted(rows) == sorted(totals)
    assert [totals[i] for i in rows] == sorted(totals.values(), reverse=True)  # sorted by the script
    shot = tmp_path / "report.png"
    result = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile-shot'}",
                             "--hide-scrollbars", "--window-size=1280,1600", f"--screenshot={shot}", page.as_uri()],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert shot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
