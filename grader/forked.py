"""Work shared with forked processes: the reports a class run writes one file per student.

A forked child starts with a copy of the parent's memory, so the graded class
reaches it without being pickled. The students are taken in small chunks from
a shared counter: the children start at once (the first may do one other job
first), the parent goes on with the class-wide reports, then joins in on the
chunks still left, so no process waits while another has work. Other jobs
(whole reports) can be shared too: each process takes them, one at a time,
before its chunks. Where ``fork`` is not the way processes start (Windows,
macOS), the work runs in the parent.
"""

from __future__ import annotations

import multiprocessing
import sys
from collections.abc import Callable, Sequence

from grader.errors import GraderError
from grader.heap import keep, long_lived

CHUNK = 64
"""Items a process takes at a time (for feedback files, some 50 ms of work)."""


def share_in_forks(work: Callable[[int, int], None], count: int, processes: int,
                   chunk: int = CHUNK, *, first: Callable[[], None] | None = None,
                   jobs: Sequence[Callable[[], None]] = ()) -> Callable[[], None]:
    """Start ``processes`` forked processes doing ``work(start, stop)`` over chunks of ``range(count)``.

    Args:
        work: Does the items ``start`` to ``stop`` (exclusive).
        count: How many items there are.
        processes: How many processes beside this one; with none (or without fork) all the work is done
            here, at once.
        chunk: Items taken at a time.
        first: A job done once, before any chunk, by the first forked process (here, with none): the
            others and this one take the chunks meanwhile.
        jobs: Jobs each done once, by whichever process takes it, in this order: every process (this one
            when it comes to the chunks) takes the jobs left before any chunk. The longest first.

    Returns:
        A function that does the jobs and chunks no process has taken yet, waits for the processes, and
        raises GraderError when one of them failed.
    """
    if processes < 1 or sys.platform != "linux":
        for job in (first, *jobs) if first is not None else jobs:
            job()
        for start in range(0, count, chunk):
            work(start, min(start + chunk, count))
        return lambda: None
    context = multiprocessing.get_context("fork")
    # Shared, each with its lock: the next job no process has taken yet, then the first item.
    next_job, taken = context.Value("q", 0), context.Value("q", 0)

    def take_jobs_then_chunks() -> None:
        while True:
            with next_job.get_lock():
                number = next_job.value
                next_job.value = min(number + 1, len(jobs))
            if number >= len(jobs):
                break
            jobs[number]()
        while True:
            with taken.get_lock():
                start = taken.value
                taken.value = min(start + chunk, count)
            if start >= count:
                return
            work(start, min(start + chunk, count))

    def first_then_the_rest() -> None:
        if first is not None:
            first()
        take_jobs_then_chunks()

    children = [context.Process(target=first_then_the_rest if number == 0 else take_jobs_then_chunks, daemon=True)
                for number in range(processes)]
    with long_lived():
        keep()  # the children need not walk (and copy) what they inherit
        for child in children:
            child.start()

    def finish() -> None:
        take_jobs_then_chunks()
        for child in children:
            child.join()
        failed = [child.exitcode for child in children if child.exitcode != 0]
        if failed:  # the child has printed its traceback
            raise GraderError(f"writing the reports failed in a forked process (exit code {failed[0]})")

    return finish
