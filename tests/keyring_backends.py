"""Keyring backends for tests only (never used by the product).

``FileKeyring`` keeps passwords in a JSON file named by the environment
variable ``PHHUB_TEST_KEYRING_FILE`` (a temp dir of the test), so a CLI run in a
subprocess and the test that started it share one keyring:

    env = {**os.environ,
           "PYTHONPATH": str(TESTS_DIR),
           "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
           "PHHUB_TEST_KEYRING_FILE": str(tmp_path / "keyring.json")}

Each stands in for a system keyring (Secret Service and the like), so it ranks
like one (priority 5: the app refuses backends below 1, see api/credentials.py),
and says it is not ``viable``, so keyring's own detection never selects it; it is
used only when named in PYTHON_KEYRING_BACKEND or passed explicitly.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.errors
from keyring.backend import KeyringBackend

ENV_FILE = "PHHUB_TEST_KEYRING_FILE"


class _StandIn(KeyringBackend):
    """A test stand-in for a system keyring: ranked like one, never auto-detected."""

    priority = 5  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]


class FileKeyring(_StandIn):
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__()
        # No error here: keyring instantiates every registered backend while
        # detecting, and must not fail because this test-only one is unset.
        chosen = path or os.environ.get(ENV_FILE)
        self.path = Path(chosen) if chosen else None

    def _read(self) -> dict[str, dict[str, str]]:
        if self.path is None:
            raise keyring.errors.InitError(f"set {ENV_FILE} to the test keyring file")
        try:
            return json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def _write(self, data: dict[str, dict[str, str]]) -> None:
        assert self.path is not None
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = password
        self._write(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if data.get(service, {}).pop(username, None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")
        self._write(data)

    def entries(self) -> dict[str, dict[str, str]]:
        """Everything stored, for assertions."""
        return self._read()


class LockedKeyring(_StandIn):
    """Behaves like a Secret Service whose collection the user did not unlock."""

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class BrokenKeyring(_StandIn):
    """A backend whose every call fails with a non-keyring exception (e.g. D-Bus gone)."""

    def get_password(self, service: str, username: str) -> str | None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")

    def delete_password(self, service: str, username: str) -> None:
        raise RuntimeError("org.freedesktop.DBus.Error.ServiceUnknown")
