"""The app side of tests/gui/test_atspi.py: every window of phhub-keys open at once on a real X server,
with Qt's AT-SPI bridge on, against a real local hub on loopback.

Started by the test as ``python tests/atspi_app.py OUT_DIR`` with ``QT_QPA_PLATFORM=xcb`` and
``QT_LINUX_ACCESSIBILITY_ALWAYS_ON=1`` inside the test's D-Bus session. It writes
``OUT_DIR/ready.json`` (its pid and the key labels) once everything shows, then runs commands
the test drops as ``OUT_DIR/cmd-N`` (one word each: ``rename``, ``copy``, ``error``,
``actions``, ``menu``, ``quit``),
answering each with ``OUT_DIR/done-N``. Everything the user would do here goes through the
windows' own methods; the test only reads what reaches the accessibility bus.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from pathlib import Path

from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

LABELS = ("Build server", "Old laptop")


def pump_until(app: QApplication, predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        time.sleep(0.01)


class _TrayController:
    """Enough of the app controller for the tray menu (its actions are never triggered here)."""

    signed_in = True

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return lambda *args, **kwargs: None

    def account_text(self) -> str:
        return "ada@example.org on local hub"

    def cached_server_url(self) -> str:
        return "http://127.0.0.1/mcp"


def main(out: Path) -> None:
    from phhub_keys.api.client import HubClient
    from phhub_keys.api.credentials import CredentialStore, MemoryKeyring
    from phhub_keys.core.csvio import key_list_csv
    from phhub_keys.gui.keys_model import Col
    from phhub_keys.gui.manage_window import ManageKeysWindow
    from phhub_keys.gui.review_window import CsvReviewWindow
    from phhub_keys.gui.setup_dialog import SetupDialog
    from phhub_keys.gui.signin_dialog import SignInDialog
    from phhub_keys.gui.tray import Tray
    from phhub_keys.hub.embedded import EmbeddedHub

    app = QApplication(["phhub-keys"])
    hub = EmbeddedHub(out / "hub.sqlite3").start()
    assert hub.store is not None
    hub.store.add_user("ada@example.org", "atspi-test-password", name="Ada")
    client = HubClient(hub.url)
    client.login("ada@example.org", "atspi-test-password")
    keys = [client.create_key(label).key for label in LABELS]
    client.deactivate_key(keys[1].id)
    client.create_key("Expiring soon", expires_in_days=3)  # the expiry banner shows

    window = ManageKeysWindow(client, account_text="ada@example.org")
    window.confirm = lambda title, text, action: True
    window.show()
    pump_until(app, window.is_loaded, 20, "the key list")
    window.create_key("Fresh key")
    pump_until(app, lambda: window.has_unsaved_secret() and not window.is_busy(), 20, "the new key")
    secret = window._new_key.secret if window._new_key else ""
    window.open_create_form()
    window.error_banner.show_error("The hub did not answer in time.", "Retry")
    # Key hygiene dialogs (issue 14): Rotate (grace choice), usage map, account activity, Change expiry.
    rotate = window.hygiene.open_rotate(keys[0].id)
    usage = window.hygiene.open_usage_map(keys[0].id)
    activity = window.hygiene.open_activity(None)
    expiry = window.hygiene.open_change_expiry(keys[0].id)
    assert None not in (rotate, usage, expiry)
    pump_until(app, lambda: usage.report is not None and activity.model.rowCount() > 0, 20,
               "the hygiene dialogs")

    sign_in = SignInDialog(hub_url=hub.url, email="ada@example.org",
                           credentials=CredentialStore(MemoryKeyring()))
    sign_in.setModal(False)
    sign_in.show()
    setup = SetupDialog(window.server_url() or "", secret)
    setup.show()
    csv_path = out / "keys.csv"
    csv_path.write_text(key_list_csv(client.list_keys()), encoding="utf-8")
    review = CsvReviewWindow()
    review.show()
    review.open_paths([csv_path])
    pump_until(app, lambda: not review.is_loading() and review.rows_model.rowCount() > 0, 20, "the review")
    tray = Tray(_TrayController())  # type: ignore[arg-type]
    for _ in range(20):
        app.processEvents()

    (out / "ready.json").write_text(json.dumps({
        "pid": os.getpid(), "labels": [*LABELS, "Fresh key"], "platform": app.platformName(),
        "tray_actions": [a.text() for a in tray.menu.actions() if not a.isSeparator() and a.isEnabled()],
    }))

    def focus_delete_button() -> None:
        """The keyboard path to a row's Delete button: focus the table, Actions cell, Right."""
        window.activateWindow()
        pump_until(app, window.isActiveWindow, 10, "the window to be active")
        window.table.setFocus(Qt.FocusReason.TabFocusReason)
        window.table.setCurrentIndex(window.index_for_key(keys[1].id, Col.ACTIONS))
        QTest.keyClick(window.table, Qt.Key.Key_Right)

    def walk_tray_menu() -> None:
        """Open the tray menu and go down every entry with the arrow key, as a keyboard user would."""
        tray.menu.popup(QPoint(900, 40))
        pump_until(app, tray.menu.isVisible, 10, "the tray menu")
        for _ in tray.menu.actions():
            QTest.keyClick(tray.menu, Qt.Key.Key_Down)
            app.processEvents()
            time.sleep(0.05)
        QTest.keyClick(tray.menu, Qt.Key.Key_Escape)

    commands = {
        "rename": lambda: window.rename_key(keys[0].id, "Build server (renamed)"),
        "copy": window.copy_new_key,
        "error": lambda: window.error_banner.show_error("Could not reach the hub: connection refused.",
                                                        "Retry"),
        "actions": focus_delete_button,
        "menu": walk_tray_menu,
    }
    number = 0

    def poll() -> None:
        nonlocal number
        path = out / f"cmd-{number}"
        if not path.exists():
            return
        word = path.read_text().strip()
        if word == "quit":
            window.discard_secret()
            app.quit()
            return
        commands[word]()
        (out / f"done-{number}").write_text(word)
        number += 1

    timer = QTimer()
    timer.timeout.connect(poll)
    timer.start(50)
    QTimer.singleShot(120_000, app.quit)  # never outlive a stuck test
    app.exec()
    window.discard_secret()
    hub.stop()


if __name__ == "__main__":
    target = Path(sys.argv[1])
    try:
        main(target)
    except Exception:
        (target / "error.txt").write_text(traceback.format_exc())
        raise
    finally:
        sys.stdout.flush()
        os._exit(0)
