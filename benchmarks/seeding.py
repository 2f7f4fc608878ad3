"""A hub database with one user and N keys.

The user, session and a real working key go through HubStore; the bulk of the
keys is inserted in one transaction (10,000 ``create_key`` calls take ~15 s,
each a transaction that re-counts the user's keys, and HTTP creates would also
trip the create rate limit). The bulk rows are built with core's own key
format, hash and redaction, so they are indistinguishable from created keys.
The keys look like a real account's: varied labels (some non-ASCII), created
over a year, about a tenth deactivated, half used by a named client.
"""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from phhub_keys.core.keyformat import BASE62, KEY_PREFIX, RANDOM_LEN, checksum, hash_secret, redact
from phhub_keys.core.timestamps import format_ts, utcnow
from phhub_keys.hub.schema import SCHEMA_VERSION
from phhub_keys.hub.security import new_key_id
from phhub_keys.hub.store import HubStore

EMAIL = "bench@example.org"
PASSWORD = "bench-password-1"  # noqa: S105 - a throwaway account in a temp database
_CLIENTS = ("Cursor 1.7.2", "claude-ai 0.1.0", "Visual Studio Code 1.105.0", "openai-mcp 1.0.0")
_WORDS = ("Cursor", "Claude Desktop", "VS Code", "AgentKit", "laptop", "CI runner", "staging",
          "Windsurf", "Codex", "home", "office", "test", "Zoë's Mac", "会议室", "prod")
# The schema version these INSERTs were checked against: they name schema 1's columns, and
# migrations 2 (idempotency records) and 3 (key hygiene) only added tables and columns with
# defaults, so the bulk rows are still exactly what create_key makes (without its event).
_SCHEMA_SEEN = 3


@dataclass(frozen=True, slots=True)
class SeededHub:
    db_path: Path
    email: str
    password: str
    user_id: str
    token: str
    keys: int
    mcp_secret: str  # an active key of this user, for the MCP figures


def label_for(i: int, rng: random.Random) -> str:
    words = rng.sample(_WORDS, rng.randint(1, 3))
    return f"{' '.join(words)} {i}"


def _fake_secret(rng: random.Random) -> str:
    body = "".join(rng.choice(BASE62) for _ in range(RANDOM_LEN))
    return KEY_PREFIX + body + checksum(body)


def _bulk_rows(user_id: str, count: int, rng: random.Random) -> list[tuple]:
    now = utcnow()
    rows = []
    for i in range(count):
        created = now - timedelta(seconds=rng.randint(3600, 365 * 86400))
        secret = _fake_secret(rng)
        roll = rng.random()
        used = roll < 0.5
        last_used = format_ts(created + (now - created) * rng.random()) if used else None
        status = "deactivated" if roll > 0.9 else "active"
        rows.append((
            new_key_id(), user_id, hash_secret(secret), redact(secret), label_for(i, rng), status,
            format_ts(created), format_ts(now) if status == "deactivated" else None, last_used,
            rng.choice(_CLIENTS) if used else None, f"127.0.0.{rng.randint(1, 254)}" if used else None,
        ))
    return rows


def seed(db_path: Path, keys: int, *, seed_value: int = 7) -> SeededHub:
    """Create ``db_path`` with one user owning ``keys`` keys; returns how to sign in as them."""
    rng = random.Random(seed_value)
    store = HubStore(db_path)
    try:
        user = store.add_user(EMAIL, PASSWORD, name="Bench Mark", facilities=("Lab A", "Lab B"))
        token, _expires = store.create_session(user.id, 24 * 3600)
        _record, mcp_secret = store.create_key(user.id, "bench MCP client", max_keys=max(keys, 1))
    finally:
        store.close()
    extra = max(keys - 1, 0)
    if SCHEMA_VERSION != _SCHEMA_SEEN:
        # The schema moved on: take the slow, always-correct path.
        with HubStore(db_path) as store:
            for i in range(extra):
                store.create_key(user.id, label_for(i, rng), max_keys=keys)
    else:
        conn = sqlite3.connect(str(db_path), isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO keys (id, user_id, secret_hash, redacted, label, status, created_at,"
                " deactivated_at, last_used_at, last_used_client, last_used_ip)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _bulk_rows(user.id, extra, rng),
            )
            conn.execute("COMMIT")
        finally:
            conn.close()
    return SeededHub(db_path, EMAIL, PASSWORD, user.id, token, keys, mcp_secret)
