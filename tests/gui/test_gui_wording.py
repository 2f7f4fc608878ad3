"""Questions name their action on the button, counts read naturally, labels sort as people count
(issue 12 item 14). Real windows against the real hub, real key and mouse events."""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_gui import refresh_until
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from phhub_keys.api.client import HubClient
from phhub_keys.core.wording import natural_key, plural
from phhub_keys.gui.ask import confirm_for
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import ManageKeysWindow

TIMEOUT = 10_000


def test_the_delete_question_has_a_delete_key_button_and_cancel_is_the_default(
        qtbot, manage_window: ManageKeysWindow, probe: HubClient, monkeypatch: pytest.MonkeyPatch) -> None:
    window = manage_window
    key = probe.create_key("Old laptop").key
    probe.deactivate_key(key.id)
    refresh_until(qtbot, window, 1)
    window.confirm = confirm_for(window)  # the real question box, not the test recorder
    seen: dict[str, object] = {}

    def answer_by_clicking(box: QMessageBox) -> int:
        """Stands in for exec(): show the box, read it, click its confirming button with the mouse."""
        box.show()
        seen["buttons"] = [b.text() for b in box.buttons()]
        seen["default"] = box.defaultButton().text()
        confirm = next(b for b in box.buttons() if b.text() == "Delete Key")
        QTest.mouseClick(confirm, Qt.MouseButton.LeftButton)
        return int(box.standardButton(box.clickedButton()))

    monkeypatch.setattr(QMessageBox, "exec", answer_by_clicking)
    window.table.setFocus()
    window.table.setCurrentIndex(window.index_for_key(key.id, Col.LABEL))
    qtbot.keyClick(window.table, Qt.Key.Key_Delete)
    assert sorted(seen["buttons"]) == ["Cancel", "Delete Key"]  # not Yes/Cancel
    assert seen["default"] == "Cancel"  # Enter never deletes
    qtbot.waitUntil(lambda: window.key_count() == 0, timeout=TIMEOUT)
    assert probe.list_keys() == []


def test_discarding_an_unsaved_key_says_discard_key(qtbot, manage_window: ManageKeysWindow) -> None:
    window = manage_window
    window.rec.answers = [False]
    window.open_create_form()
    qtbot.keyClicks(window.create_form.label_input, "Fresh")
    qtbot.keyClick(window.create_form.label_input, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    assert not window.dismiss_new_key()
    assert window.rec.actions == ["Discard Key"]


def test_saved_counts_read_naturally(qtbot, manage_window: ManageKeysWindow, probe: HubClient,
                                     tmp_path: Path) -> None:
    window = manage_window
    probe.create_key("Only one")
    refresh_until(qtbot, window, 1)
    assert window.save_key_list_csv(tmp_path / "keys.csv") is not None
    assert window.statusBar().currentMessage().startswith("Saved 1 key to ")
    assert (plural(1, "key"), plural(2, "key"), plural(1024, "row")) == ("1 key", "2 keys", "1,024 rows")


def test_labels_sort_as_people_count(qtbot, manage_window: ManageKeysWindow, probe: HubClient) -> None:
    window = manage_window
    for label in ("machine 104", "machine 13", "Machine 2", "machine 13b", "Été laptop", "alpha"):
        probe.create_key(label)
    refresh_until(qtbot, window, 6)
    header = window.table.horizontalHeader()
    x = header.sectionViewportPosition(Col.LABEL) + header.sectionSize(Col.LABEL) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, 5))
    if header.sortIndicatorOrder() != Qt.SortOrder.AscendingOrder:
        qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(x, 5))
    labels = [window.model.index(r, Col.LABEL).data() for r in range(window.model.rowCount())]
    assert labels == ["alpha", "Été laptop", "Machine 2", "machine 13", "machine 13b", "machine 104"]
    assert natural_key("file 9") < natural_key("file 10") < natural_key("File 10a")
