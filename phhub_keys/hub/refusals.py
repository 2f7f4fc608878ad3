"""Why ``/mcp`` last refused a request from an address (for the OAuth discovery answers)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RecentRefusals:
    """Why ``/mcp`` last refused a request from an address, for ``ttl`` seconds (bounded)."""

    def __init__(self, ttl: float = 300.0, max_entries: int = 10_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._map: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, address: str, reason: str) -> None:
        with self._lock:
            self._map[address] = (self._clock(), reason)
            self._map.move_to_end(address)
            while len(self._map) > self._max:
                self._map.popitem(last=False)

    def forget(self, address: str) -> None:
        """A key from ``address`` was accepted: an older refusal is no longer the story."""
        with self._lock:
            self._map.pop(address, None)

    def recent(self, address: str) -> str | None:
        with self._lock:
            entry = self._map.get(address)
        if entry is None or self._clock() - entry[0] > self._ttl:
            return None
        return entry[1]
