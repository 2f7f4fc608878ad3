"""``phhub-keys --local --self-test``: the real window against a throw-away local hub, end to end.

Why: packaging and CI need one command that proves the built app works —
Qt plugins load, the embedded hub serves, the window's worker path talks to it
— without a display or a person. It opens the Manage MCP Keys window
(offscreen), then creates, renames, deactivates and deletes a key through the
window's own methods (the same code its buttons run), checking each step both
in the window's model and in the hub's database. It prints one line per step,
never a secret, and exits 0 only if every step worked, within a time bound.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

LABEL = "Self-test key"
RENAMED = "Self-test key (renamed)"
STEP_TIMEOUT = 30.0
EXIT_FAILED = 1
EXIT_TIMEOUT = 124


class StepFailed(Exception):
    pass


def _say(text: str) -> None:
    print(f"self-test: {text}", flush=True)


def _quiet_known_platform_noise() -> Any:
    """The offscreen platform warns that it cannot pass size hints on; that is not a failure.

    Returns the previous handler so it can be put back."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, _context: Any, message: str) -> None:
        if "does not support propagateSizeHints" in message:
            return
        if kind in (QtMsgType.QtWarningMsg, QtMsgType.QtCriticalMsg, QtMsgType.QtFatalMsg):
            print(f"self-test: Qt: {message}", file=sys.stderr, flush=True)

    return qInstallMessageHandler(handler)


def run_self_test(timeout: float = 90.0) -> int:
    """Run every step; 0 when all passed, 1 on the first failure, 124 when time ran out."""
    deadline = time.monotonic() + timeout
    watchdog = threading.Timer(timeout + 15.0, _hard_timeout, args=(timeout,))
    watchdog.daemon = True
    watchdog.start()
    try:
        with tempfile.TemporaryDirectory(prefix="phhub-keys-self-test-") as tmp:
            return _run(Path(tmp), deadline)
    finally:
        watchdog.cancel()


def _hard_timeout(timeout: float) -> None:
    print(f"self-test: FAILED: no result within {timeout:.0f} s (the app is stuck)",
          file=sys.stderr, flush=True)
    os._exit(EXIT_TIMEOUT)


def _run(tmp: Path, deadline: float) -> int:
    from PySide6.QtCore import QEventLoop, qInstallMessageHandler
    from PySide6.QtWidgets import QApplication

    previous_handler = _quiet_known_platform_noise()
    app = QApplication.instance() or QApplication(["phhub-keys-self-test"])
    assert isinstance(app, QApplication)

    def pump_until(what: str, predicate: Callable[[], bool]) -> None:
        limit = min(deadline, time.monotonic() + STEP_TIMEOUT)
        while not predicate():
            if time.monotonic() > limit:
                raise StepFailed(f"timed out waiting for {what}")
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
            time.sleep(0.005)

    from ..hub.local import LocalHub
    from . import workers
    from .controller import AppController
    from .settings import LOCAL, AppSettings

    state: dict[str, Any] = {}
    local = LocalHub(tmp / "self-test-hub.sqlite3", port=0)
    controller: AppController | None = None

    def start_hub() -> str:
        local.start()
        return f"local hub running at {local.url} (temporary data)"

    def open_window() -> str:
        nonlocal controller
        controller = AppController(AppSettings(tmp / "settings.ini", LOCAL), local=local, use_tray=False)
        controller.confirm = lambda _title, _text, _action: True
        controller.start()
        pump_until("the window", lambda: controller is not None and controller.window is not None)
        window = controller.window
        assert window is not None
        window.confirm = lambda _title, _text, _action: True  # confirm delete / dismiss questions
        state["window"] = window
        pump_until("the key list to load", window.is_loaded)
        if not window.isVisible():
            raise StepFailed("the window is not shown")
        if window.key_count() != 0:
            raise StepFailed(f"a fresh hub should have no keys, the window shows {window.key_count()}")
        return f"window open, signed in as {controller.account_text()}, 0 keys"

    def hub_keys() -> list[dict[str, Any]]:
        assert local.hub is not None and local.hub.store is not None and local.user is not None
        return local.hub.store.list_keys_json(local.user.id)

    def create() -> str:
        window = state["window"]
        window.create_key(LABEL)
        pump_until("the new key", lambda: window.has_unsaved_secret() or window.key_count() == 1)
        pump_until("the create call to finish", lambda: not window.is_busy())
        if window.key_count() != 1 or not window.has_unsaved_secret():
            raise StepFailed("the window did not show exactly one new key with its secret")
        from ..core.keyformat import is_valid_key

        secret = window.findChild(_line_edit(), "newKeySecretField")
        if secret is None or not is_valid_key(secret.text()):
            raise StepFailed("the shown-once panel does not hold a valid key")
        keys = hub_keys()
        if len(keys) != 1 or keys[0]["label"] != LABEL:
            raise StepFailed(f"the hub should hold one key labelled {LABEL!r}, it holds {len(keys)}")
        state["key_id"] = keys[0]["id"]
        if not window.dismiss_new_key():
            raise StepFailed("dismissing the shown-once panel was refused")
        if secret.text():
            raise StepFailed("the secret is still in the widget after Dismiss")
        return f"created {keys[0]['redacted']} ({LABEL!r}); shown once, then dismissed"

    def rename() -> str:
        window = state["window"]
        key_id = state["key_id"]
        if not window.rename_key(key_id, RENAMED):
            raise StepFailed("the window refused the rename")
        pump_until("the rename to reach the hub", lambda: hub_keys()[0]["label"] == RENAMED)
        pump_until("the window to show the new label",
                   lambda: window.model.key_by_id(key_id) is not None
                   and window.model.key_by_id(key_id).label == RENAMED and not window.is_busy())
        return f"renamed to {RENAMED!r}"

    def deactivate() -> str:
        window = state["window"]
        key_id = state["key_id"]
        if not window.trigger_action_for_key(key_id, "deactivate"):
            raise StepFailed("the window refused to deactivate")
        pump_until("the hub to deactivate the key", lambda: hub_keys()[0]["status"] == "deactivated")
        pump_until("the window to show it deactivated",
                   lambda: not window.model.key_by_id(key_id).is_active and not window.is_busy())
        return "deactivated"

    def delete() -> str:
        window = state["window"]
        key_id = state["key_id"]
        if not window.trigger_action_for_key(key_id, "delete"):
            raise StepFailed("the window refused to delete the deactivated key")
        pump_until("the hub to delete the key", lambda: not hub_keys())
        pump_until("the window to drop the row", lambda: window.key_count() == 0 and not window.is_busy())
        return "deleted; the hub and the window hold no keys"

    def shut_down() -> str:
        assert controller is not None
        controller.quit_app = lambda: None  # this function returns instead of ending an event loop
        controller.quit()
        controller.shutdown()
        if not workers.wait_idle(5000):
            raise StepFailed("worker threads did not finish")
        return "shut down cleanly"

    steps: list[tuple[str, Callable[[], str]]] = [
        ("start local hub", start_hub),
        ("open window", open_window),
        ("create key", create),
        ("rename key", rename),
        ("deactivate key", deactivate),
        ("delete key", delete),
        ("shut down", shut_down),
    ]
    total = len(steps)
    try:
        for number, (name, step) in enumerate(steps, 1):
            try:
                detail = step()
            except StepFailed as exc:
                _say(f"[{number}/{total}] {name}: FAILED: {exc}")
                _fail_detail(state.get("window"))
                return EXIT_FAILED
            except Exception as exc:
                _say(f"[{number}/{total}] {name}: FAILED: {type(exc).__name__}: {exc}")
                return EXIT_FAILED
            _say(f"[{number}/{total}] {name}: ok - {detail}")
    finally:
        if controller is not None:
            controller.shutdown()
        local.stop()
        workers.wait_idle(3000)
        qInstallMessageHandler(previous_handler)
    _say("all steps passed")
    return 0


def _line_edit() -> type:
    from PySide6.QtWidgets import QLineEdit

    return QLineEdit


def _fail_detail(window: Any) -> None:
    """What the window shows when a step fails (its error banner), to make the failure actionable."""
    banner = getattr(window, "error_banner", None) if window is not None else None
    if banner is not None and banner.isVisible():
        text = getattr(banner, "text", lambda: "")()
        if text:
            _say(f"the window's error banner says: {text}")
