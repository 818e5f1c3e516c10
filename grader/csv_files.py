"""Reading the CSV files course staff write (roster, overrides)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from grader.errors import GraderError


def read_csv(path: Path, max_bytes: int) -> tuple[list[str], list[dict[str, str]]]:
    """The header and rows of a course-staff CSV file (UTF-8, with or without a byte order mark).

    Raises:
        GraderError: Naming the file, when it is too large, not UTF-8, or not CSV.
    """
    if path.stat().st_size > max_bytes:
        raise GraderError(f"{path}: larger than {max_bytes // 1_000_000} MB")
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise GraderError(f"{path}: not UTF-8 text (byte {error.start}); save it as CSV UTF-8") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        return list(reader.fieldnames or []), list(reader)
    except csv.Error as error:  # e.g. a field over the csv module's size limit
        raise GraderError(f"{path}: not readable as CSV ({error})") from None
