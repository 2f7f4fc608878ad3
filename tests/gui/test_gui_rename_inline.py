"""Rename errors keep the editor open with the typed text and show the rule next to the cell
(issue 12 item 6). Real key and mouse events on the real window against the real hub."""

from __future__ import annotations

from fixtures_gui import refresh_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit

from phhub_keys.api.client import HubClient
from phhub_keys.core.keyformat import generate_key
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import ManageKeysWindow

TIMEOUT = 10_000


def open_editor_with_f2(qtbot, window: ManageKeysWindow, key_id: str) -> QLineEdit:
    table = window.table
    table.setFocus()
    table.setCurrentIndex(window.index_for_key(key_id, Col.LABEL))
    qtbot.keyClick(table, Qt.Key.Key_F2)
    editor = table.findChild(QLineEdit, "labelEditor")
    assert editor is not None and editor.isVisible()
    return editor


def shown_editor(window: ManageKeysWindow) -> QLineEdit | None:
    """The label editor on screen (a closed one may linger until deleted)."""
    editors = [e for e in window.table.findChildren(QLineEdit, "labelEditor") if e.isVisible()]
    return editors[0] if editors else None


def retype(qtbot, editor: QLineEdit, text: str) -> None:
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClick(editor, Qt.Key.Key_Backspace)
    qtbot.keyClicks(editor, text)


def test_enter_on_a_refused_label_keeps_the_editor_and_text_with_the_rule_beside_the_cell(
        qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    window = manage_window
    key = probe.create_key("Build server").key
    refresh_until(qtbot, window, 1)
    calls_before = len(window.client().calls)
    editor = open_editor_with_f2(qtbot, window, key.id)
    retype(qtbot, editor, "   ")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    hint = window.table.label_delegate.hint_for(editor)
    assert editor.isVisible() and editor.text() == "   "
    assert hint is not None and hint.isVisible() and "label" in hint.text().lower()
    cell = window.table.visualRect(window.index_for_key(key.id, Col.LABEL))
    assert abs(hint.geometry().top() - cell.bottom()) <= 4  # right under the cell, not by the filter
    assert hint.geometry().left() == cell.left()
    # Typing on: the rule goes away once the text is fine, and Enter saves it.
    qtbot.keyClick(editor, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(editor, "CI runner")
    assert not hint.isVisible()
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT, check_params_cb=lambda t, ok: ok):
        qtbot.keyClick(editor, Qt.Key.Key_Return)
    assert [k.label for k in probe.list_keys()] == ["CI runner"]
    assert [c.method for c in list(window.client().calls)[calls_before:]] == ["PATCH"]  # one rename


def test_clicking_away_from_a_refused_label_brings_the_editor_back_with_the_text(
        qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    window = manage_window
    first = probe.create_key("First").key
    probe.create_key("Second")
    refresh_until(qtbot, window, 2)
    editor = open_editor_with_f2(qtbot, window, first.id)
    secret_shaped = generate_key()  # a pasted key: refused by the 'secret' rule
    retype(qtbot, editor, f"my key {secret_shaped}")
    other = window.table.visualRect(window.model.index(1 - window.model.row_of(first.id), Col.KEY))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=other.center())
    qtbot.waitUntil(lambda: (e := shown_editor(window)) is not None and e is not editor, timeout=TIMEOUT)
    editor = shown_editor(window)
    assert editor is not None and editor.text() == f"my key {secret_shaped}"
    hint = window.table.label_delegate.hint_for(editor)
    assert hint is not None and hint.isVisible()
    assert window.table.currentIndex() == window.index_for_key(first.id, Col.LABEL)
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    QApplication.processEvents()
    assert [k.label for k in probe.list_keys()] and "First" in [k.label for k in probe.list_keys()]
    assert hint.isHidden() or not hint.isVisible()
