"""Work split over forked processes: the reports a class run writes one file per student.

A forked child starts with a copy of the parent's memory, so the graded class
reaches it without being pickled; each child takes one slice of the students
and writes their files itself, while the parent goes on with the class-wide
reports. Where ``fork`` is not the way processes start (Windows, macOS), the
work runs in the parent.
"""

from __future__ import annotations

import contextlib
import gc
import multiprocessing
import sys
from collections.abc import Callable, Iterator

from grader.errors import GraderError


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Processes forked inside start with the parent's objects out of their garbage collector's sight.

    A child's collections would otherwise walk every object it inherited (a
    graded class, SymPy), costing time and copying the pages they touch.
    The parent sees its objects again afterwards.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def start_in_forks(work: Callable[[int, int], None], processes: int) -> Callable[[], None]:
    """Start ``work(index, processes)`` for each index in its own forked process, beside this one.

    Args:
        work: Does slice ``index`` of ``processes`` slices.
        processes: How many processes; with none (or without fork) the work is done here, at once.

    Returns:
        A function that waits for the processes and raises GraderError when one failed.
    """
    if processes < 1 or sys.platform != "linux":
        work(0, 1)
        return lambda: None
    context = multiprocessing.get_context("fork")
    children = [context.Process(target=work, args=(index, processes), daemon=True) for index in range(processes)]
    with frozen_heap():
        for child in children:
            child.start()

    def wait() -> None:
        for child in children:
            child.join()
        failed = [child.exitcode for child in children if child.exitcode != 0]
        if failed:  # the child has printed its traceback
            raise GraderError(f"writing the feedback files failed in a worker process (exit code {failed[0]})")

    return wait
