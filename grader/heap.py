"""Keeping a class run's many long-lived objects out of the cyclic garbage collector's way.

A class run holds every result until its reports are written: millions of
objects, none of them in reference cycles. Each full collection would walk
them all (seconds, for a class of 10,000), and a forked process that walks
them copies every page it touches. Inside :func:`long_lived`, :func:`keep`
moves the objects made so far to the collector's permanent generation
(``gc.freeze``); they are still freed by reference counting, and the
outermost exit hands them back to the collector.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Within, :func:`keep` sets objects aside from the collector; on the outermost exit, all are back."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if not _depth:
            gc.unfreeze()


def keep() -> None:
    """Set the objects made so far aside from the collector (only inside :func:`long_lived`)."""
    if _depth:
        gc.freeze()
