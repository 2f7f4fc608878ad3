"""The saved key list (issue 15 item 2): what the window paints at once on the next start.

Privacy and staleness rules (docs/security.md): non-secret fields only, owner-only file per hub +
account, never shown to another account or hub, cleared on sign-out (app and CLI), ignored when
stale; the hub's answer replaces it, and nothing can be done to a saved row before that answer.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta

import pytest
from fixtures_hub import find_plaintext_secrets
from test_gui_app import remembered_session, wait_window
from test_scripting import cli, cli_env  # noqa: F401  (cli_env: a fixture)

from phhub_keys.api.client import HubClient
from phhub_keys.core import key_list_cache
from phhub_keys.core.models import McpKey


def _keys_with_everything(hub_url: str, creds) -> tuple[HubClient, list[McpKey], list[str]]:  # type: ignore[no-untyped-def]
    """Real keys of a real hub, one used by a named client from an address (fields never saved)."""
    client = HubClient(hub_url)
    client.login(creds.email, creds.password)
    secrets = [client.create_key(f"saved {i}").secret for i in range(3)]
    from fixtures_hub import mcp_call

    mcp_call(hub_url, secrets[0], client_name="Secret Client Name", client_version="9.9")
    return client, client.list_keys(), secrets


def test_only_non_secret_fields_are_saved_owner_only(hub, make_user, tmp_path):
    creds = make_user()
    client, keys, secrets = _keys_with_everything(hub.url, creds)
    assert any(k.last_used_client for k in keys)  # the hub knows who used it: the file must not
    path = key_list_cache.save(hub.url, creds.email, keys, folder=tmp_path / "lists")
    data = path.read_bytes()
    assert find_plaintext_secrets(data) == []
    for secret in [*secrets, client.token]:
        assert secret not in data.decode()
    assert b"Secret Client Name" not in data and b"127.0.0.1" not in data  # nor the hub, nor who
    assert creds.email.encode() not in data
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
    assert creds.email not in path.name and "127.0.0.1" not in path.name
    saved = key_list_cache.load(hub.url, creds.email, folder=tmp_path / "lists")
    assert saved is not None
    assert [(k.id, k.label, k.redacted, k.status) for k in saved.keys] == [
        (k.id, k.label, k.redacted, k.status) for k in keys]
    assert all(k.last_used_client is None and k.last_used_ip is None for k in saved.keys)


def test_a_list_is_never_shown_to_another_account_or_hub_and_goes_stale(tmp_path):
    folder = tmp_path / "lists"
    key = McpKey.from_json({"id": "mk_1", "label": "a", "redacted": "phk_abcd…wxyz", "status": "active",
                            "created_at": "2026-11-01T00:00:00Z"})
    key_list_cache.save("https://hub.example.org", "a@example.org", [key], folder=folder)
    assert key_list_cache.load("https://hub.example.org", "b@example.org", folder=folder) is None
    assert key_list_cache.load("https://other.example.org", "a@example.org", folder=folder) is None
    assert key_list_cache.load("https://hub.example.org", "A@Example.org", folder=folder) is not None
    # A's file put in B's place (copied, renamed): the account recorded inside decides.
    a_path = key_list_cache.cache_path("https://hub.example.org", "a@example.org", folder)
    b_path = key_list_cache.cache_path("https://hub.example.org", "b@example.org", folder)
    b_path.write_bytes(a_path.read_bytes())
    assert key_list_cache.load("https://hub.example.org", "b@example.org", folder=folder) is None
    assert not b_path.exists()
    # Older than 30 days: ignored and removed.
    old = datetime.now(UTC) - timedelta(days=31)
    key_list_cache.save("https://hub.example.org", "a@example.org", [key], now=old, folder=folder)
    assert key_list_cache.load("https://hub.example.org", "a@example.org", folder=folder) is None
    assert not a_path.exists()
    # Unreadable: ignored and removed.
    a_path.write_text("{not json", encoding="utf-8")
    assert key_list_cache.load("https://hub.example.org", "a@example.org", folder=folder) is None
    assert not a_path.exists()


def test_the_next_start_paints_the_saved_list_at_once_then_the_hubs_answer_replaces_it(
        qtbot, hub, make_user, mem_credentials, app_settings, make_controller):
    creds = make_user()
    client = remembered_session(hub, creds, mem_credentials, app_settings)
    kept = client.create_key("kept")
    gone = client.create_key("deleted after the first start")
    first = make_controller(settings=app_settings, credentials=mem_credentials)
    first.start()
    wait_window(qtbot, first)
    path = key_list_cache.cache_path(hub.url, creds.email)
    qtbot.waitUntil(path.exists, timeout=10000)
    first.shutdown()
    # Between the two starts the hub changes: one key deleted, one new.
    client.deactivate_key(gone.key.id)
    client.delete_key(gone.key.id)
    new = client.create_key("made elsewhere")

    second = make_controller(settings=app_settings, credentials=mem_credentials)
    second.start()
    window = second.window  # painted from the saved list before any answer (no event processed yet)
    assert window is not None and window.is_showing_saved_list() and window.isVisible()
    assert {k.id for k in list(window.model.keys())} == {kept.key.id, gone.key.id}
    assert all(window.model.is_busy(k.id) for k in list(window.model.keys()))
    assert not window.create_button.isEnabled() and not window.download_button.isEnabled()
    assert "refreshing" in window.statusBar().currentMessage()
    assert window.trigger_action_for_key(kept.key.id, "deactivate") is False  # no action on a saved row
    qtbot.waitUntil(window.is_loaded, timeout=10000)
    assert not window.is_showing_saved_list()
    assert {k.id for k in list(window.model.keys())} == {kept.key.id, new.key.id}  # the hub is the truth
    assert not any(window.model.is_busy(k.id) for k in list(window.model.keys()))
    assert window.create_button.isEnabled() and window.download_button.isEnabled()
    saved = json.loads(path.read_text(encoding="utf-8"))
    qtbot.waitUntil(lambda: {k["id"] for k in json.loads(path.read_text(encoding="utf-8"))["keys"]}
                    == {kept.key.id, new.key.id}, timeout=10000)
    assert saved["version"] == key_list_cache.VERSION


def test_sign_out_deletes_the_saved_list(qtbot, hub, make_user, mem_credentials, app_settings,
                                        make_controller):
    creds = make_user()
    remembered_session(hub, creds, mem_credentials, app_settings)
    controller = make_controller(settings=app_settings, credentials=mem_credentials, use_tray=True)
    controller.start()
    wait_window(qtbot, controller)
    path = key_list_cache.cache_path(hub.url, creds.email)
    qtbot.waitUntil(path.exists, timeout=10000)
    controller.sign_out()
    assert not path.exists()
    qtbot.waitUntil(lambda: controller.last_sign_out_job.done, timeout=10000)
    assert not path.exists()


def test_signing_in_as_another_account_never_shows_the_saved_list(
        qtbot, hub, make_user, mem_credentials, app_settings, make_controller):
    """A's list was saved, A's token is gone; B signs in: the window with A's rows is closed
    before B's session is used, and B's window shows only B's keys."""
    a, b = make_user(), make_user()
    remembered_session(hub, a, mem_credentials, app_settings)
    first = make_controller(settings=app_settings, credentials=mem_credentials)
    first.start()
    wait_window(qtbot, first)
    qtbot.waitUntil(key_list_cache.cache_path(hub.url, a.email).exists, timeout=10000)
    first.shutdown()
    mem_credentials.delete(hub.url, a.email)
    b_client = HubClient(hub.url)
    b_client.login(b.email, b.password)
    b_key = b_client.create_key("b's key")

    second = make_controller(settings=app_settings, credentials=mem_credentials)
    second.start()
    a_window = second.window
    assert a_window is not None and a_window.is_showing_saved_list()
    qtbot.waitUntil(lambda: second.sign_in_dialog is not None, timeout=5000)
    dialog = second.sign_in_dialog
    dialog.emailInput.setText(b.email)
    qtbot.keyClicks(dialog.passwordInput, b.password)
    dialog.signInButton.click()
    qtbot.waitUntil(lambda: second.window is not a_window, timeout=10000)  # A's rows closed first
    window = wait_window(qtbot, second)
    assert [k.id for k in list(window.model.keys())] == [b_key.key.id]


@pytest.mark.usefixtures("cli_env")
def test_cli_logout_deletes_the_saved_list(hub, make_user):
    creds = make_user()
    assert cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n").code == 0
    key = McpKey.from_json({"id": "mk_1", "label": "a", "redacted": "phk_abcd…wxyz", "status": "active",
                            "created_at": "2026-11-01T00:00:00Z"})
    path = key_list_cache.save(hub.url, creds.email, [key])
    assert cli("logout").code == 0
    assert not path.exists()


def test_a_list_longer_than_the_cap_is_not_kept(tmp_path):
    """Holding a saved and the hub's 10,000-key lists at once cost +12 MB for good (measured):
    such an account starts on the loading page instead."""
    folder = tmp_path / "lists"
    key = McpKey.from_json({"id": "mk_1", "label": "a", "redacted": "phk_abcd…wxyz", "status": "active",
                            "created_at": "2026-11-01T00:00:00Z"})
    path = key_list_cache.save("https://hub.example.org", "a@example.org", [key], folder=folder)
    assert path.exists()
    key_list_cache.save("https://hub.example.org", "a@example.org", [key] * (key_list_cache.MAX_KEYS + 1),
                        folder=folder)
    assert not path.exists()
    assert key_list_cache.load("https://hub.example.org", "a@example.org", folder=folder) is None
