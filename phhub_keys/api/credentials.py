"""The session token in the OS keyring, keyed by hub URL and account.

Why: a session token is a password to the user's key management, so it lives
only where the OS keeps passwords (Secret Service, macOS Keychain, Windows
Credential Locker). When no such keyring is usable, this module says so with
``KeyringUnavailable``; it never falls back to a plaintext file. The app then
offers to continue with ``MemoryKeyring`` ("don't remember me").

"Usable" is stricter than keyring's own choice: keyring happily picks
``keyrings.alt``'s PlaintextKeyring (priority 0.5, a plain file in the data
folder) when it is installed and nothing better runs. Refused are every backend
below priority ``MIN_PRIORITY`` (1: the OS keyrings rank 5 and up), every
file-based backend of ``keyrings.alt`` whatever its priority, and a chainer whose
members are all refused; from a chainer that also holds a real keyring, only the
best real one is used, so a failing keyring can never spill into a file.
"""

from __future__ import annotations

import os
import sys
import threading

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from ..core.net import validate_hub_url
from .errors import KeyringUnavailable

SERVICE_PREFIX = "phhub-keys:"
MIN_PRIORITY = 1.0
# Modules whose backends keep secrets in a file (plain, or encrypted with a password typed on a
# terminal): keyrings.alt.file and .pyfs, and everything built on keyrings.alt.file_base.
_FILE_BACKEND_MODULES = ("keyrings.alt.file", "keyrings.alt.pyfs")

__all__ = ["MIN_PRIORITY", "SERVICE_PREFIX", "CredentialStore", "MemoryKeyring", "keyring_problem",
           "platform_backend", "service_name", "trusted_backend"]


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in this process only: for tests, and for sessions the
    user chose not to remember. Its priority is below the fail backend's, so
    keyring's automatic detection never picks it instead of reporting "no
    keyring"."""

    priority = -0.5

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
    if isinstance(backend, MemoryKeyring):
        return None  # the session the user chose not to remember: memory only, by design
    if isinstance(backend, fail.Keyring):
        return "No system keyring was found on this computer"
    if isinstance(backend, null.Keyring):
        return "The system keyring is turned off (null keyring backend)"
    if isinstance(backend, chainer.ChainerBackend):
        members = _chained(backend)
        if not members:
            return "No system keyring was found on this computer"
        problems = [_refusal(member) for member in members]
        if all(problems):
            return problems[0]
        return None
    return _refusal(backend)


def _chained(backend: chainer.ChainerBackend) -> list[KeyringBackend]:
    try:
        return list(backend.backends)
    except Exception:  # a member failed while being constructed or ranked
        return []


def _refusal(backend: KeyringBackend) -> str | None:
    """Why one (non-chainer) backend is not trusted with a session token, or None."""
    name = type(backend).__name__
    if _is_file_backend(backend):
        where = getattr(backend, "file_path", None)
        place = f" ({where})" if isinstance(where, str) else ""
        return (f"The only keyring available here ({name}, from keyrings.alt) keeps passwords in a "
                f"file{place}, not in a system keyring")
    try:
        # A backend computes its priority by probing its service (e.g. the
        # Secret Service over D-Bus) and raises when that is not running.
        priority = float(type(backend).priority)
    except Exception:
        return f"The system keyring ({backend.name}) is not running"
    if priority < MIN_PRIORITY:
        return (f"The only keyring available here ({name}, priority {priority:g}) is not a system "
                "keyring this app trusts with a session")
    return None


def _is_file_backend(backend: KeyringBackend) -> bool:
    for cls in type(backend).__mro__:
        module = cls.__module__ or ""
        if module.startswith(_FILE_BACKEND_MODULES) or module == "keyrings.alt.file_base":
            return True
    return False


def trusted_backend(backend: KeyringBackend) -> KeyringBackend:
    """The backend to write to: ``backend`` itself, or for a chainer its best trusted member
    (a chainer would try the next member, perhaps a plaintext file, when the first fails)."""
    if isinstance(backend, chainer.ChainerBackend):
        for member in _chained(backend):  # highest priority first
            if _refusal(member) is None:
                return member
    return backend


def platform_backend(platform: str | None = None, desktop: str | None = None) -> KeyringBackend | None:
    """The platform's own keyring when it is running and keyring's search would pick it anyway;
    None when that search must decide.

    Why: keyring's search (``keyring.get_keyring()`` with nothing configured) reads the entry
    points of every installed distribution, imports every backend and probes each one: 50-100 ms
    measured here, on the way to a returning user's hub-confirmed key list (docs/performance.md).
    When neither ``PYTHON_KEYRING_BACKEND`` nor ``keyringrc.cfg`` names a backend, that search
    ends on the platform's store whenever it runs (Secret Service on Linux and the BSDs, the
    Keychain on macOS, the Credential Locker on Windows; a chainer of several ranks them the same
    way, ``trusted_backend``), except on KDE, where KWallet outranks the Secret Service: there,
    and for a third-party backend a user wants, the search or the user's setting decides.
    """
    platform = sys.platform if platform is None else platform
    desktop = os.environ.get("XDG_CURRENT_DESKTOP", "") if desktop is None else desktop
    if os.environ.get("PYTHON_KEYRING_BACKEND") or keyring.core.load_config() is not None:
        return None
    candidate: type[KeyringBackend]
    try:
        if platform == "darwin":
            from keyring.backends.macOS import Keyring as Keychain

            candidate = Keychain
        elif platform == "win32":
            from keyring.backends.Windows import WinVaultKeyring

            candidate = WinVaultKeyring
        elif "KDE" in desktop.split(":"):
            return None
        else:
            from keyring.backends.SecretService import Keyring as SecretService

            candidate = SecretService
        if not candidate.viable or float(candidate.priority) < MIN_PRIORITY:
            return None
        return candidate()
    except Exception:  # an import or a probe failed: the search decides, and explains
        return None


_default_lock = threading.Lock()
_default_chosen = False


def _default_backend() -> KeyringBackend:
    """keyring's backend for this process, chosen once the quick way when possible."""
    global _default_chosen
    with _default_lock:
        if not _default_chosen:
            _default_chosen = True
            # Only when nothing chose one yet (keyring.set_keyring, e.g. by a test, is kept).
            if getattr(keyring.core, "_keyring_backend", ...) is None:
                quick = platform_backend()
                if quick is not None:
                    keyring.set_keyring(quick)
    return keyring.get_keyring()


_CONTINUE = "You can continue without remembering the session (you will sign in again next time)."


def _unavailable(problem: str, reason: str) -> KeyringUnavailable:
    return KeyringUnavailable(f"{problem} {_CONTINUE}", reason=reason, problem=problem)


class CredentialStore:
    """Save, load and delete the session token for (hub URL, account email).

    ``backend`` defaults to keyring's configured backend (the platform's own store found
    without keyring's search when nothing is configured: ``platform_backend``), looked up at
    each call so a test or the app can switch it. Every failure of the keyring becomes
    KeyringUnavailable with a message for the user.
    """

    def __init__(self, backend: KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> KeyringBackend:
        return self._backend if self._backend is not None else _default_backend()

    @property
    def remembers(self) -> bool:
        """False when the store only lives in memory (MemoryKeyring)."""
        return not isinstance(self.backend, MemoryKeyring)

    def check(self) -> KeyringBackend:
        """Return the backend to use, or raise KeyringUnavailable when it cannot be used."""
        backend = self.backend
        problem = keyring_problem(backend)
        if problem:
            raise KeyringUnavailable(f"{problem}, so your session can't be remembered. {_CONTINUE}",
                                     problem=problem)
        return trusted_backend(backend)

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
            raise _unavailable("The system keyring is locked. Unlock it (for example by signing in to your "
                               "desktop session's keyring) and try again.", "locked") from None
        except keyring.errors.KeyringError as exc:
            # The backend's own text is left out: it is not ours to vet for secrets.
            raise _unavailable(f"The system keyring failed ({type(exc).__name__}).", "error") from None
        except Exception as exc:  # e.g. D-Bus errors from a half-working Secret Service
            raise _unavailable(f"The system keyring could not be used ({type(exc).__name__}).",
                               "error") from None

    def __repr__(self) -> str:
        return f"CredentialStore(backend={type(self.backend).__name__})"
