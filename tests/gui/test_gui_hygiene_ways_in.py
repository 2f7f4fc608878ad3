"""Every way into the key-hygiene dialogs, as a user reaches them (issue 14, "The app"): the row's
painted Rotate button, the row menu (Rotate…, Where is this key used?, Activity…), the More menu's
Account activity…, and that Update clients writes nothing without a yes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fixtures_gui import scratch_home
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QMenu

from phhub_keys.core import client_setup, config_install
from phhub_keys.gui.delegates import ActionsDelegate
from phhub_keys.gui.keys_model import Col, Role

TIMEOUT = 15_000


def _row_menu(qtbot: Any, window: Any, key_id: str) -> QMenu:
    """Right-click the key's label cell; the row menu that pops up."""
    table = window.table
    pos = table.visualRect(window.index_for_key(key_id, Col.LABEL)).center()
    table.customContextMenuRequested.emit(pos)
    menus = [w for w in QApplication.topLevelWidgets() if isinstance(w, QMenu) and w.isVisible()]
    assert len(menus) == 1
    return menus[0]


def _pick(menu: QMenu, text: str) -> None:
    [action] = [a for a in menu.actions() if a.text() == text]
    assert action.isEnabled()
    action.trigger()
    menu.close()


# a popped-up QMenu asks the offscreen platform to raise it and grab the keyboard, which it cannot
@pytest.mark.qt_log_ignore("This plugin does not support raise", "This plugin does not support grabbing")
def test_the_rotate_button_the_row_menu_and_account_activity(qtbot: Any, manage_window: Any) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("ways in", expires_in_days=30)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    key_id = made.key.id

    # the painted Rotate button in the row, clicked with the mouse
    table = window.table
    index = window.index_for_key(key_id, Col.ACTIONS)
    rects = dict(ActionsDelegate.button_rects(table.visualRect(index), index.data(Role.ACTIONS),
                                              QFontMetrics(table.font())))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rects["rotate"].center())
    [dialog] = window.hygiene.dialogs()
    assert dialog.objectName() == "rotateKeyDialog" and dialog.key.id == key_id and dialog.isVisible()
    dialog.close()

    # the row menu: Rotate…, Where is this key used?, Activity…
    _pick(_row_menu(qtbot, window, key_id), "Rotate…")
    [dialog] = window.hygiene.dialogs()
    assert dialog.objectName() == "rotateKeyDialog" and dialog.key.id == key_id
    dialog.close()
    _pick(_row_menu(qtbot, window, key_id), "Where is this key used?")
    [usage] = window.hygiene.dialogs()
    assert usage.objectName() == "usageMapDialog"
    assert usage.key.id == key_id
    usage.close()
    _pick(_row_menu(qtbot, window, key_id), "Activity…")
    [per_key] = window.hygiene.dialogs()
    assert per_key.objectName() == "activityDialog"
    qtbot.waitUntil(lambda: per_key.model.rowCount() >= 1, timeout=TIMEOUT)
    assert {e.key_id for e in per_key.model.events()} == {key_id}
    per_key.close()

    # More menu: Account activity…
    window.activity_action.trigger()
    [account] = window.hygiene.dialogs()
    assert account.objectName() == "activityDialog"
    qtbot.waitUntil(lambda: account.model.rowCount() >= 1, timeout=TIMEOUT)
    assert key_id in {e.key_id for e in account.model.events()}
    account.close()


def test_update_clients_writes_nothing_without_a_yes(qtbot: Any, manage_window: Any, tmp_path: Path) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("asked first", expires_in_days=30)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    scan = scratch_home(tmp_path)
    path = config_install.config_path("cursor", **scan)
    config_install.install(client_setup.generate("cursor", window.server_url(), secret=made.secret), path)
    before = path.read_bytes()
    window.hygiene.scan_kwargs = scan
    dialog = window.open_rotate_dialog(made.key.id)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000):
        dialog.rotate()
    assert dialog.files_list.count() == 1 and dialog.update_button.isEnabled()
    window.rec.answers = [False]
    assert not dialog.update_clients()
    assert window.rec.confirms[-1][0] == "Update client config files?"
    assert window.rec.actions[-1] == "Update Files"
    assert path.read_bytes() == before and not list(path.parent.glob("*.phhub-backup-*"))
    assert dialog.update_button.isEnabled()  # still offered
    dialog.close()


def test_grace_choices_go_up_to_the_hubs_maximum() -> None:
    from phhub_keys.core.expiry import KeyPolicy
    from phhub_keys.gui.rotate_dialog import grace_choices

    def offered(days: int) -> list[str]:
        return [text for text, _s in grace_choices(KeyPolicy(max_rotation_grace_days=days))]

    now = "Now: deactivate the old key at once"
    assert offered(0) == [now]
    assert offered(3) == [now, "1 hour", "1 day", "3 days (the hub's maximum)"]
    assert offered(7) == [now, "1 hour", "1 day", "7 days"]
    assert offered(30)[-1] == "30 days (the hub's maximum)" and len(offered(30)) == 5
