"""The session token never goes to a plaintext-file keyring (issue 10 item 13).

keyring picks ``keyrings.alt``'s PlaintextKeyring (priority 0.5, a plain file in the
data folder) when it is installed and no system keyring runs. keyrings.alt is really
installed for these tests (test extra) and selected the ways a user's machine would:
``PYTHON_KEYRING_BACKEND`` for a real CLI subprocess, ``keyring.set_keyring`` in
process. Every test proves that no file was written.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import chainer
from keyring_backends import FileKeyring
from keyrings.alt.file import EncryptedKeyring, PlaintextKeyring

from phhub_keys.api.credentials import MIN_PRIORITY, CredentialStore, MemoryKeyring, keyring_problem
from phhub_keys.api.errors import KeyringUnavailable
from phhub_keys.gui.signin_dialog import SignInDialog
from phhub_keys.hub.embedded import EmbeddedHub

TESTS = Path(__file__).parents[1]  # tests/
HUB = "http://127.0.0.1:8750"
TOKEN = "phs_" + "t" * 43


def files_under(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


@pytest.fixture
def plaintext(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[PlaintextKeyring]:
    """keyrings.alt's PlaintextKeyring as the process's keyring, its file under tmp_path."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    ring = PlaintextKeyring()
    assert str(tmp_path) in ring.file_path
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_the_plaintext_keyring_is_refused_and_no_file_is_written(plaintext: PlaintextKeyring,
                                                                 tmp_path: Path) -> None:
    assert plaintext.priority < MIN_PRIORITY  # what keyring itself would have used
    store = CredentialStore()  # keyring's configured backend, as the app and CLI use it
    with pytest.raises(KeyringUnavailable) as info:
        store.save(HUB, "ada@example.org", TOKEN)
    error = info.value
    assert error.reason == "missing"
    assert "PlaintextKeyring" in error.message and "keeps passwords in a file" in error.message
    assert plaintext.file_path in error.message  # where it would have gone
    assert "can't be remembered" in error.message and "continue without remembering" in error.message
    with pytest.raises(KeyringUnavailable):
        store.load(HUB, "ada@example.org")  # nor read back (a token an older version left there)
    assert not Path(plaintext.file_path).exists() and files_under(tmp_path / "data") == []


def test_the_encrypted_file_keyring_is_refused_too(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """File-based whatever its priority (it would also ask for a password on the terminal)."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    # Without its __init__, which needs pycryptodome (not installed): refused before any call anyway.
    ring = EncryptedKeyring.__new__(EncryptedKeyring)
    problem = keyring_problem(ring)
    assert problem is not None and "keeps passwords in a file" in problem
    with pytest.raises(KeyringUnavailable):
        CredentialStore(ring).save(HUB, "ada@example.org", TOKEN)
    assert files_under(tmp_path / "data") == []


class _Chain(chainer.ChainerBackend):
    """A chainer over chosen members (keyring's own builds its list from every installed backend)."""

    def __init__(self, members: list[KeyringBackend]) -> None:
        super().__init__()
        self._members = members

    @property
    def backends(self) -> list[KeyringBackend]:  # type: ignore[override]
        return sorted(self._members, key=lambda b: type(b).priority, reverse=True)


def test_a_chainer_of_only_plaintext_files_is_refused(plaintext: PlaintextKeyring, tmp_path: Path) -> None:
    with pytest.raises(KeyringUnavailable) as info:
        CredentialStore(_Chain([plaintext])).save(HUB, "ada@example.org", TOKEN)
    assert "PlaintextKeyring" in info.value.message
    assert files_under(tmp_path / "data") == []


def test_a_chainer_with_a_system_keyring_writes_only_there(plaintext: PlaintextKeyring,
                                                           tmp_path: Path) -> None:
    system = FileKeyring(tmp_path / "system-keyring.json")  # the test stand-in for Secret Service
    store = CredentialStore(_Chain([plaintext, system]))
    store.save(HUB, "ada@example.org", TOKEN)
    assert store.load(HUB, "ada@example.org") == TOKEN
    assert system.entries()  # in the system keyring ...
    assert files_under(tmp_path / "data") == []  # ... and nowhere else


class _LowPriority(KeyringBackend):
    """A backend that is not a file but ranks below every OS keyring (as keyring's own fallbacks)."""

    priority = 0.9  # type: ignore[assignment]
    viable = False  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.written: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        self.written.append(password)

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


def test_backends_below_priority_one_are_refused_our_own_memory_session_is_not() -> None:
    low = _LowPriority()
    with pytest.raises(KeyringUnavailable) as info:
        CredentialStore(low).save(HUB, "ada@example.org", TOKEN)
    assert "priority 0.9" in info.value.message and low.written == []
    memory = MemoryKeyring()  # "continue without remembering": memory only, chosen by the user
    CredentialStore(memory).save(HUB, "ada@example.org", TOKEN)
    assert len(memory) == 1


def test_cli_login_with_the_plaintext_keyring_says_why_and_how_and_leaves_nothing(
    hub: EmbeddedHub, make_user, tmp_path: Path
) -> None:
    """The real command, keyrings.alt chosen by PYTHON_KEYRING_BACKEND as a user's setup would."""
    creds = make_user()
    home = tmp_path / "home"
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
           "HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "XDG_CONFIG_HOME": str(home / "config")}
    env.pop("PHHUB_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "phhub_keys", "login", "--hub", hub.url, "--email", creds.email],
        input=creds.password + "\n", capture_output=True, text=True, timeout=90, env=env,
        cwd=str(TESTS.parent))
    assert result.returncode == 1, result
    assert "PlaintextKeyring" in result.stderr and "keeps passwords in a file" in result.stderr
    assert "login --print-token" in result.stderr and "PHHUB_TOKEN" in result.stderr  # how to go on
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert files_under(home / "data") == []  # no keyring file, nothing in the data folder
    assert not any(b"phs_" in p.read_bytes() for p in files_under(home))
    assert hub.store is not None
    assert hub.store.live_session_count(creds.user_id) == 0  # refused before signing in: no session


def test_sign_in_dialog_says_why_and_offers_the_in_memory_session(
    qtbot, plaintext: PlaintextKeyring, hub: EmbeddedHub, make_user, tmp_path: Path
) -> None:
    creds = make_user()
    dialog = SignInDialog(credentials=CredentialStore())
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.keyringNote.isVisible, timeout=5000)
    note = dialog.keyringNote.text()
    assert "PlaintextKeyring" in note and "keeps passwords in a file" in note
    assert "continue without remembering" in note
    dialog.grab().save(str(tmp_path / "signin-plaintext-keyring.png"))
    dialog.hubUrlInput.setText(hub.url)
    dialog.emailInput.setText(creds.email)
    dialog.passwordInput.setText(creds.password)
    with qtbot.waitSignal(dialog.accepted, timeout=15000):
        dialog.signInButton.click()
    assert dialog.remembered is False and dialog.client is not None
    assert dialog.client.me().email == creds.email  # signed in, for this run only
    assert not Path(plaintext.file_path).exists() and files_under(tmp_path / "data") == []
