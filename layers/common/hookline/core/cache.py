"""A per-container cache with a time to live and a bound on what it holds.

A warm Lambda container lives for hours and may see every tenant of a deployment, so each cache holds at most
``capacity`` units: one per entry by default, or what ``weigh`` says an entry costs (the endpoints of a
tenant, say). Past the capacity the least recently used entries go; an entry older than ``ttl_seconds`` is
a miss and is dropped when met. A value heavier than the whole capacity is not kept at all.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Final


class Missing:
    pass


MISSING: Final = Missing()


class BoundedCache[K: Hashable, V]:
    def __init__(
        self,
        capacity: int,
        ttl_seconds: float,
        weigh: Callable[[V], int] = lambda value: 1,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._capacity = capacity
        self._ttl = ttl_seconds
        self._weigh = weigh
        self._monotonic = monotonic
        self._entries: OrderedDict[K, tuple[float, int, V]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: K) -> V | Missing:
        """The value cached for ``key``, or ``MISSING`` (never stored, expired or pushed out)."""
        now = self._monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return MISSING
            stored_at, weight, value = entry
            if now - stored_at >= self._ttl:
                del self._entries[key]
                self._weight -= weight
                return MISSING
            self._entries.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        weight = max(1, self._weigh(value))
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            if weight > self._capacity:
                return
            self._entries[key] = (self._monotonic(), weight, value)
            self._weight += weight
            while self._weight > self._capacity:
                _, (_, dropped, _) = self._entries.popitem(last=False)
                self._weight -= dropped

    def pop(self, key: K) -> None:
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._weight -= old[1]

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._entries)
