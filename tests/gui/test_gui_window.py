"""The Manage MCP Keys window driven through its widgets against a real hub on loopback."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest
from fixtures_hub import mcp_call, mcp_post_status
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QClipboard, QFontInfo, QFontMetrics, QGuiApplication
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QLineEdit, QWidget

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import KeyActive
from phhub_keys.core.csvio import key_list_csv, parse_csv_text
from phhub_keys.core.keyformat import is_valid_key, redact
from phhub_keys.gui import clipboard, workers
from phhub_keys.gui.delegates import ActionsDelegate
from phhub_keys.gui.keys_model import Col, Role
from phhub_keys.gui.manage_window import PAGE_EMPTY, PAGE_TABLE, ManageKeysWindow
from phhub_keys.hub.embedded import EmbeddedHub

TIMEOUT = 10_000


# ----------------------------------------------------------------------------- helpers
def wait_idle(qtbot, window: ManageKeysWindow) -> None:
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT)


def child(window: QWidget, cls: type, name: str):
    widget = window.findChild(cls, name)
    assert widget is not None, f"no {cls.__name__} named {name}"
    return widget


def visible(widget: QWidget) -> bool:
    return widget.isVisibleTo(widget.window())


def saved(text: str, ok: bool) -> bool:
    """For waitSignal(window.saveStatusShown): the rename went through (the label clears itself
    after a few seconds, so polling its text could miss it on a busy machine)."""
    return ok and text == "Changes Saved"


def reload(qtbot, window: ManageKeysWindow) -> None:
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        assert window.refresh()


def create_through_form(qtbot, window: ManageKeysWindow, label: str) -> str:
    """Create a key by typing in the form; returns the secret shown in the panel."""
    window.open_create_form()
    field = child(window, QLineEdit, "labelInput")
    field.clear()
    qtbot.keyClicks(field, label)
    qtbot.keyClick(field, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: visible(window.new_key_panel), timeout=TIMEOUT)
    wait_idle(qtbot, window)
    return child(window, QLineEdit, "newKeySecretField").text()


def all_texts(window: QWidget) -> list[str]:
    texts: list[str] = [window.windowTitle()]
    for widget in window.findChildren(QWidget):
        for getter in ("text", "toolTip", "accessibleName", "accessibleDescription", "placeholderText",
                       "statusTip", "whatsThis"):
            value = getattr(widget, getter, None)
            if callable(value):
                try:
                    result = value()
                except TypeError:
                    continue
                if isinstance(result, str):
                    texts.append(result)
        if isinstance(widget, QLineEdit):
            texts.append(widget.displayText())
    return texts


def all_model_data(window: ManageKeysWindow) -> list[str]:
    out: list[str] = []
    for model in (window.model,):
        for r in range(model.rowCount()):
            for c in range(model.columnCount()):
                for role in list(range(0, 16)) + [int(x) for x in Role]:
                    value = model.index(r, c).data(role)
                    out.append(repr(value))
    return out


def action_click(qtbot, window: ManageKeysWindow, key_id: str, action: str) -> None:
    """Click a painted action button with the mouse (through the delegate's editorEvent)."""
    table = window.table
    index = window.index_for_key(key_id, Col.ACTIONS)
    table.scrollTo(index)
    cell = table.visualRect(index)
    rects = dict(ActionsDelegate.button_rects(cell, index.data(Role.ACTIONS), QFontMetrics(table.font())))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rects[action].center())


# ----------------------------------------------------------------------------- create
def test_create_key_shown_once_copy_csv_dismiss(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                                tmp_path: Path) -> None:
    window = manage_window
    form = child(window, QWidget, "createKeyForm")
    assert not visible(form)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert visible(form)
    field = child(window, QLineEdit, "labelInput")
    create = child(window, QAbstractButton, "confirmCreateButton")
    error = child(window, QLabel, "labelError")
    assert QApplication.focusWidget() is field
    assert not create.isEnabled() and not visible(error)  # empty, but no scolding before typing

    qtbot.keyClicks(field, "   ")
    assert not create.isEnabled() and visible(error) and "Enter a label" in error.text()
    field.clear()
    qtbot.keyClicks(field, "bad")
    field.insert("\u202ename")  # QTest can only type ASCII; insert() is an edit like typing
    assert not create.isEnabled() and "direction" in error.text()
    qtbot.keyClick(field, Qt.Key.Key_Return)  # Enter on an invalid label creates nothing
    assert probe.list_keys() == []
    field.clear()
    qtbot.keyClicks(field, "x" * 101)
    assert "at most 100" in error.text()
    field.clear()
    qtbot.keyClicks(field, "OpenAI AgentKit")
    assert create.isEnabled() and not visible(error)

    with qtbot.waitSignal(window.keysChanged, timeout=TIMEOUT) as changed:
        qtbot.mouseClick(create, Qt.MouseButton.LeftButton)
    assert changed.args == [1]
    wait_idle(qtbot, window)
    panel = child(window, QWidget, "newKeyPanel")
    assert visible(panel) and not visible(form)
    assert "New MCP key (shown once)" in child(window, QLabel, "newKeyTitle").text()
    secret_field = child(window, QLineEdit, "newKeySecretField")
    secret = secret_field.text()
    assert is_valid_key(secret) and secret_field.isReadOnly()
    assert QFontInfo(secret_field.font()).fixedPitch()
    (hub_key,) = probe.list_keys()
    assert hub_key.label == "OpenAI AgentKit" and hub_key.redacted == redact(secret)
    assert window.model.rowCount() == 1 and window.model.index(0, Col.KEY).data() == redact(secret)
    assert window.has_unsaved_secret()

    # Copy: the secret plus the password-manager hints
    window.secret_clipboard.clear_after_ms = 0  # cleared explicitly below
    qtbot.mouseClick(child(window, QAbstractButton, "copyNewKeyButton"), Qt.MouseButton.LeftButton)
    board = QGuiApplication.clipboard()
    assert board.text() == secret
    mime = board.mimeData(QClipboard.Mode.Clipboard)
    formats = set(mime.formats())
    assert bytes(mime.data("x-kde-passwordManagerHint")) == b"secret"
    hints = {clipboard.WIN_EXCLUDE, clipboard.WIN_HISTORY, clipboard.WIN_CLOUD, clipboard.MAC_CONCEALED}
    assert hints <= formats
    assert bytes(mime.data(clipboard.WIN_HISTORY)) == b"\0\0\0\0"
    assert not window.has_unsaved_secret()
    assert "Copied" in child(window, QLabel, "newKeyStatus").text()

    # CSV: asks for a path, writes owner-only
    target = tmp_path / "new-key.csv"
    window.rec.save_path = str(target)
    qtbot.mouseClick(child(window, QAbstractButton, "saveNewKeyCsvButton"), Qt.MouseButton.LeftButton)
    assert window.rec.save_prompts and window.rec.save_prompts[-1][1].endswith(".csv")
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
    doc = parse_csv_text(target.read_text(encoding="utf-8"))
    (row,) = doc.rows
    assert doc.kind == "secrets"
    assert (row.label, row.key, row.server_url) == ("OpenAI AgentKit", secret, window.server_url())
    assert row.created_at == hub_key.created_at

    # Dismiss: nothing but the redacted preview remains
    qtbot.mouseClick(child(window, QAbstractButton, "dismissNewKeyButton"), Qt.MouseButton.LeftButton)
    assert window.rec.confirms == []  # copied and saved: no question
    assert not visible(panel)
    assert secret_field.text() == "" and not secret_field.isUndoAvailable()
    board.clear()
    assert not any(secret in t for t in all_texts(window))
    assert not any(secret in t for t in all_model_data(window))
    assert any(redact(secret) in t for t in all_model_data(window))
    assert window._new_key is None and not window.has_unsaved_secret()


def test_secret_field_ctrl_c_goes_through_the_safe_copy(qtbot, manage_window: ManageKeysWindow) -> None:
    secret = create_through_form(qtbot, manage_window, "ctrl c")
    field = child(manage_window, QLineEdit, "newKeySecretField")
    QGuiApplication.clipboard().clear()
    field.selectAll()
    qtbot.keyClick(field, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    mime = QGuiApplication.clipboard().mimeData()
    assert QGuiApplication.clipboard().text() == secret
    assert bytes(mime.data("x-kde-passwordManagerHint")) == b"secret"
    QGuiApplication.clipboard().clear()


def test_clipboard_is_cleared_only_if_it_still_holds_the_secret(qtbot, manage_window) -> None:
    window = manage_window
    secret = create_through_form(qtbot, window, "clear me")
    window.secret_clipboard.clear_after_ms = 300
    board = QGuiApplication.clipboard()
    with qtbot.waitSignal(window.secret_clipboard.cleared, timeout=5000):
        window.copy_new_key()
        assert board.text() == secret
    assert board.text() == ""
    # someone copies something else meanwhile: that is left alone
    window.copy_new_key()
    board.setText("my own text")
    qtbot.waitUntil(lambda: not window.secret_clipboard.clear_pending, timeout=5000)
    assert board.text() == "my own text"
    board.clear()


def test_close_and_refresh_with_unsaved_secret_ask_first(qtbot, manage_window: ManageKeysWindow) -> None:
    window = manage_window
    secret = create_through_form(qtbot, window, "unsaved")
    rec = window.rec
    rec.answers = [False]
    assert not window.refresh()
    assert "Refresh" in rec.confirms[-1][0] and "never be shown again" in rec.confirms[-1][1]
    assert child(window, QLineEdit, "newKeySecretField").text() == secret
    rec.answers = [False]
    window.close()
    assert window.isVisible() and "Close" in rec.confirms[-1][0]
    assert window.has_unsaved_secret()
    rec.answers = [True]
    window.close()
    assert not window.isVisible()
    assert not any(secret in t for t in all_texts(window))
    assert window._new_key is None


def test_dismiss_unsaved_asks_and_refresh_clears_copied_secret(qtbot, manage_window) -> None:
    window = manage_window
    secret = create_through_form(qtbot, window, "dismiss me")
    window.rec.answers = [False]
    qtbot.mouseClick(child(window, QAbstractButton, "dismissNewKeyButton"), Qt.MouseButton.LeftButton)
    assert visible(window.new_key_panel) and len(window.rec.confirms) == 1
    window.secret_clipboard.clear_after_ms = 0
    window.copy_new_key()
    QGuiApplication.clipboard().clear()
    reload(qtbot, window)  # copied: refresh does not ask, and forgets the secret
    assert len(window.rec.confirms) == 1
    assert not visible(window.new_key_panel)
    assert not any(secret in t for t in all_texts(window) + all_model_data(window))


def test_failed_create_keeps_the_label_and_retry_returns_the_same_key(
    qtbot, tmp_path: Path, window_recorder, make_user
) -> None:
    hub = EmbeddedHub(tmp_path / "flaky.db").start()
    try:
        assert hub.store is not None
        hub.store.add_user("flaky@example.org", "flaky-password-1", name="Flaky")
        client = HubClient(hub.url, timeout=5.0, get_retries=0)
        client.login("flaky@example.org", "flaky-password-1")
        window = ManageKeysWindow(client, account_text="flaky@example.org")
        window_recorder(window)
        qtbot.addWidget(window)
        with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
            window.show()
        port = hub.port
        hub.stop()
        window.open_create_form()
        qtbot.keyClicks(child(window, QLineEdit, "labelInput"), "Survives outages")
        qtbot.keyClick(child(window, QLineEdit, "labelInput"), Qt.Key.Key_Return)
        banner = child(window, QWidget, "errorBanner")
        qtbot.waitUntil(lambda: visible(banner), timeout=TIMEOUT)
        assert "Can't reach the hub" in child(window, QLabel, "errorMessage").text()
        assert visible(window.create_form)
        assert child(window, QLineEdit, "labelInput").text() == "Survives outages"
        assert child(window, QAbstractButton, "confirmCreateButton").isEnabled()

        hub = EmbeddedHub(tmp_path / "flaky.db", port=port).start()
        with qtbot.waitSignal(window.keysChanged, timeout=TIMEOUT):
            qtbot.mouseClick(child(window, QAbstractButton, "retryButton"), Qt.MouseButton.LeftButton)
        wait_idle(qtbot, window)
        assert not visible(banner)
        secret = child(window, QLineEdit, "newKeySecretField").text()
        keys = client.list_keys()
        assert [k.redacted for k in keys] == [redact(secret)]
        window.discard_secret()
        window.close()
    finally:
        workers.wait_idle()
        hub.stop()


# ----------------------------------------------------------------------------- rename
def test_rename_in_place_persists_and_says_changes_saved(qtbot, manage_window: ManageKeysWindow,
                                                         probe: HubClient) -> None:
    window = manage_window
    key = probe.create_key("Old name").key
    reload(qtbot, window)
    table = window.table
    index = window.index_for_key(key.id, Col.LABEL)
    table.setCurrentIndex(index)
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = table.findChild(QLineEdit, "labelEditor")
    assert editor is not None and editor.text() == "Old name"
    editor.selectAll()
    qtbot.keyClicks(editor, "  New name  ")
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT, check_params_cb=saved):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert window.save_status_text() == "Changes Saved"
    assert window.model.save_state(key.id) == "saved"
    assert window.index_for_key(key.id, Col.LABEL).data() == "New name"
    assert [k.label for k in probe.list_keys()] == ["New name"]
    # the green check goes away again
    qtbot.waitUntil(lambda: window.model.save_state(key.id) is None, timeout=TIMEOUT)


def test_invalid_rename_is_refused_with_the_rule_and_old_label_kept(
    qtbot, manage_window: ManageKeysWindow, probe: HubClient
) -> None:
    window = manage_window
    key = probe.create_key("Keep me").key
    reload(qtbot, window)
    calls_before = len(window.client().calls)
    table = window.table
    index = window.index_for_key(key.id, Col.LABEL)
    table.edit(index)
    editor = table.findChild(QLineEdit, "labelEditor")
    assert editor is not None
    editor.setText("tab\tinside")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # held back: the rule shows under the cell, the editor stays
    hint = table.label_delegate.hint_for(editor)
    assert hint is not None and hint.isVisible() and "control character" in hint.text()
    assert editor.isVisible() and editor.text() == "tab\tinside"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: table.findChild(QLineEdit, "labelEditor") is None)
    assert window.index_for_key(key.id, Col.LABEL).data() == "Keep me"
    assert not window.rename_key(key.id, "   ")
    assert "Enter a label" in window.save_status_text()
    wait_idle(qtbot, window)
    assert [c.method for c in list(window.client().calls)[calls_before:]] == []  # nothing sent
    assert [k.label for k in probe.list_keys()] == ["Keep me"]


# ----------------------------------------------------------------------------- lifecycle
def test_deactivate_blocks_mcp_and_reactivate_restores(qtbot, manage_window, hub: EmbeddedHub,
                                                       probe: HubClient) -> None:
    window = manage_window
    created = probe.create_key("MCP client")
    secret = created.secret
    reload(qtbot, window)
    headers = {"Authorization": f"Bearer {secret}"}
    assert mcp_post_status(hub.url, headers).status_code == 200

    # mouse click on the painted Deactivate button
    action_click(qtbot, window, created.key.id, "deactivate")
    qtbot.waitUntil(lambda: window.index_for_key(created.key.id, Col.STATUS).data() == "Deactivated",
                    timeout=TIMEOUT)
    assert mcp_post_status(hub.url, headers).status_code == 401
    assert probe.list_keys()[0].status.value == "deactivated"
    assert window.index_for_key(created.key.id, Col.ACTIONS).data(Role.ACTIONS) == ("reactivate", "delete")

    # keyboard: Space on the Actions cell runs the primary action (Reactivate)
    table = window.table
    table.setCurrentIndex(window.index_for_key(created.key.id, Col.ACTIONS))
    table.setFocus()
    qtbot.keyClick(table, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.index_for_key(created.key.id, Col.STATUS).data() == "Active",
                    timeout=TIMEOUT)
    assert mcp_post_status(hub.url, headers).status_code == 200
    assert window.rec.confirms == []


def test_delete_only_when_deactivated_and_after_confirmation(qtbot, manage_window: ManageKeysWindow,
                                                             probe: HubClient) -> None:
    window = manage_window
    key = probe.create_key("Doomed key").key
    reload(qtbot, window)
    assert "delete" not in window.index_for_key(key.id, Col.ACTIONS).data(Role.ACTIONS)
    assert not window.trigger_action(0, "delete")
    assert window.rec.confirms == []
    assert "Deactivate" in window.save_status_text()
    with pytest.raises(KeyActive):
        probe.delete_key(key.id)  # the hub refuses too

    with qtbot.waitSignal(window.table.model().dataChanged, timeout=TIMEOUT):
        assert window.trigger_action(0, "deactivate")
    wait_idle(qtbot, window)
    table = window.table
    table.setCurrentIndex(window.index_for_key(key.id, Col.LABEL))
    table.setFocus()
    window.rec.answers = [False]
    qtbot.keyClick(table, Qt.Key.Key_Delete)
    title, text = window.rec.confirms[-1]
    assert "Delete" in title
    assert "Doomed key" in text and key.redacted in text and "cannot be undone" in text
    wait_idle(qtbot, window)
    assert window.model.rowCount() == 1 and len(probe.list_keys()) == 1

    window.rec.answers = [True]
    with qtbot.waitSignal(window.keysChanged, timeout=TIMEOUT) as changed:
        action_click(qtbot, window, key.id, "delete")
    assert changed.args == [0]
    assert probe.list_keys() == []
    assert window.stack.currentIndex() == PAGE_EMPTY
    assert not visible(window.server_panel)
    assert not child(window, QAbstractButton, "downloadCsvButton").isEnabled()


# ----------------------------------------------------------------------------- header & panels
def test_view_docs_with_no_browser_says_so_with_the_link_to_copy(qtbot, manage_window: ManageKeysWindow,
                                                                  probe: HubClient) -> None:
    """QDesktopServices.openUrl returns False with no browser: the click must not just do nothing."""
    from PySide6.QtWidgets import QMessageBox, QPushButton

    window = manage_window
    docs_url = probe.mcp_config().docs_url
    window.open_url = lambda url: False
    qtbot.mouseClick(child(window, QAbstractButton, "viewDocsButton"), Qt.MouseButton.LeftButton)
    box = window.findChild(QMessageBox, "linkFallbackBox")
    assert box is not None and box.isVisible()
    assert "documentation did not open" in box.text() and "no web browser" in box.text()
    assert box.informativeText() == docs_url
    QGuiApplication.clipboard().clear()
    qtbot.mouseClick(box.findChild(QPushButton, "copyLinkButton"), Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == docs_url
    qtbot.waitUntil(lambda: window.findChild(QMessageBox, "linkFallbackBox") is None, timeout=3000)


def test_server_panel_empty_state_and_docs(qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    window = manage_window
    config = probe.mcp_config()
    panel = child(window, QWidget, "serverConfigPanel")
    assert window.stack.currentIndex() == PAGE_EMPTY and not visible(panel)
    assert not child(window, QAbstractButton, "downloadCsvButton").isEnabled()
    empty_button = child(window, QAbstractButton, "keysEmptyStateButton")
    qtbot.mouseClick(empty_button, Qt.MouseButton.LeftButton)
    assert visible(window.create_form)
    qtbot.keyClick(child(window, QLineEdit, "labelInput"), Qt.Key.Key_Escape)
    assert not visible(window.create_form)

    qtbot.mouseClick(child(window, QAbstractButton, "viewDocsButton"), Qt.MouseButton.LeftButton)
    assert window.rec.urls == [config.docs_url]

    create_through_form(qtbot, window, "first key")
    assert visible(panel) and window.stack.currentIndex() == PAGE_TABLE
    url_field = child(window, QLineEdit, "serverUrlField")
    assert url_field.text() == config.server_url and url_field.isReadOnly()
    copy = child(window, QAbstractButton, "copyServerUrlButton")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == config.server_url
    assert copy.text() == "Copied"
    qtbot.waitUntil(lambda: copy.text() == "Copy", timeout=5000)
    assert "Active" in child(window, QLabel, "apiKeyReminder").text()
    assert child(window, QAbstractButton, "downloadCsvButton").isEnabled()
    window.discard_secret()


def test_download_csv_writes_the_key_list(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                          tmp_path: Path) -> None:
    window = manage_window
    probe.create_key("=SUM(A1)")
    second = probe.create_key("Second, with comma").key
    probe.deactivate_key(second.id)
    reload(qtbot, window)
    target = tmp_path / "keys.csv"
    target.write_text("an older export, world-readable\n")
    target.chmod(0o644)
    window.rec.save_path = str(target)
    qtbot.mouseClick(child(window, QAbstractButton, "downloadCsvButton"), Qt.MouseButton.LeftButton)
    text = target.read_bytes().decode("utf-8")
    # Owner-only like `keys export` (one code path, core.csvio.write_key_list_csv), even over a 0644 file.
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    hub_keys = probe.list_keys()
    assert text == key_list_csv(hub_keys)
    assert text.splitlines()[0] == "id,label,key,status,created_at,last_used_at,expires_at,replaces"
    assert "'=SUM(A1)" in text  # spreadsheet formulas are escaped
    doc = parse_csv_text(text)
    assert {(r.label, r.status.value) for r in doc.rows} == {("=SUM(A1)", "active"),
                                                              ("Second, with comma", "deactivated")}


def test_status_bar_filter_sort_and_shortcuts(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                              hub: EmbeddedHub) -> None:
    window = manage_window
    for label in ("al-pha", "Bra-vo", "char-lie"):  # "-" never occurs in a key or status word
        probe.create_key(label)
    reload(qtbot, window)
    status = child(window, QLabel, "accountLabel")
    assert window.client().creds.email in status.text()
    assert hub.url.split("//")[1] in status.text()
    assert window.statusBar().objectName() == "statusBar"

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    filt = child(window, QLineEdit, "keysFilterInput")
    assert QApplication.focusWidget() is filt
    qtbot.keyClicks(filt, "RA-V")
    assert window.model.rowCount() == 1
    assert window.model.index(0, Col.LABEL).data() == "Bra-vo"
    assert "1 of 3" in child(window, QLabel, "keysCountLabel").text()
    qtbot.keyClick(filt, Qt.Key.Key_Escape)
    assert filt.text() == "" and window.model.rowCount() == 3

    header = window.table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=QPoint(header.sectionViewportPosition(Col.LABEL) + 10, header.height() // 2))
    labels = [window.model.index(r, Col.LABEL).data() for r in range(3)]
    assert labels in (["al-pha", "Bra-vo", "char-lie"], ["char-lie", "Bra-vo", "al-pha"])

    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        qtbot.keyClick(window, Qt.Key.Key_F5)


def test_last_used_shows_client_and_address(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                            hub: EmbeddedHub) -> None:
    window = manage_window
    created = probe.create_key("used key")
    mcp_call(hub.url, created.secret, client_name="Cursor", client_version="1.7.2")
    reload(qtbot, window)
    index = window.index_for_key(created.key.id, Col.LAST_USED)
    assert index.data() in ("just now", "1 min ago")
    tip = index.data(Qt.ItemDataRole.ToolTipRole)
    assert "Cursor 1.7.2" in tip and "127.0.0.1" in tip


# ----------------------------------------------------------------------------- failures
def test_hub_down_shows_banner_and_retry_recovers(qtbot, tmp_path: Path, window_recorder) -> None:
    hub = EmbeddedHub(tmp_path / "down.db").start()
    try:
        assert hub.store is not None
        hub.store.add_user("down@example.org", "down-password-1", name="Down")
        client = HubClient(hub.url, timeout=5.0, get_retries=0)
        client.login("down@example.org", "down-password-1")
        client.create_key("survivor")
        port = hub.port
        hub.stop()

        window = ManageKeysWindow(client, account_text="down@example.org")
        window_recorder(window)
        qtbot.addWidget(window)
        window.show()
        banner = child(window, QWidget, "errorBanner")
        qtbot.waitUntil(lambda: visible(banner), timeout=TIMEOUT)
        message = child(window, QLabel, "errorMessage").text()
        assert "Can't reach the hub" in message and str(port) in message and "Retry" in message
        retry = child(window, QAbstractButton, "retryButton")
        assert visible(retry) and retry.text() == "Retry"
        assert not window.is_loaded()

        hub = EmbeddedHub(tmp_path / "down.db", port=port).start()
        with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
            qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
        assert not visible(banner)
        assert window.model.rowCount() == 1 and window.model.index(0, Col.LABEL).data() == "survivor"
        assert window.stack.currentIndex() == PAGE_TABLE
        window.close()
    finally:
        workers.wait_idle()
        hub.stop()


def test_expired_session_asks_to_sign_in_then_finishes_the_action(
    qtbot, manage_window: ManageKeysWindow, probe: HubClient, hub: EmbeddedHub
) -> None:
    window = manage_window
    key = probe.create_key("needs sign-in").key
    reload(qtbot, window)
    creds = window.client().creds
    HubClient(hub.url, token=window.client().token).logout()  # the session is revoked elsewhere

    with qtbot.waitSignal(window.authenticationRequired, timeout=TIMEOUT):
        assert window.trigger_action(0, "deactivate")
    wait_idle(qtbot, window)
    assert visible(window.error_banner)
    assert child(window, QAbstractButton, "retryButton").text() == "Sign in…"
    assert window.model.key_by_id(key.id).is_active  # nothing changed optimistically

    fresh = HubClient(hub.url)
    fresh.login(creds.email, creds.password)
    signed_in_at = len(fresh.calls)
    window.set_client(fresh)
    window.retry_after_sign_in()
    qtbot.waitUntil(lambda: window.index_for_key(key.id, Col.STATUS).data() == "Deactivated", timeout=TIMEOUT)
    assert not visible(window.error_banner)
    check = HubClient(hub.url, token=fresh.token)
    assert check.list_keys()[0].status.value == "deactivated"
    window_calls = list(fresh.calls)[signed_in_at:]
    assert window_calls and all(not c.on_main_thread for c in window_calls)
    fresh.close()
    check.close()


def test_no_hub_call_runs_on_the_gui_thread(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                            tmp_path: Path) -> None:
    window = manage_window
    client = window.client()
    seen: list[threading.Thread] = []
    client.on_request = lambda record: seen.append(threading.current_thread())
    calls_before = len(client.calls)
    secret = create_through_form(qtbot, window, "threads")
    key_id = window.model.key_at(0).id
    window.secret_clipboard.clear_after_ms = 0
    window.copy_new_key()
    QGuiApplication.clipboard().clear()
    reload(qtbot, window)
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT, check_params_cb=saved):
        assert window.rename_key(key_id, "threads renamed")
    assert window.trigger_action(0, "deactivate")
    wait_idle(qtbot, window)
    assert window.trigger_action(0, "reactivate")
    wait_idle(qtbot, window)
    assert window.trigger_action(0, "deactivate")
    wait_idle(qtbot, window)
    assert window.trigger_action(0, "delete")
    wait_idle(qtbot, window)
    records = list(client.calls)[calls_before:]
    methods = {(c.method, c.path.split("/")[-1] if "deactivate" in c.path or "reactivate" in c.path else "")
               for c in records}
    assert {m for m, _ in methods} >= {"GET", "POST", "PATCH", "DELETE"}
    assert len(records) >= 8
    assert all(not c.on_main_thread for c in records), [c for c in records if c.on_main_thread]
    assert seen and all(t is not threading.main_thread() for t in seen)
    assert secret not in repr(records)


def test_dark_palette_renders_without_warnings(qtbot, manage_window, probe: HubClient) -> None:
    from phhub_keys.gui.theme import accents, dark_palette

    window = manage_window
    probe.create_key("dark one")
    reload(qtbot, window)
    app = QApplication.instance()
    old = app.palette()
    try:
        app.setPalette(dark_palette())
        qtbot.waitUntil(lambda: window.palette().color(window.backgroundRole()).lightness() < 128)
        image = window.grab().toImage()
        assert image.width() > 0
        assert accents().active_bg.lightness() < 128
    finally:
        app.setPalette(old)


def test_setup_and_review_entry_points(qtbot, manage_window: ManageKeysWindow) -> None:
    from PySide6.QtWidgets import QDialog

    window = manage_window
    actions = {a.objectName() for a in window.actions()}
    assert {"createKeyAction", "refreshAction", "filterAction", "viewDocsAction", "downloadCsvAction",
            "reviewCsvAction", "setupClientAction"} <= actions
    with qtbot.waitSignal(window.setupRequested):
        window.setup_action.trigger()
    assert window.findChild(QDialog, "SetupDialog") is None  # the controller (connected) opens it
    with qtbot.waitSignal(window.reviewRequested):
        window.review_action.trigger()

    # from the shown-once panel the window opens the dialog itself, with the secret, and closes
    # it again when the secret is dismissed
    secret = create_through_form(qtbot, window, "setup me")
    qtbot.mouseClick(child(window, QAbstractButton, "setupClientButton"), Qt.MouseButton.LeftButton)
    dialog = window.findChild(QDialog, "SetupDialog")
    assert dialog is not None and dialog.isVisible()
    window.secret_clipboard.clear_after_ms = 0
    window.copy_new_key()
    QGuiApplication.clipboard().clear()
    assert window.dismiss_new_key()
    qtbot.waitUntil(lambda: window.findChild(QDialog, "SetupDialog") is None)
    assert not any(secret in t for t in all_texts(window))
