"""Writing report files atomically: a temporary file, then a rename."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO

from grader.results import BatchResult, Lang

if TYPE_CHECKING:
    from grader.similarity import SimilarPair

_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate line ends


_TEMPORARY_NUMBERS = itertools.count()


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    # No text layer: one encode and a write loop (a class writes 20,000 feedback files this way).
    data = memoryview(text.encode("utf-8"))
    with _replacing(path) as handle:
        try:
            while data:
                data = data[os.write(handle, data):]
        finally:
            os.close(handle)


def write_atomic_with(path: Path, write: Callable[[TextIO], object]) -> None:
    """Let ``write`` fill ``path`` through a file handle (streamed), atomically like :func:`write_atomic`."""
    with _replacing(path) as handle, os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
        write(file)


@contextlib.contextmanager
def _replacing(path: Path) -> Iterator[int]:
    """A new temporary file beside ``path``, as an OS handle the block must close; it replaces ``path``
    when the block ends, and is removed when the block fails."""
    temporary, handle = _new_temporary(path)
    try:
        yield handle
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_temporary(path: Path) -> tuple[str, int]:
    """A new temporary file beside ``path`` (the folder made if need be), private like ``mkstemp``'s.

    Named by this process and a counter (cheaper than random names); a name left by an interrupted run
    of a process with the same number is skipped.
    """
    while True:
        temporary = os.path.join(path.parent, f".{path.name}.{os.getpid()}.{next(_TEMPORARY_NUMBERS)}.tmp")
        try:
            return temporary, os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600)
        except FileExistsError:
            continue
        except FileNotFoundError:
            path.parent.mkdir(parents=True, exist_ok=True)


def write_csv_reports(batch: BatchResult, out: Path, lang: Lang,
                      similar: tuple[SimilarPair, ...] = ()) -> list[Path]:
    """Write ``scores.csv``, ``parts.csv`` and ``similarity.csv`` into ``out``; returns the files written."""
    from grader.reporting.frames import PARTS_COLUMNS, part_rows, scores_frame, similarity_frame  # pandas: here only

    # Streamed to the file (the CSV text of a large class need not exist whole in memory), with Unix
    # line ends: byte-identical across runs and platforms. parts.csv, the large one, goes through the
    # csv module (which pandas also writes with) straight from its rows, without a frame.
    writers: tuple[tuple[str, Callable[[TextIO], object]], ...] = (
        ("scores.csv", lambda file: scores_frame(batch, lang).to_csv(file, index=False, lineterminator="\n")),
        ("parts.csv", lambda file: _write_rows(file, PARTS_COLUMNS, part_rows(batch, lang))),
        ("similarity.csv", lambda file: similarity_frame(similar).to_csv(file, index=False, lineterminator="\n")),
    )
    for name, write in writers:
        write_atomic_with(out / name, write)
    return [out / name for name, _ in writers]


def _write_rows(file: TextIO, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Rows of text as CSV, quoted as pandas quotes them (the csv module's minimal quoting), Unix line ends.

    Each line is what the csv module writes, built with string methods over whole rows: the csv module
    goes character by character, 2 s for the 70 MB of parts.csv of a class of 10,000.
    """
    csv.writer(file, lineterminator="\n").writerow(columns)
    lines: list[str] = []
    for row in rows:
        line = ",".join(row)
        # Plain when no field holds a quote, a line end or a comma (then the row's commas are its separators).
        if '"' in line or "\n" in line or "\r" in line or line.count(",") != len(row) - 1 or not line:
            line = _csv_line(row)
        lines.append(line)
        if len(lines) == _LINES_AT_ONCE:
            file.write("\n".join(lines) + "\n")
            lines = []
    if lines:
        file.write("\n".join(lines) + "\n")


_LINES_AT_ONCE = 4096
"""Lines of parts.csv joined before they are written (a bounded memory)."""


def _csv_line(row: tuple[str, ...]) -> str:
    """A row that needs quoting, as the csv module's minimal quoting writes it (without the line end)."""
    if len(row) == 1 or any("\r" in field for field in row):
        # A lone empty field, or a carriage return (whose quoting has changed between Python versions):
        # the csv module itself.
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow(row)
        return buffer.getvalue()[:-1]
    return ",".join(_csv_field(field) for field in row)


def _csv_field(field: str) -> str:
    """A field quoted when it holds a quote, a comma or a line end, its quotes doubled (the csv module's way)."""
    if '"' in field:
        return '"' + field.replace('"', '""') + '"'
    return f'"{field}"' if "," in field or "\n" in field else field
