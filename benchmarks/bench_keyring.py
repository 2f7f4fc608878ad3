"""A keyring backend for the app processes the harness starts (never used by the product).

The cold-start figure runs the real app signed in to the benchmark's hub, the
way a user who signed in yesterday starts it: the token comes from the keyring.
This backend reads a JSON file (mode 0600, in the run's temp dir, named by
``PHHUB_BENCH_KEYRING_FILE``) holding the throw-away benchmark account's token.
It is selected with ``PYTHON_KEYRING_BACKEND=benchmarks.bench_keyring.BenchKeyring``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import keyring.errors
from keyring.backend import KeyringBackend

ENV_FILE = "PHHUB_BENCH_KEYRING_FILE"


class BenchKeyring(KeyringBackend):
    # Stands in for the OS keyring of a signed-in user, so it ranks like one (the app refuses
    # backends below priority 1, api/credentials.py); not viable, so keyring's own detection
    # never chooses it: it is used only when named in PYTHON_KEYRING_BACKEND.
    priority = 5  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]

    def _path(self) -> Path:
        name = os.environ.get(ENV_FILE)
        if not name:
            raise keyring.errors.InitError(f"set {ENV_FILE}")
        return Path(name)

    def _read(self) -> dict[str, dict[str, str]]:
        try:
            return json.loads(self._path().read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._read().get(service, {}).get(username)

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._read()
        data.setdefault(service, {})[username] = password
        path = self._path()
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out)

    def delete_password(self, service: str, username: str) -> None:
        data = self._read()
        if data.get(service, {}).pop(username, None) is None:
            raise keyring.errors.PasswordDeleteError("no such password")
        path = self._path()
        path.write_text(json.dumps(data), encoding="utf-8")
