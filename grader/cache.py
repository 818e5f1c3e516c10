"""Incremental regrading: results cached by the content of everything that decides them.

A result is reused when the submission's answers file, the student id, the
problem folders, the variant settings and the grader's own code are all unchanged. The cache is a
JSON-lines file inside the report folder (nothing is written outside
``--out``), rewritten atomically with the entries of the current run only.

A whole run is skipped when nothing it reads has changed and the reports it
wrote are untouched: ``.cache/run.json`` records its inputs' digest and the
reports' sizes and times.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

from grader import __version__
from grader.reporting.files import write_atomic
from grader.results import SubmissionResult
from grader.results_io import from_data, to_data
from grader.errors import SubmissionError
from grader.submission import ANSWER_FILES, SubmissionFolder, read_capped

if TYPE_CHECKING:
    from grader.variants import Variants

CACHE_FILE = Path(".cache") / "results.jsonl"


def fingerprint(problems_dir: Path, variants: Variants | None = None) -> str:
    """A digest of the grader's code, its version, every file of every problem folder, and the variant settings."""
    digest = hashlib.sha256(__version__.encode())
    if variants is not None:  # another secret or assignment name draws other numbers
        digest.update(f"variants\0{variants.secret}\0{variants.assignment}\0".encode())
    package = Path(__file__).resolve().parent
    for root in (package, problems_dir.resolve()):
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(root)).encode("utf-8", "surrogateescape"))
            digest.update(path.read_bytes())
    return digest.hexdigest()


def submission_key(submission: SubmissionFolder, answers_file: Path | None, code: str) -> str:
    """A digest of what decides a submission's result: its id, its answers files' bytes, and ``code``."""
    digest = hashlib.sha256(code.encode())
    digest.update(submission.student_id.encode("utf-8", "surrogateescape"))
    candidates = [answers_file] if answers_file else [submission.folder / name for name in ANSWER_FILES]
    for path in candidates:
        digest.update(b"\0" + path.name.encode("utf-8", "surrogateescape") + b"\0")
        try:
            digest.update(read_capped(path))
        except SubmissionError as error:  # links, pipes, missing files: the reason decides the result
            digest.update(str(error).encode())
    return digest.hexdigest()


class ResultCache:
    """Results of earlier runs, by submission key."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._stored: dict[str, dict] = {}
        self._used: dict[str, dict] = {}
        if file.is_file():
            for line in file.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self._stored[entry["key"]] = entry["result"]
                except (ValueError, KeyError, TypeError):
                    continue  # a damaged line only costs a regrade

    def get(self, key: str) -> SubmissionResult | None:
        """The cached result for ``key``, if any."""
        data = self._stored.get(key)
        if data is None:
            return None
        try:
            result = from_data(data)
        except (KeyError, ValueError, TypeError):
            return None
        self._used[key] = data
        return result

    def put(self, key: str, result: SubmissionResult) -> None:
        """Remember a fresh result."""
        self._used[key] = to_data(result)

    def save(self) -> None:
        """Write the entries of this run (older ones are dropped), atomically."""
        lines = (json.dumps({"key": k, "result": v}, ensure_ascii=False, sort_keys=True)
                 for k, v in sorted(self._used.items()))
        write_atomic(self.file, "\n".join(lines) + "\n")


RUN_FILE = Path(".cache") / "run.json"


@dataclass(frozen=True)
class RunRecord:
    """What an earlier class run wrote, and from what.

    Attributes:
        key: Digest of every input of the run (submissions, problems, code, options).
        summary: The run's summary line.
        ungraded_problems: Tables no problem folder grades.
        warnings: The run's warnings (overrides).
        files: Each report written, relative to ``--out``, with its size and modification time.
    """

    key: str
    summary: str
    ungraded_problems: tuple[str, ...]
    warnings: tuple[str, ...]
    files: Mapping[str, tuple[int, int]]


def read_run(out: Path, key: str) -> RunRecord | None:
    """The record of the last run into ``out`` when it had the same inputs and its reports are untouched.

    Reports someone changed, moved or deleted since make the record stale
    (a stat per file, no reading), so the run is done again.
    """
    try:
        data = json.loads((out / RUN_FILE).read_text(encoding="utf-8"))
        record = RunRecord(data["key"], data["summary"], tuple(data["ungraded_problems"]), tuple(data["warnings"]),
                           {name: (int(size), int(stamp)) for name, (size, stamp) in data["files"].items()})
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if record.key != key:
        return None
    for name, (size, stamp) in record.files.items():
        try:
            stat = (out / name).stat()
        except OSError:
            return None
        if (stat.st_size, stat.st_mtime_ns) != (size, stamp):
            return None
    return record


def write_run(out: Path, key: str, summary: str, ungraded_problems: tuple[str, ...], warnings: tuple[str, ...],
              written: tuple[Path, ...]) -> None:
    """Record a finished run (after its reports are written)."""
    files = {}
    for path in written:
        stat = path.stat()
        files[path.relative_to(out).as_posix()] = [stat.st_size, stat.st_mtime_ns]
    data = {"key": key, "summary": summary, "ungraded_problems": list(ungraded_problems), "warnings": list(warnings),
            "files": dict(sorted(files.items()))}
    write_atomic(out / RUN_FILE, json.dumps(data, ensure_ascii=False, indent=1) + "\n")


def run_key(code: str, submission_keys: list[str], settings: str, extra_files: tuple[Path | None, ...]) -> str:
    """Digest of a run's inputs: the code and problems, each submission, the settings and the files they name."""
    digest = hashlib.sha256(code.encode())
    for key in submission_keys:
        digest.update(key.encode())
    digest.update(settings.encode("utf-8", "surrogateescape"))
    for path in extra_files:
        digest.update(b"\0")
        if path is not None and path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()
