"""The Manage MCP Keys window by keyboard: Tab order, the Actions cell's buttons, Ctrl+W / Ctrl+Q,
the new row after Create. Real key events against a real hub on loopback."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QModelIndex, QRect, Qt
from PySide6.QtGui import QAccessible, QAction, QColor, QFontMetrics, QImage, QPalette
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget

from phhub_keys.api.client import HubClient
from phhub_keys.gui.delegates import ActionsDelegate
from phhub_keys.gui.keys_model import Col, Role
from phhub_keys.gui.manage_window import PAGE_EMPTY, PAGE_TABLE, ManageKeysWindow

TIMEOUT = 10_000


def activate(qtbot, window: QWidget) -> None:
    """Keyboard focus needs the active window (offscreen Qt has activation too)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=TIMEOUT)


def reload(qtbot, window: ManageKeysWindow) -> None:
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        QTest.keyClick(window, Qt.Key.Key_F5)


def press(qtbot, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """A key press on whatever has the focus now, as a user's keyboard would deliver it."""
    target = QApplication.focusWidget()
    assert target is not None, "nothing has the keyboard focus"
    QTest.keyClick(target, key, modifier)


def tab_cycle(window: QWidget, start: QWidget) -> list[QWidget]:
    """Every widget Tab visits from ``start`` until it comes back round."""
    start.setFocus(Qt.FocusReason.TabFocusReason)
    seen = [start]
    for _ in range(60):
        QTest.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
        widget = window.focusWidget()
        if widget is start:
            return seen
        assert widget not in seen, f"Tab went round without reaching the start again: {widget.objectName()}"
        seen.append(widget)
    raise AssertionError("Tab never came back to the start")


def global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapTo(widget.window(), widget.rect().topLeft()), widget.size())


def reads_before(a: QRect, b: QRect) -> bool:
    """``a`` comes before ``b`` in reading order: above it, or on the same line and left of it."""
    same_line = a.top() < b.bottom() and b.top() < a.bottom()
    return a.left() < b.left() if same_line else a.top() < b.top()


def name(widget: QWidget) -> str:
    return widget.objectName() or type(widget).__name__


# ----------------------------------------------------------------------------- item 7: Tab order
def test_tab_order_follows_the_screen_with_create_key_first(qtbot, manage_window: ManageKeysWindow,
                                                            probe: HubClient) -> None:
    window = manage_window
    activate(qtbot, window)
    probe.create_key("Existing key")
    reload(qtbot, window)
    # Everything on screen at once: the create form, the shown-once panel, the server panel, the list.
    QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.focusWidget(), "Tab order")
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.new_key_panel.isVisible() and not window.is_busy(), timeout=TIMEOUT)
    window.open_create_form()
    assert window.stack.currentIndex() == PAGE_TABLE

    cycle = tab_cycle(window, window.create_button)
    names = [name(w) for w in cycle]
    assert names[0] == "createKeyButton"
    for a, b in pairwise(cycle):
        assert reads_before(global_rect(a), global_rect(b)), f"Tab goes from {name(a)} back to {name(b)}"
    focusable = {
        w for w in window.findChildren(QWidget)
        if w.isVisible() and w.isEnabled() and w.focusPolicy() & Qt.FocusPolicy.TabFocus
        and w.window() is window and not w.focusProxy()
    }
    assert focusable - set(cycle) == set(), [name(w) for w in focusable - set(cycle)]
    for expected in ("labelInput", "cancelCreateButton", "copyNewKeyButton", "dismissNewKeyButton",
                     "copyServerUrlButton", "keysFilterInput", "keysTable"):
        assert expected in names
    assert names.index("labelInput") < names.index("newKeySecretField") < names.index("keysTable")
    # Shift+Tab walks the same way back.
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Backtab)
    assert window.focusWidget() is cycle[-1]
    window.discard_secret()


def test_the_empty_state_has_one_create_key_and_it_has_the_focus(qtbot, manage_window: ManageKeysWindow,
                                                                probe: HubClient) -> None:
    window = manage_window
    activate(qtbot, window)
    reload(qtbot, window)
    assert window.stack.currentIndex() == PAGE_EMPTY

    def create_buttons() -> list[QAbstractButton]:
        return [b for b in window.findChildren(QAbstractButton) if b.isVisible() and "Create Key" in b.text()]

    buttons = create_buttons()
    assert [b.objectName() for b in buttons] == ["keysEmptyStateButton"]
    assert window.focusWidget() is buttons[0]
    press(qtbot, Qt.Key.Key_Space)
    assert window.create_form.isVisible() and window.focusWidget() is window.create_form.label_input
    QTest.keyClick(window.focusWidget(), Qt.Key.Key_Escape)

    probe.create_key("Now there is one")
    reload(qtbot, window)
    assert [b.objectName() for b in create_buttons()] == ["createKeyButton"]


# ----------------------------------------------------------------------------- item 8: Actions cell
def ring_pixels(image: QImage, rect: QRect, colour: QColor) -> int:
    """How many pixels on the ring just outside ``rect`` are (nearly) ``colour``."""
    hits = 0
    ring = rect.adjusted(-1, -1, 1, 1)
    points = [(x, y) for x in range(ring.left() + 4, ring.right() - 3) for y in (ring.top(), ring.bottom())]
    points += [(x, y) for y in range(ring.top() + 4, ring.bottom() - 3) for x in (ring.left(), ring.right())]
    dpr = image.devicePixelRatio()
    for x, y in points:
        pixel = image.pixelColor(round(x * dpr), round(y * dpr))
        if max(abs(pixel.red() - colour.red()), abs(pixel.green() - colour.green()),
               abs(pixel.blue() - colour.blue())) < 40:
            hits += 1
    return hits * 100 // len(points)


def button_rect(window: ManageKeysWindow, key_id: str, action: str) -> QRect:
    index = window.index_for_key(key_id, Col.ACTIONS)
    cell = window.table.visualRect(index)
    metrics = QFontMetrics(window.table.font())
    rects = dict(ActionsDelegate.button_rects(cell, index.data(Role.ACTIONS), metrics))
    return rects[action]


def test_actions_cell_by_keyboard_ring_left_right_space_and_delete(qtbot, manage_window: ManageKeysWindow,
                                                                   probe: HubClient) -> None:
    window = manage_window
    table = window.table
    activate(qtbot, window)
    key = probe.create_key("Retired runner").key
    probe.deactivate_key(key.id)
    reload(qtbot, window)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_End)  # the last column of the row: Actions
    assert table.currentIndex().column() == Col.ACTIONS
    assert table.focused_action() == "reactivate"
    # The current row is selected (highlighted), so the ring takes the text-on-highlight colour.
    assert table.selectionModel().isRowSelected(table.currentIndex().row())
    ring = table.palette().color(QPalette.ColorGroup.Active, QPalette.ColorRole.HighlightedText)

    def ring_on(action: str) -> int:
        return ring_pixels(table.viewport().grab().toImage(), button_rect(window, key.id, action), ring)

    assert ring_on("reactivate") > 80 and ring_on("delete") < 20
    cell = window.index_for_key(key.id, Col.ACTIONS)
    assert cell.data(Qt.ItemDataRole.AccessibleTextRole) == "Reactivate key “Retired runner”"

    press(qtbot, Qt.Key.Key_Right)
    assert table.focused_action() == "delete"
    assert ring_on("delete") > 80 and ring_on("reactivate") < 20
    assert cell.data(Qt.ItemDataRole.AccessibleTextRole) == "Delete key “Retired runner”"
    assert "2 of 2" in cell.data(Qt.ItemDataRole.AccessibleDescriptionRole)
    press(qtbot, Qt.Key.Key_Right)  # nothing further right: stays on Delete, in the Actions cell
    assert table.currentIndex().column() == Col.ACTIONS and table.focused_action() == "delete"

    # Enter presses the focused button: Delete asks first (answer: no), nothing happens.
    window.rec.answers = [False]
    press(qtbot, Qt.Key.Key_Return)
    assert [t for t, _ in window.rec.confirms] == ["Delete MCP key?"]
    assert "Retired runner" in window.rec.confirms[0][1]
    assert [k.id for k in probe.list_keys()] == [key.id]

    press(qtbot, Qt.Key.Key_Left)
    assert table.focused_action() == "reactivate"
    press(qtbot, Qt.Key.Key_Left)  # left of the first button: the cell before Actions (Expires)
    assert table.currentIndex().column() == Col.ACTIONS - 1 and table.focused_action() is None
    press(qtbot, Qt.Key.Key_Right)  # coming back in lands on the first button
    assert table.focused_action() == "reactivate"

    # Space presses Reactivate; the row becomes active (Deactivate, Rotate…), the ring stays in the cell.
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.index_for_key(key.id, Col.STATUS).data() == "Active", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT)
    assert probe.list_keys()[0].status.value == "active"
    assert table.focused_action() == "deactivate"
    press(qtbot, Qt.Key.Key_Right)
    assert table.focused_action() == "rotate"
    press(qtbot, Qt.Key.Key_Right)  # nothing further right
    assert table.focused_action() == "rotate"
    press(qtbot, Qt.Key.Key_Left)
    assert table.focused_action() == "deactivate"
    press(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: window.index_for_key(key.id, Col.STATUS).data() == "Deactivated", timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.is_busy(), timeout=TIMEOUT)

    # Delete as a button: Right to it, Space, confirm: the key is gone from the hub.
    press(qtbot, Qt.Key.Key_Right)
    assert table.focused_action() == "delete"
    window.rec.answers = [True]
    with qtbot.waitSignal(window.keysChanged, timeout=TIMEOUT):
        press(qtbot, Qt.Key.Key_Space)
    assert probe.list_keys() == []


def test_the_focus_announcement_names_the_accessible_cell(qtbot, manage_window: ManageKeysWindow,
                                                         probe: HubClient) -> None:
    """The child number sent with the focus event is the cell's own (PySide6 has no tableInterface():
    the lookup raised AttributeError whenever a screen reader was on)."""
    window = manage_window
    for label in ("one", "two", "three"):
        probe.create_key(label)
    reload(qtbot, window)
    table = window.table
    accessible = QAccessible.queryAccessibleInterface(table)
    for row in range(3):
        for column in (Col.LABEL, Col.ACTIONS):
            index = table.model().index(row, column)
            child = table.accessible_child(index)
            assert child is not None
            cell = accessible.child(child).tableCellInterface()
            assert (cell.rowIndex(), cell.columnIndex()) == (row, column)
    assert table.accessible_child(QModelIndex()) is None


def test_moving_down_the_actions_column_keeps_the_button_position(qtbot, manage_window: ManageKeysWindow,
                                                                  probe: HubClient) -> None:
    window = manage_window
    table = window.table
    activate(qtbot, window)
    probe.create_key("a active")
    for label in ("b retired", "c retired"):
        probe.deactivate_key(probe.create_key(label).key.id)
    reload(qtbot, window)
    table.sortByColumn(Col.LABEL, Qt.SortOrder.AscendingOrder)
    table.setFocus(Qt.FocusReason.TabFocusReason)
    press(qtbot, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_End)
    seen = [table.focused_action()]
    for key in (Qt.Key.Key_Down, Qt.Key.Key_Right, Qt.Key.Key_Down, Qt.Key.Key_Up, Qt.Key.Key_Up):
        press(qtbot, key)
        seen.append((table.currentIndex().row(), table.focused_action()))
    # the active row has Deactivate and Rotate…: the second position is Rotate… there
    assert seen == ["deactivate", (1, "reactivate"), (1, "delete"), (2, "delete"), (1, "delete"),
                    (0, "rotate")]


# ------------------------------------------------------------------- item 9: Ctrl+W, Ctrl+Q, new row
def test_ctrl_w_closes_to_the_tray_and_ctrl_q_quits_asking_about_an_unsaved_key(qtbot, local_hub,
                                                                                 make_controller) -> None:
    controller = make_controller(local=local_hub, use_tray=True)
    controller.start()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=TIMEOUT)
    window = controller.window
    activate(qtbot, window)
    press(qtbot, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible() and controller.window is window and controller.rec.quits == 0

    controller.show_manager()
    activate(qtbot, window)
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.focusWidget(), "Unsaved")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(window.has_unsaved_secret, timeout=TIMEOUT)
    controller.rec.answers = [False]
    press(qtbot, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert [q for q, _ in controller.rec.questions] == ["Quit and lose the new key?"]
    qtbot.wait(50)
    assert controller.rec.quits == 0 and window.isVisible()
    press(qtbot, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)  # the recorder now answers yes
    qtbot.waitUntil(lambda: controller.rec.quits == 1, timeout=TIMEOUT)


def test_ctrl_w_without_a_tray_closes_the_window_that_is_the_app(qtbot, local_hub, make_controller) -> None:
    controller = make_controller(local=local_hub, use_tray=None)  # offscreen: no tray
    controller.start()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=TIMEOUT)
    window = controller.window
    activate(qtbot, window)
    assert controller.tray is None and QApplication.instance().quitOnLastWindowClosed()
    with qtbot.waitSignal(window.closed, timeout=TIMEOUT):
        press(qtbot, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert not window.isVisible()


def test_after_create_the_new_row_is_selected_and_scrolled_to(qtbot, manage_window: ManageKeysWindow,
                                                             probe: HubClient) -> None:
    window = manage_window
    table = window.table
    activate(qtbot, window)
    for i in range(40):
        probe.create_key(f"key {i:02d}")
    reload(qtbot, window)
    table.sortByColumn(Col.LABEL, Qt.SortOrder.AscendingOrder)  # a new "zz…" key sorts to the very bottom
    table.scrollToTop()
    press(qtbot, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClicks(window.focusWidget(), "zz newest")
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.new_key_panel.isVisible() and not window.is_busy(), timeout=TIMEOUT)
    new_id = next(k.id for k in probe.list_keys() if k.label == "zz newest")
    row = window.model.row_of(new_id)
    assert row == window.model.rowCount() - 1
    assert table.currentIndex().row() == row
    assert table.selectionModel().isRowSelected(row)
    qtbot.waitUntil(lambda: table.viewport().rect().contains(table.visualRect(table.currentIndex())),
                    timeout=TIMEOUT)
    window.discard_secret()


# ----------------------------------------------------------------------------- sorting without a mouse
def test_more_menu_sort_by_orders_the_list_like_the_header(qtbot, manage_window: ManageKeysWindow,
                                                          probe: HubClient) -> None:
    """The header is not in the Tab chain, so More > Sort By is the keyboard's way to sort."""
    from PySide6.QtWidgets import QMenu

    window = manage_window
    activate(qtbot, window)
    for label in ("machine 104", "Alpha", "machine 13"):
        probe.create_key(label)
    reload(qtbot, window)
    sort_menu = window.findChild(QMenu, "sortMenu")
    assert sort_menu is not None and sort_menu.menuAction() in window.more_button.menu().actions()

    def labels() -> list[str]:
        return [window.model.index(r, Col.LABEL).data() for r in range(window.model.rowCount())]

    header = window.table.horizontalHeader()
    sort_menu.findChild(QAction, "sortByLabel").trigger()
    assert header.sortIndicatorSection() == Col.LABEL
    order = header.sortIndicatorOrder()
    want = ["Alpha", "machine 13", "machine 104"]
    assert labels() == (want if order == Qt.SortOrder.AscendingOrder else want[::-1])
    descending = sort_menu.findChild(QAction, "sortDescending")
    descending.trigger()  # flips the order, as a second click on the header would
    assert header.sortIndicatorOrder() != order
    assert labels() == (want[::-1] if order == Qt.SortOrder.AscendingOrder else want)
    sort_menu.aboutToShow.emit()  # the checks follow the header when the menu opens
    assert sort_menu.findChild(QAction, "sortByLabel").isChecked()
    assert descending.isChecked() == (header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)
