"""Save screenshots of the Manage MCP Keys window's main states, light and dark.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--scale 2] [--theme light|dark|both]

Runs offscreen against a throwaway local hub (temp database, deleted after),
drives the real window through its states and writes one PNG per state and
theme: empty, list, create-form, new-key, saved, error. The keys shown are
created on that throwaway hub, so no real secret ever lands in a picture.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

STATES = ("empty", "list", "create-form", "new-key", "saved", "error")
LABELS = ("OpenAI AgentKit", "Cursor — laptop", "Claude Desktop", "VS Code (work)", "Old CI runner")


def use_key(base_url: str, secret: str, client: str, version: str) -> None:
    """One MCP initialize with the key, so the hub records when and by which client it was used."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": client, "version": version}},
    }
    response = requests.post(f"{base_url}/mcp", json=body, timeout=10, headers={
        "Authorization": f"Bearer {secret}", "Accept": "application/json, text/event-stream"})
    response.raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "phhub-screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio, e.g. 2 for HiDPI")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    args = parser.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication, QStyleFactory

    from phhub_keys.api.client import HubClient
    from phhub_keys.gui import workers
    from phhub_keys.gui.keys_model import Col
    from phhub_keys.gui.manage_window import ManageKeysWindow
    from phhub_keys.gui.theme import dark_palette
    from phhub_keys.hub.embedded import EmbeddedHub

    app = QApplication.instance() or QApplication(["phhub-keys-screenshots"])
    app.setStyle(QStyleFactory.create("Fusion"))
    light = QPalette(app.style().standardPalette())
    args.out.mkdir(parents=True, exist_ok=True)

    def pump_until(what: str, condition: Callable[[], bool], timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise SystemExit(f"screenshots: timed out waiting for {what}")
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)

    def settle() -> None:
        for _ in range(5):
            QCoreApplication.processEvents()

    written: list[Path] = []
    themes = ("light", "dark") if args.theme == "both" else (args.theme,)
    def capture(theme: str) -> None:
        app.setPalette(dark_palette() if theme == "dark" else light)
        with tempfile.TemporaryDirectory() as tmp:
            hub = EmbeddedHub(Path(tmp) / "hub.db").start()
            try:
                assert hub.store is not None
                hub.store.add_user("ada@example.org", "screenshot-password", name="Ada Lovelace",
                                   facilities=("ALS",))
                client = HubClient(hub.url)
                client.login("ada@example.org", "screenshot-password")
                window = ManageKeysWindow(client, account_text="Ada Lovelace <ada@example.org>")
                window.confirm = lambda _title, _text: True

                def shot(state: str) -> None:
                    settle()
                    suffix = "" if args.scale == 1.0 else f"@{args.scale:g}x"
                    path = args.out / f"{state}-{theme}{suffix}.png"
                    window.grab().save(str(path))
                    written.append(path)

                window.show()
                pump_until("the first list", window.is_loaded)
                shot("empty")

                secrets = [client.create_key(label) for label in LABELS]
                use_key(hub.url, secrets[0].secret, "Cursor", "1.7.2")
                use_key(hub.url, secrets[2].secret, "Claude Desktop", "0.14.1")
                client.deactivate_key(secrets[4].key.id)
                window.refresh()
                pump_until("the key list", lambda: window.key_count() == len(LABELS) and not window.is_busy())
                shot("list")

                window.open_create_form()
                window.create_form.label_input.setText("Windsurf")
                window.create_form.label_input.setCursorPosition(8)
                shot("create-form")

                window.create_form.submit()
                pump_until("the new key", lambda: window.has_unsaved_secret() and not window.is_busy())
                window.secret_clipboard.clear_after_ms = 0
                window.copy_new_key()
                shot("new-key")
                window.secret_clipboard.clear_if_ours()

                window.dismiss_new_key()
                row = window.model.row_of(secrets[1].key.id)
                assert row is not None
                window.table.selectRow(row)
                window.rename_key(secrets[1].key.id, "Cursor — work laptop")
                pump_until("the rename", lambda: window.save_status_text() == "Changes Saved")
                window.table.setCurrentIndex(window.model.index(row, Col.LABEL))
                shot("saved")

                hub.stop()
                window.refresh()
                pump_until("the error banner", lambda: window.error_banner.isVisible(), timeout=60)
                shot("error")
                window.discard_secret()
                window.close()
                window.deleteLater()
                workers.wait_idle()
            finally:
                hub.stop()

    for theme in themes:
        capture(theme)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
