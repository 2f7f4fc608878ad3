"""Seed/ui-spec behaviours found missing or wrong in the UI audit, each driven through the real window.

- a filter that matches nothing says so in the list (instead of an empty grid);
- a key created within the same second as others still appears first under the
  default newest-first order (the seed: the new key is shown at the top);
- a long label elided in its cell is readable in full from the tooltip;
- quitting while a hub call is still running prints no worker traceback.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from dataclasses import replace
from datetime import UTC, datetime

from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtTest import QTest

from phhub_keys.api.client import HubClient
from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus, McpKey
from phhub_keys.gui.keys_model import Col, KeysModel
from phhub_keys.gui.manage_window import ManageKeysWindow

TIMEOUT = 10_000
SAME_SECOND = datetime(2026, 11, 26, 12, 0, 0, tzinfo=UTC)


def _key(i: int, label: str) -> McpKey:
    return McpKey(id=f"mk_{i:016x}", label=label, redacted=redact(generate_key()), status=KeyStatus.ACTIVE,
                  created_at=SAME_SECOND)


def test_filter_with_no_match_says_so_and_esc_clears_it(qtbot, manage_window: ManageKeysWindow,
                                                         signed_in_client: HubClient) -> None:
    window = manage_window
    signed_in_client.create_key("Cursor laptop")
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    assert window.table.empty_text() == ""
    QTest.keyClicks(window.filter_input, "grafana")
    assert window.model.rowCount() == 0
    assert window.count_label.text() == "0 of 1 keys match"
    assert "No keys match “grafana”" in window.table.empty_text()
    # it is painted: the empty viewport is no longer one flat colour
    window.table.viewport().repaint()
    image: QImage = window.table.viewport().grab().toImage()
    rows = range(0, min(image.height(), 80), 2)
    colours = {image.pixel(x, y) for x in range(0, image.width(), 3) for y in rows}
    assert len(colours) > 2
    QTest.keyClick(window.filter_input, Qt.Key.Key_Escape)
    assert window.filter_input.text() == "" and window.model.rowCount() == 1
    assert window.table.empty_text() == ""


def test_no_match_text_is_not_shown_for_an_account_without_keys(qtbot,
                                                                manage_window: ManageKeysWindow) -> None:
    window = manage_window
    window.filter_input.setText("anything")
    assert window.table.empty_text() == ""  # the empty state page speaks for an empty account


def test_new_key_created_in_the_same_second_goes_first(qtbot) -> None:
    model = KeysModel()
    model.sort(Col.CREATED, Qt.SortOrder.DescendingOrder)
    model.set_keys([_key(2, "second"), _key(1, "first")])
    model.upsert_key(_key(3, "third, just created"))
    assert [model.index(r, Col.LABEL).data() for r in range(3)] == ["third, just created", "second", "first"]
    model.sort(Col.CREATED, Qt.SortOrder.AscendingOrder)
    model.upsert_key(_key(4, "fourth"))
    assert model.index(3, Col.LABEL).data() == "fourth"  # oldest first: the newest goes last


def test_new_key_is_at_the_top_of_the_window_list(qtbot, manage_window: ManageKeysWindow,
                                                   signed_in_client: HubClient) -> None:
    window = manage_window
    for label in ("one", "two", "three"):
        signed_in_client.create_key(label)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    window.create_key("made in the window")
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    assert window.model.index(0, Col.LABEL).data() == "made in the window"
    window.dismiss_new_key()


def test_long_label_is_readable_in_full_in_the_tooltip(qtbot) -> None:
    model = KeysModel()
    label = "Nightly data-quality agent for the facility dashboards (staging, do not delete)"
    model.set_keys([replace(_key(1, label))])
    tip = model.index(0, Col.LABEL).data(Qt.ItemDataRole.ToolTipRole)
    assert label in tip and "F2" in tip


def test_quitting_with_a_call_in_flight_prints_no_worker_traceback(tmp_path) -> None:
    """The app's Job objects die at exit while a slow call still runs; its late result goes nowhere."""
    script = textwrap.dedent("""
        import os, sys, time
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        def main():
            from PySide6.QtCore import QTimer
            from PySide6.QtWidgets import QApplication
            from phhub_keys.gui import workers
            app = QApplication([])
            def slow_ok():
                time.sleep(0.4)
                return 1
            def slow_fail():
                time.sleep(0.3)
                raise OSError("hub went away")
            jobs = [workers.run_in_pool(slow_ok), workers.run_in_pool(slow_fail)]
            QTimer.singleShot(50, app.quit)
            app.exec()
            return 0  # no wait: the interpreter exits while both calls still run
        sys.exit(main())
    """)
    path = tmp_path / "quit_early.py"
    path.write_text(script)
    for _ in range(3):
        done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "Error calling Python override" not in done.stderr, done.stderr
        assert "Traceback" not in done.stderr, done.stderr


UI_SPEC_WINDOW_NAMES = (
    "createKeyButton", "viewDocsButton", "downloadCsvButton", "serverConfigPanel", "serverUrlField",
    "copyServerUrlButton", "createKeyForm", "labelInput", "confirmCreateButton", "cancelCreateButton",
    "newKeyPanel", "newKeySecretField", "copyNewKeyButton", "saveNewKeyCsvButton", "dismissNewKeyButton",
    "keysTable", "keysFilterInput", "statusBar", "errorBanner",
)


def test_every_ui_spec_control_exists_once_with_an_accessible_name(qtbot, manage_window: ManageKeysWindow
                                                                    ) -> None:
    from PySide6.QtWidgets import QWidget

    for name in UI_SPEC_WINDOW_NAMES:
        found = manage_window.findChildren(QWidget, name)
        assert len(found) == 1, name
        assert found[0].accessibleName().strip(), f"{name} has no accessibleName"


def test_shown_once_panel_carries_the_seed_security_advice(qtbot, manage_window: ManageKeysWindow) -> None:
    window = manage_window
    window.create_key("advice")
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    text = window.new_key_panel.explanation.text()
    assert "password" in text and "screenshots" in text and "deactivate it" in text
    assert window.dismiss_new_key()  # the recorder answers "yes, dismiss"
    assert window.new_key_panel.explanation.text() == ""
