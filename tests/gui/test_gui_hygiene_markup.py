"""Hub labels and config-file text in the hygiene dialogs are shown as text, never as markup.

A QLabel's default format is AutoText: a label such as ``<b>Cursor</b> <img ...>`` (the label
rules allow angle brackets) or a server name in a client config file was rendered as rich text
(bold, images, links) in the usage map, the rotate dialog, Change expiry, the activity view
and the question boxes, letting a label or a file dress itself up as the app's own words.
The older windows already say ``PlainText`` (error banner, save status, setup dialog).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fixtures_gui import scratch_home
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget

from phhub_keys.core import config_install
from phhub_keys.gui.ask import question_box

MARKUP = "<b>Cursor</b> <img src='file:///etc/hostname'>"


def _marked_up_labels(dialog: QWidget) -> list[QLabel]:
    return [label for label in dialog.findChildren(QLabel) if "<b>" in label.text()]


def _assert_plain(dialog: QWidget) -> None:
    labels = _marked_up_labels(dialog)
    assert labels, [label.text() for label in dialog.findChildren(QLabel)]
    for label in labels:
        assert label.textFormat() == Qt.TextFormat.PlainText, (type(dialog).__name__, label.text())


def test_a_marked_up_label_and_server_name_are_shown_as_text_in_every_hygiene_dialog(
        qtbot: Any, manage_window: Any, tmp_path: Path) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key(MARKUP, expires_in_days=30)
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        assert window.refresh()
    scan = scratch_home(tmp_path)
    path = config_install.config_path("cursor", **scan)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"mcpServers": {"<b>evil</b>": {
        "url": window.server_url(), "headers": {"Authorization": f"Bearer {made.secret}"}}}}))
    path.chmod(0o600)
    window.hygiene.scan_kwargs = scan

    usage = window.hygiene.open_usage_map(made.key.id)
    with qtbot.waitSignal(usage.scanFinished, timeout=20_000):
        pass
    assert "<b>evil</b>" in usage.files_label.text()
    _assert_plain(usage)
    usage.close()

    rotate = window.open_rotate_dialog(made.key.id)
    assert rotate is not None
    _assert_plain(rotate)
    rotate.close()

    expiry = window.hygiene.open_change_expiry(made.key.id)
    assert expiry is not None
    _assert_plain(expiry)
    expiry.close()

    activity = window.hygiene.open_activity(made.key.id)
    assert activity is not None
    qtbot.waitUntil(lambda: activity.model.rowCount() >= 1, timeout=10_000)
    _assert_plain(activity)
    activity.close()


def test_question_boxes_show_a_label_as_text() -> None:
    box = question_box(None, "Delete key?", f"Delete “{MARKUP}” for good?", yes_text="Delete Key")
    assert box.textFormat() == Qt.TextFormat.PlainText
    box.deleteLater()
