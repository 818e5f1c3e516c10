"""Incremental regrading: results cached by the content of everything that decides them.

A result is reused when the submission's answers file, the student id, the
problem folders, the variant settings and the grader's own code are all unchanged. The cache is a
JSON-lines file inside the report folder (nothing is written outside
``--out``), rewritten atomically with the entries of the current run only.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING

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
