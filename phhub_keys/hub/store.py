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
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..core.keyformat import generate_key, generate_session_token, hash_secret, redact
from ..core.models import User
from ..core.timestamps import format_ts, parse_ts, utcnow
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
MAX_LAST_USED_IPS = 5
MAX_CLIENTS_SEEN = 50
# Events the hub writes for a key's use (first_use_by_client, new_address), per key per 24 h. A
# client names itself on every request and may cycle names (or IPv6 addresses): without a bound a
# leaked key could grow the database without end and bury the owner's real events.
MAX_USE_EVENTS_PER_DAY = 50
USE_EVENT_KINDS = ("first_use_by_client", "new_address")
# The key's status as the API shows it: "expired" is computed from expires_at by the hub's clock.
_STATUS_SQL = ("CASE WHEN k.status = 'active' AND k.expires_at IS NOT NULL AND k.expires_at <= :now"
               " THEN 'expired' ELSE k.status END")
_KEY_COLUMNS = (
    f"k.id, k.user_id, k.label, k.redacted, {_STATUS_SQL}, k.created_at, k.deactivated_at,"
    " k.last_used_at, k.last_used_client, k.last_used_ip, k.expires_at, k.replaces, k.replaced_by,"
    " k.last_used_ips"
)
# (S608: these f-strings join constant SQL fragments; every value is a bound parameter.)
_SELECT_KEY = f"SELECT {_KEY_COLUMNS} FROM keys k WHERE k.id = :id AND k.user_id = :user"  # noqa: S608
_SELECT_IDENTITY = (
    f"SELECT {_KEY_COLUMNS}, u.id, u.email, u.name, u.facilities"  # noqa: S608
    " FROM keys k JOIN users u ON u.id = k.user_id WHERE k.secret_hash = :hash AND k.status = 'active'"
    " AND (k.expires_at IS NULL OR k.expires_at > :now)"
)
_KEY_FIELDS = 14
_UNSET: Any = object()


_KEY_CACHE_MAX = 4096


@dataclass(frozen=True, slots=True)
class _CachedIdentity:
    """A successful MCP key lookup and the state it was read in (see authenticate_key_nowait)."""

    identity: KeyIdentity
    generation: int
    data_version: int
    expires: datetime | None


class KeyLimitReached(Exception):
    """The user already has the maximum number of keys."""


class KeyStillActive(Exception):
    """Only a deactivated or expired key may be deleted."""


class KeyInactive(Exception):
    """Rotating (or reactivating) a key that is deactivated or expired."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


class KeyAlreadyRotated(Exception):
    """The key was rotated before; ``successor`` is the id of the key that replaced it."""

    def __init__(self, successor: str) -> None:
        super().__init__(f"This key was already rotated; its successor is {successor}.")
        self.successor = successor


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A key row; timestamps are already in the API's RFC 3339 form, ``status`` is as the API shows it."""

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
    expires_at: str | None = None
    replaces: str | None = None
    replaced_by: str | None = None
    last_used_ips: str = "[]"  # JSON text, as stored: [{"ip", "at"}], newest first

    def to_json(self) -> dict[str, Any]:
        return _key_json(self.id, self.label, self.redacted, self.status, self.created_at,
                         self.last_used_at, self.last_used_client, self.last_used_ip, self.deactivated_at,
                         self.expires_at, self.replaces, self.replaced_by, self.last_used_ips)


@dataclass(frozen=True, slots=True)
class KeyIdentity:
    """Who is calling the MCP endpoint: the key's owner and the key itself."""

    user: User
    key: KeyRecord


def _key_json(id_: str, label: str, redacted: str, status: str, created_at: str, last_used_at: str | None,
              last_used_client: str | None, last_used_ip: str | None, deactivated_at: str | None,
              expires_at: str | None = None, replaces: str | None = None, replaced_by: str | None = None,
              last_used_ips: str = "[]") -> dict[str, Any]:
    return {
        "id": id_, "label": label, "redacted": redacted, "status": status, "created_at": created_at,
        "last_used_at": last_used_at, "last_used_client": last_used_client, "last_used_ip": last_used_ip,
        "deactivated_at": deactivated_at, "expires_at": expires_at, "replaces": replaces,
        "replaced_by": replaced_by, "last_used_ips": _ips(last_used_ips),
    }


def _ips(text: str | None) -> list[dict[str, str]]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [e for e in value if isinstance(e, dict)] if isinstance(value, list) else []


def _event_json(row: tuple[Any, ...]) -> dict[str, Any]:
    id_, at, key_id, key_label, kind, detail, actor = row
    try:
        detail_obj = json.loads(detail)
    except ValueError:
        detail_obj = {}
    return {"id": f"ev_{id_}", "at": at, "key_id": key_id, "key_label": key_label, "kind": kind,
            "detail": detail_obj if isinstance(detail_obj, dict) else {}, "actor": actor}


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

    def __init__(self, db_path: Path | str, *, password_cost: int = SCRYPT_N,
                 clock: Callable[[], datetime] = utcnow, event_retention_days: int = 365) -> None:
        """Open (creating and migrating as needed) the database at ``db_path``.

        ``password_cost`` is scrypt's N for newly set passwords (stored with each hash).
        ``clock`` is the hub's clock for everything about keys (expiry, events, last use):
        "expired" is decided by it alone, never by a client's clock. Tests may replace it
        (the attribute is read on every call).
        """
        self.db_path = Path(db_path)
        self._password_cost = password_cost
        self.clock = clock
        self.event_retention_days = event_retention_days
        self._last_prune = ""
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
        # The MCP key cache (see authenticate_key_nowait): one per read connection (SQLite's
        # data_version is per connection), all invalidated by the generation every write bumps.
        self._generation = 0
        self.key_cache_hits = 0  # requests answered from the cache (observable by tests and benchmarks)

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
            # Still under the lock, before the caller learns the write is done: from here on no
            # MCP request is answered from what the key cache held before this transaction.
            self._generation += 1

    def _query(self, sql: str, params: Iterable[Any] | dict[str, Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params if isinstance(params, dict) else tuple(params)).fetchall()

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

    def now(self) -> datetime:
        """The hub's clock, to the second."""
        return self.clock().replace(microsecond=0)

    def _now_ts(self) -> str:
        return format_ts(self.now()) or ""

    def list_keys_json(self, user_id: str) -> list[dict[str, Any]]:
        """The user's keys in API shape, newest first (built straight from rows: lists can be long)."""
        self.log_expirations()
        rows = self._query(
            f"SELECT {_KEY_COLUMNS} FROM keys k WHERE k.user_id = :user"  # noqa: S608
            " ORDER BY k.created_at DESC, k.rowid DESC",
            {"user": user_id, "now": self._now_ts()},
        )
        return [KeyRecord(*row).to_json() for row in rows]

    def list_keys_body(self, user_id: str) -> bytes:
        """The list endpoint's whole JSON body, ``{"keys": [...]}``: the same keys as list_keys_json.

        Why: SQLite builds each key's JSON object in C (``json_object``), so 10,000 keys
        take ~35 ms instead of ~130 ms through Python dicts and ``json.dumps`` (measured
        by benchmarks/, figure "hub: key list"). An SQLite without JSON functions
        (older than 3.38) gets the Python path.
        """
        self.log_expirations()
        try:
            rows = self._query(
                "SELECT json_object('id', k.id, 'label', k.label, 'redacted', k.redacted,"  # noqa: S608
                f" 'status', {_STATUS_SQL}, 'created_at', k.created_at, 'last_used_at', k.last_used_at,"
                " 'last_used_client', k.last_used_client, 'last_used_ip', k.last_used_ip,"
                " 'deactivated_at', k.deactivated_at, 'expires_at', k.expires_at, 'replaces', k.replaces,"
                " 'replaced_by', k.replaced_by, 'last_used_ips', json(k.last_used_ips))"
                " FROM keys k WHERE k.user_id = :user ORDER BY k.created_at DESC, k.rowid DESC",
                {"user": user_id, "now": self._now_ts()},
            )
        except sqlite3.OperationalError:
            keys = self.list_keys_json(user_id)
            return json.dumps({"keys": keys}, ensure_ascii=False, separators=(",", ":")).encode()
        return ('{"keys":[' + ",".join([row[0] for row in rows]) + "]}").encode()

    def count_keys(self, user_id: str) -> int:
        return self._query("SELECT COUNT(*) FROM keys WHERE user_id = ?", (user_id,))[0][0]

    def get_key(self, user_id: str, key_id: str) -> KeyRecord | None:
        rows = self._query(_SELECT_KEY, {"id": key_id, "user": user_id, "now": self._now_ts()})
        return KeyRecord(*rows[0]) if rows else None

    def _get(self, conn: sqlite3.Connection, user_id: str, key_id: str, now: str) -> KeyRecord | None:
        row = conn.execute(_SELECT_KEY, {"id": key_id, "user": user_id, "now": now}).fetchone()
        return KeyRecord(*row) if row else None

    def _log(self, conn: sqlite3.Connection, user_id: str, key_id: str, label: str, kind: str,
             detail: dict[str, Any], actor: str, at: str) -> None:
        conn.execute(
            "INSERT INTO key_events (user_id, key_id, key_label, at, kind, detail, actor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (user_id, key_id, label, at, kind, json.dumps(detail, ensure_ascii=False), actor),
        )

    def _insert_key(self, conn: sqlite3.Connection, user_id: str, label: str, max_keys: int, now: str,
                    expires_at: str | None, replaces: str | None) -> tuple[KeyRecord, str]:
        (count,) = conn.execute("SELECT COUNT(*) FROM keys WHERE user_id = ?", (user_id,)).fetchone()
        if count >= max_keys:
            raise KeyLimitReached(f"An account may have at most {max_keys} keys.")
        secret = generate_key()
        key_id = new_key_id()
        conn.execute(
            "INSERT INTO keys (id, user_id, secret_hash, redacted, label, status, created_at, expires_at,"
            " replaces) VALUES (?, ?, ?, ?, ?, 'active', ?, ?, ?)",
            (key_id, user_id, hash_secret(secret), redact(secret), label, now, expires_at, replaces),
        )
        record = KeyRecord(key_id, user_id, label, redact(secret), "active", now, None, None, None, None,
                           expires_at, replaces, None, "[]")
        return record, secret

    def create_key(self, user_id: str, label: str, *, max_keys: int, expires_at: datetime | None = None,
                   idempotency_claim: IdempotencyClaim | None = None) -> tuple[KeyRecord, str]:
        """Mint a key; returns the record and the one-time plaintext secret.

        ``label`` must already be normalised and ``expires_at`` already checked against
        the key policy. Raises KeyLimitReached at the cap. ``idempotency_claim`` is
        recorded in the same transaction as the key, so no crash can leave a key made
        under an Idempotency-Key without its record.
        """
        now = self._now_ts()
        expires = format_ts(expires_at)
        with self._tx() as conn:
            record, secret = self._insert_key(conn, user_id, label, max_keys, now, expires, None)
            self._log(conn, user_id, record.id, label, "created", {"expires_at": expires}, "session", now)
            if idempotency_claim is not None:
                idempotency.remember(conn, user_id, idempotency_claim, record.id)
        return record, secret

    def idempotency_record(self, scope: str, user_id: str, key: str) -> IdempotencyRecord | None:
        """The persisted record of an earlier ``scope`` request with this Idempotency-Key, if live."""
        with self._lock:
            return idempotency.lookup(self._conn, scope, user_id, key)

    def update_key(self, user_id: str, key_id: str, *, label: str = _UNSET,
                   expires_at: datetime | None = _UNSET) -> KeyRecord | None:
        """Change the label and/or the expiry (both already checked); None if no such key.

        Changing the expiry of an expired key to a later time is a renewal: the key is
        active again (unless deactivated), and the event says so.
        """
        now = self._now_ts()
        with self._tx() as conn:
            before = self._get(conn, user_id, key_id, now)
            if before is None:
                return None
            if label is not _UNSET and label != before.label:
                conn.execute("UPDATE keys SET label = ? WHERE id = ?", (label, key_id))
                self._log(conn, user_id, key_id, label, "renamed", {"from": before.label, "to": label},
                          "session", now)
            if expires_at is not _UNSET:
                new_expiry = format_ts(expires_at)
                if new_expiry != before.expires_at:
                    if before.status == "expired":
                        self._log_expired(conn, user_id, key_id, now)
                    conn.execute("UPDATE keys SET expires_at = ?, expiry_logged = 0 WHERE id = ?",
                                 (new_expiry, key_id))
                    after = self._get(conn, user_id, key_id, now)
                    assert after is not None
                    detail: dict[str, Any] = {"from": before.expires_at, "to": new_expiry}
                    if before.status == "expired" and after.status != "expired":
                        detail["renewed"] = True
                    self._log(conn, user_id, key_id, after.label, "expiry_changed", detail, "session", now)
            return self._get(conn, user_id, key_id, now)

    def rename_key(self, user_id: str, key_id: str, label: str) -> KeyRecord | None:
        return self.update_key(user_id, key_id, label=label)

    def set_key_active(self, user_id: str, key_id: str, active: bool) -> KeyRecord | None:
        """Deactivate or reactivate; idempotent (a second deactivate keeps the first time).

        An expired key cannot be reactivated (KeyInactive): extend its expiry instead.
        """
        now = self._now_ts()
        with self._tx() as conn:
            before = self._get(conn, user_id, key_id, now)
            if before is None:
                return None
            if active:
                if before.expires_at is not None and before.expires_at <= now:
                    raise KeyInactive("This key has expired and cannot be reactivated: extend its "
                                      "expiry (renew) or rotate it instead.", "expired")
                if before.status == "deactivated":
                    conn.execute("UPDATE keys SET status = 'active', deactivated_at = NULL WHERE id = ?",
                                 (key_id,))
                    self._log(conn, user_id, key_id, before.label, "reactivated", {}, "session", now)
            elif before.status != "deactivated":
                if before.status == "expired":
                    self._log_expired(conn, user_id, key_id, now)
                conn.execute("UPDATE keys SET status = 'deactivated', deactivated_at = ? WHERE id = ?",
                             (now, key_id))
                self._log(conn, user_id, key_id, before.label, "deactivated", {}, "session", now)
            return self._get(conn, user_id, key_id, now)

    def delete_key(self, user_id: str, key_id: str) -> bool:
        """Delete a deactivated or expired key; False if no such key; KeyStillActive if it is active.

        Its events stay (the inventory never forgets): a last ``deleted`` event closes them.
        """
        now = self._now_ts()
        with self._tx() as conn:
            record = self._get(conn, user_id, key_id, now)
            if record is None:
                return False
            if record.status == "active":
                raise KeyStillActive("Deactivate the key before deleting it.")
            if record.status == "expired":
                self._log_expired(conn, user_id, key_id, now)
            conn.execute("DELETE FROM keys WHERE id = ? AND user_id = ?", (key_id, user_id))
            self._log(conn, user_id, key_id, record.label, "deleted", {"redacted": record.redacted},
                      "session", now)
            return True

    def rotate_key(self, user_id: str, key_id: str, *, grace_seconds: int, label: str | None,
                   max_keys: int, max_lifetime_days: int | None, default_lifetime_days: int | None,
                   idempotency_claim: IdempotencyClaim | None = None,
                   ) -> tuple[KeyRecord, str, KeyRecord] | None:
        """Replace a key by a new one; returns (new key, its one-time secret, the old key now).

        One transaction: the check that the key was not rotated yet and the link to its
        successor land together, so a key never gets two successors. The new key takes
        the old label (or ``label``) and the old lifetime length (capped by the policy);
        the old key expires after ``grace_seconds`` (never later than it already would),
        or is deactivated at once for a grace of 0. None if no such key.
        """
        now_dt = self.now()
        now = format_ts(now_dt) or ""
        with self._tx() as conn:
            old = self._get(conn, user_id, key_id, now)
            if old is None:
                return None
            # A successor that was deleted since no longer counts: rotating again is the way out.
            if old.replaced_by is not None and self._get(conn, user_id, old.replaced_by, now) is not None:
                raise KeyAlreadyRotated(old.replaced_by)
            if old.status != "active":
                raise KeyInactive(f"This key is {old.status}; only an active key can be rotated "
                                  "(create a new key instead).", old.status)
            lifetime: timedelta | None = None
            if old.expires_at is not None:
                old_expiry = parse_ts(old.expires_at)
                old_created = parse_ts(old.created_at)
                if old_expiry is not None and old_created is not None:
                    lifetime = max(timedelta(days=1), old_expiry - old_created)
            elif max_lifetime_days is not None:
                lifetime = timedelta(days=default_lifetime_days or max_lifetime_days)
            if lifetime is not None and max_lifetime_days is not None:
                lifetime = min(lifetime, timedelta(days=max_lifetime_days))
            new_expiry = format_ts(now_dt + lifetime) if lifetime is not None else None
            new_label = label if label is not None else old.label
            new, secret = self._insert_key(conn, user_id, new_label, max_keys, now, new_expiry, key_id)
            if grace_seconds == 0:
                conn.execute("UPDATE keys SET replaced_by = ?, status = 'deactivated', deactivated_at = ?"
                             " WHERE id = ?", (new.id, now, key_id))
            else:
                grace_end = format_ts(now_dt + timedelta(seconds=grace_seconds)) or ""
                if old.expires_at is not None and old.expires_at < grace_end:
                    grace_end = old.expires_at
                conn.execute("UPDATE keys SET replaced_by = ?, expires_at = ?, expiry_logged = 0"
                             " WHERE id = ?", (new.id, grace_end, key_id))
            self._log(conn, user_id, key_id, old.label, "rotated",
                      {"to": new.id, "grace_seconds": grace_seconds}, "session", now)
            if grace_seconds == 0:
                self._log(conn, user_id, key_id, old.label, "deactivated", {"reason": "rotated"},
                          "session", now)
            self._log(conn, user_id, new.id, new_label, "rotated", {"from": key_id, "expires_at": new_expiry},
                      "session", now)
            if idempotency_claim is not None:
                idempotency.remember(conn, user_id, idempotency_claim, new.id)
            after = self._get(conn, user_id, key_id, now)
            assert after is not None
            return new, secret, after

    # -- events -----------------------------------------------------------------

    def _log_expired(self, conn: sqlite3.Connection, user_id: str, key_id: str, now: str) -> None:
        """The ``expired`` event of one key, if its expiry passed and was not logged yet."""
        row = conn.execute(
            "SELECT label, expires_at FROM keys WHERE id = ? AND user_id = ? AND status = 'active'"
            " AND expires_at IS NOT NULL AND expires_at <= ? AND expiry_logged = 0", (key_id, user_id, now)
        ).fetchone()
        if row is not None:
            self._log(conn, user_id, key_id, row[0], "expired", {"expires_at": row[1]}, "hub", row[1])
            conn.execute("UPDATE keys SET expiry_logged = 1 WHERE id = ?", (key_id,))

    def log_expirations(self) -> int:
        """Write the ``expired`` event of every key whose expiry has passed (once each), and drop
        events older than the retention period. Cheap when there is nothing to do (an index
        holds only keys whose expiry was not logged yet); returns how many keys expired."""
        now = self._now_ts()
        due = self._query(
            "SELECT id, user_id FROM keys WHERE expires_at IS NOT NULL AND expiry_logged = 0"
            " AND expires_at <= ?", (now,))
        if due:
            with self._tx() as conn:
                for key_id, user_id in due:
                    self._log_expired(conn, user_id, key_id, now)
        day = now[:10]
        if day != self._last_prune:  # at most once a day (by the hub's clock)
            self._last_prune = day
            cutoff = format_ts(self.now() - timedelta(days=self.event_retention_days)) or ""
            with self._tx() as conn:
                conn.execute("DELETE FROM key_events WHERE at < ?", (cutoff,))
        return len(due)

    def events(self, user_id: str, *, key_id: str | None = None, limit: int = 50,
               before: int | None = None) -> list[dict[str, Any]]:
        """The account's (or one key's) events, newest first, at most ``limit``, with ids below
        ``before``. The cursor is the event id (never reused), so events recorded while a
        reader pages never shift the pages it has not read yet."""
        self.log_expirations()
        sql = "SELECT id, at, key_id, key_label, kind, detail, actor FROM key_events WHERE user_id = ?"
        params: list[Any] = [user_id]
        if key_id is not None:
            sql += " AND key_id = ?"
            params.append(key_id)
        if before is not None:
            sql += " AND id < ?"
            params.append(before)
        sql += " ORDER BY id DESC LIMIT ?"
        params.append(limit)
        return [_event_json(row) for row in self._query(sql, params)]

    def key_has_events(self, user_id: str, key_id: str) -> bool:
        """Whether the account has any history for this key id (a deleted key keeps its events)."""
        return bool(self._query("SELECT 1 FROM key_events WHERE user_id = ? AND key_id = ? LIMIT 1",
                                (user_id, key_id)))

    # -- authentication and use ----------------------------------------------------

    def authenticate_key(self, secret: str) -> KeyIdentity | None:
        """The owner and record of an *active*, unexpired key with this secret, or None. Never cached."""
        rows = self._query(_SELECT_IDENTITY, {"hash": hash_secret(secret), "now": self._now_ts()})
        if not rows:
            return None
        row = rows[0]
        return KeyIdentity(user=_user(row[_KEY_FIELDS:]), key=KeyRecord(*row[:_KEY_FIELDS]))

    def authenticate_key_nowait(self, secret: str) -> KeyIdentity | None:
        """authenticate_key on the calling thread's own read connection, without the store lock,
        answered from a small cache of recent *successful* lookups when nothing can have changed.

        Why: the MCP gate checks the key of every request on the event loop. Handing
        the ~50 us lookup to a worker thread cost more than the lookup (and than the
        rest of the gate) and kept authenticated MCP throughput well under the no-auth
        figure (benchmarks/, docs/performance.md). Without the store lock, the loop
        never waits behind a long write or list query; in WAL mode a reader does not
        wait for writers, and each SELECT here is its own read transaction.

        The cache (issue 15: auth was ~0.2 ms of hub CPU per call over the no-auth hub)
        never outlives a change: an entry is used only while (1) no write transaction of
        this store has committed since it was filled (``_tx`` bumps a generation before it
        returns: deactivate, delete, expiry change, rotate, rename, user changes, usage
        stamps), (2) SQLite's ``data_version`` of this read connection is unchanged, i.e. no
        other connection or process committed to the file either, and (3) the key's
        ``expires_at`` is still ahead of the hub's clock, compared on every hit. So a
        deactivated, deleted or expired key is refused on its very next request, cached or
        not (tests/hub/test_hub_mcp_key_cache.py, over real HTTP). Failed lookups are never
        cached.
        """
        secret_hash = hash_secret(secret)
        reader, cache = self._reader()
        generation = self._generation
        version = _data_version(reader)
        hit = self._cache_hit(cache, secret_hash, generation, version)
        if hit is not None:
            return hit
        params = {"hash": secret_hash, "now": self._now_ts()}
        rows = reader.execute(_SELECT_IDENTITY, params).fetchall()
        if not rows:
            cache.pop(secret_hash, None)
            return None
        row = rows[0]
        identity = KeyIdentity(user=_user(row[_KEY_FIELDS:]), key=KeyRecord(*row[:_KEY_FIELDS]))
        if len(cache) >= _KEY_CACHE_MAX:
            cache.clear()  # stale entries are dropped here too; refilled by the next lookups
        cache[secret_hash] = _CachedIdentity(identity, generation, version, parse_ts(identity.key.expires_at))
        return identity

    def cached_key_identity(self, secret: str) -> KeyIdentity | None:
        """What authenticate_key_nowait would answer, if it can answer from its cache; else None.

        Lets the gate skip even the key's format check for a key it has just accepted
        (the cache holds only keys the hub issued, so their format is right).
        """
        reader, cache = self._reader()
        generation = self._generation
        version = _data_version(reader)
        return self._cache_hit(cache, hash_secret(secret), generation, version)

    def _cache_hit(self, cache: dict[str, _CachedIdentity], secret_hash: str, generation: int,
                   version: int) -> KeyIdentity | None:
        hit = cache.get(secret_hash)
        if (hit is not None and hit.generation == generation and hit.data_version == version
                and (hit.expires is None or self.clock() < hit.expires)):
            # expires_at is whole seconds, so "clock < expires" is exactly the query's
            # "expires_at > now (to the second)".
            self.key_cache_hits += 1
            return hit.identity
        return None

    def _reader(self) -> tuple[sqlite3.Connection, dict[str, _CachedIdentity]]:
        """This thread's read connection (opened on first use) and its key cache."""
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
            self._readers.cache = {}
        return reader, self._readers.cache

    def _use_events_allowed(self, conn: sqlite3.Connection, user_id: str, key_id: str) -> bool:
        """False once this key has MAX_USE_EVENTS_PER_DAY use events in the last 24 h (hub's clock).

        Reads at most that many of the key's newest use events (the per-key index, newest first).
        """
        row = conn.execute(
            "SELECT at FROM key_events WHERE user_id = ? AND key_id = ? AND kind IN (?, ?)"
            " ORDER BY id DESC LIMIT 1 OFFSET ?",
            (user_id, key_id, *USE_EVENT_KINDS, MAX_USE_EVENTS_PER_DAY - 1),
        ).fetchone()
        return row is None or row[0] <= format_ts(self.clock() - timedelta(days=1))

    def record_key_use(self, key_id: str, client: str | None, ip: str | None) -> None:
        """Stamp last_used_* and the address list; a use without client info keeps the last known client.

        The first use by a client name and the first use from an address not among the
        last five are events (actor "hub").
        """
        now = self._now_ts()
        with self._tx() as conn:
            row = conn.execute("SELECT user_id, label, last_used_ips, clients_seen FROM keys WHERE id = ?",
                               (key_id,)).fetchone()
            if row is None:
                return
            user_id, label, ips_text, clients_text = row
            ips = _ips(ips_text)
            seen = _string_list(clients_text)
            if ip is not None:
                if all(e.get("ip") != ip for e in ips) and self._use_events_allowed(conn, user_id, key_id):
                    self._log(conn, user_id, key_id, label, "new_address", {"ip": ip}, "hub", now)
                ips = [{"ip": ip, "at": now}, *(e for e in ips if e.get("ip") != ip)][:MAX_LAST_USED_IPS]
            if client is not None and _client_name(client) not in {_client_name(c) for c in seen}:
                if self._use_events_allowed(conn, user_id, key_id):
                    self._log(conn, user_id, key_id, label, "first_use_by_client", {"client": client}, "hub",
                              now)
                seen = [*seen, client][-MAX_CLIENTS_SEEN:]
            conn.execute(
                "UPDATE keys SET last_used_at = ?, last_used_client = COALESCE(?, last_used_client),"
                " last_used_ip = ?, last_used_ips = ?, clients_seen = ? WHERE id = ?",
                (now, client, ip, json.dumps(ips), json.dumps(seen, ensure_ascii=False), key_id),
            )


def _data_version(reader: sqlite3.Connection) -> int:
    """Changes when another connection (of this process or another) has committed to the file."""
    return reader.execute("PRAGMA data_version").fetchone()[0]


def _client_name(description: str) -> str:
    """``"Cursor"`` from ``"Cursor 1.7.2"``: a client's update is not a first use by a new client."""
    name, _, version = description.rpartition(" ")
    return name if name and version[:1].isdigit() else description


def _string_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


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
