"""Writing report files atomically: a temporary file, then a rename."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from grader.results import BatchResult, Lang
from grader.reporting.frames import parts_frame, scores_frame, similarity_frame
from grader.similarity import SimilarPair


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the whole new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as file:
            file.write(text)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def frame_csv(frame: pd.DataFrame) -> str:
    """A frame as CSV text with Unix line ends (byte-identical across runs and platforms)."""
    return frame.to_csv(index=False, lineterminator="\n")


def write_csv_reports(batch: BatchResult, out: Path, lang: Lang,
                      similar: tuple[SimilarPair, ...] = ()) -> list[Path]:
    """Write ``scores.csv``, ``parts.csv`` and ``similarity.csv`` into ``out``; returns the files written."""
    written = []
    for name, frame in (("scores.csv", scores_frame(batch, lang)), ("parts.csv", parts_frame(batch, lang)),
                        ("similarity.csv", similarity_frame(similar))):
        write_atomic(out / name, frame_csv(frame))
        written.append(out / name)
    return written
