"""Polish of the window (issue 12 item 16): no blank band above the empty state, the green check
stays green on a selected row, the new key's Copy says "Copied" like the Server URL's.
Real windows against the real hub, real mouse and key events."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication, QLineEdit

from phhub_keys.api.client import HubClient
from phhub_keys.gui import clipboard
from phhub_keys.gui.copy_feedback import COPIED_MS
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import PAGE_EMPTY, ManageKeysWindow
from phhub_keys.gui.theme import accents

TIMEOUT = 10_000


def test_no_blank_band_above_the_empty_state(qtbot, manage_window: ManageKeysWindow) -> None:
    window = manage_window
    assert window.stack.currentIndex() == PAGE_EMPTY
    QApplication.processEvents()
    header_bottom = window.create_button.parentWidget().mapTo(window, QPoint(0, 0)).y() + max(
        w.geometry().bottom() for w in (window.docs_button, window.download_button, window.title_label,
                                        window.subtitle_label))
    stack_top = window.stack.mapTo(window, QPoint(0, 0)).y()
    assert stack_top - header_bottom <= 20, (header_bottom, stack_top)


def _has_colour(image, colour: QColor, tolerance: int = 40) -> bool:
    for y in range(image.height()):
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if (abs(pixel.red() - colour.red()) + abs(pixel.green() - colour.green())
                    + abs(pixel.blue() - colour.blue())) <= tolerance:
                return True
    return False


def test_the_saved_check_stays_green_on_a_selected_row(qtbot, manage_window: ManageKeysWindow,
                                                       probe: HubClient) -> None:
    window = manage_window
    key = probe.create_key("Laptop").key
    window.refresh()
    qtbot.waitUntil(lambda: window.key_count() == 1 and not window.is_busy(), timeout=TIMEOUT)
    table = window.table
    table.setFocus()
    table.setCurrentIndex(window.index_for_key(key.id, Col.LABEL))  # the row is selected
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = next(e for e in table.findChildren(QLineEdit, "labelEditor") if e.isVisible())
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, "Work laptop")
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT, check_params_cb=lambda t, ok: ok):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    index = window.index_for_key(key.id, Col.LABEL)
    assert table.selectionModel().isSelected(index) and window.model.save_state(key.id) == "saved"
    QApplication.processEvents()
    cell = table.viewport().grab(table.visualRect(index)).toImage()
    assert _has_colour(cell, accents(table.palette()).success)


def test_the_new_keys_copy_says_copied_like_the_server_urls(qtbot, manage_window: ManageKeysWindow) -> None:
    window = manage_window
    window.open_create_form()
    qtbot.keyClicks(window.create_form.label_input, "Fresh")
    qtbot.keyClick(window.create_form.label_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    panel = window.new_key_panel
    neighbour = panel.save_button.geometry()
    window.secret_clipboard.clear_after_ms = 0
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert panel.copy_button.text() == "Copied"
    assert panel.save_button.geometry() == neighbour  # the flip moves nothing
    qtbot.mouseClick(window.server_panel.copy_button, Qt.MouseButton.LeftButton)
    assert window.server_panel.copy_button.text() == panel.copy_button.text() == "Copied"
    qtbot.waitUntil(lambda: panel.copy_button.text() == "Copy", timeout=COPIED_MS + 3000)
    clipboard.QGuiApplication.clipboard().clear()
