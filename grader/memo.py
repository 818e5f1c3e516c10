"""Remembering what was computed from an object that is known by its identity.

Some inputs cannot be hashed, or cost more to hash than the work they key: a
problem's parameters (a mapping), a reference formula (with mappings inside).
Within one process they are the same objects every time, so their identity
is the key.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class IdentityMemo(Generic[V]):
    """Values keyed by an object's identity (and a hashable extra), at most ``limit`` of them.

    Each entry holds its object, so the object's id cannot pass to another
    while the entry lives. When full, the memo is emptied (bounded memory).
    """

    def __init__(self, limit: int) -> None:
        self._entries: dict[tuple[int, Hashable], tuple[object, V]] = {}
        self._limit = limit

    def get(self, owner: object, extra: Hashable, make: Callable[[], V]) -> V:
        """The value for ``owner`` and ``extra``: remembered, or made by ``make`` and remembered."""
        key = (id(owner), extra)
        known = self._entries.get(key)
        if known is not None and known[0] is owner:
            return known[1]
        if len(self._entries) >= self._limit:
            self._entries.clear()
        value = make()
        self._entries[key] = (owner, value)
        return value
