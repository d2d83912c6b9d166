"""A small LRU map shared by every session of the server, each access under one lock.

The movie page keeps the models it trained on visitors' uploaded ratings here (``st.cache_resource`` holds one
store for the server): Streamlit runs each session's script in its own thread, so two visitors uploading at once
must not interleave an insert, an eviction and a lookup (an ``OrderedDict`` changed by two threads loses entries
or raises ``KeyError`` from ``move_to_end`` on a key another thread just evicted).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedLRU(Generic[K, V]):
    """At most ``max_entries`` values; the least recently used is dropped first. Safe across threads."""

    def __init__(self, max_entries: int) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries must be at least 1, got {max_entries}")
        self.max_entries = max_entries
        self.lock = threading.Lock()
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        """The value of ``key`` (now the most recently used), or None."""
        with self.lock:
            if key not in self._items:
                return None
            self._items.move_to_end(key)
            return self._items[key]

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` under ``key`` as the most recently used, dropping the oldest past ``max_entries``."""
        with self.lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.max_entries:
                self._items.popitem(last=False)

    def keys(self) -> list[K]:
        """The keys, least recently used first (a copy)."""
        with self.lock:
            return list(self._items)

    def __contains__(self, key: object) -> bool:
        with self.lock:
            return key in self._items

    def __len__(self) -> int:
        with self.lock:
            return len(self._items)
