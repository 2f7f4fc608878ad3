"""``--local``: the reference hub embedded in the app, with an account that signs in by itself.

Why it works this way:
- The database is persistent (``<user data dir>/phhub-keys/local-hub.sqlite3``)
  so keys made while trying the app are still there next time.
- The port is stable (8750) so MCP client configs written against the local
  hub keep working across restarts; when 8750 is taken, any free loopback
  port is used instead (and the app's cached server URL follows).
- The local account gets a random password on first run that is never kept
  anywhere: the app mints its session straight from the hub's store in this
  process and holds the token in memory only. So no password file exists, and
  ``--local`` works on a machine with no keyring at all.
"""

from __future__ import annotations

import getpass
import logging
import os
import secrets
from pathlib import Path

from ..core import paths
from ..core.models import User
from .embedded import EmbeddedHub
from .store import HubStore

DEFAULT_PORT = 8750
LOCAL_EMAIL = "you@local.phhub-keys"
LOCAL_FACILITIES = ("Local Facility",)

log = logging.getLogger(__name__)


def default_db_path() -> Path:
    return paths.local_hub_db_path()


def _display_name() -> str:
    try:
        return getpass.getuser() or "Local user"
    except Exception:  # no login name (containers, odd platforms)
        return "Local user"


def _find_user(store: HubStore, email: str) -> User | None:
    return store.user_by_email(email)


class LocalHub:
    """The embedded hub plus its one local account.

    ``start()`` serves on ``port`` (falling back to a free port when it is
    taken), creates the account on first run (``created_account`` tells), and
    ``new_token()`` mints a session for that account (the app hands it to its HubClient).
    """

    def __init__(self, db_path: Path | str | None = None, *, port: int = DEFAULT_PORT,
                 host: str = "127.0.0.1") -> None:
        self.db_path = Path(db_path) if db_path is not None else default_db_path()
        self.host = host
        self.wanted_port = port
        self.hub: EmbeddedHub | None = None
        self.user: User | None = None
        self.created_account = False
        self.fell_back = False

    def __repr__(self) -> str:
        state = self.url if self.hub is not None else "stopped"
        return f"LocalHub({str(self.db_path)!r}, {state})"

    @property
    def url(self) -> str:
        if self.hub is None:
            raise RuntimeError("the local hub is not running")
        return self.hub.url

    @property
    def email(self) -> str:
        return self.user.email if self.user is not None else LOCAL_EMAIL

    def start(self) -> LocalHub:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        if os.name == "posix":
            os.chmod(self.db_path.parent, 0o700)
        try:
            self.hub = EmbeddedHub(self.db_path, host=self.host, port=self.wanted_port).start()
        except OSError as exc:
            if self.wanted_port == 0:
                raise
            log.info("port %s is taken (%s); using a free port", self.wanted_port, exc.strerror)
            self.hub = EmbeddedHub(self.db_path, host=self.host, port=0).start()
            self.fell_back = True
        try:
            self.user = self._ensure_account()
        except BaseException:
            self.stop()
            raise
        return self

    def _ensure_account(self) -> User:
        store = self._store()
        user = _find_user(store, LOCAL_EMAIL)
        if user is not None:
            return user
        # The password is thrown away on purpose: the app signs in via the store (see module doc).
        user = store.add_user(LOCAL_EMAIL, secrets.token_urlsafe(32), name=_display_name(),
                              facilities=LOCAL_FACILITIES)
        self.created_account = True
        return user

    def _store(self) -> HubStore:
        if self.hub is None or self.hub.store is None:
            raise RuntimeError("the local hub is not running")
        return self.hub.store

    def new_token(self) -> str:
        """A fresh session token for the local account (kept by the caller, in memory only)."""
        if self.user is None or self.hub is None:
            raise RuntimeError("the local hub is not running")
        ttl = self.hub.settings.session_ttl_seconds if self.hub.settings else 7 * 24 * 3600
        token, _expires = self._store().create_session(self.user.id, ttl)
        return token

    def stop(self) -> None:
        if self.hub is not None:
            self.hub.stop()
            self.hub = None

    def __enter__(self) -> LocalHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
