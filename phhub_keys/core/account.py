"""The one non-secret account state shared by the window and the CLI (``account.json``).

Why one file: the app and ``phhub-keys login`` used to remember the hub and
email in two places (QSettings and ``cli.json``), so signing in with one left
the other asking again. Now both read and write this JSON file; QSettings keeps
only window geometry and view preferences.

What it holds, per profile (``remote`` = a real hub, ``local`` = the embedded
hub of ``--local``, so trying the local hub never overwrites the real account):
the hub URL, the email, the user's explicit plain-http choice, and the MCP
Server URL last seen from that hub (so the tray can copy it offline). Never a
secret: every value passes ``looks_like_secret`` before it is written, and the
session token lives in the OS keyring (api.credentials) keyed by hub + email.

Qt-free: the CLI reads it without importing Qt. Old values are migrated once,
the first time the file is missing (see ``load``).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from . import paths
from .keyformat import looks_like_secret
from .safefile import write_private_text

REMOTE = "remote"
LOCAL = "local"
PROFILES = (REMOTE, LOCAL)
VERSION = 1

# Reads an older settings file and returns {"hub_url": ..., "email": ..., ...} (may be empty).
LegacyReader = Callable[[Path], Mapping[str, Any]]


class SecretInSettings(ValueError):
    """Raised instead of writing something that looks like a key or token to disk."""


def refuse_secret(name: str, value: object) -> None:
    """The one guard every persisted non-secret setting passes."""
    if isinstance(value, str) and looks_like_secret(value):
        raise SecretInSettings(f"refusing to store a secret-shaped value in the setting {name!r}")


@dataclass
class Account:
    """One profile's remembered account (all strings '' when unknown)."""

    hub_url: str = ""
    email: str = ""
    allow_insecure_http: bool = False
    server_url: str = ""
    server_url_hub: str = ""  # the hub that reported server_url ('' for the local hub)

    @classmethod
    def from_json(cls, data: object) -> Account:
        account = cls()
        if not isinstance(data, dict):
            return account
        for f in fields(cls):
            value = data.get(f.name)
            if isinstance(getattr(account, f.name), bool):
                setattr(account, f.name, value is True)
            elif isinstance(value, str) and not looks_like_secret(value):
                setattr(account, f.name, value)
        return account

    def cached_server_url(self, hub_url: str | None = None) -> str | None:
        """The Server URL last seen; with ``hub_url``, only one that came from that hub."""
        if not self.server_url:
            return None
        if hub_url is not None and self.server_url_hub not in ("", hub_url):
            return None
        return self.server_url


@dataclass
class AccountState:
    """The whole file: one ``Account`` per profile."""

    path: Path
    profiles: dict[str, Account] = field(default_factory=lambda: {p: Account() for p in PROFILES})

    @property
    def remote(self) -> Account:
        return self.profiles[REMOTE]

    @property
    def local(self) -> Account:
        return self.profiles[LOCAL]

    @classmethod
    def load(cls, path: Path | None = None, *, legacy_ini: Path | None = None,
             read_legacy_ini: LegacyReader | None = None) -> AccountState:
        """Read the state; the first time (no file yet) migrate older values once.

        Migration sources, newest file first: the CLI's ``cli.json`` (beside
        ``path``) and the app's QSettings file ``legacy_ini`` read by
        ``read_legacy_ini`` (the caller supplies it: decoding QSettings needs Qt,
        which this module must not import). After a migration the state is
        written, so it never runs again and later edits of the old files are ignored.
        """
        path = Path(path) if path is not None else paths.account_state_path()
        state = cls(path)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            if state._migrate(legacy_ini, read_legacy_ini):
                with contextlib.suppress(OSError):
                    state.save()
            return state
        except OSError:
            return state
        try:
            data = json.loads(raw)
        except ValueError:
            return state  # a damaged file is treated as empty; the next save rewrites it
        if isinstance(data, dict):
            for profile in PROFILES:
                state.profiles[profile] = Account.from_json(data.get(profile))
        return state

    def _migrate(self, legacy_ini: Path | None, read_legacy_ini: LegacyReader | None) -> bool:
        sources: list[tuple[float, Mapping[str, Any]]] = []
        cli_file = self.path.with_name(paths.LEGACY_CLI_FILE)
        with contextlib.suppress(OSError, ValueError):
            data = json.loads(cli_file.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                sources.append((cli_file.stat().st_mtime, data))
        if legacy_ini is not None and read_legacy_ini is not None and legacy_ini.exists():
            with contextlib.suppress(Exception):  # best effort: an unreadable old file migrates nothing
                sources.append((legacy_ini.stat().st_mtime, read_legacy_ini(legacy_ini)))
        found = False
        # Oldest first, so the newest file's values win where both have one.
        for _mtime, data in sorted(sources, key=lambda item: item[0]):
            for profile in PROFILES:
                section = data.get(profile) if isinstance(data.get(profile), dict) else (
                    data if profile == REMOTE and "hub_url" in data else None)
                if not isinstance(section, dict):
                    continue
                old = Account.from_json(section)
                current = self.profiles[profile]
                for f in fields(Account):
                    value = getattr(old, f.name)
                    if value:
                        setattr(current, f.name, value)
                        found = True
        return found

    def save(self) -> None:
        """Write the file atomically, owner-only (it names the account; no secrets in it)."""
        data: dict[str, Any] = {"version": VERSION}
        for profile, account in self.profiles.items():
            values = asdict(account)
            for name, value in values.items():
                refuse_secret(name, value)
            data[profile] = values
        # Owner-only, whatever the umask: whoever can replace this file chooses the hub the next
        # password goes to.
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_private_text(self.path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")

    def update(self, profile: str, **values: Any) -> None:
        """Set some values of one profile and save (refusing secrets before anything is written).

        The file is read again first, so a change the CLI made while the app
        was open (or the other way round) is kept, not overwritten.
        """
        names = {f.name for f in fields(Account)}
        for name, value in values.items():
            if name not in names:
                raise AttributeError(f"no account setting {name!r}")
            refuse_secret(name, value)
        if self.path.exists():
            self.profiles = AccountState.load(self.path).profiles
        account = self.profiles[profile]
        for name, value in values.items():
            setattr(account, name, value)
        self.save()
