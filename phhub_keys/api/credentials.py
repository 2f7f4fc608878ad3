"""The session token in the OS keyring, keyed by hub URL and account.

Why: a session token is a password to the user's key management, so it lives
only where the OS keeps passwords (Secret Service, macOS Keychain, Windows
Credential Locker). When no such keyring is usable, this module says so with
``KeyringUnavailable``; it never falls back to a plaintext file. The app then
offers to continue with ``MemoryKeyring`` ("don't remember me").
"""

from __future__ import annotations

import threading

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from ..core.net import validate_hub_url
from .errors import KeyringUnavailable

SERVICE_PREFIX = "phhub-keys:"

__all__ = ["SERVICE_PREFIX", "CredentialStore", "MemoryKeyring", "keyring_problem", "service_name"]


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only: for tests, and for sessions the
    user chose not to remember. Its priority is below the fail backend's, so
    keyring's automatic detection never picks it instead of reporting "no
    keyring"."""

    priority = -0.5  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self._items: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            if self._items.pop((service, username), None) is None:
                raise keyring.errors.PasswordDeleteError("no such password")

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __repr__(self) -> str:
        return f"MemoryKeyring({len(self)} item(s))"


def service_name(hub_url: str) -> str:
    """``phhub-keys:<normalised hub base URL>``: one entry per hub and account."""
    return SERVICE_PREFIX + validate_hub_url(hub_url, allow_insecure_http=True)


def _account(email: str) -> str:
    account = (email or "").strip().lower()
    if not account:
        raise ValueError("an account email is needed to store a session")
    return account


def keyring_problem(backend: KeyringBackend) -> str | None:
    """Why ``backend`` cannot keep a secret, or None when it looks usable."""
    if isinstance(backend, fail.Keyring):
        return "No system keyring was found on this computer"
    if isinstance(backend, null.Keyring):
        return "The system keyring is turned off (null keyring backend)"
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return "No system keyring was found on this computer"
    try:
        # A backend computes its priority by probing its service (e.g. the
        # Secret Service over D-Bus) and raises when that is not running.
        type(backend).priority  # noqa: B018
    except Exception:
        return f"The system keyring ({backend.name}) is not running"
    return None


_CONTINUE = "You can continue without remembering the session (you will sign in again next time)."


class CredentialStore:
    """Save, load and delete the session token for (hub URL, account email).

    ``backend`` defaults to keyring's configured backend, looked up at each call
    so a test or the app can switch it. Every failure of the keyring becomes
    KeyringUnavailable with a message for the user.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend if self._backend is not None else keyring.get_keyring()

    @property
    def remembers(self) -> bool:
        """False when the store only lives in memory (MemoryKeyring)."""
        return not isinstance(self.backend, MemoryKeyring)

    def check(self) -> KeyringBackend:
        """Return the backend, or raise KeyringUnavailable when it cannot be used."""
        backend = self.backend
        problem = keyring_problem(backend)
        if problem:
            raise KeyringUnavailable(f"{problem}, so your session can't be remembered. {_CONTINUE}")
        return backend

    def save(self, hub_url: str, email: str, token: str) -> None:
        if not token:
            raise ValueError("refusing to store an empty session token")
        service, account = service_name(hub_url), _account(email)
        backend = self.check()
        self._call(backend.set_password, service, account, token)

    def load(self, hub_url: str, email: str) -> str | None:
        service, account = service_name(hub_url), _account(email)
        backend = self.check()
        return self._call(backend.get_password, service, account) or None

    def delete(self, hub_url: str, email: str) -> None:
        """Forget the token; deleting one that is not there is not an error."""
        service, account = service_name(hub_url), _account(email)
        backend = self.check()
        if self._call(backend.get_password, service, account) is None:
            return
        try:
            self._call(backend.delete_password, service, account)
        except KeyringUnavailable:
            if self._call(backend.get_password, service, account) is not None:
                raise

    def _call(self, fn, *args):  # type: ignore[no-untyped-def]
        try:
            return fn(*args)
        except keyring.errors.KeyringLocked:
            raise KeyringUnavailable(
                f"The system keyring is locked. Unlock it (for example by signing in to your desktop "
                f"session's keyring) and try again. {_CONTINUE}",
                reason="locked",
            ) from None
        except keyring.errors.KeyringError as exc:
            raise KeyringUnavailable(
                # The backend's own text is left out: it is not ours to vet for secrets.
                f"The system keyring failed ({type(exc).__name__}). {_CONTINUE}", reason="error"
            ) from None
        except Exception as exc:  # e.g. D-Bus errors from a half-working Secret Service
            raise KeyringUnavailable(
                f"The system keyring could not be used ({type(exc).__name__}). {_CONTINUE}",
                reason="error",
            ) from None

    def __repr__(self) -> str:
        return f"CredentialStore(backend={type(self.backend).__name__})"
