"""The last key list the hub sent, kept so the window can paint it at once on the next start.

Why: a cold start spends most of its time importing ``requests`` and ``keyring`` and asking
the hub; a returning user can see their list (marked as being refreshed, actions disabled)
before any of that (docs/performance.md). The hub stays the truth: its answer replaces the
saved list as soon as it arrives.

Privacy rules (docs/security.md, tested in tests/core/test_key_list_cache.py):
- only non-secret fields are written: id, label, the redacted preview, status, dates and the
  rotation links; never a key, a token, a client name or an address;
- one file per hub + account, named by a hash of both, under the user cache dir, owner-only
  (0600 in a 0700 folder); a file whose recorded hub/account differ is never used;
- signing out deletes that account's file;
- a file older than ``MAX_AGE`` (or unreadable, or of another version) is ignored and removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .models import McpKey, ModelError
from .paths import cache_dir
from .safefile import write_private_text
from .timestamps import format_ts, parse_ts

VERSION = 1
MAX_AGE = timedelta(days=30)
# A bigger account starts on the loading page, as before: while the hub's answer replaces a saved
# list, both lists are in memory, and the allocator keeps that peak (+12 MB at 10,000 keys,
# measured by the harness's memory figure, over its +60 MB target).
MAX_KEYS = 2000
FOLDER = "key-lists"
# The only fields written (all shown in the key table; none is a secret or says who used a key).
FIELDS = ("id", "label", "redacted", "status", "created_at", "last_used_at", "deactivated_at", "expires_at",
          "replaces", "replaced_by")


@dataclass(frozen=True, slots=True)
class SavedList:
    keys: list[McpKey]
    saved_at: datetime


def _identity(hub_url: str, email: str) -> str:
    """A hash of hub + account: recorded in the file (checked on load) and naming it, so
    neither the file's name nor its content says which hub or account it is for."""
    text = f"{hub_url.strip().rstrip('/')}\n{email.strip().casefold()}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def cache_path(hub_url: str, email: str, folder: Path | None = None) -> Path:
    """The file for this hub + account."""
    return (folder or cache_dir() / FOLDER) / f"{_identity(hub_url, email)[:32]}.json"


def save(hub_url: str, email: str, keys: list[McpKey], *, now: datetime | None = None,
         folder: Path | None = None) -> Path:
    """Write the non-secret fields of ``keys`` for this hub + account (0600, atomically); a list
    longer than ``MAX_KEYS`` is not kept (any older file is removed). Returns the file's path."""
    path = cache_path(hub_url, email, folder)
    if len(keys) > MAX_KEYS:
        clear(hub_url, email, folder=folder)
        return path
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        os.chmod(path.parent, 0o700)
    return write_private_text(path, _pieces(_identity(hub_url, email), keys, now or datetime.now(UTC)))


def _pieces(account: str, keys: list[McpKey], now: datetime) -> Iterator[str]:
    """The file's JSON, one key at a time: a whole 10,000-key list as one string (plus a dict per
    key) left the app ~8 MB bigger for good (freed, but kept by the allocator: measured)."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    head = {"version": VERSION, "account": account, "saved_at": format_ts(now)}
    yield encode(head)[:-1] + ',"keys":['
    for n, key in enumerate(keys):
        row = (key.id, key.label, key.redacted, key.status.value, format_ts(key.created_at),
               format_ts(key.last_used_at), format_ts(key.deactivated_at), format_ts(key.expires_at),
               key.replaces, key.replaced_by)
        yield ("," if n else "") + encode(dict(zip(FIELDS, row, strict=True)))
    yield "]}"


def load(hub_url: str, email: str, *, now: datetime | None = None,
         folder: Path | None = None) -> SavedList | None:
    """The saved list of this hub + account, or None (none, stale, unreadable, someone else's)."""
    path = cache_path(hub_url, email, folder)
    try:
        with open(path, encoding="utf-8") as handle:
            body: Any = json.load(handle)
        if (not isinstance(body, dict) or body.get("version") != VERSION
                or body.get("account") != _identity(hub_url, email)):
            raise ValueError("not this account's list")
        saved_at = parse_ts(body.get("saved_at"))
        if saved_at is None or not (now or datetime.now(UTC)) - MAX_AGE <= saved_at:
            raise ValueError("stale")
        rows = body.get("keys")
        if not isinstance(rows, list):
            raise ValueError("no keys")
        keys = [McpKey.from_json({name: row.get(name) for name in FIELDS}) for row in rows]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, ModelError, AttributeError, TypeError):
        clear(hub_url, email, folder=folder)
        return None
    return SavedList(keys, saved_at)


def clear(hub_url: str, email: str, *, folder: Path | None = None) -> None:
    """Forget this hub + account's list (sign-out)."""
    with contextlib.suppress(OSError):
        cache_path(hub_url, email, folder).unlink()
