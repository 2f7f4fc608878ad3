"""Sliding-window rate limits that say how long to wait (for ``Retry-After``)."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """At most ``limit`` events per ``window`` seconds per subject (an account, an address…).

    Memory stays bounded: subjects whose events have all expired are dropped, and
    at most ``max_subjects`` are tracked (the stalest go first).
    """

    def __init__(self, limit: int, window: float, *, max_subjects: int = 100_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._max_subjects = max_subjects
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _live(self, subject: str, now: float) -> deque[float] | None:
        events = self._events.get(subject)
        if events is None:
            return None
        while events and events[0] <= now - self.window:
            events.popleft()
        if not events:
            del self._events[subject]
            return None
        return events

    def retry_after(self, subject: str) -> int | None:
        """Seconds to wait before the next event is allowed, or None when it is allowed now."""
        with self._lock:
            now = self._clock()
            events = self._live(subject, now)
            if events is None or len(events) < self.limit:
                return None
            return max(1, math.ceil(events[len(events) - self.limit] + self.window - now))

    def hit(self, subject: str) -> None:
        """Record one event for ``subject``."""
        with self._lock:
            now = self._clock()
            events = self._live(subject, now)
            if events is None:
                if len(self._events) >= self._max_subjects:
                    self._evict(now)
                events = self._events.setdefault(subject, deque())
            events.append(now)
            # Keep only what can still matter for the limit.
            while len(events) > self.limit:
                events.popleft()

    def reset(self, subject: str) -> None:
        with self._lock:
            self._events.pop(subject, None)

    def _evict(self, now: float) -> None:
        for subject in list(self._events):
            self._live(subject, now)
        while len(self._events) >= self._max_subjects:
            stalest = min(self._events, key=lambda s: self._events[s][-1])
            del self._events[stalest]
