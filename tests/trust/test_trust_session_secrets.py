"""A whole session through the real GUI code, then a search of everything it wrote.

The app and a hub of its own run with every directory they may write to under
this test's temp dir (data, config/QSettings, cache, state, logs). The session
signs in through the sign-in dialog, creates a key, copies it, saves it as CSV,
downloads the key list, renames, deactivates, deletes and signs out. Every
file under the temp dir (the SQLite database, its -wal and -shm, the settings
INI, the log file, anything Qt wrote) and everything printed or logged is then
searched for the secret, the session token and the password: the secret may be
only in the CSV the user chose to save, and that file is mode 0600.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from fixtures_hub import HubLogCapture, add_test_user, find_plaintext_secrets
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.core.keyformat import is_valid_key
from phhub_keys.gui import workers
from phhub_keys.gui.settings import AppSettings
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

WAIT_MS = 15_000


@pytest.fixture
def app_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """Every per-user directory the app and Qt may use, inside tmp_path."""
    dirs = {name: tmp_path / name for name in ("data", "config", "cache", "state", "logs", "chosen")}
    for path in dirs.values():
        path.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(dirs["data"]))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(dirs["config"]))
    monkeypatch.setenv("XDG_CACHE_HOME", str(dirs["cache"]))
    monkeypatch.setenv("XDG_STATE_HOME", str(dirs["state"]))
    return dirs


@pytest.fixture
def everything_logged(app_dirs: dict[str, Path]) -> Iterator[tuple[HubLogCapture, Path]]:
    """All logging at DEBUG (app, hub, uvicorn access log, urllib3), captured and written to a log file."""
    capture = HubLogCapture()
    log_file = app_dirs["logs"] / "session.log"
    file_handler = logging.FileHandler(log_file, encoding="utf-8")
    file_handler.setLevel(logging.DEBUG)
    file_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(capture)
    root.addHandler(file_handler)
    yield capture, log_file
    root.removeHandler(capture)
    root.removeHandler(file_handler)
    file_handler.close()
    root.setLevel(saved)


def _written_files(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_full_gui_session_leaves_secrets_only_in_the_saved_csv(
    qtbot, app_dirs: dict[str, Path], everything_logged, make_controller, capfd, tmp_path: Path
) -> None:
    capture, log_file = everything_logged
    db = app_dirs["data"] / "phhub-keys" / "hub.db"
    db.parent.mkdir()
    hub_settings = HubSettings(password_cost=2**10)
    hub = EmbeddedHub(db, settings=hub_settings, access_log=True, log_level="debug").start()
    secret = token = ""
    try:
        creds = add_test_user(hub)
        settings = AppSettings()  # the default location: under XDG_CONFIG_HOME, i.e. tmp_path
        assert settings.path.is_relative_to(app_dirs["config"])
        settings.hub_url = hub.url
        settings.email = creds.email
        controller = make_controller(settings=settings, credentials=CredentialStore(MemoryKeyring()))

        # Sign in through the dialog, as a person would.
        controller.start()
        qtbot.waitUntil(lambda: controller.sign_in_dialog is not None, timeout=WAIT_MS)
        dialog = controller.sign_in_dialog
        qtbot.keyClicks(dialog.passwordInput, creds.password)
        qtbot.mouseClick(dialog.signInButton, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(),
                        timeout=WAIT_MS)
        window = controller.window
        window.confirm = lambda *_: True
        token = controller.client.token
        assert token and token.startswith("phs_")

        # Create (typed into the form), copy, save the CSV, download the key list.
        window.open_create_form()
        qtbot.keyClicks(window.create_form.label_input, "laptop agent")
        qtbot.keyClick(window.create_form.label_input, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=WAIT_MS)
        secret = window.new_key_panel.secret_field.text()
        assert is_valid_key(secret)
        window.secret_clipboard.clear_after_ms = 200
        window.new_key_panel.copy_button.click()
        assert QGuiApplication.clipboard().text() == secret
        chosen = app_dirs["chosen"] / "my-key.csv"
        window.ask_save_path = lambda *_: str(chosen)
        window.new_key_panel.save_button.click()
        assert chosen.exists()
        key_list = app_dirs["chosen"] / "key-list.csv"
        window.ask_save_path = lambda *_: str(key_list)
        assert window.download_csv() == key_list
        with qtbot.waitSignal(window.secret_clipboard.cleared, timeout=WAIT_MS):
            pass
        assert QGuiApplication.clipboard().text() == ""
        window.dismiss_new_key()

        # Rename, deactivate, delete.
        key_id = window.model.keys()[0].id
        assert window.rename_key(key_id, "renamed agent")
        qtbot.waitUntil(lambda: window.save_status_text() == "Changes Saved", timeout=WAIT_MS)
        assert window.trigger_action_for_key(key_id, "deactivate")
        qtbot.waitUntil(lambda: not window.is_busy() and not window.model.keys()[0].is_active,
                        timeout=WAIT_MS)
        assert window.trigger_action_for_key(key_id, "delete")
        qtbot.waitUntil(lambda: not window.is_busy() and window.key_count() == 0, timeout=WAIT_MS)

        # Sign out: the token is revoked on the hub and forgotten.
        controller.sign_out()
        qtbot.waitUntil(lambda: controller.last_sign_out_job.done, timeout=WAIT_MS)
        workers.wait_idle()
        while_running = _written_files(tmp_path)
        assert any(p.name == "hub.db-wal" for p in while_running)
    finally:
        if controller.sign_in_dialog is not None:
            controller.sign_in_dialog.reject()
        hub.stop()
    after_stop = _written_files(tmp_path)
    out, err = capfd.readouterr()
    logs = capture.text()

    # The capture really saw the session (else "nothing found" would prove nothing).
    assert "created key" in logs and "POST /api/v1/mcp/keys" in logs and "signed in" in logs
    assert log_file.stat().st_size > 0 and settings.path.exists()
    names = {p.name for p in after_stop}
    assert {"hub.db", "settings.ini", "session.log", "my-key.csv", "key-list.csv"} <= names, names

    needles = {"secret": secret, "session token": token, "password": creds.password,
               "secret's hidden middle": secret[8:-6]}
    assert all(needles.values())
    for where, files in (("while the hub ran", while_running), ("after the hub stopped", after_stop)):
        for path, data in files.items():
            if path == chosen:
                continue
            for what, value in needles.items():
                found = value.encode() in data  # (a bool: a failure must not print the secret)
                assert not found, f"{what} found in {path} ({where})"
            assert find_plaintext_secrets(data) == [], f"secret-shaped text in {path} ({where})"
    for where, text in (("logging", logs), ("stdout", out), ("stderr", err)):
        for what, value in needles.items():
            found = value in text
            assert not found, f"{what} found in {where}"
        assert find_plaintext_secrets(text.encode()) == [], where

    # The one place the secret may be: the CSV the user chose to save, readable only by them.
    in_csv = secret.encode() in after_stop[chosen], token.encode() in after_stop[chosen]
    assert in_csv == (True, False)
    assert stat.S_IMODE(os.stat(chosen).st_mode) == 0o600
