"""Keeping a class run's many long-lived objects out of the cyclic garbage collector's way.

A class run holds every result until its reports are written: millions of
objects, none of them in reference cycles. Each full collection would walk
them all (seconds, for a class of 10,000), and a forked process that walks
them copies every page it touches. Inside :func:`long_lived`, :func:`keep`
moves the objects made so far to the collector's permanent generation
(``gc.freeze``), and full collections (which walk what is not kept yet) are
rarer; the objects are still freed by reference counting, and the outermost
exit hands them back to the collector and its usual thresholds.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0


FULL_COLLECTION_EVERY = 1000
"""Collections of the middle generation between full ones, within :func:`long_lived` (Python's default: 10)."""
YOUNG_COLLECTION_EVERY = 5000
"""New container objects (net of those freed) between collections of the youngest generation, in a class
run's processes (Python's default: 700). Most of a grader's objects are freed by reference counting, not
by the collector, yet each young collection walks all those still alive (a worker's results in the making,
its memos): a worker grading 5,000 submissions spent 0.3 s in 610 of them, and 0.07 s in 44 this way."""


_usual_thresholds = gc.get_threshold()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Within, :func:`keep` sets objects aside from the collector, and young and full collections are rarer;
    on the outermost exit, all is as it was."""
    global _depth, _usual_thresholds
    _depth += 1
    if _depth == 1:
        _usual_thresholds = gc.get_threshold()
        # A full collection walks every object not yet kept, up to 256 results' (0.1 s each, a dozen
        # times in a class of 10,000): the results are not in cycles, and the young generations still
        # free the cycles that die young.
        gc.set_threshold(_young_threshold(), _usual_thresholds[1], max(_usual_thresholds[2], FULL_COLLECTION_EVERY))
    try:
        yield
    finally:
        _depth -= 1
        if not _depth:
            gc.set_threshold(*_usual_thresholds)
            gc.unfreeze()


def in_worker() -> None:
    """In a process forked to grade (it keeps none of its results): full collections as usual, or its own
    garbage would pile up, and young ones every ``YOUNG_COLLECTION_EVERY`` objects; what it inherited stays
    set aside."""
    gc.set_threshold(_young_threshold(), *_usual_thresholds[1:])


def _young_threshold() -> int:
    """Objects between young collections in a class run's processes (never more often than usual)."""
    return max(_usual_thresholds[0], YOUNG_COLLECTION_EVERY)


def keep() -> None:
    """Set the objects made so far aside from the collector (only inside :func:`long_lived`)."""
    if _depth:
        gc.freeze()
