"""Writing report files atomically: a temporary file, then a rename."""

from __future__ import annotations

import csv
import io
import itertools
import os
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO, TypeVar

from grader.results import BatchResult, Lang

if TYPE_CHECKING:
    from grader.similarity import SimilarPair

_BINARY = getattr(os, "O_BINARY", 0)  # Windows would otherwise translate line ends


_TEMPORARY_NUMBERS = itertools.count()
T = TypeVar("T")


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    # No text layer: one encode and a write loop (a class writes 20,000 feedback files this way).
    data = text.encode("utf-8")

    def fill(handle: int) -> None:
        rest = memoryview(data)
        while rest:
            rest = rest[os.write(handle, rest):]

    _write_new(path, fill)


def write_atomic_with(path: Path, write: Callable[[TextIO], object]) -> None:
    """Let ``write`` fill ``path`` through a file handle (streamed), atomically like :func:`write_atomic`."""
    def fill(handle: int) -> None:
        with os.fdopen(handle, "w", encoding="utf-8", newline="", closefd=False) as file:
            write(file)

    _write_new(path, fill)


def _write_new(path: Path, fill: Callable[[int], None]) -> None:
    """Let ``fill`` write a new file through its OS handle, which then becomes ``path`` whole (the folder made if
    need be); when ``fill`` fails, nothing is left of it.

    Where the system allows (Linux), the file has no name until it is complete (``O_TMPFILE``), then is
    linked as ``path``: one change to the folder instead of three (a temporary name made, renamed, gone:
    a class writes 20,000 feedback files), and nothing left behind by an interrupted run. A file already
    at ``path``, and other systems, take a temporary file beside it, renamed over it.
    """
    global _unnamed_files
    handle = _unnamed_file(path.parent) if _unnamed_files else None
    if handle is not None:
        try:
            fill(handle)
            if _link(handle, path):
                return
        finally:
            os.close(handle)
        _unnamed_files = False  # linking them is refused here: temporary names from now on (written again)
    temporary, handle = _new_temporary(path)
    try:
        try:
            fill(handle)
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


_unnamed_files = hasattr(os, "O_TMPFILE") and os.link in os.supports_dir_fd  # Linux (linkat) only
_open_handles: int | None = None
"""This process's ``/proc/self/fd`` folder, opened once: an unnamed file is linked through it."""


def _forget_open_handles() -> None:
    global _open_handles
    if _open_handles is not None:  # a forked child's /proc/self is its own: the parent's would name its files
        os.close(_open_handles)
        _open_handles = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_open_handles)


def _unnamed_file(folder: Path) -> int | None:
    """A new file in ``folder`` (made if need be) that has no name yet, private like ``mkstemp``'s; None where
    the system or the file system has no such files."""
    global _open_handles
    if _open_handles is None:
        try:
            _open_handles = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
        except OSError:
            return None
    try:
        return _in_folder(folder, lambda: os.open(folder, os.O_WRONLY | os.O_TMPFILE, 0o600))
    except OSError:  # e.g. a file system without unnamed files (a folder that cannot be made fails again next)
        return None


def _link(handle: int, path: Path) -> bool:
    """Give the unnamed file ``handle`` the name ``path`` (through a temporary name renamed over the file
    there, if any); False when the system refuses to link it."""
    assert _open_handles is not None, "an unnamed file was made"
    try:
        os.link(str(handle), path, src_dir_fd=_open_handles)  # linkat(2) following /proc/self/fd/<handle>
        return True
    except FileExistsError:
        pass
    except OSError:
        return False
    temporary, _ = _at_temporary_name(path, lambda name: os.link(str(handle), name, src_dir_fd=_open_handles))
    try:
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return True


def _at_temporary_name(path: Path, make: Callable[[str], T]) -> tuple[str, T]:
    """``make`` applied to a free temporary name beside ``path``: the name, and what ``make`` returned.

    Names are by this process and a counter (cheaper than random names); a name taken already (left by an
    interrupted run of a process with the same number) is skipped.
    """
    while True:
        temporary = os.path.join(path.parent, f".{path.name}.{os.getpid()}.{next(_TEMPORARY_NUMBERS)}.tmp")
        try:
            return temporary, make(temporary)
        except FileExistsError:
            continue


def _new_temporary(path: Path) -> tuple[str, int]:
    """A new temporary file beside ``path`` (the folder made if need be), private like ``mkstemp``'s."""
    def create(name: str) -> int:
        return os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _BINARY, 0o600)

    return _in_folder(path.parent, lambda: _at_temporary_name(path, create))


def _in_folder(folder: Path, make: Callable[[], T]) -> T:
    """``make()``, done again after making ``folder`` when it is missing (the first file of a report folder)."""
    try:
        return make()
    except FileNotFoundError:
        folder.mkdir(parents=True, exist_ok=True)
        return make()


def write_score_reports(batch: BatchResult, out: Path, lang: Lang) -> list[Path]:
    """Write ``scores.csv`` and ``parts.csv`` into ``out``; returns the files written."""
    from grader.reporting.frames import PARTS_COLUMNS, part_rows, scores_frame  # pandas: here only

    # Streamed to the file (the CSV text of a large class need not exist whole in memory), with Unix
    # line ends: byte-identical across runs and platforms. parts.csv, the large one, goes through the
    # csv module (which pandas also writes with) straight from its rows, without a frame.
    writers: tuple[tuple[str, Callable[[TextIO], object]], ...] = (
        ("scores.csv", lambda file: scores_frame(batch, lang).to_csv(file, index=False, lineterminator="\n")),
        ("parts.csv", lambda file: _write_rows(file, PARTS_COLUMNS, part_rows(batch, lang))),
    )
    for name, write in writers:
        write_atomic_with(out / name, write)
    return [out / name for name, _ in writers]


SIMILARITY_FILE = "similarity.csv"
SIMILARITY_COLUMNS = ("problem", "part", "student_a", "student_b", "similarity", "shared_shingles")


def write_similarity_report(out: Path, similar: tuple[SimilarPair, ...]) -> Path:
    """Write ``similarity.csv`` into ``out``: one row per pair of similar essays, sorted by problem, part and
    students; returns its path."""
    # Without pandas: a forked feedback writer finds the pairs, and would import it for this file alone.
    rows = sorted(((pair.problem, pair.part, pair.student_a, pair.student_b,
                    f"{pair.similarity.numerator / pair.similarity.denominator:.3f}", str(pair.shared_shingles))
                   for pair in similar), key=itemgetter(0, 1, 2, 3))
    path = out / SIMILARITY_FILE
    write_atomic_with(path, lambda file: _write_rows(file, SIMILARITY_COLUMNS, rows))
    return path


def _write_rows(file: TextIO, columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
    """Rows of text as CSV, quoted as pandas quotes them (the csv module's minimal quoting), Unix line ends.

    Each line is what the csv module writes, built with string methods: the csv module goes character by
    character, 2 s for the 70 MB of parts.csv of a class of 10,000. The fields after a row's first (a
    part's, after the student's id) recur across a class, so they are made into CSV once while they recur.
    """
    csv.writer(file, lineterminator="\n").writerow(columns)
    lines: list[str] = []
    tails: dict[tuple[str, ...], str | None] = {}  # fields after the first as CSV; None: the csv module's
    for row in rows:
        first, rest = row[0], row[1:]
        tail = tails.get(rest, _UNSEEN)
        if tail is _UNSEEN:
            if len(tails) >= _TAILS_KEPT:  # bounded memory: most essays' rows are their own
                tails.clear()
            # A carriage return (whose quoting has changed between Python versions), or a lone field:
            # the csv module's, for the whole row.
            tail = tails[rest] = (",".join(map(_csv_field, rest))
                                  if rest and not any("\r" in field for field in rest) else None)
        lines.append(_csv_line(row) if tail is None or "\r" in first else _csv_field(first) + "," + tail)
        if len(lines) == _LINES_AT_ONCE:
            file.write("\n".join(lines) + "\n")
            lines = []
    if lines:
        file.write("\n".join(lines) + "\n")


_UNSEEN = object()
_LINES_AT_ONCE = 4096
"""Lines of parts.csv joined before they are written (a bounded memory)."""
_TAILS_KEPT = 4096
"""Rows' fields after the first kept as CSV: a class's parts repeat them (the same part graded alike)."""


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
