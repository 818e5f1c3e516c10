"""Finding and reading submissions (``answers.toml`` / ``answers.json``).

Submissions are only ever read. Sizes are capped before parsing; a file that
cannot be parsed raises :class:`SubmissionError` with the parser's line and
column, which the engine turns into an ``error`` row for that student alone.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.errors import GraderError, SubmissionError

ANSWER_FILES = ("answers.toml", "answers.json")
MAX_ANSWERS_BYTES = 1_000_000
"""Largest answers file read; a class's real answers are a few kilobytes."""


@dataclass(frozen=True)
class SubmissionFolder:
    """Where one student's answers are expected.

    Attributes:
        student_id: The folder's name.
        folder: The submission folder.
    """

    student_id: str
    folder: Path


@dataclass(frozen=True)
class LoadedSubmission:
    """A parsed answers file."""

    student_id: str
    source: Path
    data: dict[str, Any]


def find_submissions(path: Path) -> tuple[SubmissionFolder, ...]:
    """The submissions under ``path``, sorted by student id.

    ``path`` may be a class folder (each sub-folder is a student), one
    submission folder, or one answers file.

    Raises:
        GraderError: When ``path`` does not exist.
    """
    if path.is_file():
        return (SubmissionFolder(path.parent.resolve().name, path.parent),)
    if not path.is_dir():
        raise GraderError(f"no such file or folder: {path}")
    if any((path / name).exists() for name in ANSWER_FILES):
        return (SubmissionFolder(path.resolve().name, path),)
    folders = (p for p in path.iterdir() if p.is_dir() and not p.name.startswith("."))
    return tuple(SubmissionFolder(p.name, p) for p in sorted(folders, key=lambda p: p.name))


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
    if submission.folder.is_symlink():
        raise SubmissionError("the submission folder is a symbolic link; links are not followed")
    source = answers_file or _answers_file(submission.folder)
    if source.is_symlink():
        raise SubmissionError(f"{source.name} is a symbolic link; links are not followed")
    try:
        with source.open("rb") as handle:
            raw = handle.read(MAX_ANSWERS_BYTES + 1)
    except OSError as error:
        raise SubmissionError(f"cannot read {source.name}: {error.strerror}") from None
    if len(raw) > MAX_ANSWERS_BYTES:
        raise SubmissionError(f"{source.name} is larger than {MAX_ANSWERS_BYTES // 1000} kB; "
                              "answers files are a few kB: remove anything that is not an answer")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubmissionError(f"{source.name} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    data = _parse(source, text)
    if not isinstance(data, dict):
        raise SubmissionError(f"{source.name} must hold a table of answers at the top level, not {type(data).__name__}")
    return LoadedSubmission(submission.student_id, source, data)


def _answers_file(folder: Path) -> Path:
    present = [folder / name for name in ANSWER_FILES if (folder / name).is_file()]
    if not present:
        raise SubmissionError("no answers.toml or answers.json in the submission folder")
    if len(present) > 1:
        raise SubmissionError("both answers.toml and answers.json are present; keep only one")
    return present[0]


def _parse(source: Path, text: str) -> Any:
    if source.suffix == ".json":
        try:
            return json.loads(text, parse_constant=_reject_constant)
        except json.JSONDecodeError as error:
            raise SubmissionError(f"{source.name} is not valid JSON: {error.msg} "
                                  f"(at line {error.lineno}, column {error.colno})") from None
        except (ValueError, RecursionError) as error:
            raise SubmissionError(f"{source.name} is not valid JSON: {error}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        # tomllib's message already ends with "(at line L, column C)".
        raise SubmissionError(f"{source.name} is not valid TOML: {error}") from None
    except ValueError as error:  # e.g. an integer literal of more than 4300 digits
        raise SubmissionError(f"{source.name} is not valid TOML: {error}") from None
    except RecursionError:
        raise SubmissionError(f"{source.name} is nested too deeply") from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")
