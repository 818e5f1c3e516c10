"""Grading submissions in worker processes with a time and a memory limit.

A submission that runs over its wall-clock limit or its memory limit gets
status ``error`` ("timed out", "too much memory"); its worker is replaced and
the batch goes on. ``pebble`` is used because its pools can stop a stuck task;
the standard ``ProcessPoolExecutor`` cannot.
"""

from __future__ import annotations

import resource
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.engine import error_result, grade_folders
from grader.heap import in_worker, keep, long_lived
from grader.problems import Problem, load_problems
from grader.variants import Variants
from grader.results import Message, SubmissionResult
from grader.results_io import from_json, to_json
from grader.submission import SubmissionFolder

DEFAULT_TIMEOUT = 10.0
"""Seconds one submission may take (a normal one takes milliseconds)."""
CHUNK = 16
"""Most submissions sent to a worker at once."""
DEFAULT_MEMORY_MB = 1024
"""Address space a worker may add to what it maps at start, in MiB."""

TIMED_OUT = Message("Grading timed out: the answers took too long to check; simplify them and resubmit.",
                    "زمان نمره‌دهی به پایان رسید: بررسی پاسخ‌ها بیش از حد طول کشید؛ آن‌ها را ساده کنید و دوباره بفرستید.")
WORKER_DIED = Message("Grading stopped unexpectedly for this submission; please report it to the course staff.",
                      "نمره‌دهی این پاسخ به طور ناگهانی متوقف شد؛ لطفاً به دستیاران درس اطلاع دهید.")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits."""

    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB


_worker_problems: tuple[Problem, ...] = ()
_worker_variants: Variants | None = None


def _start_worker(problems: tuple[Problem, ...] | str, memory_mb: int, variants: tuple[str, str] | None) -> None:
    """Take the problems (forked: the parent's, already loaded) or load them, and cap the worker's memory.

    The cap is on address space, counted from what the worker already maps
    (a forked worker shares the parent's libraries), plus ``memory_mb``.
    """
    global _worker_problems, _worker_variants
    in_worker()
    page = resource.getpagesize()
    with open("/proc/self/statm", encoding="ascii") as statm:
        mapped = int(statm.read().split()[0]) * page
    _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = mapped + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit if hard == resource.RLIM_INFINITY else min(limit, hard), hard))
    _worker_problems = problems if isinstance(problems, tuple) else load_problems(Path(problems))
    _worker_variants = Variants(_worker_problems, *variants) if variants is not None else None


Sent = bytes | SubmissionResult
"""A result as a worker sends it: its JSON (:func:`to_json`, the result cache's form, made here rather than
in the parent), or the result itself when UTF-8 cannot hold its text."""


def _grade_in_worker(chunk: list[SubmissionFolder], answers_file: Path | None) -> list[Sent]:
    results = grade_folders(chunk, _worker_problems, answers_file=answers_file, variants=_worker_variants)
    return [to_json(result) or result for result in results]


def _received(sent: Sent) -> tuple[SubmissionResult, bytes | None]:
    """A result a worker sent, with its JSON when it came so."""
    return (from_json(sent), sent) if isinstance(sent, bytes) else (sent, None)


def grade_isolated(submissions: Iterable[SubmissionFolder], problems: tuple[Problem, ...], problems_dir: Path, *,
                   workers: int, limits: Limits = Limits(), answers_file: Path | None = None,
                   variants: Variants | None = None, progress: Callable[[SubmissionResult], None] | None = None,
                   sending: Callable[[list[SubmissionFolder]], None] | None = None
                   ) -> Iterator[tuple[SubmissionResult, bytes | None]]:
    """Grade submissions in ``workers`` processes, each under ``limits``; yields results in order, each with
    its JSON when a worker sent it (:func:`grader.results_io.to_json`: the result cache stores it as it is).

    Submissions go to the workers in small chunks (sending one at a time costs
    more than grading it), each chunk with the time of all its submissions.
    A chunk that runs over, or whose worker dies, is graded again one
    submission at a time, so only the submission at fault gets the error.

    Args:
        submissions: The submissions to grade.
        problems: The loaded problems (for the error results made here).
        problems_dir: Where the workers load the problems from.
        workers: Number of worker processes.
        limits: Time and memory per submission.
        answers_file: A specific answers file to read.
        variants: When variants are on, their settings (each worker draws its own).
        progress: Called with each result.
        sending: Called with each chunk just before it is sent to a worker (the first chunk is graded while
            the next ones are prepared).
    """
    import multiprocessing  # imported when a class is graded, not for `grade check` (its start-up time counts)

    from pebble import ProcessExpired, ProcessPool  # its timeouts raise TimeoutError (concurrent.futures' own, 3.11+)

    todo = list(submissions)
    size = max(1, min(CHUNK, len(todo) // (workers * 4) or 1))
    chunks = [todo[i:i + size] for i in range(0, len(todo), size)]
    # A forked worker starts with the parent's memory, so it is handed the loaded problems as they are
    # (nothing is pickled); a worker started afresh (no fork on this system) loads them itself.
    forked = sys.platform == "linux"
    context = multiprocessing.get_context("fork" if forked else None)
    with ProcessPool(max_workers=workers, initializer=_start_worker, context=context,
                     initargs=(problems if forked else str(problems_dir), limits.memory_mb,
                               (variants.secret, variants.assignment) if variants is not None else None)) as pool:
        def schedule(chunk: list[SubmissionFolder]) -> Any:
            if sending is not None:
                sending(chunk)
            return pool.schedule(_grade_in_worker, args=(chunk, answers_file), timeout=limits.timeout * len(chunk))

        with long_lived():  # the pool forks its workers when the first task arrives
            keep()  # the workers need not walk (and copy) what they inherit
            scheduled = [(chunk, schedule(chunk)) for chunk in chunks]
        for chunk, future in scheduled:
            try:
                results = future.result()
            except (TimeoutError, ProcessExpired):
                results = [_alone(submission, schedule([submission]), problems, answers_file)
                           for submission in chunk] if len(chunk) > 1 else \
                    [_failed(chunk[0], future, problems, answers_file)]
            for sent in results:
                result, encoded = _received(sent)
                if progress is not None:
                    progress(result)
                yield result, encoded


def _alone(submission: SubmissionFolder, future: Any, problems: tuple[Problem, ...],
           answers_file: Path | None) -> Sent:
    """The result of a submission graded on its own (after its chunk failed)."""
    from pebble import ProcessExpired

    try:
        return future.result()[0]
    except (TimeoutError, ProcessExpired):
        return _failed(submission, future, problems, answers_file)


def _failed(submission: SubmissionFolder, future: Any, problems: tuple[Problem, ...],
            answers_file: Path | None) -> SubmissionResult:
    """The error result of a submission whose worker ran over its time or died."""
    from pebble import ProcessExpired

    try:
        future.result()
    except TimeoutError:
        return error_result(submission.student_id, answers_file, problems, TIMED_OUT)
    except ProcessExpired:
        pass
    return error_result(submission.student_id, answers_file, problems, WORKER_DIED)
