"""The hub's data: users, sessions and MCP keys in one SQLite file (WAL mode).

Only hashes of key secrets and session tokens are stored. Every key operation
takes the owner's user id and filters on it in SQL, so one user can never read
or change another's keys. One connection guarded by a lock: the hub's queries
take microseconds, and serialising them makes multi-step rules (the key cap,
delete-only-when-deactivated) atomic without retry loops.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from ..core.keyformat import generate_key, generate_session_token, hash_secret, redact
from ..core.models import User
from ..core.timestamps import format_ts, utcnow
from . import idempotency
from .idempotency import IdempotencyClaim, IdempotencyRecord
from .schema import migrate
from .security import (
    MAX_PASSWORD_LEN,
    SCRYPT_N,
    burn_password_check,
    clean_client_text,
    hash_password,
    new_key_id,
    new_user_id,
    verify_password,
)

MAX_EMAIL_LEN = 320
_SELECT_KEY = (
    "SELECT id, user_id, label, redacted, status, created_at, deactivated_at,"
    " last_used_at, last_used_client, last_used_ip FROM keys WHERE id = ? AND user_id = ?"
)
_SELECT_IDENTITY = (
    "SELECT k.id, k.user_id, k.label, k.redacted, k.status, k.created_at, k.deactivated_at,"
    " k.last_used_at, k.last_used_client, k.last_used_ip, u.id, u.email, u.name, u.facilities"
    " FROM keys k JOIN users u ON u.id = k.user_id WHERE k.secret_hash = ? AND k.status = 'active'"
)


class KeyLimitReached(Exception):
    """The user already has the maximum number of keys."""


class KeyStillActive(Exception):
    """Only a deactivated key may be deleted."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key row; timestamps are already in the API's RFC 3339 form."""

    id: str
    user_id: str
    label: str
    redacted: str
    status: str
    created_at: str
    deactivated_at: str | None
    last_used_at: str | None
    last_used_client: str | None
    last_used_ip: str | None

    def to_json(self) -> dict[str, Any]:
        return _key_json(self.id, self.label, self.redacted, self.status, self.created_at,
                         self.last_used_at, self.last_used_client, self.last_used_ip, self.deactivated_at)


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who is calling the MCP endpoint: the key's owner and the key itself."""

    user: User
    key: KeyRecord


def _key_json(id_: str, label: str, redacted: str, status: str, created_at: str, last_used_at: str | None,
              last_used_client: str | None, last_used_ip: str | None, deactivated_at: str | None
              ) -> dict[str, Any]:
    return {
        "id": id_, "label": label, "redacted": redacted, "status": status, "created_at": created_at,
        "last_used_at": last_used_at, "last_used_client": last_used_client, "last_used_ip": last_used_ip,
        "deactivated_at": deactivated_at,
    }


def _now() -> str:
    return format_ts(utcnow()) or ""


def _check_email(email: str) -> str:
    if not isinstance(email, str):
        raise ValueError("The email must be text.")
    email = email.strip()
    if not email or len(email) > MAX_EMAIL_LEN or "@" not in email:
        raise ValueError("Enter an email address such as name@example.org.")
    if any(ch.isspace() or ord(ch) < 32 for ch in email):
        raise ValueError("An email address has no spaces or control characters.")
    return email


def _check_password(password: str) -> str:
    if not isinstance(password, str) or not password:
        raise ValueError("The password must not be empty.")
    if len(password) > MAX_PASSWORD_LEN:
        raise ValueError(f"A password is at most {MAX_PASSWORD_LEN} characters.")
    return password


class HubStore:
    """All persistent state of one hub. Safe to call from any thread."""

    def __init__(self, db_path: Path | str, *, password_cost: int = SCRYPT_N) -> None:
        """Open (creating and migrating as needed) the database at ``db_path``.

        ``password_cost`` is scrypt's N for newly set passwords (stored with each hash).
        """
        self.db_path = Path(db_path)
        self._password_cost = password_cost
        _create_private_file(self.db_path)
        self._lock = threading.RLock()
        self._conn = sqlite3.connect(
            str(self.db_path), isolation_level=None, check_same_thread=False, timeout=10.0
        )
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute("PRAGMA foreign_keys=ON")
        self._conn.execute("PRAGMA busy_timeout=10000")
        migrate(self._conn)
        self._closed = False
        # Per-thread read connections for authenticate_key_nowait (see there).
        self._readers = threading.local()
        self._reader_conns: list[sqlite3.Connection] = []

    # -- plumbing ---------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            if not self._closed:
                self._closed = True
                self._conn.close()
                for reader in self._reader_conns:
                    reader.close()
                self._reader_conns.clear()

    def __enter__(self) -> HubStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def _query(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, tuple(params)).fetchall()

    def integrity_check(self) -> str:
        return self._query("PRAGMA integrity_check")[0][0]

    # -- users ------------------------------------------------------------------

    def add_user(self, email: str, password: str, name: str = "", facilities: Iterable[str] = ()) -> User:
        """Create an account; ValueError if the email exists or a field is unusable."""
        email = _check_email(email)
        password = _check_password(password)
        name = clean_client_text(name or "", 200) or ""
        facility_list = [f for f in (clean_client_text(x, 200) for x in facilities) if f]
        password_hash = hash_password(password, self._password_cost)
        user = User(id=new_user_id(), email=email, name=name, facilities=tuple(facility_list))
        try:
            with self._tx() as conn:
                conn.execute(
                    "INSERT INTO users (id, email, name, password_hash, facilities, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (user.id, email, name, password_hash, json.dumps(facility_list), _now()),
                )
        except sqlite3.IntegrityError:
            raise ValueError(f"A user with the email {email} already exists.") from None
        return user

    def has_user(self, email: str) -> bool:
        return bool(self._query("SELECT 1 FROM users WHERE email = ?", (email.strip(),)))

    def has_any_user(self) -> bool:
        return bool(self._query("SELECT 1 FROM users LIMIT 1"))

    def user_by_email(self, email: str) -> User | None:
        """The account with this email, or None (used by ``--local`` to sign in without a password)."""
        rows = self._query("SELECT id, email, name, facilities FROM users WHERE email = ?", (email.strip(),))
        return _user(rows[0]) if rows else None

    def get_user(self, user_id: str) -> User | None:
        rows = self._query("SELECT id, email, name, facilities FROM users WHERE id = ?", (user_id,))
        return _user(rows[0]) if rows else None

    def check_password(self, email: str, password: str) -> User | None:
        """The user when ``password`` is right; None otherwise (same cost either way)."""
        rows = self._query(
            "SELECT id, email, name, facilities, password_hash FROM users WHERE email = ?", (email.strip(),)
        )
        if not rows:
            burn_password_check(password, self._password_cost)
            return None
        if not verify_password(password, rows[0][4]):
            return None
        return _user(rows[0][:4])

    # -- sessions ---------------------------------------------------------------

    def create_session(self, user_id: str, ttl_seconds: int, *,
                       max_live: int | None = None) -> tuple[str, str]:
        """A new session token for ``user_id`` and its expiry; only its hash is stored.

        ``max_live`` caps the user's live sessions: beyond it the oldest are revoked in
        the same transaction, so a stream of sign-ins cannot pile up valid tokens.
        """
        token = generate_session_token()
        now = utcnow()
        expires = format_ts(now + timedelta(seconds=ttl_seconds)) or ""
        with self._tx() as conn:
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?", (format_ts(now),))
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
                (hash_secret(token), user_id, format_ts(now), expires),
            )
            if max_live is not None:
                conn.execute(
                    "DELETE FROM sessions WHERE user_id = ? AND rowid NOT IN (SELECT rowid FROM sessions"
                    " WHERE user_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?)",
                    (user_id, user_id, max(1, max_live)),
                )
        return token, expires

    def live_session_count(self, user_id: str) -> int:
        return self._query("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?",
                           (user_id, _now()))[0][0]

    def revoke_user_sessions(self, user_id: str) -> int:
        """Revoke every session of ``user_id`` (sign out everywhere); returns how many were live."""
        with self._tx() as conn:
            (live,) = conn.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?",
                                   (user_id, _now())).fetchone()
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
        return live

    def set_password(self, email: str, password: str) -> tuple[User, int]:
        """Change a user's password and revoke all their sessions (one transaction).

        Returns the user and how many live sessions were revoked; ValueError when there
        is no such user or the password is unusable.
        """
        password = _check_password(password)
        user = self.user_by_email(email)
        if user is None:
            raise ValueError(f"No user with the email {email.strip()} on this hub.")
        password_hash = hash_password(password, self._password_cost)
        with self._tx() as conn:
            conn.execute("UPDATE users SET password_hash = ? WHERE id = ?", (password_hash, user.id))
            (live,) = conn.execute("SELECT COUNT(*) FROM sessions WHERE user_id = ? AND expires_at > ?",
                                   (user.id, _now())).fetchone()
            conn.execute("DELETE FROM sessions WHERE user_id = ?", (user.id,))
        return user, live

    def session_user(self, token: str) -> User | None:
        """The user a live session token belongs to, or None (unknown, expired or revoked)."""
        rows = self._query(
            "SELECT u.id, u.email, u.name, u.facilities FROM sessions s JOIN users u ON u.id = s.user_id"
            " WHERE s.token_hash = ? AND s.expires_at > ?",
            (hash_secret(token), _now()),
        )
        return _user(rows[0]) if rows else None

    def revoke_session(self, token: str) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (hash_secret(token),))

    # -- keys -------------------------------------------------------------------

    def list_keys_json(self, user_id: str) -> list[dict[str, Any]]:
        """The user's keys in API shape, newest first (built straight from rows: lists can be long)."""
        rows = self._query(
            "SELECT id, label, redacted, status, created_at, last_used_at, last_used_client, last_used_ip,"
            " deactivated_at FROM keys WHERE user_id = ? ORDER BY created_at DESC, rowid DESC",
            (user_id,),
        )
        return [_key_json(*row) for row in rows]

    def list_keys_body(self, user_id: str) -> bytes:
        """The list endpoint's whole JSON body, ``{"keys": [...]}``: the same keys as list_keys_json.

        Why: SQLite builds each key's JSON object in C (``json_object``), so 10,000 keys
        take ~35 ms instead of ~130 ms through Python dicts and ``json.dumps`` (measured
        by benchmarks/, figure "hub: key list"). An SQLite without JSON functions
        (older than 3.38) gets the Python path.
        """
        try:
            rows = self._query(
                "SELECT json_object('id', id, 'label', label, 'redacted', redacted, 'status', status,"
                " 'created_at', created_at, 'last_used_at', last_used_at,"
                " 'last_used_client', last_used_client, 'last_used_ip', last_used_ip,"
                " 'deactivated_at', deactivated_at)"
                " FROM keys WHERE user_id = ? ORDER BY created_at DESC, rowid DESC",
                (user_id,),
            )
        except sqlite3.OperationalError:
            keys = self.list_keys_json(user_id)
            return json.dumps({"keys": keys}, ensure_ascii=False, separators=(",", ":")).encode()
        return ('{"keys":[' + ",".join([row[0] for row in rows]) + "]}").encode()

    def count_keys(self, user_id: str) -> int:
        return self._query("SELECT COUNT(*) FROM keys WHERE user_id = ?", (user_id,))[0][0]

    def get_key(self, user_id: str, key_id: str) -> KeyRecord | None:
        rows = self._query(_SELECT_KEY, (key_id, user_id))
        return KeyRecord(*rows[0]) if rows else None

    def create_key(self, user_id: str, label: str, *, max_keys: int,
                   idempotency_claim: IdempotencyClaim | None = None) -> tuple[KeyRecord, str]:
        """Mint a key; returns the record and the one-time plaintext secret.

        ``label`` must already be normalised. Raises KeyLimitReached at the cap.
        ``idempotency_claim`` is recorded in the same transaction as the key, so no
        crash can leave a key made under an Idempotency-Key without its record.
        """
        secret = generate_key()
        key_id = new_key_id()
        now = _now()
        with self._tx() as conn:
            (count,) = conn.execute("SELECT COUNT(*) FROM keys WHERE user_id = ?", (user_id,)).fetchone()
            if count >= max_keys:
                raise KeyLimitReached(f"An account may have at most {max_keys} keys.")
            conn.execute(
                "INSERT INTO keys (id, user_id, secret_hash, redacted, label, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, 'active', ?)",
                (key_id, user_id, hash_secret(secret), redact(secret), label, now),
            )
            if idempotency_claim is not None:
                idempotency.remember(conn, user_id, idempotency_claim, key_id)
        record = KeyRecord(key_id, user_id, label, redact(secret), "active", now, None, None, None, None)
        return record, secret

    def idempotency_record(self, scope: str, user_id: str, key: str) -> IdempotencyRecord | None:
        """The persisted record of an earlier ``scope`` request with this Idempotency-Key, if live."""
        with self._lock:
            return idempotency.lookup(self._conn, scope, user_id, key)

    def rename_key(self, user_id: str, key_id: str, label: str) -> KeyRecord | None:
        with self._tx() as conn:
            conn.execute("UPDATE keys SET label = ? WHERE id = ? AND user_id = ?", (label, key_id, user_id))
            return self.get_key(user_id, key_id)

    def set_key_active(self, user_id: str, key_id: str, active: bool) -> KeyRecord | None:
        """Deactivate or reactivate; idempotent (a second deactivate keeps the first time)."""
        with self._tx() as conn:
            if active:
                conn.execute(
                    "UPDATE keys SET status = 'active', deactivated_at = NULL WHERE id = ? AND user_id = ?",
                    (key_id, user_id),
                )
            else:
                conn.execute(
                    "UPDATE keys SET status = 'deactivated', deactivated_at = ?"
                    " WHERE id = ? AND user_id = ? AND status = 'active'",
                    (_now(), key_id, user_id),
                )
            return self.get_key(user_id, key_id)

    def delete_key(self, user_id: str, key_id: str) -> bool:
        """Delete a deactivated key; False if no such key; KeyStillActive if it is active."""
        with self._tx() as conn:
            row = conn.execute(
                "SELECT status FROM keys WHERE id = ? AND user_id = ?", (key_id, user_id)
            ).fetchone()
            if row is None:
                return False
            if row[0] == "active":
                raise KeyStillActive("Deactivate the key before deleting it.")
            conn.execute("DELETE FROM keys WHERE id = ? AND user_id = ?", (key_id, user_id))
            return True

    def authenticate_key(self, secret: str) -> KeyIdentity | None:
        """The owner and record of an *active* key with this secret, or None. Never cached."""
        rows = self._query(_SELECT_IDENTITY, (hash_secret(secret),))
        if not rows:
            return None
        row = rows[0]
        return KeyIdentity(user=_user(row[10:]), key=KeyRecord(*row[:10]))

    def authenticate_key_nowait(self, secret: str) -> KeyIdentity | None:
        """authenticate_key on the calling thread's own read connection, without the store lock.

        Why: the MCP gate checks the key of every request on the event loop. Handing
        the ~50 us lookup to a worker thread cost more than the lookup (and than the
        rest of the gate) and kept authenticated MCP throughput well under the no-auth
        figure (benchmarks/, docs/performance.md). Without the store lock, the loop
        never waits behind a long write or list query; in WAL mode a reader does not
        wait for writers, and each SELECT here is its own read transaction, so a
        deactivation committed before this call is seen (never cached).
        """
        reader = getattr(self._readers, "conn", None)
        if reader is None:
            with self._lock:
                if self._closed:
                    raise sqlite3.ProgrammingError("Cannot operate on a closed database.")
                reader = sqlite3.connect(str(self.db_path), isolation_level=None, check_same_thread=False,
                                         timeout=10.0)
                reader.execute("PRAGMA busy_timeout=10000")
                self._reader_conns.append(reader)
            self._readers.conn = reader
        rows = reader.execute(_SELECT_IDENTITY, (hash_secret(secret),)).fetchall()
        if not rows:
            return None
        row = rows[0]
        return KeyIdentity(user=_user(row[10:]), key=KeyRecord(*row[:10]))

    def record_key_use(self, key_id: str, client: str | None, ip: str | None) -> None:
        """Stamp last_used_*; a use without client info keeps the last known client."""
        with self._tx() as conn:
            conn.execute(
                "UPDATE keys SET last_used_at = ?, last_used_client = COALESCE(?, last_used_client),"
                " last_used_ip = ? WHERE id = ?",
                (_now(), client, ip, key_id),
            )


def _user(row: tuple[Any, ...]) -> User:
    try:
        facilities = tuple(str(f) for f in json.loads(row[3]))
    except (ValueError, TypeError):
        facilities = ()
    return User(id=row[0], email=row[1], name=row[2], facilities=facilities)


def _create_private_file(path: Path) -> None:
    """Create the database file owner-only before SQLite does (it holds password hashes)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
