"""What a class run does to stay fast: results out of the collector's way, and values remembered by identity."""

from __future__ import annotations

import gc

from grader.heap import FULL_COLLECTION_EVERY, YOUNG_COLLECTION_EVERY, in_worker, keep, long_lived
from grader.memo import IdentityMemo
from grader.pipeline import run_class
from grader.submission import find_submissions
from tests.conftest import SUBMISSIONS
from tests.test_isolation_cache import options


def test_objects_kept_aside_only_inside_the_outermost_long_lived() -> None:
    """keep() freezes the heap only inside long_lived; an inner exit keeps it frozen, the outermost releases it."""
    gc.unfreeze()
    keep()
    assert gc.get_freeze_count() == 0
    with long_lived():
        with long_lived():
            keep()
            assert gc.get_freeze_count() > 0
        assert gc.get_freeze_count() > 0
    assert gc.get_freeze_count() == 0


def test_collections_rarer_inside_long_lived_and_young_ones_in_workers() -> None:
    """long_lived makes young and full collections rarer until its outermost exit; in_worker, the young ones."""
    usual = gc.get_threshold()
    young = max(usual[0], YOUNG_COLLECTION_EVERY)
    with long_lived():
        with long_lived():
            assert gc.get_threshold() == (young, usual[1], max(usual[2], FULL_COLLECTION_EVERY))
        assert gc.get_threshold()[2] == max(usual[2], FULL_COLLECTION_EVERY)
        in_worker()
        assert gc.get_threshold() == (young, *usual[1:]) != usual
    assert gc.get_threshold() == usual


def test_class_run_leaves_the_heap_to_the_collector(tmp_path, problems) -> None:
    """After a class run, no object stays set aside from the garbage collector, whose thresholds are as before."""
    gc.unfreeze()
    usual = gc.get_threshold()
    run_class(find_submissions(SUBMISSIONS), problems, options(tmp_path / "out", workers=2))
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == usual


def test_identity_memo_keys_by_the_object_not_its_value() -> None:
    """Equal but distinct objects get their own values; the same object gets the remembered one; a full memo empties."""
    made: list[int] = []
    memo: IdentityMemo[int] = IdentityMemo(limit=2)
    first, second = {"x": 1}, {"x": 1}
    assert memo.get(first, None, lambda: made.append(1) or 1) == 1
    assert memo.get(first, None, lambda: made.append(2) or 2) == 1
    assert memo.get(second, None, lambda: made.append(3) or 3) == 3
    assert memo.get(first, "other", lambda: made.append(4) or 4) == 4  # a third entry: the memo was emptied first
    assert memo.get(second, None, lambda: made.append(5) or 5) == 5
    assert made == [1, 3, 4, 5]
