"""Finding and reading submissions (grader.submission)."""

from __future__ import annotations

import datetime
import math
import os
import re
from pathlib import Path
from typing import Any

import pytest
import tomli

from grader.errors import GraderError, SubmissionError
from grader.safe_names import safe_file_name
from grader.submission import (_HEADER, MAX_ANSWERS_BYTES, SubmissionFolder, _defined_after_inner_table, _toml,
                               find_submissions, read_submission)
from tests.conftest import SUBMISSIONS

TOML_ANSWERS = '''\
[student]
id = "s001"
name = "سارا احمدی"

[q3]
layers = [{ output_shape = [62, 62, 64], params = 4864 }]
'''
JSON_ANSWERS = '{"student": {"id": "s001", "name": "سارا احمدی"}, "q3": {"layers": [{"output_shape": [62, 62, 64], "params": 4864}]}}'
EXPECTED_DATA = {
    "student": {"id": "s001", "name": "سارا احمدی"},
    "q3": {"layers": [{"output_shape": [62, 62, 64], "params": 4864}]},
}


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write a file (text as UTF-8) into ``folder``, creating it."""
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / name
    if isinstance(content, bytes):
        file.write_bytes(content)
    else:
        file.write_text(content, encoding="utf-8")
    return file


def read_one(folder: Path, name: str, content: str | bytes):
    """Write one answers file into ``folder`` and read the submission."""
    write(folder, name, content)
    return read_submission(SubmissionFolder(folder.name, folder))


def snapshot(root: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``root`` with its modification time and content."""
    return {str(p.relative_to(root)): (p.stat().st_mtime_ns, p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file()}


# --- find_submissions -------------------------------------------------------------------------

def test_class_folder_sorted_and_hidden_skipped(tmp_path):
    """A class folder gives one submission per visible sub-folder, sorted by id; hidden folders and loose files are skipped."""
    for student in ["s003", "s001", "s010", "s002"]:
        write(tmp_path / student, "answers.toml", TOML_ANSWERS)
    write(tmp_path / ".git", "answers.toml", TOML_ANSWERS)
    (tmp_path / ".ipynb_checkpoints").mkdir()
    write(tmp_path, "roster.csv", "student_id\ns001\n")
    found = find_submissions(tmp_path)
    assert [s.student_id for s in found] == ["s001", "s002", "s003", "s010"]
    assert [s.folder for s in found] == [tmp_path / i for i in ["s001", "s002", "s003", "s010"]]


def test_class_folder_includes_folders_without_answers(tmp_path):
    """A student folder with no answers file is still listed, so that it can be reported."""
    write(tmp_path / "s001", "answers.toml", TOML_ANSWERS)
    write(tmp_path / "s002", "report.pdf", b"%PDF-1.4")
    assert [s.student_id for s in find_submissions(tmp_path)] == ["s001", "s002"]


def test_folder_names_shown_alike_get_distinct_ids(tmp_path):
    """Names shown alike (bytes that are not UTF-8 as \\xNN, or \\xNN spelled out) get distinct ids and report files."""
    names = [os.fsdecode(b"a\xffb"), "a\\xffb", os.fsdecode(b"\xff\\xff"), os.fsdecode(b"\\xff\xff"), "s1"]
    for name in names:
        write(tmp_path / name, "answers.toml", TOML_ANSWERS)
    ids = [s.student_id for s in find_submissions(tmp_path)]
    assert len(set(ids)) == len({safe_file_name(i) for i in ids}) == len(names)
    assert {"a\\xffb", "s1"} <= set(ids)  # names shown as they are keep them
    assert sum(i.startswith("a\\xffb-") for i in ids) == 1 and sum(i.startswith("\\xff\\xff-") for i in ids) == 2
    assert [s.student_id for s in find_submissions(tmp_path)] == ids  # the same on every run


@pytest.mark.parametrize("name", ["answers.toml", "answers.json"])
def test_single_submission_folder(tmp_path, name):
    """A folder holding an answers file is one submission named after the folder."""
    folder = tmp_path / "s042"
    write(folder, name, TOML_ANSWERS if name.endswith("toml") else JSON_ANSWERS)
    write(folder / "figures", "plot.png", b"\x89PNG")
    assert find_submissions(folder) == (SubmissionFolder("s042", folder),)


@pytest.mark.parametrize("name", ["answers.toml", "answers.json"])
def test_single_answers_file(tmp_path, name):
    """An answers file path is one submission whose id is its folder's name."""
    file = write(tmp_path / "s042", name, TOML_ANSWERS if name.endswith("toml") else JSON_ANSWERS)
    (found,) = find_submissions(file)
    assert found.student_id == "s042"
    assert found.folder == file.parent
    assert read_submission(found, file).data == EXPECTED_DATA


def test_relative_single_folder_uses_real_name(tmp_path, monkeypatch):
    """Given as '.', a submission folder is still named after the real folder."""
    folder = tmp_path / "s077"
    write(folder, "answers.toml", TOML_ANSWERS)
    monkeypatch.chdir(folder)
    (found,) = find_submissions(Path("."))
    assert found.student_id == "s077"


def test_missing_path(tmp_path):
    """A path that does not exist raises GraderError naming it."""
    with pytest.raises(GraderError) as info:
        find_submissions(tmp_path / "nowhere")
    assert "nowhere" in str(info.value)


def test_empty_class_folder(tmp_path):
    """An empty class folder has no submissions."""
    assert find_submissions(tmp_path) == ()


# --- read_submission: good files --------------------------------------------------------------

@pytest.mark.parametrize(("name", "content"), [
    ("answers.toml", TOML_ANSWERS),
    ("answers.json", JSON_ANSWERS),
    ("answers.toml", "\ufeff" + TOML_ANSWERS),     # byte-order mark from Windows editors
    ("answers.json", "\ufeff" + JSON_ANSWERS),
])
def test_reads_toml_and_json(tmp_path, name, content):
    """TOML and JSON answers (with or without a UTF-8 BOM) read as the same table."""
    loaded = read_one(tmp_path / "s001", name, content)
    assert loaded.data == EXPECTED_DATA
    assert loaded.student_id == "s001"
    assert loaded.source == tmp_path / "s001" / name


def test_file_of_exactly_max_size_is_read(tmp_path):
    """An answers file of exactly MAX_ANSWERS_BYTES is still read."""
    content = TOML_ANSWERS + "#" * (MAX_ANSWERS_BYTES - len(TOML_ANSWERS.encode()) - 1) + "\n"
    assert len(content.encode()) == MAX_ANSWERS_BYTES
    assert read_one(tmp_path / "s001", "answers.toml", content).data == EXPECTED_DATA


# --- read_submission: unreadable files --------------------------------------------------------

def test_invalid_utf8(tmp_path):
    """Bytes that are not UTF-8 raise SubmissionError asking for UTF-8."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.toml", 'name = "caf\xe9"\n'.encode("latin-1"))
    assert "UTF-8" in str(info.value)


@pytest.mark.parametrize("name", ["answers.toml", "answers.json"])
def test_oversized_file_refused(tmp_path, name):
    """A file over MAX_ANSWERS_BYTES is refused as too large, whatever it holds."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", name, b" " * (MAX_ANSWERS_BYTES + 1))
    assert "larger than" in str(info.value)
    assert name in str(info.value)


def test_invalid_toml_gives_line_and_column(tmp_path):
    """Invalid TOML raises SubmissionError with the line and column of the error."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.toml", '[q3]\nlayers = [\ny = \n')
    message = str(info.value)
    assert "answers.toml is not valid TOML" in message
    assert re.search(r"line 3, column \d+", message), message


def _plain(value: Any) -> Any:
    """TOML data in a form that compares exactly: floats by their bits (NaN too), times by their text, keys in order."""
    if isinstance(value, float):
        return ("float", value.hex())
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return (type(value).__name__, value.isoformat())
    if isinstance(value, dict):
        return ("table", [(key, _plain(item)) for key, item in value.items()])
    if isinstance(value, list):
        return ("array", [_plain(item) for item in value])
    return (type(value).__name__, value)


SAMPLE_TEXTS = [file.read_text(encoding="utf-8") for file in sorted(SUBMISSIONS.glob("*/answers.toml"))]
EDGE_TEXTS = [
    'a = """\r\nline one\r\nline two"""\r\nb = \'\'\'\r\nraw\r\n\'\'\'\r\n',  # CRLF in multi-line strings
    'c = """x \\\r\n   y"""\r\n',  # a line-ending backslash before CRLF
    'd = "tab\\t\\u0627\\U0001F600 \\r\\n"\n',
    "e = [nan, -inf, +inf, -0.0, 1e400, 6.02e23, 0.1]\nf = [0x1F, 0o7, 0b1, 1_000, 99999999999999999999999]\n",
    "g = 1979-05-27T07:32:00-08:00\nh = 1979-05-27T07:32:00Z\ni = 1979-05-27\nj = 07:32:00.5\n",
    "[q4.deep]\nx = 1\n[q3]\ny = 2\n[q4]\nz = 3\n",
    'k = { "quoted key" = 1, dotted.key = 2 }\n[[arr]]\nl = 1\n[[arr]]\nl = 2\n',
]


@pytest.mark.parametrize("text", EDGE_TEXTS + SAMPLE_TEXTS + [t.replace("\n", "\r\n") for t in SAMPLE_TEXTS],
                         ids=[f"edge{i}" for i in range(len(EDGE_TEXTS))]
                         + [f"sample{i}" for i in range(len(SAMPLE_TEXTS))]
                         + [f"sample{i}-crlf" for i in range(len(SAMPLE_TEXTS))])
def test_toml_read_as_the_reference_reads_it(text):
    """Every sample (LF and CRLF) and edge case reads to exactly what tomli reads, or is refused with its error."""
    try:
        expected = _plain(tomli.loads(text))
    except tomli.TOMLDecodeError as error:
        with pytest.raises(tomli.TOMLDecodeError, match=re.escape(str(error))):
            _toml(text)
    else:
        assert _plain(_toml(text)) == expected


@pytest.mark.parametrize("text", ["a = 1\na = 2\n", "a = 1\r\r\nb = 2\n", 'a = "x\x7f"\n', "[q3\nb = 1\n"],
                         ids=["duplicate-key", "bare-carriage-return", "control-character", "unclosed-table"])
def test_toml_refused_with_the_references_message(tmp_path, text):
    """A TOML text the reference refuses is refused with the reference's message (line and column)."""
    with pytest.raises(tomli.TOMLDecodeError) as expected:
        tomli.loads(text)
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.toml", text.encode("utf-8"))
    assert str(info.value) == f"answers.toml is not valid TOML: {expected.value}"


def test_long_header_goes_to_the_reference_unexamined():
    """A header of 300,000 dotted keys (a hostile file) is sent to tomli without building its tables' names."""
    header = "[" + "a." * 300_000 + "a]\n"
    assert _defined_after_inner_table(header)
    assert not _defined_after_inner_table("[q4.formulas]\n[q3]\n[q4.numbers]\n")
    assert _defined_after_inner_table("[q4.formulas]\n[q3]\n[q4]\n")


def test_headers_found_at_every_line_start():
    """The headers looked at are those a MULTILINE ``^`` finds: on the first line, indented, in a row, in strings."""
    texts = [*EDGE_TEXTS, *SAMPLE_TEXTS, "[a]\n[b]\n\t [[c]]\n\n[d.e]\nx = 'y'\n", 's = """\n[in.string]\n"""\n[t]',
             "no headers\n", "", "[", " [x]]\n[y"]
    reference = re.compile(r"^[ \t]*\[\[?([^\]\n]*)\]", re.MULTILINE)
    for text in texts:
        assert _HEADER.findall("\n" + text) == reference.findall(text)


def test_newlines_inside_inline_tables_are_read(tmp_path):
    """An inline table over several lines (allowed by TOML 1.1, refused by tomli) is read, not refused."""
    text = "[q3]\nlayers = [{ output_shape = [62, 62, 64],\n  params = 4864 }]\n"
    loaded = read_one(tmp_path / "s001", "answers.toml", text)
    assert loaded.data == {"q3": {"layers": [{"output_shape": [62, 62, 64], "params": 4864}]}}


def test_invalid_json_gives_line_and_column(tmp_path):
    """Invalid JSON raises SubmissionError with the line and column of the error."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.json", '{"q4": {\n  "y": 0.25,\n  "O": }\n}')
    message = str(info.value)
    assert "answers.json is not valid JSON" in message
    assert "line 3, column 8" in message


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_non_finite_constants_refused(tmp_path, constant):
    """JSON's non-standard NaN/Infinity constants are refused as invalid JSON."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.json", f'{{"q4": {{"y": {constant}}}}}')
    assert "not valid JSON" in str(info.value)
    assert constant.lstrip("-") in str(info.value)


@pytest.mark.parametrize(("name", "content"), [
    ("answers.json", "[" * 100_000 + "]" * 100_000),
    ("answers.toml", "a = " + "[" * 100_000 + "]" * 100_000),
], ids=["json", "toml"])
def test_deep_nesting_refused(tmp_path, name, content):
    """Absurdly nested arrays raise SubmissionError, not RecursionError."""
    with pytest.raises(SubmissionError):
        read_one(tmp_path / "s001", name, content)


@pytest.mark.parametrize(("name", "content"), [
    ("answers.json", '{"q3": {"layers": [{"params": ' + "9" * 5000 + "}]}}"),
    ("answers.toml", "[q3]\nlayers = [{ params = " + "9" * 5000 + " }]\n"),
], ids=["json", "toml"])
def test_huge_integer_literal_refused(tmp_path, name, content):
    """An integer literal too long for Python's int() raises SubmissionError, not a bare ValueError."""
    with pytest.raises(SubmissionError):
        read_one(tmp_path / "s001", name, content)


@pytest.mark.parametrize(("content", "kind"), [("[1, 2, 3]", "not a list"), ('"answers"', "not a string"),
                                             ("42", "not a number"), ("true", "not true or false"), ("null", "not null")])
def test_json_top_level_must_be_a_table(tmp_path, content, kind):
    """A JSON file whose top level is not an object raises SubmissionError naming what it is, in JSON's words."""
    with pytest.raises(SubmissionError) as info:
        read_one(tmp_path / "s001", "answers.json", content)
    assert "top level" in str(info.value)
    assert str(info.value).endswith(kind)


def test_both_answer_files_refused(tmp_path):
    """A folder with both answers.toml and answers.json raises SubmissionError asking to keep one."""
    folder = tmp_path / "s001"
    write(folder, "answers.toml", TOML_ANSWERS)
    with pytest.raises(SubmissionError) as info:
        read_one(folder, "answers.json", JSON_ANSWERS)
    assert "both" in str(info.value)


def test_no_answer_file_refused(tmp_path):
    """A folder with no answers file raises SubmissionError naming the expected files."""
    folder = tmp_path / "s001"
    write(folder, "answers.txt", TOML_ANSWERS)
    with pytest.raises(SubmissionError) as info:
        read_submission(SubmissionFolder("s001", folder))
    assert "answers.toml" in str(info.value) and "answers.json" in str(info.value)


def test_answers_path_that_is_a_folder(tmp_path):
    """An answers.toml that is a directory cannot be read and raises SubmissionError."""
    folder = tmp_path / "s001"
    (folder / "answers.toml").mkdir(parents=True)
    with pytest.raises(SubmissionError):
        read_submission(SubmissionFolder("s001", folder), folder / "answers.toml")


def test_answers_file_that_cannot_be_looked_at(tmp_path, monkeypatch):
    """A folder whose answers files cannot be looked at (no permission) is an error giving the name and reason."""
    folder = tmp_path / "s001"
    write(folder, "answers.toml", TOML_ANSWERS)
    real_lstat = os.lstat

    def refused(path, *args, **kwargs):
        if os.path.dirname(os.fspath(path)) == str(folder):
            raise PermissionError(13, "Permission denied")
        return real_lstat(path, *args, **kwargs)

    monkeypatch.setattr(os, "lstat", refused)
    with pytest.raises(SubmissionError, match=r"^cannot read answers\.toml: Permission denied$"):
        read_submission(SubmissionFolder("s001", folder))


# --- reading is read-only ---------------------------------------------------------------------

def test_reading_never_modifies_the_folder(tmp_path):
    """Finding and reading submissions (good and broken) leaves every file's content and mtime unchanged and adds none."""
    write(tmp_path / "s001", "answers.toml", "\ufeff" + TOML_ANSWERS)
    write(tmp_path / "s001", "report.pdf", b"%PDF-1.4 binary \x00\xff")
    write(tmp_path / "s002", "answers.json", JSON_ANSWERS)
    write(tmp_path / "s002" / "figures", "plot.png", b"\x89PNG\r\n")
    write(tmp_path / "s003", "answers.toml", "not = [valid\n")
    write(tmp_path / "s004", "answers.toml", TOML_ANSWERS)
    write(tmp_path / "s004", "answers.json", JSON_ANSWERS)
    before = snapshot(tmp_path)

    outcomes = {}
    for submission in find_submissions(tmp_path):
        try:
            outcomes[submission.student_id] = read_submission(submission).data == EXPECTED_DATA
        except SubmissionError:
            outcomes[submission.student_id] = None
    find_submissions(tmp_path / "s001" / "answers.toml")

    assert outcomes == {"s001": True, "s002": True, "s003": None, "s004": None}
    assert snapshot(tmp_path) == before
