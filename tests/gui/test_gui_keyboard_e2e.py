"""A whole first session by keyboard alone, against the real local hub on loopback.

Sign in, create a key, copy it, dismiss the panel, rename, deactivate, delete, sign out: every
step is a key event (QTest.keyClick / keyClicks) sent to whatever widget has the keyboard focus,
including the app's real confirmation boxes and menus (their nested event loops are answered by
keys too). The test calls no method on a widget to make anything happen; it only reads state to
check what the user would see (and which way to Tab). The one stand-in: offscreen Qt has no window
manager, so when a confirmation box closes nothing re-activates the window below it;
``window_manager_activates`` does what the window manager would (it presses no key and clicks
nothing in the app).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
from fixtures_app import close_controller
from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QMenu, QMessageBox, QWidget

from phhub_keys.api.client import HubClient
from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
from phhub_keys.api.errors import AuthenticationError
from phhub_keys.gui import workers
from phhub_keys.gui.controller import AppController
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.settings import REMOTE, AppSettings

TIMEOUT = 15_000
# Captured at import, before conftest's no_modal_dialogs replaces it: this test answers the real
# boxes by keyboard, so it puts the real exec() back.
REAL_MESSAGE_BOX_EXEC = QMessageBox.exec
ACCEPT_ROLES = (QMessageBox.ButtonRole.YesRole, QMessageBox.ButtonRole.AcceptRole,
                QMessageBox.ButtonRole.DestructiveRole)


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def key(k: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focus(), k, modifier)


def type_text(text: str) -> None:
    QTest.keyClicks(focus(), text)


def tab_to(predicate: Callable[[QWidget], bool], what: str, limit: int = 40) -> QWidget:
    """Press Tab until the focused widget is the one wanted (as a user reads the focus ring)."""
    for _ in range(limit):
        if predicate(focus()):
            return focus()
        key(Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached {what}; last focus: {focus().objectName()}")


def named(name: str) -> Callable[[QWidget], bool]:
    return lambda w: w.objectName() == name


def window_manager_activates(qtbot, window: QWidget) -> None:
    """What a window manager does when the box above a window closes: give the window the focus."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)


def answer_box_with_keys(accept: bool, asked: list[str]) -> None:
    """When the next message box is up, Tab to its accepting (or Cancel) button and press Space."""
    deadline = time.monotonic() + 10

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox) or not box.isActiveWindow():  # keys go to the active window
            if time.monotonic() < deadline:
                QTimer.singleShot(20, answer)
            return
        asked.append(f"{box.windowTitle()}: {box.text()}")

        def wanted(widget: QWidget) -> bool:
            if not isinstance(widget, QAbstractButton) or widget not in box.buttons():
                return False
            return (box.buttonRole(widget) in ACCEPT_ROLES) == accept

        tab_to(wanted, "the answer button", limit=8)
        key(Qt.Key.Key_Space)

    QTimer.singleShot(0, answer)


def choose_in_menu(text: str, chosen: list[str]) -> None:
    """When the next popup menu is open, arrow down to ``text`` and press Enter."""
    deadline = time.monotonic() + 10

    def choose() -> None:
        menu = QApplication.activePopupWidget()
        if not isinstance(menu, QMenu):
            if time.monotonic() < deadline:
                QTimer.singleShot(20, choose)
            return
        for _ in range(len(menu.actions()) + 1):
            QTest.keyClick(menu, Qt.Key.Key_Down)
            active = menu.activeAction()
            if active is not None and active.text() == text:
                chosen.append(text)
                QTest.keyClick(menu, Qt.Key.Key_Return)
                return
        QTest.keyClick(menu, Qt.Key.Key_Escape)

    QTimer.singleShot(0, choose)


@pytest.fixture
def keyboard_app(qtbot, hub, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(QMessageBox, "exec", REAL_MESSAGE_BOX_EXEC)
    settings = AppSettings(tmp_path / "settings.ini", REMOTE)
    credentials = CredentialStore(MemoryKeyring())
    controller = AppController(settings, credentials=credentials, hub_url=hub.url, use_tray=True)
    quits: list[int] = []
    controller.quit_app = lambda: quits.append(1)  # pytest-qt's event loop must keep running
    controller.credentials_store = credentials  # type: ignore[attr-defined]
    yield controller
    close_controller(controller)
    workers.wait_idle()


# Offscreen Qt says so when a popup menu opens (it has no keyboard grab to give): nothing to act on.
@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support grabbing")
def test_a_first_session_by_keyboard_alone(qtbot, keyboard_app: AppController, hub, make_user) -> None:
    controller = keyboard_app
    creds = make_user(name="Keyboard User")
    probe = HubClient(hub.url)
    probe.login(creds.email, creds.password)

    # -- sign in: the dialog opens on the first empty field (Email); Tab to Password; Enter.
    controller.start()
    qtbot.waitUntil(lambda: controller.sign_in_dialog is not None
                    and controller.sign_in_dialog.isActiveWindow(), timeout=TIMEOUT)
    assert focus().objectName() == "emailInput"
    type_text(creds.email)
    key(Qt.Key.Key_Tab)
    assert focus().objectName() == "passwordInput"
    type_text(creds.password)
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=TIMEOUT)
    window = controller.window
    assert controller.signed_in and controller.account_text().startswith(creds.email)
    session_token = controller.client.token
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)

    # -- create: the empty state's Create Key has the focus; Space opens the form, type, Enter.
    qtbot.waitUntil(lambda: focus().objectName() == "keysEmptyStateButton", timeout=TIMEOUT)
    key(Qt.Key.Key_Space)
    assert focus().objectName() == "labelInput"
    type_text("Laptop agent")
    key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    [created] = probe.list_keys()
    assert created.label == "Laptop agent"
    # The new row is selected; the focus waits on the panel's Copy.
    assert window.table.currentIndex().row() == window.model.row_of(created.id)

    # -- copy: Space on the focused Copy button puts the secret on the clipboard.
    assert focus().objectName() == "copyNewKeyButton"
    key(Qt.Key.Key_Space)
    secret = QGuiApplication.clipboard().text()
    assert secret.startswith("phk_") and created.redacted.startswith(secret[:8])
    assert "Copied to the clipboard" in window.new_key_panel.status_label.text()

    # -- dismiss: Tab to Dismiss, Space (copied, so no question); the secret is gone from the window.
    tab_to(named("dismissNewKeyButton"), "Dismiss")
    key(Qt.Key.Key_Space)
    assert not window.new_key_panel.isVisible() and not window.has_unsaved_secret()
    assert secret not in window.new_key_panel.secret_field.text()

    # -- rename: the list has the focus on the new row; F2, type, Enter: "Changes Saved".
    assert focus() is window.table
    key(Qt.Key.Key_Home)
    for _ in range(Col.LABEL):
        key(Qt.Key.Key_Right)
    assert window.table.currentIndex().column() == Col.LABEL
    key(Qt.Key.Key_F2)
    assert focus().objectName() == "labelEditor"
    type_text("Laptop agent (renamed)")
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT,
                          check_params_cb=lambda text, ok: ok and text == "Changes Saved"):
        key(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT)
    assert probe.list_keys()[0].label == "Laptop agent (renamed)"

    # -- deactivate: End to the Actions cell, Space on Deactivate.
    qtbot.waitUntil(lambda: focus() is window.table, timeout=TIMEOUT)
    key(Qt.Key.Key_End)
    assert window.table.focused_action() == "deactivate"
    key(Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: probe.list_keys()[0].status.value == "deactivated" and not window.is_busy(),
                    timeout=TIMEOUT)
    qtbot.waitUntil(lambda: window.table.focused_action() == "reactivate", timeout=TIMEOUT)

    # -- delete: Right to the Delete button, Space; the question is answered Cancel first, then yes.
    key(Qt.Key.Key_Right)
    assert window.table.focused_action() == "delete"
    asked: list[str] = []
    answer_box_with_keys(False, asked)
    key(Qt.Key.Key_Space)
    assert len(asked) == 1 and "Laptop agent (renamed)" in asked[0] and "cannot be undone" in asked[0]
    assert len(probe.list_keys()) == 1
    window_manager_activates(qtbot, window)
    assert focus() is window.table and window.table.focused_action() == "delete"
    answer_box_with_keys(True, asked)
    with qtbot.waitSignal(window.keysChanged, timeout=TIMEOUT):
        key(Qt.Key.Key_Space)
    assert len(asked) == 2 and probe.list_keys() == []
    window_manager_activates(qtbot, window)

    # -- sign out: Tab to More, Space opens its menu, arrow to Sign Out, Enter.
    tab_to(named("moreButton"), "More")
    chosen: list[str] = []
    choose_in_menu("Sign Out", chosen)
    key(Qt.Key.Key_Space)
    assert chosen == ["Sign Out"]
    qtbot.waitUntil(lambda: not controller.signed_in and controller.window is None, timeout=TIMEOUT)
    workers.wait_idle()
    assert controller.credentials_store.load(hub.url, creds.email) is None  # type: ignore[attr-defined]
    with pytest.raises(AuthenticationError):  # the session was revoked on the hub too
        HubClient(hub.url, token=session_token).list_keys()
    probe.close()
