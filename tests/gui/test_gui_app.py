"""AppController against real hubs: --local first run, keyring sessions, 401 -> sign-in -> retry, sign-out."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from keyring.backends import null
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from phhub_keys.api.client import HubClient
from phhub_keys.api.credentials import CredentialStore
from phhub_keys.api.errors import AuthenticationError
from phhub_keys.gui.settings import LOCAL, AppSettings, SecretInSettings
from phhub_keys.hub.local import LocalHub


def wait_window(qtbot, controller):
    qtbot.waitUntil(lambda: controller.window is not None, timeout=10000)
    window = controller.window
    qtbot.waitUntil(window.is_loaded, timeout=10000)
    return window


def remembered_session(hub, creds, store: CredentialStore, settings: AppSettings) -> HubClient:
    """What a previous run left behind: hub + email in settings, the token in the keyring."""
    client = HubClient(hub.url)
    client.login(creds.email, creds.password)
    store.save(hub.url, creds.email, client.token)
    settings.hub_url = hub.url
    settings.email = creds.email
    return client


# --------------------------------------------------------------------------- --local


def test_local_first_run_creates_the_account_and_the_keys_persist(qtbot, tmp_path: Path, make_controller):
    db = tmp_path / "local.sqlite3"
    first = LocalHub(db, port=0).start()
    try:
        assert first.created_account
        # No keyring at all on this machine: --local must not need one.
        controller = make_controller(local=first, credentials=CredentialStore(null.Keyring()))
        controller.start()
        window = wait_window(qtbot, controller)
        assert window.isVisible() and window.key_count() == 0
        assert controller.signed_in and first.email in controller.account_text()
        assert "local hub" in controller.account_text()
        window.create_key("made in --local")
        qtbot.waitUntil(lambda: window.key_count() == 1 and not window.is_busy(), timeout=10000)
        assert window.dismiss_new_key()
        server_url = window.server_url()
        assert server_url == f"{first.url}/mcp"
        assert controller.cached_server_url() == server_url
        controller.shutdown()
    finally:
        first.stop()
    assert not db.with_name("local.sqlite3.password").exists()

    second = LocalHub(db, port=0).start()
    try:
        assert not second.created_account and second.user is not None and second.user.email == first.email
        controller = make_controller(local=second, settings=AppSettings(tmp_path / "s2.ini", LOCAL))
        controller.start()
        window = wait_window(qtbot, controller)
        assert window.key_count() == 1
        assert window.model.key_at(0).label == "made in --local"
    finally:
        second.stop()


def test_local_hub_falls_back_to_a_free_port_when_the_default_is_taken(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        local = LocalHub(tmp_path / "local.sqlite3", port=port).start()
        try:
            assert local.fell_back
            assert local.hub is not None and local.hub.port != port
            client = HubClient(local.url, local.new_token())
            assert client.me().email == local.email
        finally:
            local.stop()


def test_local_session_is_minted_without_any_password_file(tmp_path: Path, local_hub):
    token = local_hub.new_token()
    assert token.startswith("phs_")
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    for path in files:
        assert token.encode() not in path.read_bytes(), path


# --------------------------------------------------------------------------- remote: start-up


def test_a_remembered_token_opens_the_window_without_asking(qtbot, hub, make_user, mem_credentials,
                                                           app_settings, make_controller):
    creds = make_user()
    remembered_session(hub, creds, mem_credentials, app_settings)
    controller = make_controller(settings=app_settings, credentials=mem_credentials)
    controller.start()
    window = wait_window(qtbot, controller)
    assert controller.sign_in_dialog is None
    assert controller.signed_in and controller.email == creds.email
    assert creds.email in window.account_label.text()


def test_a_saved_list_paints_before_the_keyring_is_read(qtbot, hub, make_user, mem_credentials,
                                                        app_settings, make_controller):
    """Issue 15 (cold start): with a saved list the window paints it first; the keyring (whose
    import on a worker would take the GIL from that paint) is read only after the first paint,
    and the hub's list then replaces the saved one."""
    from PySide6.QtCore import QEvent, QObject

    from phhub_keys.core import key_list_cache

    creds = make_user()
    client = remembered_session(hub, creds, mem_credentials, app_settings)
    client.create_key("saved at the last start")
    key_list_cache.save(hub.url, creds.email, client.list_keys())
    client.create_key("made since")

    class Paints(QObject):
        count = 0

        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint:
                Paints.count += 1
            return False

    watcher = Paints()
    paints_at_load: list[int] = []
    load = mem_credentials.load

    def recording_load(hub_url: str, email: str) -> str | None:
        paints_at_load.append(Paints.count)
        return load(hub_url, email)

    mem_credentials.load = recording_load  # type: ignore[method-assign]
    controller = make_controller(settings=app_settings, credentials=mem_credentials)
    controller.windowCreated.connect(lambda w: w.table.viewport().installEventFilter(watcher))
    controller.start()
    assert controller.window is not None and controller.window.model.rowCount() == 1  # at once
    assert paints_at_load == []  # not asked before the event loop painted
    window = wait_window(qtbot, controller)
    assert len(paints_at_load) == 1 and paints_at_load[0] >= 1
    listed = window.model.keys()
    assert sorted(k.label for k in listed) == ["made since", "saved at the last start"]
    key_list_cache.clear(hub.url, creds.email)


def test_no_token_shows_sign_in_prefilled_then_the_window(qtbot, hub, make_user, mem_credentials,
                                                          app_settings, make_controller):
    creds = make_user()
    app_settings.hub_url = hub.url
    app_settings.email = creds.email
    controller = make_controller(settings=app_settings, credentials=mem_credentials)
    controller.start()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=5000)
    dialog = controller.sign_in_dialog
    assert dialog.hubUrlInput.text() == hub.url and dialog.emailInput.text() == creds.email
    assert not QApplication.instance().quitOnLastWindowClosed()  # closing the dialog must not quit
    qtbot.keyClicks(dialog.passwordInput, creds.password)
    qtbot.mouseClick(dialog.signInButton, Qt.MouseButton.LeftButton)
    window = wait_window(qtbot, controller)
    assert window.isVisible() and controller.sign_in_dialog is None
    assert mem_credentials.load(hub.url, creds.email) == controller.client.token
    assert QApplication.instance().quitOnLastWindowClosed()  # no tray: the window is the app
    assert controller.rec.quits == 0


def test_hub_override_is_used_for_sign_in(qtbot, hub, app_settings, make_controller):
    app_settings.hub_url = "https://hub.example.org"
    controller = make_controller(settings=app_settings, hub_url=hub.url)
    controller.start()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=5000)
    assert controller.sign_in_dialog.hubUrlInput.text() == hub.url


def test_cancelling_sign_in_with_no_tray_and_no_window_quits(qtbot, app_settings, make_controller):
    controller = make_controller(settings=app_settings)
    controller.start()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=5000)
    controller.sign_in_dialog.reject()
    qtbot.waitUntil(lambda: controller.rec.quits == 1, timeout=5000)


def test_cancelling_sign_in_with_a_tray_keeps_running(qtbot, app_settings, make_controller):
    controller = make_controller(settings=app_settings, use_tray=True)
    controller.start()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=5000)
    controller.sign_in_dialog.reject()
    qtbot.wait(50)
    assert controller.rec.quits == 0 and not controller.signed_in


# --------------------------------------------------------------------------- 401 mid-session


def test_revoked_session_brings_sign_in_back_prefilled_and_the_rename_completes(
        qtbot, hub, make_user, mem_credentials, app_settings, make_controller):
    creds = make_user()
    old = remembered_session(hub, creds, mem_credentials, app_settings)
    key = old.create_key("before").key
    old_token = old.token
    controller = make_controller(settings=app_settings, credentials=mem_credentials)
    controller.start()
    window = wait_window(qtbot, controller)
    assert window.key_count() == 1

    hub.store.revoke_session(old_token)  # as if it expired or was signed out elsewhere
    assert window.rename_key(key.id, "after")
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=10000)
    dialog = controller.sign_in_dialog
    assert dialog.hubUrlInput.text() == hub.url and dialog.emailInput.text() == creds.email
    assert dialog.messageLabel.isVisibleTo(dialog) and "session has ended" in dialog.messageLabel.text()
    assert dialog.focusWidget() is dialog.passwordInput
    qtbot.waitUntil(lambda: mem_credentials.load(hub.url, creds.email) is None, timeout=5000)
    assert not controller.signed_in

    qtbot.keyClicks(dialog.passwordInput, creds.password)
    qtbot.mouseClick(dialog.signInButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: hub.store.get_key(creds.user_id, key.id).label == "after", timeout=10000)
    qtbot.waitUntil(lambda: window.model.key_by_id(key.id).label == "after" and not window.is_busy(),
                    timeout=10000)
    assert controller.signed_in and controller.client.token != old_token
    assert window.client() is controller.client
    assert mem_credentials.load(hub.url, creds.email) == controller.client.token
    assert not window.error_banner.isVisible()
    # Sign-in, list and the retried rename all ran on worker threads, never on the GUI thread.
    calls = list(controller.client.calls)
    assert {(c.method, c.path) for c in calls} >= {("POST", "/auth/login"), ("PATCH", f"/mcp/keys/{key.id}")}
    assert not any(c.on_main_thread for c in calls)


def test_signing_in_as_someone_else_after_401_reloads_instead_of_retrying(
        qtbot, hub, make_user, mem_credentials, app_settings, make_controller):
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    old = remembered_session(hub, alice, mem_credentials, app_settings)
    key = old.create_key("alice's").key
    controller = make_controller(settings=app_settings, credentials=mem_credentials)
    controller.start()
    window = wait_window(qtbot, controller)
    hub.store.revoke_session(old.token)
    window.rename_key(key.id, "renamed by mistake")
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=10000)
    dialog = controller.sign_in_dialog
    dialog.emailInput.setText(bob.email)
    qtbot.keyClicks(dialog.passwordInput, bob.password)
    qtbot.mouseClick(dialog.signInButton, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: controller.signed_in and controller.email == bob.email, timeout=10000)
    qtbot.waitUntil(lambda: window.key_count() == 0 and not window.is_busy(), timeout=10000)
    assert hub.store.get_key(alice.user_id, key.id).label == "alice's"
    assert bob.email in window.account_label.text()


def test_local_mode_signs_in_again_by_itself_after_401(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub)
    controller.start()
    window = wait_window(qtbot, controller)
    local_hub.hub.store.revoke_session(controller.client.token)
    window.create_key("after revoke")
    qtbot.waitUntil(lambda: window.key_count() == 1 and not window.is_busy(), timeout=10000)
    assert controller.sign_in_dialog is None and controller.signed_in
    window.dismiss_new_key()


# --------------------------------------------------------------------------- sign out


def test_sign_out_removes_the_keyring_entry_and_revokes_the_session(
        qtbot, hub, make_user, mem_credentials, app_settings, make_controller):
    creds = make_user()
    old = remembered_session(hub, creds, mem_credentials, app_settings)
    controller = make_controller(settings=app_settings, credentials=mem_credentials, use_tray=True)
    controller.start()
    wait_window(qtbot, controller)
    states = []
    controller.signedInChanged.connect(states.append)
    controller.sign_out()
    assert states == [False] and not controller.signed_in and controller.window is None
    assert controller.account_text() == ""
    qtbot.waitUntil(lambda: mem_credentials.load(hub.url, creds.email) is None, timeout=5000)
    qtbot.waitUntil(lambda: controller.last_sign_out_job.done, timeout=10000)
    with pytest.raises(AuthenticationError):
        old.me()
    # The next sign-in is pre-filled with the account that signed out.
    controller.show_manager()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=5000)
    assert controller.sign_in_dialog.emailInput.text() == creds.email


def test_sign_out_with_an_unsaved_secret_asks_and_can_be_cancelled(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub, use_tray=True)
    controller.start()
    window = wait_window(qtbot, controller)
    window.create_key("unsaved")
    qtbot.waitUntil(window.has_unsaved_secret, timeout=10000)
    controller.rec.answers = [False]
    controller.sign_out()
    assert controller.rec.questions and "lose the new key" in controller.rec.questions[-1][0]
    assert controller.signed_in and controller.window is window and window.has_unsaved_secret()
    controller.rec.answers = [True]
    controller.sign_out()
    assert not controller.signed_in and controller.window is None


# --------------------------------------------------------------------------- windows and messages


def test_closing_the_window_with_a_tray_keeps_running_and_says_so_once(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub, use_tray=True)
    messages = []
    controller.start()
    controller.tray.messageShown.connect(lambda title, text: messages.append(title))
    window = wait_window(qtbot, controller)
    assert not QApplication.instance().quitOnLastWindowClosed()
    window.close()
    assert not window.isVisible() and messages == ["MCP Keys is still running"]
    controller.show_manager()
    assert window.isVisible() and controller.window is window
    window.close()
    assert messages == ["MCP Keys is still running"]  # only once
    assert controller.rec.quits == 0


def test_without_a_tray_the_window_stays_open_and_is_the_app(qtbot, local_hub, make_controller):
    controller = make_controller(local=local_hub, use_tray=None)  # auto: offscreen has no tray
    controller.start()
    window = wait_window(qtbot, controller)
    assert controller.tray is None
    assert window.isVisible()
    assert QApplication.instance().quitOnLastWindowClosed()


def test_forwarded_launch_brings_the_window_forward_or_opens_what_it_asks(qtbot, local_hub, make_controller,
                                                                          monkeypatch):
    controller = make_controller(local=local_hub, use_tray=True)
    controller.start()
    window = wait_window(qtbot, controller)
    window.hide()
    controller.handle_message(["--local"])
    assert window.isVisible()
    opened = []
    monkeypatch.setattr(controller, "open_review", lambda paths=(): opened.append(list(paths)))
    controller.handle_message(["review", "/tmp/a.csv", "/tmp/b.csv"])
    assert opened == [["/tmp/a.csv", "/tmp/b.csv"]]
    controller.handle_message(["--local", "--new-key"])
    assert window.create_form.isVisible()


def test_the_window_review_button_goes_through_the_controller(qtbot, local_hub, make_controller, monkeypatch):
    controller = make_controller(local=local_hub)
    opened = []
    monkeypatch.setattr(controller, "open_review", lambda paths=(): opened.append(tuple(paths)))
    controller.start()
    window = wait_window(qtbot, controller)
    window.request_review()
    assert opened == [()]


def test_settings_never_store_a_secret(app_settings, local_hub):
    token = local_hub.new_token()
    with pytest.raises(SecretInSettings):
        app_settings.email = token
    with pytest.raises(SecretInSettings):
        app_settings.set_cached_server_url("http://127.0.0.1:1/mcp?key=phk_abcdefghijklmnopqrstuvwxyz0123456789")
    assert token not in app_settings.path.read_text(encoding="utf-8") if app_settings.path.exists() else True


def test_window_geometry_is_remembered(qtbot, make_controller, tmp_path):
    settings_path = tmp_path / "geo.ini"
    size: tuple[int, int] = (0, 0)
    for run in range(2):
        local = LocalHub(tmp_path / "geo.sqlite3", port=0).start()
        controller = make_controller(local=local, settings=AppSettings(settings_path, LOCAL))
        controller.start()
        window = wait_window(qtbot, controller)
        if run == 0:  # a size of the user's own, above the minimum (the minimum follows the columns)
            window.resize(window.minimumWidth() + 37, window.minimumHeight() + 41)
            size = (window.width(), window.height())
            assert size[1] == window.minimumHeight() + 41
            window.close()
            assert controller.settings.window_geometry() is not None
        else:
            # The height comes back as left; the width too, within the screen (offscreen's is 800
            # wide, narrower than the window's minimum, so restoring can only give the minimum).
            room = window.screen().availableGeometry().width()
            assert window.height() == size[1]
            assert window.width() == (size[0] if size[0] <= room else window.minimumWidth())
        controller.shutdown()  # also stops its local hub
        assert local.hub is None
