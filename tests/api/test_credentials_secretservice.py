"""CredentialStore against a real Secret Service (gnome-keyring under D-Bus).

Skipped unless PHHUB_SECRET_SERVICE=1. Run headless (no DISPLAY, so a locked
keyring's unlock prompt fails at once instead of waiting for a person):

    env -u DISPLAY -u WAYLAND_DISPLAY HOME="$(mktemp -d)" dbus-run-session -- sh -c \
        'printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null &&
         PHHUB_SECRET_SERVICE=1 .venv/bin/pytest -m secretservice tests/'

(a throwaway HOME gets a fresh login keyring with password "pw" instead of
touching, or failing to unlock, the user's own.)

PHHUB_SECRET_SERVICE_PASSWORD (default "pw") is the login keyring's password,
used to unlock it again after the locked-keyring test.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from phhub_keys.api.credentials import CredentialStore, service_name
from phhub_keys.api.errors import KeyringUnavailable
from phhub_keys.core.keyformat import generate_session_token

pytestmark = [
    pytest.mark.secretservice,
    pytest.mark.skipif(os.environ.get("PHHUB_SECRET_SERVICE") != "1",
                       reason="set PHHUB_SECRET_SERVICE=1 and run under dbus-run-session with gnome-keyring"),
]


@pytest.fixture
def secret_service():  # type: ignore[no-untyped-def]
    from keyring.backends import SecretService

    return SecretService.Keyring()


@pytest.fixture
def hub_url() -> str:
    """A hub URL no other test (or earlier run) uses, so entries never collide."""
    return f"http://127.0.0.1:{40000 + uuid.uuid4().int % 20000}/t{uuid.uuid4().hex[:8]}"


@pytest.fixture
def collection() -> Iterator[object]:
    import secretstorage

    bus = secretstorage.dbus_init()
    yield secretstorage.get_default_collection(bus)
    bus.close()


def _unlock(collection) -> None:  # type: ignore[no-untyped-def]
    """Unlock with the password (gnome-keyring's own interface; no prompt needed)."""
    from secretstorage.util import DBusAddressWrapper, format_secret, open_session

    password = os.environ.get("PHHUB_SECRET_SERVICE_PASSWORD", "pw").encode()
    session = open_session(collection.connection)
    secret = format_secret(session, password, "text/plain")
    interface = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface"
    iface = DBusAddressWrapper("/org/freedesktop/secrets", interface, collection.connection)
    iface.call("UnlockWithMasterPassword", "o(oayays)", collection.collection_path, secret)


def test_save_then_a_new_store_reads_it_back_then_delete(secret_service, hub_url, collection) -> None:  # type: ignore[no-untyped-def]
    token = generate_session_token()
    CredentialStore(secret_service).save(hub_url, "Ada@Example.org", token)
    # New objects, as after an app restart.
    from keyring.backends import SecretService

    fresh = CredentialStore(SecretService.Keyring())
    assert fresh.load(hub_url, "ada@example.org") == token
    items = list(collection.search_items({"service": service_name(hub_url), "username": "ada@example.org"}))
    assert len(items) == 1 and items[0].get_secret().decode() == token
    fresh.delete(hub_url, "ada@example.org")
    assert CredentialStore(SecretService.Keyring()).load(hub_url, "ada@example.org") is None
    assert list(collection.search_items({"service": service_name(hub_url)})) == []
    fresh.delete(hub_url, "ada@example.org")  # already gone: fine


def test_entries_are_per_hub_and_account(secret_service, hub_url) -> None:  # type: ignore[no-untyped-def]
    store = CredentialStore(secret_service)
    store.save(hub_url, "a@example.org", "phs_a")
    store.save(hub_url, "b@example.org", "phs_b")
    store.save(hub_url + "x", "a@example.org", "phs_c")
    try:
        assert store.load(hub_url, "a@example.org") == "phs_a"
        assert store.load(hub_url, "b@example.org") == "phs_b"
        assert store.load(hub_url + "x", "a@example.org") == "phs_c"
    finally:
        entries = ((hub_url, "a@example.org"), (hub_url, "b@example.org"), (hub_url + "x", "a@example.org"))
        for url, account in entries:
            store.delete(url, account)


def test_locked_keyring_gives_keyring_unavailable(secret_service, hub_url, collection) -> None:  # type: ignore[no-untyped-def]
    store = CredentialStore(secret_service)
    store.save(hub_url, "a@example.org", "phs_locked_away")
    collection.lock()
    try:
        assert collection.is_locked()
        with pytest.raises(KeyringUnavailable) as info:
            store.load(hub_url, "a@example.org")
        assert info.value.reason == "locked"
        assert "locked" in str(info.value) and "continue without remembering" in str(info.value)
        with pytest.raises(KeyringUnavailable):
            store.save(hub_url, "a@example.org", "phs_other")
    finally:
        _unlock(collection)
    assert not collection.is_locked()
    assert store.load(hub_url, "a@example.org") == "phs_locked_away"
    store.delete(hub_url, "a@example.org")


def test_missing_secret_service_gives_keyring_unavailable(monkeypatch: pytest.MonkeyPatch,
                                                          tmp_path: Path) -> None:
    from keyring.backends import SecretService

    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", f"unix:path={tmp_path}/gone")
    with pytest.raises(KeyringUnavailable) as info:
        CredentialStore(SecretService.Keyring()).save("http://127.0.0.1:1", "a@example.org", "phs_x")
    assert info.value.reason == "missing"


def test_with_nothing_configured_the_secret_service_is_found_without_keyrings_search(hub_url) -> None:  # type: ignore[no-untyped-def]
    """docs/performance.md (cold start, hub-confirmed list): with no PYTHON_KEYRING_BACKEND and no
    keyringrc.cfg the Secret Service is asked directly; keyring's search (entry points of every
    installed distribution, every backend imported and probed) is not made, and the token
    saved that way is the one keyring's own choice reads."""
    import json
    import subprocess
    import sys
    import tempfile

    token = generate_session_token()
    with tempfile.TemporaryDirectory() as config:
        env = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
        env["XDG_CONFIG_HOME"] = config
        env.pop("XDG_CURRENT_DESKTOP", None)
        code = (
            "import json, sys\n"
            "import keyring.backend\n"
            "searched = []\n"
            "real = keyring.backend.get_all_keyring\n"
            "keyring.backend.get_all_keyring = lambda: searched.append(1) or real()\n"
            "from phhub_keys.api.credentials import CredentialStore\n"
            "store = CredentialStore()\n"
            f"store.save({hub_url!r}, 'quick@example.org', {token!r})\n"
            "print(json.dumps([type(store.backend).__module__, bool(searched)]))\n"
        )
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=60)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == ["keyring.backends.SecretService", False]
        # keyring's own search, in another process, finds the same store and the same entry.
        searching = code.replace("store.save(", "print(store.load(").replace(f", {token!r})", "))")
        done = subprocess.run([sys.executable, "-c", "import keyring; keyring.get_keyring()\n" + searching],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines()[0] == token
    from keyring.backends import SecretService

    CredentialStore(SecretService.Keyring()).delete(hub_url, "quick@example.org")
