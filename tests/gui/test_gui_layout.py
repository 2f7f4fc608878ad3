"""Layout that keeps the important part: Label gets the room, labels elide in the middle, messages
never squeeze the filter (issue 12 item 5). Real windows against the real hub, real key events."""

from __future__ import annotations

from fixtures_gui import refresh_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from phhub_keys.api.client import HubClient
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import ManageKeysWindow

TIMEOUT = 10_000
SHARED = "Claude Desktop on the shared analytics workstation"


def at_minimum_size(qtbot, window: ManageKeysWindow) -> None:
    window.resize(window.minimumSize())
    qtbot.waitUntil(lambda: window.size() == window.minimumSize(), timeout=TIMEOUT)
    QApplication.processEvents()


def test_at_the_minimum_size_label_keeps_its_room_and_no_horizontal_scrollbar(
        qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    window = manage_window
    for label in (f"{SHARED} (room 101)", f"{SHARED} (room 204)", "Cursor"):
        probe.create_key(label)
    refresh_until(qtbot, window, 3)
    header = window.table.horizontalHeader()
    others = {c: header.sectionSize(c) for c in Col if c != Col.LABEL}
    at_minimum_size(qtbot, window)
    assert header.sectionSize(Col.LABEL) >= window.table.label_minimum >= 150
    assert not window.table.horizontalScrollBar().isVisible()
    assert {c: header.sectionSize(c) for c in others} == others
    assert window.minimumWidth() <= 1000  # still fits a small laptop screen


def test_labels_that_differ_only_at_the_end_read_differently(qtbot, manage_window: ManageKeysWindow,
                                                              probe: HubClient) -> None:
    window = manage_window
    for label in (f"{SHARED} (room 101)", f"{SHARED} (room 204)"):
        probe.create_key(label)
    refresh_until(qtbot, window, 2)
    at_minimum_size(qtbot, window)
    table = window.table
    table.setAlternatingRowColors(False)  # so only the painted text can tell the two cells apart
    table.selectionModel().clearCurrentIndex()
    table.clearSelection()
    QApplication.processEvents()
    cells = [table.viewport().grab(table.visualRect(window.model.index(row, Col.LABEL))).toImage()
             for row in (0, 1)]
    width = table.visualRect(window.model.index(0, Col.LABEL)).width()
    assert table.fontMetrics().horizontalAdvance(f"{SHARED} (room 101)") > width  # really elided
    assert cells[0] != cells[1]
    tip = window.model.index(0, Col.LABEL).data(Qt.ItemDataRole.ToolTipRole)
    assert tip.startswith(f"{SHARED} (room ")  # the full label stays one hover away


def test_a_message_never_squeezes_the_filter_or_runs_off_the_window(qtbot, manage_window: ManageKeysWindow,
                                                                     probe: HubClient) -> None:
    window = manage_window
    long_label = "Nightly data-quality agent for the facility dashboards (staging cluster, do not delete)"
    probe.create_key(long_label)
    refresh_until(qtbot, window, 1)
    at_minimum_size(qtbot, window)
    before = window.filter_input.geometry()
    window.table.setFocus()
    window.table.setCurrentIndex(window.model.index(0, Col.LABEL))
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT) as shown:
        qtbot.keyClick(window.table, Qt.Key.Key_Delete)  # an active key: refused with a message
    assert "before deleting it" in shown.args[0] and not shown.args[1]
    QApplication.processEvents()
    assert window.filter_input.geometry() == before
    status = window.save_status
    central = window.centralWidget()
    right = status.mapTo(central, status.rect().topRight()).x()
    assert right <= central.width()
    shown_text = status.text_label.text()
    assert shown_text.endswith("cannot be deleted.") or status.text_label.toolTip() == status.text()
    assert "before deleting it" in status.text()
