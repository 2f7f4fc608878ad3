"""The hub's SQLite schema, as numbered migrations tracked by ``PRAGMA user_version``.

Append a migration to change the schema; never edit one that has shipped, so an
existing database file always migrates forward step by step.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: tuple[str, ...] = (
    # 1: users, sessions, keys. Secrets and tokens are stored only as SHA-256 hex.
    """
    CREATE TABLE users (
        id            TEXT PRIMARY KEY,
        email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
        name          TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        facilities    TEXT NOT NULL DEFAULT '[]',
        created_at    TEXT NOT NULL
    );
    CREATE TABLE sessions (
        token_hash TEXT PRIMARY KEY,
        user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        created_at TEXT NOT NULL,
        expires_at TEXT NOT NULL
    );
    CREATE INDEX sessions_user ON sessions(user_id);
    CREATE TABLE keys (
        id               TEXT PRIMARY KEY,
        user_id          TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        secret_hash      TEXT NOT NULL UNIQUE,
        redacted         TEXT NOT NULL,
        label            TEXT NOT NULL,
        status           TEXT NOT NULL CHECK (status IN ('active', 'deactivated')),
        created_at       TEXT NOT NULL,
        deactivated_at   TEXT,
        last_used_at     TEXT,
        last_used_client TEXT,
        last_used_ip     TEXT
    );
    CREATE INDEX keys_user_created ON keys(user_id, created_at);
    """,
    # 2: persisted Idempotency-Key records (hub/idempotency.py): what an earlier request
    # created, so a retry after a restart is told instead of minting a second key. Only
    # SHA-256 of the Idempotency-Key and a fingerprint of the request; never a secret.
    """
    CREATE TABLE idempotency (
        user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        scope       TEXT NOT NULL,
        key_hash    TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        resource_id TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        expires_at  TEXT NOT NULL,
        PRIMARY KEY (user_id, scope, key_hash)
    );
    CREATE INDEX idempotency_expires ON idempotency(expires_at);
    """,
    # 3: key hygiene (docs/hub-api.md, "Expiry, rotation and activity"). Additive only: every v1
    # row keeps its values and gets no expiry and no rotation links; its last address and client
    # seed the address list and the clients seen.
    # "expired" is not stored: it is computed from expires_at by the hub's clock. The event log
    # has no foreign key to keys, so a deleted key's history stays (kept 365 days).
    """
    ALTER TABLE keys ADD COLUMN expires_at TEXT;
    ALTER TABLE keys ADD COLUMN replaces TEXT;
    ALTER TABLE keys ADD COLUMN replaced_by TEXT;
    ALTER TABLE keys ADD COLUMN last_used_ips TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE keys ADD COLUMN clients_seen TEXT NOT NULL DEFAULT '[]';
    ALTER TABLE keys ADD COLUMN expiry_logged INTEGER NOT NULL DEFAULT 0;
    UPDATE keys SET last_used_ips = '[{"ip":"' || last_used_ip || '","at":"' || last_used_at || '"}]'
        WHERE last_used_ip IS NOT NULL AND last_used_at IS NOT NULL;
    UPDATE keys
        SET clients_seen = '["' || replace(replace(last_used_client, '\\', '\\\\'), '"', '\\"') || '"]'
        WHERE last_used_client IS NOT NULL;
    CREATE INDEX keys_expiry ON keys(expires_at) WHERE expires_at IS NOT NULL AND expiry_logged = 0;
    CREATE TABLE key_events (
        id        INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
        key_id    TEXT NOT NULL,
        key_label TEXT NOT NULL,
        at        TEXT NOT NULL,
        kind      TEXT NOT NULL,
        detail    TEXT NOT NULL DEFAULT '{}',
        actor     TEXT NOT NULL CHECK (actor IN ('session', 'hub'))
    );
    CREATE INDEX key_events_user ON key_events(user_id, id);
    CREATE INDEX key_events_key ON key_events(user_id, key_id, id);
    CREATE INDEX key_events_at ON key_events(at);
    """,
)

SCHEMA_VERSION = len(MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was written by a newer hub; refusing rather than guessing."""


def migrate(conn: sqlite3.Connection) -> int:
    """Bring ``conn``'s database up to SCHEMA_VERSION; returns the version it started at."""
    start = conn.execute("PRAGMA user_version").fetchone()[0]
    if start > SCHEMA_VERSION:
        raise SchemaTooNew(
            f"This hub database has schema version {start}, newer than this program's "
            f"{SCHEMA_VERSION}; upgrade phhub-keys to open it."
        )
    for version in range(start + 1, SCHEMA_VERSION + 1):
        # One transaction per step: the schema change and the version bump land together.
        try:
            conn.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version - 1]}\nPRAGMA user_version = {version};\nCOMMIT;"
            )
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    return start
