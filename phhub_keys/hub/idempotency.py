"""In-memory replay of create-key responses keyed by ``Idempotency-Key``.

A client whose create response was lost retries with the same Idempotency-Key and
gets the same key and secret back instead of a second key. The response holds a
plaintext secret, so it lives only in this process's memory, for a bounded time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_IDEMPOTENCY_KEY_LEN = 255


@dataclass(slots=True)
class Replay:
    label: str
    body: dict[str, Any] = field(repr=False)  # contains the secret: never shown
    expires: float = 0.0


def valid_idempotency_key(value: str) -> bool:
    """1-255 visible ASCII characters, as the IETF idempotency-key draft suggests."""
    return 0 < len(value) <= MAX_IDEMPOTENCY_KEY_LEN and all(33 <= ord(c) <= 126 for c in value)


class IdempotencyCache:
    """(user id, Idempotency-Key) -> the first successful create response, for ``ttl`` seconds."""

    def __init__(self, ttl: float, *, max_entries: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str], Replay] = OrderedDict()
        # Held across check-then-create so two concurrent retries cannot both mint a key.
        self.lock = threading.RLock()

    def get(self, user_id: str, key: str) -> Replay | None:
        with self.lock:
            self._prune()
            return self._entries.get((user_id, key))

    def put(self, user_id: str, key: str, label: str, body: dict[str, Any]) -> None:
        with self.lock:
            self._prune()
            self._entries[(user_id, key)] = Replay(label, body, self._clock() + self.ttl)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def _prune(self) -> None:
        now = self._clock()
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.expires > now:
                break
            self._entries.popitem(last=False)
