"""Save screenshots of every state of the app's windows, light and dark, to look at.

    .venv/bin/python scripts/screenshots.py [--out DIR] [--scale 2] [--theme light|dark|both]
                                            [--only STATE ...]

Runs offscreen against a throwaway local hub (temp database, deleted after),
drives the real windows through their states and writes one PNG per state and
theme (``<state>-<theme>[@2x].png``):

- Manage MCP Keys: empty, list (8 keys, mixed status, long labels, used by
  clients days ago), create-form, create-error (inline validation), new-key
  (the shown-once panel), saved ("Changes Saved" after a rename),
  actions-focus (the key list with the keyboard focus ring on a row's Delete
  button, reached by real key presses), rename-error (a refused label: the editor
  stays open with the text and the rule under the cell), delete-confirm (the confirmation
  dialog), link-failed (View MCP Docs with no browser: the link to copy), narrow (the minimum
  window size with a refusal message beside the filter), busy (a slow hub),
  unseen-key (a create retried after the hub restarted: the key it made is named and
  "Deactivate key" offered), filter-none (a filter that matches nothing), error (hub down, Retry);
- key hygiene (issue 14): list-expiry (expiring, expired, never, rotated keys and the banner),
  create-expiry (the Expiry choice on a date), rotate (the grace choice), update-clients (the
  files found after a rotation), update-clients-done (files updated, the new key checked),
  activity (the account's activity feed);
- sign-in (keyring note and error line), setup-<client> (one per client of Set
  up & integrate), setup-minimum (its smallest size), review (summary and flags), review-flags,
  review-compare,
  review-secrets (a shown-once CSV, masked), tray-menu.

The keys shown are created on that throwaway hub, so no real secret ever lands
in a picture. ``docs/screenshots/`` holds the ones the README shows
(list-light.png, list-dark.png, ...): copy them from the output directory.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOW_STATES = ("empty", "list", "create-form", "create-error", "new-key", "saved", "actions-focus",
                 "rename-error", "delete-confirm", "link-failed", "narrow", "busy", "unseen-key",
                 "filter-none", "error")
HYGIENE_STATES = ("list-expiry", "create-expiry", "rotate", "update-clients", "update-clients-done",
                  "activity")
OTHER_STATES = (*HYGIENE_STATES, "sign-in", "setup", "review", "review-flags", "review-compare",
                "review-secrets", "tray-menu")
STATES = WINDOW_STATES + OTHER_STATES
# (label, days since created, days since last use or None, client, deactivated)
KEYS = (
    ("Old CI runner", 200, 160, "github-actions-runner", True),
    ("OpenAI AgentKit", 95, 1, "openai-mcp", False),
    ("Nightly data-quality agent for the facility dashboards (staging, do not delete)", 60, None, None,
     False),
    ("Cursor — laptop", 40, 0.02, "Cursor", False),
    ("Claude Desktop", 21, 3, "Claude Desktop", False),
    ("VS Code (work)", 14, None, None, False),
    ("Temporary key for the Grafana MCP bridge", 9, 8, "mcp-remote", True),
    ("Codex CLI", 2, 0.3, "codex-mcp-client", False),
)


# Days until expiry for some of the keys above (the others never expire): the Expires column
EXPIRES_IN_DAYS = {"OpenAI AgentKit": 30, "Cursor — laptop": 5, "Claude Desktop": 90, "VS Code (work)": 180,
                   "Codex CLI": 365}


def use_key(base_url: str, secret: str, client: str) -> None:
    """One MCP initialize with the key, so the hub records when and by which client it was used."""
    body = {
        "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                   "clientInfo": {"name": client, "version": "1.0"}},
    }
    response = requests.post(f"{base_url}/mcp", json=body, timeout=10, headers={
        "Authorization": f"Bearer {secret}", "Accept": "application/json, text/event-stream"})
    response.raise_for_status()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "phhub-screenshots")
    parser.add_argument("--scale", type=float, default=1.0, help="device pixel ratio, e.g. 2 for HiDPI")
    parser.add_argument("--theme", choices=("light", "dark", "both"), default="both")
    parser.add_argument("--only", nargs="*", choices=STATES, help="just these states")
    args = parser.parse_args(argv)
    wanted = set(args.only or STATES)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if args.scale != 1.0:
        os.environ["QT_SCALE_FACTOR"] = f"{args.scale:g}"
    from keyring.backends.fail import Keyring as FailKeyring
    from PySide6.QtCore import QCoreApplication, QEventLoop, QPoint, QTimer
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication, QMessageBox, QStyleFactory, QWidget

    from phhub_keys.api.client import HubClient
    from phhub_keys.api.credentials import CredentialStore
    from phhub_keys.core.csvio import key_list_csv, new_secret_csv
    from phhub_keys.core.timestamps import format_ts, utcnow
    from phhub_keys.gui import workers
    from phhub_keys.gui.keys_model import Col
    from phhub_keys.gui.manage_window import ManageKeysWindow
    from phhub_keys.gui.theme import dark_palette
    from phhub_keys.hub.embedded import EmbeddedHub

    app = QApplication.instance() or QApplication(["phhub-keys-screenshots"])
    app.setStyle(QStyleFactory.create("Fusion"))
    light = QPalette(app.style().standardPalette())
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if args.scale == 1.0 else f"@{args.scale:g}x"

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

    def save(widget: QWidget, state: str, theme: str) -> None:
        settle()
        path = args.out / f"{state}-{theme}{suffix}.png"
        widget.grab().save(str(path))
        written.append(path)

    def backdate(hub: EmbeddedHub, key_id: str, created_days: float, used_days: float | None) -> None:
        now = utcnow()
        assert hub.store is not None
        with hub.store._tx() as conn:  # a throwaway hub: realistic ages for the picture
            conn.execute("UPDATE keys SET created_at = ? WHERE id = ?",
                         (format_ts(now - timedelta(days=created_days)), key_id))
            if used_days is not None:
                conn.execute("UPDATE keys SET last_used_at = ? WHERE id = ?",
                             (format_ts(now - timedelta(days=used_days)), key_id))

    def capture_window(theme: str, hub: EmbeddedHub, client: HubClient, tmp: Path) -> list:
        window = ManageKeysWindow(client, account_text="Ada Lovelace <ada@example.org>")
        asked: list[tuple[str, str]] = []

        def confirm(title: str, text: str, action: str) -> bool:
            asked.append((title, text))
            return True

        window.confirm = confirm

        def shot(state: str) -> None:
            if state in wanted:
                save(window, state, theme)

        window.show()
        pump_until("the first list", window.is_loaded)
        shot("empty")

        created = []
        for label, created_days, used_days, client_name, deactivated in KEYS:
            new = client.create_key(label, expires_in_days=EXPIRES_IN_DAYS.get(label))
            created.append(new)
            if client_name:
                use_key(hub.url, new.secret, client_name)
            if deactivated:
                client.deactivate_key(new.key.id)
            backdate(hub, new.key.id, created_days, used_days)
        window.refresh()
        pump_until("the key list", lambda: window.key_count() == len(KEYS) and not window.is_busy())
        shot("list")

        window.open_create_form()
        window.create_form.label_input.setText("Windsurf")
        window.create_form.label_input.setCursorPosition(8)
        shot("create-form")
        window.create_form.label_input.setText("")
        window.create_form.label_input.textEdited.emit("")  # as if the user cleared it
        window.create_form.submit()
        shot("create-error")

        window.create_form.label_input.setText("Windsurf")
        window.create_form.submit()
        pump_until("the new key", lambda: window.has_unsaved_secret() and not window.is_busy())
        window.secret_clipboard.clear_after_ms = 0
        window.copy_new_key()
        shot("new-key")
        window.secret_clipboard.clear_if_ours()

        window.dismiss_new_key()
        cursor = created[3].key.id
        row = window.model.row_of(cursor)
        assert row is not None
        window.table.selectRow(row)
        window.rename_key(cursor, "Cursor — work laptop")
        pump_until("the rename", lambda: window.save_status_text() == "Changes Saved")
        window.table.setCurrentIndex(window.model.index(row, Col.LABEL))
        shot("saved")

        if "actions-focus" in wanted:
            from PySide6.QtCore import Qt
            from PySide6.QtTest import QTest

            window.activateWindow()
            pump_until("the active window", window.isActiveWindow)
            window.table.setFocus(Qt.FocusReason.TabFocusReason)
            grafana = next(c.key.id for c in created if "Grafana" in c.key.label)
            before_actions = Col.ACTIONS - 1  # the cell left of Actions
            window.table.setCurrentIndex(window.model.index(window.model.row_of(grafana), before_actions))
            for key in (Qt.Key.Key_Right, Qt.Key.Key_Right):  # into Actions, then onto Delete
                QTest.keyClick(window.table, key)
            assert window.table.focused_action() == "delete"
            save(window.table, "actions-focus", theme)

        if "rename-error" in wanted:
            from PySide6.QtCore import Qt
            from PySide6.QtTest import QTest
            from PySide6.QtWidgets import QLineEdit

            codex = next(c.key.id for c in created if "Codex" in c.key.label)
            index = window.table.index_for_key(codex, Col.LABEL)
            window.table.setFocus()
            window.table.setCurrentIndex(index)
            QTest.keyClick(window.table, Qt.Key.Key_F2)
            editor = next(e for e in window.table.findChildren(QLineEdit, "labelEditor") if e.isVisible())
            editor.setText("Codex CLI\u200b")  # an invisible character: refused by the label rules
            QTest.keyClick(editor, Qt.Key.Key_Return)
            save(window, "rename-error", theme)
            QTest.keyClick(editor, Qt.Key.Key_Escape)
            settle()

        if "delete-confirm" in wanted:
            old = created[0].key
            # The window's own question, shown as its default confirm would (without exec()).

            from phhub_keys.gui.ask import question_box

            asked_now: list[tuple[str, str, str]] = []

            def grab_question(title: str, body: str, action: str) -> bool:
                asked_now.append((title, body, action))
                return False

            window.confirm = grab_question
            window.trigger_action_for_key(old.id, "delete")
            window.confirm = confirm
            box = question_box(window, *asked_now[0][:2], yes_text=asked_now[0][2])  # as exec() would show
            box.show()
            save(box, "delete-confirm", theme)
            box.close()

        if "link-failed" in wanted:
            window.open_url = lambda _url: False  # what Qt answers on a desktop with no browser
            window.open_docs()
            box = window.findChild(QMessageBox, "linkFallbackBox")
            assert box is not None
            save(box, "link-failed", theme)
            box.close()

        if "narrow" in wanted:
            size = window.size()
            window.resize(window.minimumSize())
            settle()
            active = next(c.key.id for c in created if "Nightly" in c.key.label)
            window.trigger_action_for_key(active, "delete")  # refused: it is still active
            save(window, "narrow", theme)
            window.save_status.clear()
            window.resize(size)
            settle()

        if "busy" in wanted:
            slow = HubClient(hub.url, token=client.token)
            original = slow.list_keys

            def slow_list():  # type: ignore[no-untyped-def]
                time.sleep(1.5)
                return original()

            slow.list_keys = slow_list  # type: ignore[method-assign]
            window.set_client(slow)
            window.refresh()
            pump_until("the busy state", window.is_busy)
            QTimer.singleShot(0, lambda: None)
            settle()
            save(window, "busy", theme)
            pump_until("the slow list", lambda: not window.is_busy())
            window.set_client(client)

        if "unseen-key" in wanted:
            # A create whose answer was lost, retried after the hub restarted (the replay with the
            # secret is gone): the real 409, through the window's own create and Retry path.
            lost = "screenshot-lost-create"
            client.create_key("Cursor — desktop", idempotency_key=lost)
            hub.stop()
            hub.start()  # same database and port
            window.session.reuse_idempotency_key("Cursor — desktop", lost)  # what Retry would reuse
            window.create_key("Cursor — desktop")
            pump_until("the unseen-key banner",
                       lambda: "can't be shown again" in window.error_banner.text() and not window.is_busy())
            shot("unseen-key")
            window.error_banner.hide()
            made = next(k for k in client.list_keys() if k.label == "Cursor — desktop")
            client.deactivate_key(made.id)
            client.delete_key(made.id)
            window.refresh()
            pump_until("the list without it", lambda: window.model.key_by_id(made.id) is None)

        window.filter_input.setText("grafana staging")
        shot("filter-none")
        window.filter_input.clear()

        hub.stop()
        window.refresh()
        pump_until("the error banner", lambda: window.error_banner.isVisible(), timeout=60)
        shot("error")
        window.discard_secret()
        window.close()
        window.deleteLater()
        workers.wait_idle()
        return created

    def capture_hygiene(theme: str, hub: EmbeddedHub, tmp: Path) -> None:
        """Expiry, rotation, Update clients and activity, for a second account on the same hub."""
        from phhub_keys.core import client_setup, config_install

        assert hub.store is not None
        hub.store.add_user("grace@example.org", "screenshot-password", name="Grace Hopper",
                           facilities=("ALS",))
        client = HubClient(hub.url)
        client.login("grace@example.org", "screenshot-password")
        window = ManageKeysWindow(client, account_text="Grace Hopper <grace@example.org>")
        window.confirm = lambda _title, _text, _action: True
        window.show()
        pump_until("the first list", window.is_loaded)
        client.create_key("OpenAI AgentKit", no_expiry=True)
        client.create_key("Claude Desktop", expires_in_days=60)
        lapsing = client.create_key("Nightly CI runner", expires_at=client.hub_now() + timedelta(seconds=3))
        codex = client.create_key("Codex CLI", expires_in_days=90)
        client.rotate_key(codex.key.id, grace_seconds=86400)
        client.create_key("VS Code (work)", expires_in_days=2)
        cursor = client.create_key("Cursor — work laptop", expires_in_days=5)
        expired_at = lapsing.key.expires_at
        pump_until("the CI key to expire", lambda: client.hub_now() > expired_at, timeout=8)
        window.refresh()
        pump_until("the key list", lambda: window.key_count() == 7 and not window.is_busy())
        if "list-expiry" in wanted:
            save(window, "list-expiry", theme)

        window.open_create_form()
        window.create_form.label_input.setText("Windsurf")
        window.create_form.expiry.set_date(date.today() + timedelta(days=45))
        if "create-expiry" in wanted:
            save(window.create_form, "create-expiry", theme)
        window.create_form.cancel()

        home = tmp / f"home-{theme}"
        scan = {"home": home, "env": {"XDG_CONFIG_HOME": str(home / ".config")}, "platform": "linux"}
        server_url = window.server_url() or ""
        for name in ("cursor", "vscode", "claude-desktop", "codex", "windsurf"):
            secret = None if name == "windsurf" else cursor.secret
            snippet = client_setup.generate(name, server_url, secret=secret)
            config_install.install(snippet, config_install.config_path(name, **scan))
        window.hygiene.scan_kwargs = scan
        dialog = window.open_rotate_dialog(cursor.key.id)
        assert dialog is not None
        if "rotate" in wanted:
            save(dialog, "rotate", theme)
        dialog.rotate()
        pump_until("the usage map", lambda: dialog.report is not None)
        if "update-clients" in wanted:
            save(dialog, "update-clients", theme)
        dialog.update_clients()
        pump_until("the key check", lambda: dialog.check_result is not None, timeout=40)
        if "update-clients-done" in wanted:
            save(dialog, "update-clients-done", theme)
        dialog.close()
        window.discard_secret()
        if "activity" in wanted:
            activity = window.hygiene.open_activity(None)
            pump_until("the activity feed", lambda: activity.model.rowCount() > 0)
            save(activity, "activity", theme)
            activity.close()
        window.close()
        window.deleteLater()
        workers.wait_idle()

    def capture_sign_in(theme: str, hub_url: str) -> None:
        from phhub_keys.gui.signin_dialog import SignInDialog

        # No usable keyring (as on a bare Linux box): the dialog says so up front.
        store = CredentialStore(FailKeyring())
        dialog = SignInDialog(hub_url=hub_url, email="ada@example.org", credentials=store,
                              message="Your session expired. Sign in again to continue.")
        dialog.show()
        dialog.passwordInput.setText("not the password")
        dialog.signInButton.click()
        pump_until("the sign-in error", lambda: bool(dialog.error_text()) and not dialog.busy)
        pump_until("the keyring note", dialog.keyringNote.isVisible)
        save(dialog, "sign-in", theme)
        dialog.reject()
        dialog.deleteLater()

    def capture_setup(theme: str, server_url: str, secret: str) -> None:
        from phhub_keys.gui.setup_dialog import SetupDialog

        dialog = SetupDialog(server_url, secret)
        dialog.resize(900, 720)
        dialog.show()
        for name in dialog.client_tabs:
            dialog.select_client(name)
            save(dialog, f"setup-{name}", theme)
        # The smallest size the dialog allows, on the longest page (14 clients in the list).
        dialog.resize(dialog.minimumSize())
        dialog.select_client("cline")
        save(dialog, "setup-minimum", theme)
        dialog.close()
        dialog.deleteLater()

    def capture_review(theme: str, tmp: Path, older: list, newer: list, secret_csv: str) -> None:
        from phhub_keys.gui.review_window import CsvReviewWindow

        old_path, new_path, secret_path = tmp / "keys-old.csv", tmp / "keys-new.csv", tmp / "mcp-key.csv"
        old_path.write_text(key_list_csv(older), encoding="utf-8")
        new_path.write_text(key_list_csv(newer), encoding="utf-8")
        secret_path.write_text(secret_csv, encoding="utf-8")
        os.utime(old_path, (time.time() - 86400 * 30,) * 2)
        window = CsvReviewWindow()
        window.show()
        window.resize(1080, 660)  # the offscreen screen is 800 px wide; show the window's own size
        window.open_paths([new_path])
        pump_until("the review", lambda: not window.is_loading() and window.rows_model.rowCount() > 0)
        if "review" in wanted:
            save(window, "review", theme)
        if "review-flags" in wanted:
            window.tabs.setCurrentWidget(window.flags_table)
            save(window, "review-flags", theme)
        if "review-compare" in wanted:
            window.open_paths([old_path, new_path])
            pump_until("the comparison",
                       lambda: not window.is_loading() and window.compare_model.rowCount() > 0)
            window.tabs.setCurrentWidget(window.changes_page)
            save(window, "review-compare", theme)
        if "review-secrets" in wanted:
            window.open_paths([secret_path])
            pump_until("the secret file",
                       lambda: not window.is_loading() and window.secrets_banner.isVisible())
            window.tabs.setCurrentWidget(window.table)
            save(window, "review-secrets", theme)
        window.close()
        window.deleteLater()

    def capture_tray(theme: str) -> None:
        from phhub_keys.gui.tray import Tray

        class Controller:
            signed_in = True

            def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
                return lambda *a, **k: None

            def account_text(self) -> str:
                return "Ada Lovelace <ada@example.org>"

        tray = Tray(Controller())  # type: ignore[arg-type]
        tray.menu.popup(QPoint(40, 40))
        settle()
        save(tray.menu, "tray-menu", theme)
        tray.menu.hide()
        tray.deleteLater()

    def capture(theme: str) -> None:
        app.setPalette(dark_palette() if theme == "dark" else light)
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            hub = EmbeddedHub(tmp / "hub.db").start()
            try:
                assert hub.store is not None
                hub.store.add_user("ada@example.org", "screenshot-password", name="Ada Lovelace",
                                   facilities=("ALS",))
                client = HubClient(hub.url)
                client.login("ada@example.org", "screenshot-password")
                server_url = client.mcp_config().server_url
                if "sign-in" in wanted:
                    capture_sign_in(theme, hub.url)
                if wanted & set(HYGIENE_STATES):
                    capture_hygiene(theme, hub, tmp)
                created = capture_window(theme, hub, client, tmp)
                hub = EmbeddedHub(tmp / "hub.db").start()  # the error state stopped it
                client = HubClient(hub.url)
                client.login("ada@example.org", "screenshot-password")
                if any(s.startswith("review") for s in wanted):
                    # Claude Desktop's key rotated with a week's grace: the review flags the old key
                    # (still active) and Compare shows the rotation.
                    claude = next(k for k in client.list_keys() if k.label == "Claude Desktop")
                    client.rotate_key(claude.id, grace_seconds=7 * 86400)
                newer = client.list_keys()
                # an export from a month ago: no Windsurf/Codex keys yet, Grafana still active,
                # Cursor under its old label, Claude Desktop's key not rotated yet
                active = next(k.status for k in newer if k.is_active)
                older = [
                    replace(k, status=active, deactivated_at=None) if "Grafana" in k.label
                    else replace(k, label="Cursor — laptop") if "Cursor" in k.label
                    else replace(k, replaced_by=None) if k.replaced_by else k
                    for k in newer if k.label != "Windsurf" and "Codex" not in k.label and not k.replaces
                ]
                if any(s.startswith("setup") for s in wanted):
                    capture_setup(theme, server_url, created[-1].secret)
                if any(s.startswith("review") for s in wanted):
                    capture_review(theme, tmp, older, newer, new_secret_csv(created[-1], server_url))
                if "tray-menu" in wanted:
                    capture_tray(theme)
            finally:
                hub.stop()

    themes = ("light", "dark") if args.theme == "both" else (args.theme,)
    for theme in themes:
        capture(theme)
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
