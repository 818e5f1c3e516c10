"""The grader's one exception hierarchy.

Every error a user can cause derives from :class:`GraderError`; the CLI turns
them into click exceptions with an exit code, everything else is a bug.
"""

from __future__ import annotations


class GraderError(Exception):
    """Base of every error the grader raises on purpose."""

    exit_code = 1


class SpecError(GraderError):
    """A problem folder (spec or solver) is broken; names the file and the key."""

    def __init__(self, file: object, key: str, message: str) -> None:
        self.file = str(file)
        self.key = key
        self.message = message
        where = f"{self.file}: key '{key}'" if key else self.file
        super().__init__(f"{where}: {message}")


class SolverError(GraderError):
    """A reference solver cannot solve for the given parameters (e.g. an empty output)."""


class SubmissionError(GraderError):
    """A submission file cannot be read at all (bad TOML/JSON, too large, bad encoding)."""


class ValueReadError(GraderError):
    """One answer value cannot be read as the kind the part expects.

    Carries the message in English and Persian, because it is shown to the student.
    """

    def __init__(self, en: str, fa: str) -> None:
        self.en = en
        self.fa = fa
        super().__init__(en)

