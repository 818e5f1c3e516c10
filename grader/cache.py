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
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from grader import __version__
from grader.reporting.files import write_atomic
from grader.results import SubmissionResult
from grader.results_io import from_data, to_data
from grader.errors import SubmissionError
from grader.submission import ANSWER_FILES, SubmissionFolder, read_capped

CACHE_FILE = Path(".cache") / "results.jsonl"


def fingerprint(problems_dir: Path, variant_seed: tuple[str, str] | None = None) -> str:
    """A digest of the grader's code, its version, every file of every problem folder, and the variant settings.

    Args:
        problems_dir: The problem folders.
        variant_seed: With variants on, the secret and the assignment name (others draw other numbers).
    """
    digest = hashlib.sha256(__version__.encode())
    if variant_seed is not None:
        digest.update("variants\0{}\0{}\0".format(*variant_seed).encode())
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


class SubmissionKeys:
    """Each submission's cache key, made when first asked for, then remembered.

    A key must be made before its submission's file is read for grading:
    made after, a file changed in between would keep the old content's result
    under the new content's key, and a later run would reuse it. A run that
    looks results up makes every key first; a first run into ``--out`` makes
    each as its submission is sent to be graded (:meth:`make`), so grading
    starts at once instead of after every file is hashed.
    """

    def __init__(self, code: str, answers_file: Path | None) -> None:
        """Keys for ``code`` (the :func:`fingerprint`), reading ``answers_file`` when one file was named."""
        self.code = code
        self._answers_file = answers_file
        self._made: dict[SubmissionFolder, str] = {}

    def __call__(self, submission: SubmissionFolder) -> str:
        """The submission's key (:func:`submission_key`)."""
        key = self._made.get(submission)
        if key is None:
            key = self._made[submission] = submission_key(submission, self._answers_file, self.code)
        return key

    def make(self, submissions: Iterable[SubmissionFolder]) -> None:
        """Make the keys of ``submissions`` now (before they are read for grading)."""
        for submission in submissions:
            self(submission)


class ResultCache:
    """Results of earlier runs, by their submission's key, kept on disk rather than in memory.

    The old file is indexed (key -> where its line is) without parsing the
    results; this run's entries go straight to a temporary file beside it,
    which replaces the old one on :meth:`save`. A class of 10,000 would
    otherwise hold its results twice over in memory.
    """

    def __init__(self, file: Path, keys: SubmissionKeys) -> None:
        """The cache in ``file``, its results filed under ``keys``."""
        self.file = file
        self.keys = keys
        self._index: dict[str, tuple[int, int]] = {}
        self._old = None
        if file.is_file():
            self._old = file.open("rb")
            offset = 0
            for line in self._old:
                key = _line_key(line)
                if key is not None:
                    self._index[key] = (offset, len(line))
                offset += len(line)
        file.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=file.parent, prefix=f".{file.name}.", suffix=".tmp")
        self._new = os.fdopen(handle, "wb")
        self._new_name = Path(name)
        self._written: set[str] = set()

    def get(self, submission: SubmissionFolder) -> SubmissionResult | None:
        """The cached result of ``submission``, if any (kept for this run's file)."""
        if not self._index:
            return None  # nothing to look up: the key is made later, as the submission is sent to be graded
        key = self.keys(submission)
        place = self._index.get(key)
        if place is None or self._old is None:
            return None
        self._old.seek(place[0])
        line = self._old.read(place[1])
        try:
            result = from_data(json.loads(line)["result"])
        except (KeyError, ValueError, TypeError):
            return None  # a damaged line only costs a regrade
        self._keep(key, line)
        return result

    def put(self, submission: SubmissionFolder, result: SubmissionResult, encoded: bytes | None = None) -> None:
        """Remember the fresh result of ``submission``; ``encoded`` is its JSON when a worker sent it so
        (:func:`grader.results_io.to_json`)."""
        key = self.keys(submission)
        if encoded is None:
            # The same compact JSON, by the json module: it caches no UTF-8 copy on the strings of a result
            # kept to the end of the run (orjson would), and it writes a name's undecodable bytes, kept as
            # lone surrogates, as they are (json.loads reads them back so).
            encoded = json.dumps(to_data(result), ensure_ascii=False, sort_keys=True, separators=(",", ":"),
                                 check_circular=False).encode("utf-8", "surrogatepass")
        # {"key": ..., "result": ...} with sorted keys, as either encoder writes it.
        self._keep(key, b'{"key":"' + key.encode("ascii") + b'","result":' + encoded + b"}\n")

    def _keep(self, key: str, line: bytes) -> None:
        if key not in self._written:
            self._written.add(key)
            self._new.write(line if line.endswith(b"\n") else line + b"\n")

    def save(self) -> None:
        """Replace the old file by this run's entries (older ones are dropped)."""
        self._new.close()
        if self._old is not None:
            self._old.close()
        os.replace(self._new_name, self.file)

    def discard(self) -> None:
        """Drop this run's entries (an interrupted run): the old file stays as it was."""
        self._new.close()
        if self._old is not None:
            self._old.close()
        self._new_name.unlink(missing_ok=True)


def _line_key(line: bytes) -> str | None:
    """The key of a cache line, read without parsing the result (keys sort first: ``{"key":"<hex>",...``)."""
    prefix = b'{"key":"'
    end = line.find(b'"', len(prefix))
    return line[len(prefix):end].decode("ascii", "replace") if line.startswith(prefix) and end > 0 else None


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
    folder = os.fspath(out)
    for name, (size, stamp) in record.files.items():
        try:
            stat = os.stat(os.path.join(folder, name))  # not pathlib: a class has 20,000 files to look at
        except (OSError, ValueError):
            return None
        if (stat.st_size, stat.st_mtime_ns) != (size, stamp):
            return None
    return record


def write_run(out: Path, key: str, summary: str, ungraded_problems: tuple[str, ...], warnings: tuple[str, ...],
              written: tuple[Path, ...]) -> None:
    """Record a finished run (after its reports are written)."""
    # Strings and os calls, not pathlib, and the C encoder (no indent): a class writes 20,000 files, and
    # this is done after everything else, on one CPU.
    inside = os.fspath(out) + os.sep
    files = {}
    for path in written:
        name = os.fspath(path)
        stat = os.stat(name)
        relative = name[len(inside):] if name.startswith(inside) else os.fspath(path.relative_to(out))
        files[relative.replace(os.sep, "/")] = [stat.st_size, stat.st_mtime_ns]
    data = {"key": key, "summary": summary, "ungraded_problems": list(ungraded_problems), "warnings": list(warnings),
            "files": dict(sorted(files.items()))}
    write_atomic(out / RUN_FILE, json.dumps(data, ensure_ascii=False) + "\n")


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
