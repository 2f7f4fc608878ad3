"""Idempotency-Key handling: an in-memory replay cache and a persisted record per request.

A client whose response was lost retries with the same Idempotency-Key. Two stores
answer it, each keyed by (operation, user id, Idempotency-Key):

- ``IdempotencyCache`` (memory): the first successful response, secret included, for
  ``idempotency_ttl`` (10 minutes). The replay returns the same key and secret. It
  holds a plaintext secret, so it never leaves this process's memory.
- the ``idempotency`` table (SQLite, through ``lookup``/``remember``): what was
  created, never the secret - SHA-256 of the Idempotency-Key, the user, a
  fingerprint of the request and the id of the key it made, with an expiry
  (``idempotency_record_ttl``, 24 h). After a hub restart (or once the memory entry
  has expired) the retry finds this record and is told which key was made (409
  ``idempotency_replay_unavailable``) instead of silently minting a second key whose
  secret nobody saw.

Both are generic over ``scope`` (the operation's name, e.g. ``"create_key"``), so any
operation that mints a secret can use them.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..core.timestamps import format_ts, utcnow

MAX_IDEMPOTENCY_KEY_LEN = 255


@dataclass(slots=True)
class Replay:
    fingerprint: str
    body: dict[str, Any] = field(repr=False)  # contains the secret: never shown
    expires: float = 0.0


@dataclass(frozen=True, slots=True)
class IdempotencyClaim:
    """What to record, in the same transaction as the operation that creates ``resource_id``."""

    scope: str
    key: str = field(repr=False)
    fingerprint: str
    ttl_seconds: float


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    """A persisted record: which resource an earlier request with this key created."""

    scope: str
    fingerprint: str
    resource_id: str
    created_at: str


def valid_idempotency_key(value: str) -> bool:
    """1-255 visible ASCII characters, as the IETF idempotency-key draft suggests."""
    return 0 < len(value) <= MAX_IDEMPOTENCY_KEY_LEN and all(33 <= ord(c) <= 126 for c in value)


def request_fingerprint(*parts: str) -> str:
    """SHA-256 hex of the request's meaningful fields (e.g. the normalised label)."""
    digest = hashlib.sha256()
    for part in parts:
        data = part.encode("utf-8")
        digest.update(len(data).to_bytes(4, "big"))
        digest.update(data)
    return digest.hexdigest()


def _key_hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class IdempotencyCache:
    """(scope, user id, Idempotency-Key) -> the first successful response, for ``ttl`` seconds."""

    def __init__(self, ttl: float, *, max_entries: int = 50_000,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[tuple[str, str, str], Replay] = OrderedDict()
        # Held across check-then-create so two concurrent retries cannot both mint a key.
        self.lock = threading.RLock()

    def get(self, scope: str, user_id: str, key: str) -> Replay | None:
        with self.lock:
            self._prune()
            return self._entries.get((scope, user_id, key))

    def put(self, scope: str, user_id: str, key: str, fingerprint: str, body: dict[str, Any]) -> None:
        with self.lock:
            self._prune()
            self._entries[(scope, user_id, key)] = Replay(fingerprint, body, self._clock() + self.ttl)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def _prune(self) -> None:
        now = self._clock()
        while self._entries:
            first = next(iter(self._entries.values()))
            if first.expires > now:
                break
            self._entries.popitem(last=False)


# -- the persisted record (SQL on the store's connection, inside its transactions) ----------


def lookup(conn: sqlite3.Connection, scope: str, user_id: str, key: str,
           now: datetime | None = None) -> IdempotencyRecord | None:
    """The live record for this request, or None (never made, or expired)."""
    row = conn.execute(
        "SELECT scope, fingerprint, resource_id, created_at FROM idempotency"
        " WHERE user_id = ? AND scope = ? AND key_hash = ? AND expires_at > ?",
        (user_id, scope, _key_hash(key), format_ts(now or utcnow())),
    ).fetchone()
    return IdempotencyRecord(*row) if row else None


def remember(conn: sqlite3.Connection, user_id: str, claim: IdempotencyClaim, resource_id: str,
             now: datetime | None = None) -> None:
    """Record that ``claim``'s request created ``resource_id`` (replacing an older record of it)."""
    now = now or utcnow()
    conn.execute("DELETE FROM idempotency WHERE expires_at <= ?", (format_ts(now),))
    conn.execute(
        "INSERT OR REPLACE INTO idempotency"
        " (user_id, scope, key_hash, fingerprint, resource_id, created_at, expires_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (user_id, claim.scope, _key_hash(claim.key), claim.fingerprint, resource_id, format_ts(now),
         format_ts(now + timedelta(seconds=claim.ttl_seconds))),
    )
