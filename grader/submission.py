"""Finding and reading submissions (``answers.toml`` / ``answers.json``).

Submissions are only ever read. Sizes are capped before parsing; a file that
cannot be parsed raises :class:`SubmissionError` with the parser's line and
column, which the engine turns into an ``error`` row for that student alone.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from collections import Counter
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import rtoml
import tomli

from grader.errors import GraderError, SubmissionError

ANSWER_FILES = ("answers.toml", "answers.json")
MAX_ANSWERS_BYTES = 1_000_000
"""Largest answers file read; a class's real answers are a few kilobytes."""


class IdSource(Enum):
    """Where a submission's student id comes from (the answers file's ``[student] id`` may say otherwise)."""

    FOLDER = "folder"  # the submission folder's name, as in a class run
    OPTION = "option"  # named by the student checking it (``grade check --student``)
    ROSTER = "roster"  # the submitter's id on the grading platform (Gradescope's ``sid``)


@dataclass(frozen=True)
class SubmissionFolder:
    """Where one student's answers are expected.

    Attributes:
        student_id: The folder's name, unless ``named_by`` says otherwise.
        folder: The submission folder.
        named_by: Where ``student_id`` comes from.
    """

    student_id: str
    folder: Path
    named_by: IdSource = IdSource.FOLDER


@dataclass(frozen=True)
class LoadedSubmission:
    """A parsed answers file."""

    student_id: str
    source: Path
    data: dict[str, Any]
    named_by: IdSource = IdSource.FOLDER


def find_submissions(path: Path) -> tuple[SubmissionFolder, ...]:
    """The submissions under ``path``, sorted by student id.

    ``path`` may be a class folder (each sub-folder is a student), one
    submission folder, or one answers file.

    Raises:
        GraderError: When ``path`` does not exist.
    """
    if path.is_file():
        return (SubmissionFolder(readable_name(path.parent.resolve().name), path.parent),)
    if not path.is_dir():
        raise GraderError(f"no such file or folder: {path}")
    if any((path / name).exists() for name in ANSWER_FILES):
        return (SubmissionFolder(readable_name(path.resolve().name), path),)
    folders = sorted((p for p in path.iterdir() if p.is_dir() and not p.name.startswith(".")), key=lambda p: p.name)
    ids = [readable_name(p.name) for p in folders]
    counts = Counter(ids)
    return tuple(SubmissionFolder(_distinct_id(student_id, p) if counts[student_id] > 1 else student_id, p)
                 for student_id, p in zip(ids, folders))


def _distinct_id(student_id: str, folder: Path) -> str:
    """The id of a folder whose shown name another folder's has too: one name shows bytes that are not UTF-8
    as ``\\xNN``, which another spells out. The escaped one gets a digest of its bytes, so no two students
    share an id (and a report file); a name shown as it is keeps it.
    """
    if student_id == folder.name:
        return student_id
    return f"{student_id}-{hashlib.sha256(os.fsencode(folder.name)).hexdigest()[:10]}"


def readable_name(name: str) -> str:
    """A file name (a folder's, as a student id) as text any UTF-8 output can hold: bytes that are not UTF-8
    become ``\\xNN``.

    Python keeps such bytes of a file name as lone surrogates, which no UTF-8
    file (a report, the cache) or strict terminal can hold.
    """
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


def read_submission(submission: SubmissionFolder, answers_file: Path | None = None) -> LoadedSubmission:
    """Read and parse the answers file of a submission.

    Args:
        submission: The submission folder.
        answers_file: A specific file to read (``grade check answers.json``);
            by default the folder's only answers file.

    Raises:
        SubmissionError: With a message for the student when the file is
            absent, ambiguous, too large, not UTF-8, or not valid TOML/JSON.
    """
    if os.path.islink(submission.folder):
        raise SubmissionError("the submission folder is a symbolic link; links are not followed")
    source = answers_file or _answers_file(submission.folder)
    raw = read_capped(source)
    if len(raw) > MAX_ANSWERS_BYTES:
        raise SubmissionError(f"{source.name} is larger than {MAX_ANSWERS_BYTES // 1000} kB; "
                              "answers files are a few kB: remove anything that is not an answer")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{source.name} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    data = _parse(source, text)
    if not isinstance(data, dict):
        raise SubmissionError(f"{source.name} must hold a table of answers at the top level, not {_json_kind(data)}")
    return LoadedSubmission(submission.student_id, source, data, submission.named_by)


def _json_kind(value: Any) -> str:
    """What a JSON value is, in JSON's words (a student's file is shown no Python type names)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true or false"
    return {str: "a string", list: "a list", int: "a number", float: "a number"}.get(type(value), "a value")


def declared_id(submission: SubmissionFolder, answers_file: Path | None = None) -> str | None:
    """``[student] id`` from the submission's answers file, when it has a readable one."""
    try:
        student = read_submission(submission, answers_file).data.get("student")
    except SubmissionError:
        return None
    if isinstance(student, dict) and isinstance(student.get("id"), (str, int)) and str(student["id"]).strip():
        return str(student["id"])
    return None


def read_capped(source: Path) -> bytes:
    """The first ``MAX_ANSWERS_BYTES + 1`` bytes of a regular file (links, pipes and devices are refused).

    Plain ``os`` calls: a class's files are each read in a few system calls, without file objects.

    Raises:
        SubmissionError: When the path is a link, not a regular file, or unreadable.
    """
    name = os.fspath(source)
    try:
        mode = os.lstat(name).st_mode
        if stat.S_ISLNK(mode):
            raise SubmissionError(f"{source.name} is a symbolic link; links are not followed")
        if not stat.S_ISREG(mode):
            raise SubmissionError(f"{source.name} is not a regular file")
        # Not following a link made since the check: what is read is what was checked.
        handle = os.open(name, os.O_RDONLY | _NO_FOLLOW | _BINARY)
        try:
            chunks: list[bytes] = []
            wanted = MAX_ANSWERS_BYTES + 1
            while wanted > 0 and (chunk := os.read(handle, wanted)):
                chunks.append(chunk)
                wanted -= len(chunk)
        finally:
            os.close(handle)
    except OSError as error:
        raise SubmissionError(f"cannot read {source.name}: {error.strerror}") from None
    return b"".join(chunks)


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)  # POSIX; elsewhere the check before opening stands alone
_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate line ends


def _answers_file(folder: Path) -> Path:
    present = [folder / name for name in ANSWER_FILES if _file_or_link(folder, name)]
    if not present:
        raise SubmissionError("no answers.toml or answers.json in the submission folder")
    if len(present) > 1:
        raise SubmissionError("both answers.toml and answers.json are present; keep only one")
    return present[0]


def _file_or_link(folder: Path, name: str) -> bool:
    """Whether ``folder/name`` is a regular file or a link (to anything: a link is refused when read, with its
    reason).

    Raises:
        SubmissionError: When it cannot even be looked at (a folder that may not be searched, say).
    """
    try:
        mode = os.lstat(os.path.join(folder, name)).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as error:
        raise SubmissionError(f"cannot read {name}: {error.strerror}") from None
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def _parse(source: Path, text: str) -> Any:
    kind = "JSON" if source.suffix == ".json" else "TOML"
    try:
        if kind == "JSON":
            data = json.loads(text, parse_constant=_reject_constant, object_pairs_hook=_unique_keys)
            if _SURROGATE_ESCAPE.search(text):  # rare: then check the strings the escapes made
                _reject_lone_surrogates(data)
            return data
        return _toml(text)
    except json.JSONDecodeError as error:
        raise SubmissionError(f"{source.name} is not valid JSON: {error.msg} "
                              f"(at line {error.lineno}, column {error.colno})") from None
    except tomli.TOMLDecodeError as error:
        # tomli's message already ends with "(at line L, column C)".
        raise SubmissionError(f"{source.name} is not valid TOML: {error}") from None
    except RecursionError:
        raise SubmissionError(f"{source.name} is nested too deeply") from None
    except ValueError as error:
        if "digits" in str(error):  # Python's int conversion limit: its message names a Python function
            raise SubmissionError(f"{source.name} holds a number with more than 4300 digits") from None
        raise SubmissionError(f"{source.name} is not valid {kind}: {error}") from None


def _toml(text: str) -> Any:
    """A TOML text parsed: by ``rtoml`` (compiled; five times faster on a class's answers files), else by tomli.

    tomli is the reference: it parses what ``rtoml`` refuses (a float beyond range becomes ``inf``) or
    words the error, and it takes the texts ``rtoml`` would read otherwise:

    - a table defined after a table inside it (``[q4.a]`` then ``[q4]``): ``rtoml`` would move its keys
      (whose order orders the warnings) to where it is defined;
    - a carriage return that is not part of a line end. ``rtoml`` is given line ends as plain newlines,
      or it would keep ``\\r\\n`` in multi-line strings, where tomli reads ``\\n``.

    ``rtoml`` also reads newlines inside inline tables (TOML 1.1), which tomli refuses.
    """
    plain = text.replace("\r\n", "\n")
    if "\r" not in plain and not _defined_after_inner_table(plain):
        try:
            return rtoml.loads(plain)
        except Exception:  # noqa: BLE001 - whatever rtoml refuses, tomli decides (and explains)
            pass
    return tomli.loads(text)


# A header at a line's start, the line end before it matched: a pattern that starts with a plain
# character is looked for in C; "^" in MULTILINE mode is tried at every character (5x slower).
_HEADER = re.compile(r"\n[ \t]*\[\[?([^\]\n]*)\]")


def _defined_after_inner_table(text: str) -> bool:
    """Whether a table header (``[a]`` or ``[[a]]``) follows the header of a table inside it (``[a.b]``),
    or is too long to look at: both send the text to tomli.

    Keys are compared as written (a quoted and a bare spelling of one key differ), and lines of multi-line
    strings that look like headers count too.
    """
    outer: set[str] = set()  # the tables that hold a table whose header came already
    for header in _HEADER.findall("\n" + text):  # the first line starts after a line end too
        name = "".join(header.split())
        if name in outer or len(name) > _LONGEST_HEADER:
            return True
        keys = name.split(".")
        outer.update(".".join(keys[:end]) for end in range(1, len(keys)))
    return False


_LONGEST_HEADER = 200
"""Characters of the longest header looked at: its tables' names cost the square of its length."""


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _reject_lone_surrogates(data: Any) -> None:
    """Refuse a lone ``\\uD800``-``\\uDFFF`` escape (not a character: TOML refuses it too; no report could hold it)."""
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("a \\u escape between \\uD800 and \\uDFFF that is not part of a pair is not a character") \
            from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (as TOML does) instead of keeping the last."""
    table: dict[str, Any] = {}
    for key, value in pairs:
        if key in table:
            raise ValueError(f"duplicate key {key!r}: each key may be given only once")
        table[key] = value
    return table


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
