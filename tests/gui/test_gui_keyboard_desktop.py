"""What a keyboard user hit on a real desktop (Xvfb + openbox, driven by xdotool) that the
pytest-qt suites had not: Enter on a focused button in the main window, the focus ring after the
app moves the focus, F2 from any cell of a row, the shown-once panel of a key just deleted.
Real key events against a real hub on loopback."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyle, QStyleOptionButton, QWidget

from phhub_keys.api.client import HubClient
from phhub_keys.core.models import KeyStatus
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import PAGE_EMPTY, ManageKeysWindow
from phhub_keys.hub.embedded import EmbeddedHub

TIMEOUT = 10_000


@pytest.fixture
def probe(hub: EmbeddedHub, signed_in_client: HubClient) -> HubClient:
    client = HubClient(hub.url, token=signed_in_client.token)
    yield client
    client.close()


def activate(qtbot, window: QWidget) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)


def focus() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None, "nothing has the keyboard focus"
    return widget


def press(key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    QTest.keyClick(focus(), key, modifier)


def ring_drawn(button: QWidget) -> bool:
    """Would the style draw this button's focus ring now? (Fusion and most styles need both flags.)"""
    option = QStyleOptionButton()
    option.initFrom(button)
    wanted = QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_KeyboardFocusChange
    return (option.state & wanted) == wanted


def create_by_keyboard(qtbot, window: ManageKeysWindow, label: str) -> None:
    press(Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(focus(), label)
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.new_key_panel.isVisible() and not window.is_busy(), timeout=TIMEOUT)


def test_enter_presses_the_focused_button_in_the_main_window(qtbot, manage_window: ManageKeysWindow,
                                                             probe: HubClient) -> None:
    """Enter on a focused push or tool button in the main window did nothing (only Space worked)."""
    window = manage_window
    activate(qtbot, window)
    assert window.stack.currentIndex() == PAGE_EMPTY
    assert focus() is window.empty_page.button
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.create_form.isVisible(), timeout=TIMEOUT)
    assert focus() is window.create_form.label_input
    press(Qt.Key.Key_Escape)
    assert not window.create_form.isVisible()

    probe.create_key("made elsewhere")
    window.refresh_button.setFocus(Qt.FocusReason.TabFocusReason)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        press(Qt.Key.Key_Enter)  # the keypad's Enter too: the Refresh tool button lists again
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and window.refresh_button.isEnabled(),
                    timeout=TIMEOUT)
    # Refresh is disabled while it lists (Qt passes the focus on to More): the focus comes back.
    assert focus() is window.refresh_button
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        press(Qt.Key.Key_Space)
    qtbot.waitUntil(window.refresh_button.isEnabled, timeout=TIMEOUT)
    assert focus() is window.refresh_button


def test_the_focus_ring_shows_where_the_app_put_the_focus(qtbot, manage_window: ManageKeysWindow) -> None:
    """After Create the focus is on the secret's Copy, after the last delete on Create Key: both had
    the focus with no ring drawn, because a plain setFocus() clears Qt's keyboard-focus flag."""
    window = manage_window
    activate(qtbot, window)
    create_by_keyboard(qtbot, window, "ring check")
    copy = window.new_key_panel.copy_button
    assert focus() is copy
    assert ring_drawn(copy)

    table = window.table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    index = table.model().index(0, Col.ACTIONS)
    table.setCurrentIndex(index)
    press(Qt.Key.Key_Return)  # Deactivate
    qtbot.waitUntil(lambda: window.model.rowCount() == 1 and table.focused_action() == "reactivate",
                    timeout=TIMEOUT)
    press(Qt.Key.Key_Right)
    assert table.focused_action() == "delete"
    press(Qt.Key.Key_Return)  # Delete (the recorder answers the confirmation yes)
    qtbot.waitUntil(lambda: window.stack.currentIndex() == PAGE_EMPTY, timeout=TIMEOUT)
    button = window.empty_page.button
    assert focus() is button
    assert ring_drawn(button)


def test_deleting_the_key_shown_once_closes_its_panel(qtbot, manage_window: ManageKeysWindow,
                                                      probe: HubClient) -> None:
    """The panel kept offering Copy, CSV and Set up a client for a key that no longer existed."""
    window = manage_window
    probe.create_key("another")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    activate(qtbot, window)
    create_by_keyboard(qtbot, window, "short-lived")
    new_id = next(k.id for k in probe.list_keys() if k.label == "short-lived")
    table = window.table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    table.setCurrentIndex(table.model().index(window.model.row_of(new_id), Col.ACTIONS))
    press(Qt.Key.Key_Return)  # Deactivate
    qtbot.waitUntil(lambda: table.focused_action() == "reactivate", timeout=TIMEOUT)
    assert window.new_key_panel.isVisible()  # deactivating keeps it: the key can come back
    press(Qt.Key.Key_Right)
    press(Qt.Key.Key_Return)  # Delete
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=TIMEOUT)
    assert not window.new_key_panel.isVisible()
    assert not window.has_unsaved_secret()
    assert window.new_key_panel.secret_field.text() == ""
    assert [k.status for k in probe.list_keys()] == [KeyStatus.ACTIVE]


def test_f2_renames_the_row_from_any_cell(qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    """The table says "F2 renames", but from the Actions cell (where a keyboard user mostly is) F2
    did nothing, and the label typed next went to the table's keyboard search."""
    window = manage_window
    probe.create_key("old name")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    activate(qtbot, window)
    table = window.table
    table.setFocus(Qt.FocusReason.TabFocusReason)
    for column in (Col.ACTIONS, Col.KEY):
        table.setCurrentIndex(table.model().index(0, column))
        press(Qt.Key.Key_F2)
        assert table.state() == table.State.EditingState
        assert table.currentIndex().column() == Col.LABEL
        press(Qt.Key.Key_Escape)
    table.setCurrentIndex(table.model().index(0, Col.ACTIONS))
    press(Qt.Key.Key_F2)
    press(Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(focus(), "new name")
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [k.label for k in probe.list_keys()] == ["new name"], timeout=TIMEOUT)


def test_the_setup_dialogs_documentation_link_by_keyboard(qtbot, tmp_path, monkeypatch) -> None:
    """The client page's "Documentation" link was a QLabel no Tab reached (role label, not
    focusable), and with no browser its click failed silently (QLabel's own opener): now Tab
    reaches it, Enter opens it through the dialog, and a failed open says so with the link."""
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from phhub_keys.core import client_setup
    from phhub_keys.gui.setup_dialog import SetupDialog

    monkeypatch.setenv("HOME", str(tmp_path))
    dialog = SetupDialog("http://127.0.0.1:8750/mcp")
    opened: list[str] = []
    dialog.open_url = lambda url: opened.append(url.toString()) or True
    qtbot.addWidget(dialog)
    dialog.show()
    activate(qtbot, dialog)
    tab = dialog.select_client("cursor")
    docs = dialog.findChild(QPushButton, "docs_cursor")
    tab.copy_button.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(8):
        if focus() is docs:
            break
        press(Qt.Key.Key_Tab)
    assert focus() is docs, f"Tab never reached the documentation link (stuck at {focus().objectName()})"
    press(Qt.Key.Key_Return)
    assert opened == [client_setup.CLIENTS["cursor"].docs_url]

    dialog.open_url = lambda url: False  # no browser on this computer
    press(Qt.Key.Key_Return)
    box = dialog.findChild(QMessageBox, "linkFallbackBox")
    assert box is not None and box.isVisible()
    assert "The Cursor documentation did not open" in box.text()
    assert box.informativeText() == client_setup.CLIENTS["cursor"].docs_url
    box.close()
    dialog.close()
    del tab


def test_the_suggested_csv_name_ends_on_a_whole_word(qtbot, manage_window: ManageKeysWindow) -> None:
    """The save box offered 'mcp-key-cursor-on-the-shared-analytics-workstati.csv'."""
    window = manage_window
    activate(qtbot, window)
    create_by_keyboard(qtbot, window, "Cursor on the shared analytics workstation number 104")
    press(Qt.Key.Key_Tab)  # from Copy to CSV
    assert focus() is window.new_key_panel.save_button
    press(Qt.Key.Key_Return)  # pressed as Space would: the click lands a moment later
    qtbot.waitUntil(lambda: len(window.rec.save_prompts) == 1, timeout=TIMEOUT)
    assert window.rec.save_prompts[-1][1] == "mcp-key-cursor-on-the-shared-analytics.csv"
    create_by_keyboard(qtbot, window, "x" * 60)
    press(Qt.Key.Key_Tab)
    press(Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(window.rec.save_prompts) == 2, timeout=TIMEOUT)
    assert window.rec.save_prompts[-1][1] == "mcp-key-" + "x" * 40 + ".csv"


def test_open_csv_by_keyboard_keeps_the_focus_on_open(qtbot, tmp_path, monkeypatch) -> None:
    """Open CSV… is disabled while a file loads, and Qt passed the focus on to the "Only keys that
    need attention" check box for good: the next Enter or Space toggled that instead."""
    from fixtures_gui import shown_review_window
    from PySide6.QtWidgets import QFileDialog
    from review_samples import NOW, key, key_list_csv, write

    path = write(tmp_path / "keys.csv", key_list_csv([key(1, "laptop", used=2), key(2, "ci", used=200)]))
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda *args: ([str(path)], args[-1]))
    window = shown_review_window(qtbot, NOW)
    activate(qtbot, window)
    window.open_button.setFocus(Qt.FocusReason.TabFocusReason)
    for _ in range(2):
        with qtbot.waitSignal(window.loaded, timeout=30_000):
            press(Qt.Key.Key_Return)
        qtbot.waitUntil(window.open_button.isEnabled, timeout=TIMEOUT)
        assert focus() is window.open_button, focus().objectName()
        assert ring_drawn(window.open_button)


@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support grabbing")
def test_the_menu_key_acts_on_the_current_row(qtbot, manage_window: ManageKeysWindow,
                                              probe: HubClient) -> None:
    """On the desktop the Menu key on "Machine 2" opened the row menu of the key below it, and its
    "Where is this key used?" showed "machine 13": Deactivate would have hit the wrong key."""
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QMenu

    window = manage_window
    for label in ("a first", "b second", "c third", "d fourth"):
        probe.create_key(label)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    activate(qtbot, window)
    table = window.table
    table.sortByColumn(Col.LABEL, Qt.SortOrder.AscendingOrder)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    table.setCurrentIndex(table.model().index(0, Col.KEY))
    press(Qt.Key.Key_Down)  # "b second"
    assert table.currentIndex().data() and table.currentIndex().row() == 1
    # The Menu key as QWidgetWindow delivers it (QTest sends no context menu event for it): a
    # keyboard context menu event at the centre of the focus widget's input cursor rectangle.
    pos = table.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle).center()
    event = QContextMenuEvent(QContextMenuEvent.Reason.Keyboard, pos, table.mapToGlobal(pos))
    QApplication.sendEvent(table, event)
    menu = QApplication.activePopupWidget()
    assert isinstance(menu, QMenu)
    deactivate = next(a for a in menu.actions() if a.text() == "Deactivate")
    QTest.keyClick(menu, Qt.Key.Key_Down)
    QTest.keyClick(menu, Qt.Key.Key_Down)
    assert menu.activeAction() is deactivate
    QTest.keyClick(menu, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: any(k.status is KeyStatus.DEACTIVATED for k in probe.list_keys()),
                    timeout=TIMEOUT)
    assert [k.label for k in probe.list_keys() if k.status is KeyStatus.DEACTIVATED] == ["b second"]
