"""Hostile-input corpus: every case is one class (three normal submissions and the hostile one) run through the CLI.

For every case the test asserts that

1. no student text was executed (payloads would create ``tmp_path / "pwned"``);
2. the batch finished: exit code 0 and ``scores.csv`` / ``parts.csv`` list every submission folder;
3. the hostile submission is reported as the case says (``invalid`` parts or an ``error``
   submission), with a message a student understands (key words, no Python internals);
4. the three normal submissions' rows are byte-identical to a run of those three alone;
5. nothing was written outside ``--out``: the rest of ``tmp_path`` (class folder, link
   targets, the working directory) has the same entries, contents and mtimes before and after.

Big inputs (50 MB, 200 MB) are generated at test time in ``tmp_path`` and deleted afterwards.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import random
import re
import shutil
import stat
import sys
import threading
import time
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pytest
from click.testing import CliRunner

from grader.cli import main
from tests.conftest import PROBLEMS, SUBMISSIONS

NORMAL = ("answer-key", "mistake-no-bias", "seed-writeup")
HOSTILE = "hostile"
KEY_TEXT = (SUBMISSIONS / "answer-key" / "answers.toml").read_text(encoding="utf-8")
EXCEL_CELL_LIMIT = 32_767
"""Longest text a spreadsheet cell holds; a longer CSV cell is cut or breaks the import."""

# Python internals a student cannot act on.
_JARGON = re.compile(r"Traceback|\bsys\.|set_int_max_str_digits|recursion depth|unicode string|internal error"
                     r"|NoneType|object at 0x|\b[A-Z][a-z]+(?:[A-Z][a-z]+)*Error\b")


# --------------------------------------------------------------------------------------------- helpers


def toml_str(text: str) -> str:
    """``text`` as a TOML basic string (JSON escapes are TOML escapes; DEL must be escaped too)."""
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _records(text: str) -> tuple[list[str], list[list[str]]]:
    old = csv.field_size_limit(sys.maxsize)
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    finally:
        csv.field_size_limit(old)
    return rows[0], rows[1:]


def _serialise(row: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(row)
    return buffer.getvalue()


@dataclass
class Report:
    """scores.csv and parts.csv of one run, by student."""

    scores: dict[str, dict[str, str]]
    parts: dict[str, dict[tuple[str, str], dict[str, str]]]
    score_records: dict[str, list[str]]
    part_records: dict[str, list[str]]
    feedback_files: list[str]

    @classmethod
    def read(cls, out: Path) -> "Report":
        scores: dict[str, dict[str, str]] = {}
        score_records: dict[str, list[str]] = {}
        header, rows = _records((out / "scores.csv").read_text(encoding="utf-8"))
        for row in rows:
            scores[row[0]] = dict(zip(header, row))
            score_records.setdefault(row[0], []).append(_serialise(row))
        parts: dict[str, dict[tuple[str, str], dict[str, str]]] = {}
        part_records: dict[str, list[str]] = {}
        header, rows = _records((out / "parts.csv").read_text(encoding="utf-8"))
        for row in rows:
            record = dict(zip(header, row))
            parts.setdefault(row[0], {})[(record["problem"], record["part"])] = record
            part_records.setdefault(row[0], []).append(_serialise(row))
        feedback = out / "feedback"
        files = sorted(p.name for p in feedback.iterdir()) if feedback.is_dir() else []
        return cls(scores, parts, score_records, part_records, files)


@dataclass
class Ctx:
    """One case's folders: the class, the report folder, a working directory and a place outside the class."""

    tmp: Path
    class_dir: Path
    out: Path
    cwd: Path
    outside: Path
    sentinel: Path
    big_files: list[Path] = field(default_factory=list)
    fifos: list[Path] = field(default_factory=list)
    external: list[Path] = field(default_factory=list)

    def folder(self, name: str = HOSTILE) -> Path:
        folder = self.class_dir / name
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def write(self, content: str | bytes, name: str = "answers.toml", folder: str = HOSTILE) -> Path:
        path = self.folder(folder) / name
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
        return path


def _digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha1").hexdigest()


def snapshot(ctx: Ctx) -> dict[str, tuple]:
    """Every entry of ``tmp`` except the report folder (links not followed), plus outside link targets."""
    entries: dict[str, tuple] = {}
    for dirpath, dirnames, filenames in os.walk(ctx.tmp, followlinks=False):
        here = Path(dirpath)
        dirnames[:] = [n for n in dirnames if here / n != ctx.out]
        for name in dirnames + filenames:
            path = here / name
            info = os.lstat(path)
            key = str(path.relative_to(ctx.tmp))
            if stat.S_ISLNK(info.st_mode):
                entries[key] = ("link", os.readlink(path))
            elif stat.S_ISDIR(info.st_mode):
                entries[key] = ("dir",)
            elif stat.S_ISREG(info.st_mode):
                entries[key] = ("file", info.st_size, info.st_mtime_ns, _digest(path))
            else:  # a named pipe: never opened here
                entries[key] = ("other", stat.S_IFMT(info.st_mode), info.st_mtime_ns)
    for path in ctx.external:
        info = os.stat(path)
        entries[f"external:{path}"] = (info.st_size, info.st_mtime_ns)
    return entries


class PipeReleaser(threading.Thread):
    """Unblocks a reader stuck on a named pipe after ``after`` seconds, so a hang fails instead of hanging."""

    def __init__(self, fifos: list[Path], after: float) -> None:
        super().__init__(daemon=True)
        self.fifos = fifos
        self.after = after
        self.stop = threading.Event()
        self.released = False

    def run(self) -> None:
        if self.stop.wait(self.after):
            return
        while not self.stop.is_set():
            for fifo in self.fifos:
                try:
                    fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
                except OSError:
                    continue  # no reader waiting
                os.close(fd)
                self.released = True
            self.stop.wait(0.2)


def run_cli(class_dir: Path, out: Path):
    """Grade the class through the ``grade`` command, in this process."""
    args = [str(class_dir), "--out", str(out), "--problems", str(PROBLEMS), "--lang", "en", "-q"]
    return CliRunner().invoke(main, args)


def submission_folders(class_dir: Path) -> set[str]:
    """The class's submission folders as the contract names them: every sub-folder not starting with '.',
    by its name, with any bytes that are not UTF-8 written as ``\\xNN``."""
    return {os.fsencode(name).decode("utf-8", "backslashreplace") for name in os.listdir(class_dir)
            if not name.startswith(".") and os.path.isdir(class_dir / name)}


# --------------------------------------------------------------------------------------------- checks


def _has(text: str, words: tuple[str, ...]) -> bool:
    return all(word.casefold() in text.casefold() for word in words)


def assert_plain(message: str, where: str) -> None:
    """A message for a student: not empty, no Python internals, no raw control characters."""
    assert message.strip(), f"{where}: empty message"
    jargon = _JARGON.search(message)
    assert jargon is None, f"{where}: Python internals ({jargon.group(0)!r}) in the message: {message[:400]!r}"
    controls = sorted({c for c in message if unicodedata.category(c) == "Cc"})
    assert not controls, f"{where}: raw control characters {controls!r} in the message: {message[:400]!r}"


Check = Callable[["Report", Ctx, "Report"], None]


def submission_error(*words: str, any_of: tuple[str, ...] = ()) -> Check:
    """The submission is an ``error`` (every part scores zero with status error) and the notes say why."""
    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        row = report.scores[HOSTILE]
        assert row["status"] == "error", f"status {row['status']!r}, expected error; notes: {row['notes'][:400]!r}"
        assert row["total"] == "0", f"total {row['total']}"
        bad = {k: p["status"] for k, p in report.parts[HOSTILE].items() if p["status"] != "error"}
        assert not bad, f"parts not marked error: {bad}"
        assert _has(row["notes"], words), f"notes lack {words}: {row['notes'][:400]!r}"
        if any_of:
            assert any(_has(row["notes"], (w,)) for w in any_of), f"notes lack any of {any_of}: {row['notes'][:400]!r}"
        assert_plain(row["notes"], "notes")
    return check


def parts_invalid(parts: list[tuple[str, str]], *words: str, any_of: tuple[str, ...] = (),
                  extra: Check | None = None) -> Check:
    """Each listed part is ``invalid`` with zero points and a message naming the problem; the rest is graded."""
    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        row = report.scores[HOSTILE]
        assert row["status"] == "partial", f"status {row['status']!r}, expected partial; notes: {row['notes'][:400]!r}"
        for key in parts:
            part = report.parts[HOSTILE][key]
            text = part["feedback"]
            assert part["status"] == "invalid", f"{key}: status {part['status']!r}, expected invalid: {text[:300]!r}"
            assert part["score"] == "0", f"{key}: score {part['score']}"
            assert _has(text, words), f"{key}: feedback lacks {words}: {text[:300]!r}"
            if any_of:
                assert any(_has(text, (w,)) for w in any_of), f"{key}: feedback lacks any of {any_of}: {text[:300]!r}"
            assert_plain(text, f"{key} feedback")
        if extra is not None:
            extra(report, ctx, baseline)
    return check


def graded_with(statuses: dict[tuple[str, str], set[str]], *, note_words: tuple[str, ...] = (),
                submission: set[str] = frozenset({"graded"}), extra: Check | None = None) -> Check:
    """The submission is graded; the listed parts have one of the given statuses."""
    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        row = report.scores[HOSTILE]
        assert row["status"] in submission, (f"status {row['status']!r}, expected {sorted(submission)}; "
                                             f"notes: {row['notes'][:400]!r}")
        for key, allowed in statuses.items():
            part = report.parts[HOSTILE][key]
            assert part["status"] in allowed, (f"{key}: status {part['status']!r}, expected {sorted(allowed)}: "
                                               f"{part['feedback'][:300]!r}")
        assert _has(row["notes"], note_words), f"notes lack {note_words}: {row['notes'][:400]!r}"
        if row["notes"]:
            assert_plain(row["notes"], "notes")
        if extra is not None:
            extra(report, ctx, baseline)
    return check


def graded_like_key(report: Report, ctx: Ctx, baseline: Report) -> None:
    """Every part equals the answer key's row (but for the student id)."""
    row = report.scores[HOSTILE]
    assert row["status"] == "graded", f"status {row['status']!r}; notes: {row['notes'][:400]!r}"
    key_rows = {k: {c: v for c, v in r.items() if c != "student_id"} for k, r in baseline.parts["answer-key"].items()}
    own_rows = {k: {c: v for c, v in r.items() if c != "student_id"} for k, r in report.parts[HOSTILE].items()}
    assert own_rows == key_rows, "graded differently from the identical answer key"


@dataclass(frozen=True)
class Case:
    """One hostile submission: how to build it, what must happen, and how long a run may take."""

    name: str
    must: str
    build: Callable[[Ctx], None]
    check: Check
    max_seconds: float = 30.0


CASES: list[Case] = []


def case(name: str, must: str, check: Check, max_seconds: float = 30.0):
    def register(build: Callable[[Ctx], None]) -> Callable[[Ctx], None]:
        CASES.append(Case(name, must, build, check, max_seconds))
        return build
    return register


# --------------------------------------------------------------------------------------------- code in any field

PAYLOADS = {
    "import": "__import__('pathlib').Path('{s}').touch()",
    "attribute-chain": "().__class__.__bases__[0].__subclasses__()[-1].__init__.__globals__['os'].system('touch {s}')",
    "dunder": "__builtins__['exec'](\"open('{s}', 'w')\")",
    "lambda": "(lambda: __import__('os').system('touch {s}'))()",
    "exec": "exec(\"__import__('pathlib').Path('{s}').touch()\")",
    "eval": "eval(\"__import__('pathlib').Path('{s}').touch()\")",
    "latex-write18": "\\immediate\\write18{{touch {s}}}\\input{{{s}}}",
}
_PAYLOAD_PARTS = [("q2b", "avg_pool_as_conv"), ("q2b", "avg_kernel"), ("q3", "layer1.output_shape"),
                  ("q3", "layer1.params"), ("q4", "O"), ("q4", "y"), ("q4", "formulas.dL_dF11")]


def _payload_build(template: str) -> Callable[[Ctx], None]:
    def build(ctx: Ctx) -> None:
        s = toml_str(template.format(s=ctx.sentinel))
        ctx.write(f"""[student]
id = {s}

[q1]
answer = {s}

[q2b]
avg_pool_as_conv = {s}
avg_kernel = [[{s}, 1], [1, 1]]

[q3]
layers = [{{ output_shape = {s}, params = {s} }}]

[q4]
y = {s}
O = [[{s}, 1], [1, 1]]
{s} = 1

[q4.formulas]
dL_dF11 = {s}
""")
    return build


def _payload_essay(report: Report, ctx: Ctx, baseline: Report) -> None:
    essay = report.parts[HOSTILE][("q1", "answer")]
    assert essay["score"] == "0" and essay["status"] in ("needs_review", "wrong"), f"essay: {essay}"
    notes = report.scores[HOSTILE]["notes"]
    assert _has(notes, ("folder name is used",)), f"id mismatch not reported: {notes[:300]!r}"
    assert _has(notes, ("unknown key",)), f"payload key not reported as unknown: {notes[:300]!r}"


for _name, _template in PAYLOADS.items():
    CASES.append(Case(
        f"code-{_name}",
        "code in formulas, numbers, matrices, shapes, booleans, essays, keys and the id is read as data, never run",
        _payload_build(_template),
        parts_invalid(_PAYLOAD_PARTS, "could not read", extra=_payload_essay),
    ))


# --------------------------------------------------------------------------------------------- formulas


def _formulas(**formulas: str) -> Callable[[Ctx], None]:
    def build(ctx: Ctx) -> None:
        ctx.write("[q4.formulas]\n" + "".join(f"{k} = {toml_str(v)}\n" for k, v in formulas.items()))
    return build


def _formula_case(name: str, must: str, formula: str, *words: str) -> None:
    CASES.append(Case(name, must, _formulas(dL_dF11=formula),
                      parts_invalid([("q4", "formulas.dL_dF11")], "could not read", *words), 20.0))


_formula_case("formula-power-tower", "9**9**9**9 is refused before any power is built", "9**9**9**9", "exponent")
_formula_case("formula-huge-power", "X11^99999 is refused: exponents are -8..8", "X11^99999", "exponent")
_formula_case("formula-factorial", "X11! is refused as an unexpected character", "X11!", "unexpected", "!")
_formula_case("formula-100k-parentheses", "100,000 nested parentheses are refused by length, without recursion",
              "(" * 100_000 + "X11" + ")" * 100_000, "too long")
_formula_case("formula-41-levels", "41 levels of brackets are refused as too deep",
              "(" * 41 + "X11" + ")" * 41, "nested too deeply")
_formula_case("formula-degree-bomb", "((X11^8)^8)^8 is refused by its degree before SymPy builds it",
              "((X11^8)^8)^8", "degree")
_formula_case("formula-1000-terms", "a formula of 1,000 terms is refused as too long",
              " + ".join(f"X{1 + i % 3}{1 + i // 3 % 3}" for i in range(1000)), "too long")
_formula_case("formula-500-tokens", "500 tokens within 1,000 characters are refused as too long",
              "+".join(["1"] * 499), "too long")

CASES.append(Case(
    "formula-division-by-zero", "X11/0, \\frac{1}{0} and 1/(X11-X11) are refused as division by zero",
    _formulas(dL_dF11="X11/0", dL_dF12="\\frac{1}{0}", dL_dF21="1/(X11-X11)"),
    parts_invalid([("q4", "formulas.dL_dF11"), ("q4", "formulas.dL_dF12"), ("q4", "formulas.dL_dF21")],
                  "division by zero")))


@case("formula-not-a-string", "a formula written as a number or a table is invalid, saying a string is expected",
      parts_invalid([("q4", "formulas.dL_dF11"), ("q4", "formulas.dL_dF12")], "expected a formula"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4.formulas]\ndL_dF11 = 5\ndL_dF12 = { a = 1 }\n")


# --------------------------------------------------------------------------------------------- files


@case("answers-50mb", "a 50 MB answers.toml is refused by the size cap, quickly",
      submission_error("larger than", "kB"), max_seconds=20.0)
def _(ctx: Ctx) -> None:
    path = ctx.write(b'[q1]\nanswer = """')
    chunk = b"capsule " * (1 << 17)  # 1 MiB
    with path.open("ab") as handle:
        for _ in range(50):
            handle.write(chunk)
        handle.write(b'"""\n')
    ctx.big_files.append(path)


@case("binary-junk", "random bytes are refused as not UTF-8 text", submission_error("UTF-8"))
def _(ctx: Ctx) -> None:
    ctx.write(b"\xff\xfe\x00" + random.Random(1).randbytes(65_536))


@case("utf16-with-bom", "a UTF-16 file (with BOM) is refused, asking for UTF-8", submission_error("UTF-8"))
def _(ctx: Ctx) -> None:
    ctx.write(KEY_TEXT.encode("utf-16"))


@case("invalid-utf8", "invalid UTF-8 is refused with the byte offset", submission_error("UTF-8", "byte"))
def _(ctx: Ctx) -> None:
    ctx.write(b'[q4]\ny = "0.25\xc3\x28\xff"\n')


@case("utf8-bom-toml", "a UTF-8 BOM is accepted: graded exactly like the answer key", graded_like_key)
def _(ctx: Ctx) -> None:
    ctx.write(b"\xef\xbb\xbf" + KEY_TEXT.encode("utf-8"))


@case("utf8-bom-json", "a UTF-8 BOM before JSON is accepted: graded exactly like the answer key", graded_like_key)
def _(ctx: Ctx) -> None:
    ctx.write(b"\xef\xbb\xbf" + json.dumps(tomllib.loads(KEY_TEXT), ensure_ascii=False).encode("utf-8"),
              "answers.json")


@case("toml-duplicate-keys", "a key given twice in TOML is refused with its line",
      submission_error("not valid TOML", "line 3"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = 0.25\ny = 1\n")


@case("json-duplicate-keys", "a key given twice in JSON is refused like TOML's, not silently the last one",
      submission_error("duplicate", "y"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q4": {"y": 0.25, "y": 1}}', "answers.json")


@case("toml-nan-inf", "TOML nan/inf (and 1e999, which overflows to inf) are invalid numbers: 'finite'",
      parts_invalid([("q4", "y"), ("q4", "O"), ("q4", "dL_dO"), ("q3", "layer1.output_shape"), ("q3", "layer1.params")],
                    "finite"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = nan\nO = [[inf, -inf], [+nan, 1]]\ndL_dO = [[1e999, 1], [1, 1]]\n"
              "[q3]\nlayers = [{ output_shape = [inf, 62, 64], params = -inf }]\n")


@case("json-nan", "JSON NaN is refused: NaN is not a number", submission_error("NaN", "not a number"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q4": {"y": NaN}}', "answers.json")


@case("json-infinity", "JSON Infinity is refused: Infinity is not a number",
      submission_error("Infinity", "not a number"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q4": {"O": [[Infinity, -Infinity], [1, 1]]}}', "answers.json")


@case("number-strings-nan-inf", "the strings nan, inf, Infinity are not numbers",
      parts_invalid([("q4", "y"), ("q4", "O"), ("q3", "layer1.params")], "expected a number"))
def _(ctx: Ctx) -> None:
    ctx.write('[q4]\ny = "nan"\nO = [["inf", "-inf"], ["Infinity", "NaN"]]\n'
              '[q3]\nlayers = [{ output_shape = [62, 62, 64], params = "inf" }]\n')


@case("json-lone-surrogate", "a lone \\uD800 escape in answers.json (not a character) makes the file invalid JSON",
      submission_error("not valid JSON", "uD800"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q1": {"answer": "capsules \\ud800 route"}, "q4": {"y": 0.25}}', name="answers.json")


@case("matrix-10000x10000", "a 10,000×10,000 matrix (200 MB of JSON) is refused by the size cap, quickly",
      submission_error("larger than", "kB"), max_seconds=20.0)
def _(ctx: Ctx) -> None:
    path = ctx.folder() / "answers.json"
    row = b"[" + b"0," * 9_999 + b"0]"
    with path.open("wb") as handle:
        handle.write(b'{"q4": {"O": [')
        for i in range(10_000):
            handle.write(row if i == 9_999 else row + b",")
        handle.write(b"]}}")
    ctx.big_files.append(path)


@case("matrix-over-cell-cap", "matrices over 10,000 entries (within the file cap) are invalid: 'too large'",
      parts_invalid([("q4", "O"), ("q2b", "avg_kernel")], "matrix too large"))
def _(ctx: Ctx) -> None:
    rows = json.dumps([[0] * 100] * 101)
    ctx.write(f"[q4]\nO = {rows}\n[q2b]\navg_kernel = {json.dumps([[1] * 200] * 200)}\n")


@case("shape-1e6-list", "a shape of 1,000,000 entries (2 MB) is refused by the file cap",
      submission_error("larger than", "kB"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q3": {"layers": [{"output_shape": [' + "1," * 999_999 + "1]}]}}", "answers.json")


@case("shape-1000-list", "a shape of 1,000 entries is invalid: a shape such as [62, 62, 64] is expected",
      parts_invalid([("q3", "layer1.output_shape")], "expected a shape"))
def _(ctx: Ctx) -> None:
    ctx.write("[q3]\nlayers = [{ output_shape = [" + "1, " * 999 + "1], params = 4864 }]\n")


@case("shapes-negative-zero", "zero and negative sizes are invalid shapes",
      parts_invalid([("q3", "layer1.output_shape"), ("q3", "layer2.output_shape"), ("q3", "layer3.output_shape")],
                    any_of=("at least 1", "expected a shape")))
def _(ctx: Ctx) -> None:
    ctx.write('[q3]\nlayers = [{ output_shape = [0, -62, 64] }, { output_shape = "0x0x0" }, '
              '{ output_shape = [-1, -1, -1] }]\n')


# --------------------------------------------------------------------------------------------- student ids


def _id_build(student_id: str) -> Callable[[Ctx], None]:
    def build(ctx: Ctx) -> None:
        value = student_id.replace("{tmp}", str(ctx.tmp))
        ctx.write(f"[student]\nid = {toml_str(value)}\n[q4]\ny = 0.25\n")
    return build


def _nothing_named(*fragments: str) -> Check:
    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        named = [p for p in ctx.out.rglob("*") if any(f in p.name for f in fragments)]
        assert not named, f"files named after [student].id: {named}"
        assert report.feedback_files and all(n.startswith(HOSTILE) or n.split(".")[0] in NORMAL
                                              for n in report.feedback_files), report.feedback_files
    return check


for _name, _sid, _fragments in (
    ("id-dotdot", "../../../../pwned-id", ("pwned-id",)),
    ("id-absolute-path", "{tmp}/abs-id", ("abs-id",)),
    ("id-nul", "a\x00b-nul-id", ("nul-id",)),
    ("id-control-chars", "\x1b[2J\r\nFAKE,row\x07\x08-ctl-id", ("ctl-id", "FAKE")),
):
    CASES.append(Case(
        _name, "a hostile [student].id is only a note: graded under the folder name, no file named after it",
        _id_build(_sid),
        graded_with({("q4", "y"): {"correct"}}, note_words=("folder name is used",),
                    extra=_nothing_named(*_fragments))))


@case("id-not-a-string", "a table as [student].id is only a note; graded under the folder name",
      graded_with({("q4", "y"): {"correct"}}, note_words=("folder name is used",)))
def _(ctx: Ctx) -> None:
    ctx.write("[student]\nid = { x = 1 }\n[q4]\ny = 0.25\n")


# --------------------------------------------------------------------------------------------- folder names


def _folder_case(name: str, folder: str, shown: str | None = None) -> None:
    """A case of a folder with an unusual name, graded under ``shown`` (default: the name itself)."""
    student = folder if shown is None else shown

    def build(ctx: Ctx) -> None:
        ctx.write("[q4]\ny = 0.25\n", folder=folder)

    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        row = report.scores.get(student)
        assert row is not None, f"{student!r} missing from scores.csv: {sorted(report.scores)}"
        assert row["status"] == "graded", row
        assert report.parts[student][("q4", "y")]["status"] == "correct"
        own = [n for n in report.feedback_files if n.rsplit(".", 1)[0] not in NORMAL]
        assert len(own) == 2, f"expected one .md and one .html for {student!r}: {report.feedback_files}"
        for file_name in own:
            assert len(file_name.encode()) <= 120, f"feedback file name too long: {file_name!r}"
            assert not any(unicodedata.category(c) == "Cc" for c in file_name), f"control char in {file_name!r}"
            assert not file_name.startswith("."), f"hidden feedback file name {file_name!r}"

    CASES.append(Case(name, "an unusual folder name is graded under that name; its feedback files get safe names",
                      build, check))


_folder_case("folder-spaces", "with  spaces ")
_folder_case("folder-persian", "دانشجو ۱۲ علی")
_folder_case("folder-leading-dash", "-rf --out")
_folder_case("folder-newline", "line1\nline2")
_folder_case("folder-csv-metachars", 'a,"b";c\'d')
_folder_case("folder-long-name", "n" * 240)
_folder_case("folder-not-utf8", os.fsdecode(b"bad\xff\xfeid"), shown="bad\\xff\\xfeid")  # its bytes, as \xNN


def _hidden_check(report: Report, ctx: Ctx, baseline: Report) -> None:
    assert ".hidden" not in report.scores and ".hidden" not in report.parts, "hidden folder graded"
    assert not [n for n in report.feedback_files if "hidden" in n], report.feedback_files
    assert set(report.scores) == set(NORMAL), sorted(report.scores)


@case("folder-hidden", "a folder starting with '.' is skipped (documented): not in the reports, no feedback file",
      _hidden_check)
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = 0.25\n", folder=".hidden")


# --------------------------------------------------------------------------------------------- links and odd files


@case("symlink-answers-etc-passwd", "answers.toml linking to /etc/passwd is not followed: error 'symbolic link'",
      submission_error("symbolic link"))
def _(ctx: Ctx) -> None:
    (ctx.folder() / "answers.toml").symlink_to("/etc/passwd")
    ctx.external.append(Path("/etc/passwd"))


@case("symlink-answers-outside", "answers.toml linking to a file outside the class is not followed",
      submission_error("symbolic link"))
def _(ctx: Ctx) -> None:
    target = ctx.outside / "answers.toml"
    target.write_text(KEY_TEXT, encoding="utf-8")
    (ctx.folder() / "answers.toml").symlink_to(target)


@case("symlink-answers-sibling", "answers.toml linking to another student's answers is not followed",
      submission_error("symbolic link"))
def _(ctx: Ctx) -> None:
    (ctx.folder() / "answers.toml").symlink_to(Path("..") / "answer-key" / "answers.toml")


@case("symlink-submission-folder", "a submission folder that links outside the class is listed as error, not followed",
      submission_error("symbolic link"))
def _(ctx: Ctx) -> None:
    target = ctx.outside / "folder"
    target.mkdir()
    (target / "answers.toml").write_text(KEY_TEXT, encoding="utf-8")
    (ctx.class_dir / HOSTILE).symlink_to(target, target_is_directory=True)


@case("symlink-dangling", "a dangling answers.json link is an error that names the link, not 'no answers file'",
      submission_error("symbolic link"))
def _(ctx: Ctx) -> None:
    (ctx.folder() / "answers.json").symlink_to(ctx.tmp / "does-not-exist.json")


@case("fifo-answers", "an answers.toml that is a named pipe is an error at once, never a hang",
      submission_error("answers"), max_seconds=12.0)
def _(ctx: Ctx) -> None:
    fifo = ctx.folder() / "answers.toml"
    os.mkfifo(fifo)
    ctx.fifos.append(fifo)


@case("answers-is-a-folder", "a folder named answers.toml is an error", submission_error("answers.toml"))
def _(ctx: Ctx) -> None:
    (ctx.folder() / "answers.toml").mkdir()


@case("empty-folder", "an empty submission folder is an error: no answers file", submission_error("no answers.toml"))
def _(ctx: Ctx) -> None:
    ctx.folder()


@case("both-toml-and-json", "answers.toml and answers.json together are an error: keep only one",
      submission_error("both", "keep only one"))
def _(ctx: Ctx) -> None:
    ctx.write(KEY_TEXT)
    ctx.write('{"q4": {"y": 0.25}}', "answers.json")


@case("json-top-level-list", "a JSON list at the top level is an error: a table of answers is expected",
      submission_error("top level"))
def _(ctx: Ctx) -> None:
    ctx.write('[{"q4": {"y": 0.25}}]', "answers.json")


@case("json-nested-100k", "JSON nested 100,000 levels is an error saying it is nested too deeply",
      submission_error(any_of=("nested", "too deep")))
def _(ctx: Ctx) -> None:
    ctx.write('{"q4": {"y": ' + "[" * 100_000 + "]" * 100_000 + "}}", "answers.json")


@case("toml-nested-100k", "TOML nested 100,000 levels is an error saying it is nested too deeply",
      submission_error("nested too deeply"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = " + "[" * 100_000 + "]" * 100_000 + "\n")


@case("toml-header-300k-keys", "a TOML table header of 300,000 dotted keys is an error saying it is nested too deeply",
      submission_error("nested too deeply"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4." + "a." * 300_000 + "a]\ny = 1\n")


@case("toml-int-5000-digits", "a TOML integer of 5,000 digits is an error a student understands (no Python advice)",
      submission_error("digits"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = " + "7" * 5000 + "\n")


@case("json-int-5000-digits", "a JSON integer of 5,000 digits is an error a student understands (no Python advice)",
      submission_error("digits"))
def _(ctx: Ctx) -> None:
    ctx.write('{"q4": {"y": ' + "7" * 5000 + "}}", "answers.json")


@case("toml-datetime-as-number", "a TOML date where a number is expected is invalid",
      parts_invalid([("q4", "y"), ("q4", "O")], "expected a number"))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = 1979-05-27T07:32:00Z\nO = [[1979-05-27, 1], [1, 1]]\n")


@case("problem-not-a-table", "[q3] as a string and [q4] as a list make their parts invalid: 'must be a table'",
      parts_invalid([("q3", "layer1.output_shape"), ("q4", "y"), ("q4", "formulas.dL_dX33")], "must be a table"))
def _(ctx: Ctx) -> None:
    ctx.write('q3 = "hello"\nq4 = [1, 2]\n')


# --------------------------------------------------------------------------------------------- essays


@case("essay-2mb", "a 2 MB essay is refused by the 1 MB file cap", submission_error("larger than", "kB"))
def _(ctx: Ctx) -> None:
    ctx.write('[q1]\nanswer = """' + "routing " * 262_144 + '"""\n')


@case("essay-40k-one-word", "an essay of one word repeated (40,000 characters) is graded quickly and sent to review",
      graded_with({("q1", "answer"): {"needs_review"}, ("q2a", "answer"): {"needs_review"},
                   ("q2b", "explanation"): {"needs_review"}}), max_seconds=15.0)
def _(ctx: Ctx) -> None:
    ctx.write(f'[q1]\nanswer = "{"capsule " * 5000}"\n[q2a]\nanswer = "{"pooling " * 5000}"\n'
              f'[q2b]\nexplanation = "{"linear " * 5700}"\n')


@case("essay-over-text-cap", "an essay of 60,000 characters (under the file cap) is invalid: 'too long'",
      parts_invalid([("q1", "answer")], "too long"))
def _(ctx: Ctx) -> None:
    ctx.write(f'[q1]\nanswer = "{"word " * 12_000}"\n')


@case("essay-not-a-string", "an essay given as a table, a list or a number is invalid: text is expected",
      parts_invalid([("q1", "answer"), ("q2a", "answer"), ("q2b", "explanation")], "expected text"))
def _(ctx: Ctx) -> None:
    ctx.write("[q1]\nanswer = { x = 1 }\n[q2a]\nanswer = [1, 2]\n[q2b]\nexplanation = 5\n")


# --------------------------------------------------------------------------------------------- numbers


@case("fraction-zero-denominator", "'1/0' and '0/0' are invalid: division by zero",
      parts_invalid([("q4", "y"), ("q4", "O"), ("q3", "layer1.params")], "division by zero"))
def _(ctx: Ctx) -> None:
    ctx.write('[q4]\ny = "1/0"\nO = [["0/0", 1], [1, 1]]\n'
              '[q3]\nlayers = [{ output_shape = [62, 62, 64], params = "4864/0" }]\n')


@case("number-10000-digits", "a number string of 10,000 digits is invalid: too long",
      parts_invalid([("q4", "y"), ("q3", "layer1.params"), ("q4", "O")], "too long"))
def _(ctx: Ctx) -> None:
    digits = toml_str("1" * 10_000)
    ctx.write(f"[q4]\ny = {digits}\nO = [[{digits}, 1], [1, 1]]\n"
              f"[q3]\nlayers = [{{ output_shape = [62, 62, 64], params = {digits} }}]\n")


@case("exponent-1e999999999", "'1e999999999' is invalid: exponent too large (never built)",
      parts_invalid([("q4", "y"), ("q4", "O"), ("q3", "layer1.params")], "exponent"))
def _(ctx: Ctx) -> None:
    ctx.write('[q4]\ny = "1e999999999"\nO = [["1e-999999999", 1], [1, 1]]\n'
              '[q3]\nlayers = [{ output_shape = [62, 62, 64], params = "4.864e999999999" }]\n')


@case("persian-latin-mixed-digits", "Persian and Latin digits mixed in one number are read digit by digit",
      graded_with({("q4", "y"): {"correct"}, ("q4", "O"): {"correct"},
                   ("q3", "layer1.output_shape"): {"correct"}, ("q3", "layer1.params"): {"correct"}}))
def _(ctx: Ctx) -> None:
    ctx.write('[q4]\ny = "۰.2۵"\nO = [["1", "٢"], ["-1۰", "۸"]]\n'
              '[q3]\nlayers = [{ output_shape = "6۲x۶2x64", params = "48۶4" }]\n')


@case("bigint-4000-digits", "4,000-digit integers in shapes, counts and matrices are graded (wrong), quickly",
      graded_with({("q3", "layer1.output_shape"): {"wrong"}, ("q3", "layer1.params"): {"wrong"},
                   ("q4", "O"): {"wrong"}, ("q4", "dL_dO"): {"wrong"}}), max_seconds=20.0)
def _(ctx: Ctx) -> None:
    n = "9" * 4000
    ctx.write(f"[q3]\nlayers = [{{ output_shape = [{n}, {n}, 64], params = {n} }}]\n"
              f"[q4]\nO = [[{n}, {n}], [{n}, 1]]\ndL_dO = [[{n}, 1], [1, 1]]\n")


def _stride_check(allowed: set[str]) -> Check:
    def check(report: Report, ctx: Ctx, baseline: Report) -> None:
        row = report.scores[HOSTILE]
        assert row["status"] != "error", f"the whole submission became an error: {row['notes'][:300]!r}"
        assert report.parts[HOSTILE][("q2b", "avg_pool_as_conv")]["status"] == "correct"
        kernel = report.parts[HOSTILE][("q2b", "avg_kernel")]
        assert kernel["status"] in allowed, f"avg_kernel: {kernel['status']!r}: {kernel['feedback'][:300]!r}"
        if kernel["status"] == "invalid":
            assert _has(kernel["feedback"], ("avg_stride",)), kernel["feedback"]
            assert_plain(kernel["feedback"], "avg_kernel feedback")
    return check


@case("q2b-avg-stride-1e12", "avg_stride = 10^12 makes avg_kernel invalid (naming avg_stride); the rest is graded",
      _stride_check({"invalid"}))
def _(ctx: Ctx) -> None:
    ctx.write("[q2b]\navg_pool_as_conv = true\navg_kernel = [[0.25, 0.25], [0.25, 0.25]]\n"
              "avg_stride = 1000000000000\n")


@case("q2b-avg-stride-2000", "avg_stride = 2000 is checked (or refused) in bounded time and memory, never an error",
      _stride_check({"correct", "invalid"}), max_seconds=5.0)
def _(ctx: Ctx) -> None:
    ctx.write("[q2b]\navg_pool_as_conv = true\navg_kernel = [[0.25, 0.25], [0.25, 0.25]]\navg_stride = 2000\n")


# --------------------------------------------------------------------------------------------- many keys


def _notes_fit_a_cell(report: Report, ctx: Ctx, baseline: Report) -> None:
    notes = report.scores[HOSTILE]["notes"]
    assert len(notes) <= EXCEL_CELL_LIMIT, (f"notes cell of {len(notes):,} characters (a spreadsheet cell holds "
                                            f"{EXCEL_CELL_LIMIT:,}; Python's csv reader refuses fields over 131,072)")


@case("many-unknown-keys", "20,000 unknown keys are warned about, but the notes cell stays readable",
      graded_with({("q4", "y"): {"correct"}}, note_words=("unknown key",), extra=_notes_fit_a_cell))
def _(ctx: Ctx) -> None:
    ctx.write("[q4]\ny = 0.25\n" + "".join(f"k{i} = 1\n" for i in range(20_000)))


@case("layers-100k", "100,000 layer entries: the first 3 are graded, the rest is one warning",
      graded_with({("q3", "layer1.output_shape"): {"missing"}}, note_words=("100000 entries",)))
def _(ctx: Ctx) -> None:
    ctx.write("[q3]\nlayers = [" + "{}, " * 100_000 + "]\n")


# --------------------------------------------------------------------------------------------- the runs


@pytest.fixture(scope="module")
def baseline(tmp_path_factory: pytest.TempPathFactory) -> Report:
    """The three normal submissions graded alone."""
    tmp = tmp_path_factory.mktemp("baseline")
    class_dir, out, cwd = tmp / "class", tmp / "out", tmp / "cwd"
    cwd.mkdir()
    for name in NORMAL:
        shutil.copytree(SUBMISSIONS / name, class_dir / name)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(cwd)
        result = run_cli(class_dir, out)
    assert result.exit_code == 0, result.output
    report = Report.read(out)
    assert set(report.scores) == set(NORMAL)
    return report


@pytest.fixture
def ctx(tmp_path: Path):
    """A class of the three normal submissions in tmp_path; big files are deleted afterwards."""
    context = Ctx(tmp=tmp_path, class_dir=tmp_path / "class", out=tmp_path / "out", cwd=tmp_path / "cwd",
                  outside=tmp_path / "outside", sentinel=tmp_path / "pwned")
    context.cwd.mkdir()
    context.outside.mkdir()
    for name in NORMAL:
        shutil.copytree(SUBMISSIONS / name, context.class_dir / name)
    yield context
    for path in context.big_files:
        path.unlink(missing_ok=True)


def test_case_names_are_unique_and_enough() -> None:
    """The corpus has at least 40 cases, each with its own name."""
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)) and len(names) >= 40, names


def test_baseline_grades_the_normal_submissions(baseline: Report) -> None:
    """The three normal submissions alone are graded, none with an error."""
    assert {sid: row["status"] for sid, row in baseline.scores.items()} == {sid: "graded" for sid in NORMAL}


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_submission(case: Case, ctx: Ctx, baseline: Report, monkeypatch: pytest.MonkeyPatch) -> None:
    """Hostile input runs no code, keeps the batch alive, is reported clearly, and changes nothing but --out."""
    case.build(ctx)
    monkeypatch.chdir(ctx.cwd)
    before = snapshot(ctx)
    releaser = PipeReleaser(ctx.fifos, after=15.0)
    releaser.start()
    start = time.monotonic()
    try:
        result = run_cli(ctx.class_dir, ctx.out)
    finally:
        elapsed = time.monotonic() - start
        releaser.stop.set()
        releaser.join()
    failures: list[str] = []

    def criterion(label: str, check: Callable[[], None]) -> None:
        try:
            check()
        except AssertionError as error:
            failures.append(f"[{label}] {error}")

    def no_code_ran() -> None:
        assert not ctx.sentinel.exists(), f"the sentinel {ctx.sentinel} was created: student text was executed"
        assert not (ctx.cwd / "pwned").exists()

    criterion("1 no code ran", no_code_ran)

    def batch_finished() -> None:
        assert not releaser.released, "the run blocked on a named pipe until the test released it"
        assert result.exit_code == 0, f"exit code {result.exit_code}: {result.output[-1500:]} {result.exception!r}"
        report = Report.read(ctx.out)
        expected = submission_folders(ctx.class_dir)
        assert set(report.scores) == expected, f"scores.csv lists {sorted(report.scores)}, folders {sorted(expected)}"
        assert set(report.parts) == expected, f"parts.csv lists {sorted(report.parts)}, folders {sorted(expected)}"

    criterion("2 batch finished", batch_finished)
    if result.exit_code == 0 and (ctx.out / "scores.csv").is_file():
        report = Report.read(ctx.out)
        criterion("3 hostile reported", lambda: case.check(report, ctx, baseline))

        def others_unchanged() -> None:
            for sid in NORMAL:
                assert report.score_records.get(sid) == baseline.score_records[sid], f"scores.csv row of {sid} changed"
                assert report.part_records.get(sid) == baseline.part_records[sid], f"parts.csv rows of {sid} changed"

        criterion("4 other students unchanged", others_unchanged)

    def nothing_outside() -> None:
        after = snapshot(ctx)
        added = sorted(set(after) - set(before))
        removed = sorted(set(before) - set(after))
        changed = sorted(k for k in set(before) & set(after) if before[k] != after[k])
        assert not (added or removed or changed), f"outside --out: added {added}, removed {removed}, changed {changed}"

    criterion("5 nothing written outside --out", nothing_outside)

    def in_time() -> None:
        assert elapsed <= case.max_seconds, f"the run took {elapsed:.1f} s (at most {case.max_seconds:g} s)"

    criterion("time", in_time)
    assert not failures, f"{case.name}: {case.must}\n" + "\n".join(failures)
