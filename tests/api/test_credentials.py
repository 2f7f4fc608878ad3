"""CredentialStore: the session token in a keyring keyed by hub URL and account;
a clear KeyringUnavailable when no keyring is usable, never a plaintext file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import keyring
import pytest
from keyring.backends import chainer, fail, null
from keyring_backends import BrokenKeyring, FileKeyring, LockedKeyring

from phhub_keys.api.credentials import (
    SERVICE_PREFIX,
    CredentialStore,
    MemoryKeyring,
    keyring_problem,
    service_name,
)
from phhub_keys.api.errors import KeyringUnavailable
from phhub_keys.core.keyformat import generate_session_token

TESTS = Path(__file__).parents[1]  # tests/
HUB = "http://127.0.0.1:8750"


def test_save_load_delete_round_trip() -> None:
    ring = MemoryKeyring()
    store = CredentialStore(ring)
    token = generate_session_token()
    assert store.load(HUB, "ada@example.org") is None
    store.save(HUB, "ada@example.org", token)
    assert store.load(HUB, "ada@example.org") == token
    assert ring.get_password(SERVICE_PREFIX + HUB, "ada@example.org") == token
    # A new store object over the same backend reads it back (the app restarting its objects).
    assert CredentialStore(ring).load(HUB, "ada@example.org") == token
    store.delete(HUB, "ada@example.org")
    assert store.load(HUB, "ada@example.org") is None
    assert len(ring) == 0
    store.delete(HUB, "ada@example.org")  # deleting again is fine


def test_keyed_by_normalised_hub_url_and_account() -> None:
    store = CredentialStore(MemoryKeyring())
    store.save("http://127.0.0.1:8750/", "Ada@Example.org ", "phs_one")
    assert store.load("HTTP://127.0.0.1:8750", "ada@example.org") == "phs_one"
    assert store.load("127.0.0.1:8750", "ADA@EXAMPLE.ORG") == "phs_one"
    store.save("https://hub.example.org", "ada@example.org", "phs_two")
    store.save(HUB, "bob@example.org", "phs_three")
    assert store.load(HUB, "ada@example.org") == "phs_one"
    assert store.load("https://hub.example.org/", "ada@example.org") == "phs_two"
    assert store.load(HUB, "bob@example.org") == "phs_three"
    assert store.load("http://127.0.0.1:8751", "ada@example.org") is None
    store.delete(HUB, "ada@example.org")
    assert store.load("https://hub.example.org", "ada@example.org") == "phs_two"
    assert service_name("https://Hub.Example.org/") == "phhub-keys:https://hub.example.org"
    # A plain-http remote hub (explicitly allowed by the user) still gets its own entry.
    assert service_name("http://hub.lan:8750") == "phhub-keys:http://hub.lan:8750"


def test_bad_arguments() -> None:
    store = CredentialStore(MemoryKeyring())
    with pytest.raises(ValueError):
        store.save(HUB, "ada@example.org", "")
    with pytest.raises(ValueError):
        store.save(HUB, "  ", "phs_x")
    with pytest.raises(ValueError):
        store.load("ftp://x", "ada@example.org")


@pytest.mark.parametrize(
    "backend",
    [null.Keyring(), fail.Keyring(), None],
    ids=["null", "fail", "configured-default"],
)
def test_no_usable_backend_raises_a_clear_error(backend) -> None:  # type: ignore[no-untyped-def]
    store = CredentialStore(backend)  # None: keyring's configured backend (null in tests, see conftest)
    for call in (lambda: store.save(HUB, "a@example.org", "phs_secret"),
                 lambda: store.load(HUB, "a@example.org"),
                 lambda: store.delete(HUB, "a@example.org"),
                 store.check):
        with pytest.raises(KeyringUnavailable) as info:
            call()
        assert info.value.reason == "missing"
        assert "can't be remembered" in str(info.value)
        assert "continue without remembering" in str(info.value)
    assert store.remembers


def test_empty_chainer_is_unusable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [])
    assert keyring_problem(chainer.ChainerBackend()) == "No system keyring was found on this computer"
    with pytest.raises(KeyringUnavailable):
        CredentialStore(chainer.ChainerBackend()).save(HUB, "a@example.org", "phs_x")


def test_locked_keyring() -> None:
    store = CredentialStore(LockedKeyring())
    for call in (lambda: store.save(HUB, "a@example.org", "phs_secret"),
                 lambda: store.load(HUB, "a@example.org"),
                 lambda: store.delete(HUB, "a@example.org")):
        with pytest.raises(KeyringUnavailable) as info:
            call()
        assert info.value.reason == "locked"
        assert str(info.value).startswith("The system keyring is locked. Unlock it")


def test_broken_backend_errors_become_keyring_unavailable() -> None:
    store = CredentialStore(BrokenKeyring())
    with pytest.raises(KeyringUnavailable) as info:
        store.save(HUB, "a@example.org", "phs_very_secret_value")
    assert info.value.reason == "error"
    assert "RuntimeError" in str(info.value)
    assert "phs_very_secret_value" not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_secret_service_without_a_bus_is_reported_missing(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    SecretService = pytest.importorskip("keyring.backends.SecretService")
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/no-bus")
    store = CredentialStore(SecretService.Keyring())
    with pytest.raises(KeyringUnavailable) as info:
        store.save(HUB, "a@example.org", "phs_x")
    assert info.value.reason == "missing"
    assert "is not running" in str(info.value)


def test_failure_never_falls_back_to_a_file(tmp_path: Path) -> None:
    token = generate_session_token()
    home = Path(os.environ["XDG_DATA_HOME"]).parent
    with pytest.raises(KeyringUnavailable):
        CredentialStore().save(HUB, "a@example.org", token)
    for root in (home, Path.cwd()):
        if not root.exists():
            continue
        for path in root.rglob("*"):
            if path.is_file() and ".venv" not in path.parts and ".git" not in path.parts \
                    and path.stat().st_size < 5_000_000:
                assert token.encode() not in path.read_bytes(), path


def test_keyrings_alt_is_not_a_dependency() -> None:
    """keyrings.alt is installed for the tests only (to prove it is refused), never needed to run."""
    project = tomllib.loads((TESTS.parent / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert not any(dep.lower().startswith("keyrings") for dep in project["dependencies"])
    assert any(dep.lower().startswith("keyrings.alt") for dep in project["optional-dependencies"]["test"])
    code = ("import sys\n"
            "from phhub_keys.api.credentials import CredentialStore, MemoryKeyring\n"
            "CredentialStore(MemoryKeyring()).save('http://127.0.0.1:8750', 'a@example.org', 'phs_x')\n"
            "print(sorted(n for n in sys.modules if n.startswith('keyrings')))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip() == "[]", result


def test_memory_keyring_is_never_picked_automatically() -> None:
    assert MemoryKeyring.priority < fail.Keyring.priority
    assert not FileKeyring.viable  # the test stand-in ranks like a system keyring but is never detected
    # In a fresh process with no configured backend and no D-Bus session, importing the
    # credentials module must not make keyring choose the in-memory backend.
    env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent/bus"
    env["PYTHONPATH"] = str(TESTS)
    code = (
        "import keyring_backends, keyring\n"
        "from phhub_keys.api.credentials import CredentialStore, MemoryKeyring\n"
        "from phhub_keys.api.errors import KeyringUnavailable\n"
        "ring = keyring.get_keyring()\n"
        "assert not isinstance(ring, (MemoryKeyring, keyring_backends.FileKeyring)), ring\n"
        "try:\n"
        "    CredentialStore().check()\n"
        "except KeyringUnavailable as exc:\n"
        "    print('unavailable', exc.reason)\n"
        "else:\n"
        "    print('usable', type(ring).__name__)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    if result.stdout.startswith("usable"):
        pytest.skip(f"this machine has a real keyring: {result.stdout.strip()}")
    assert result.stdout.strip() == "unavailable missing"


def test_file_keyring_shares_a_session_with_a_subprocess(tmp_path: Path) -> None:
    path = tmp_path / "keyring.json"
    env = {**os.environ, "PYTHONPATH": str(TESTS), "PYTHON_KEYRING_BACKEND": "keyring_backends.FileKeyring",
           "PHHUB_TEST_KEYRING_FILE": str(path)}
    code = ("from phhub_keys.api.credentials import CredentialStore\n"
            "CredentialStore().save('http://127.0.0.1:8750', 'sub@example.org', 'phs_from_subprocess')\n")
    subprocess.run([sys.executable, "-c", code], env=env, check=True, timeout=60)
    assert CredentialStore(FileKeyring(path)).load(HUB, "sub@example.org") == "phs_from_subprocess"
    assert json.loads(path.read_text()) == {"phhub-keys:" + HUB: {"sub@example.org": "phs_from_subprocess"}}
    assert path.stat().st_mode & 0o777 == 0o600


def test_reprs_show_no_secret() -> None:
    ring = MemoryKeyring()
    store = CredentialStore(ring)
    store.save(HUB, "a@example.org", "phs_topsecret")
    assert "phs_topsecret" not in repr(ring) + repr(store) + str(store)
    assert not store.remembers
    assert keyring.get_keyring() is not ring


def _fresh_process(code: str, **env_changes: str | None) -> str:
    env = {**os.environ, "PYTHONPATH": str(TESTS)}
    for name, value in env_changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_the_quick_choice_steps_aside_for_a_named_backend_kde_or_a_keyring_that_is_not_running(
        tmp_path: Path) -> None:
    from phhub_keys.api.credentials import platform_backend

    assert os.environ.get("PYTHON_KEYRING_BACKEND")  # (set by conftest for every test)
    assert platform_backend("linux", "") is None  # the named backend decides
    no_bus = f"unix:path={tmp_path}/no-bus"
    code = ("from phhub_keys.api.credentials import platform_backend\n"
            "print(platform_backend('linux', ''), platform_backend('linux', 'KDE'),"
            " platform_backend('darwin', ''), platform_backend('win32', ''))\n")
    # No Secret Service on this bus, not macOS, not Windows: keyring's own search decides.
    assert _fresh_process(code, PYTHON_KEYRING_BACKEND=None, DBUS_SESSION_BUS_ADDRESS=no_bus,
                          XDG_CONFIG_HOME=str(tmp_path)) == "None None None None"
    # A keyringrc.cfg naming a backend is the user's choice, kept.
    (tmp_path / "python_keyring").mkdir()
    (tmp_path / "python_keyring" / "keyringrc.cfg").write_text(
        "[backend]\ndefault-keyring=keyring_backends.FileKeyring\n")
    chosen = ("import keyring\nfrom phhub_keys.api.credentials import CredentialStore, platform_backend\n"
              "print(platform_backend('linux', ''), type(CredentialStore().backend).__name__)\n")
    assert _fresh_process(chosen, PYTHON_KEYRING_BACKEND=None, DBUS_SESSION_BUS_ADDRESS=no_bus,
                          XDG_CONFIG_HOME=str(tmp_path)) == "None FileKeyring"


def test_a_backend_set_before_the_first_use_is_kept() -> None:
    code = ("import keyring\nfrom keyring.backends import null\n"
            "from phhub_keys.api.credentials import CredentialStore\n"
            "ring = null.Keyring()\nkeyring.set_keyring(ring)\n"
            "print(CredentialStore().backend is ring)\n")
    assert _fresh_process(code, PYTHON_KEYRING_BACKEND=None) == "True"
