"""Work split over forked processes: the reports a class run writes one file per student.

A forked child starts with a copy of the parent's memory, so the graded class
reaches it without being pickled; each child takes one slice of the students
and writes their files itself, while the parent goes on with the class-wide
reports. Where ``fork`` is not the way processes start (Windows, macOS), the
work runs in the parent.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable

from grader.errors import GraderError
from grader.heap import keep, long_lived


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
    with long_lived():
        keep()  # the children need not walk (and copy) what they inherit
        for child in children:
            child.start()

    def wait() -> None:
        for child in children:
            child.join()
        failed = [child.exitcode for child in children if child.exitcode != 0]
        if failed:  # the child has printed its traceback
            raise GraderError(f"writing the feedback files failed in a worker process (exit code {failed[0]})")

    return wait
