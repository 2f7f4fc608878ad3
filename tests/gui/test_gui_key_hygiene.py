"""Key hygiene in the window, against a real hub: expiry in the create form, the Expires column,
badge, warning and banner, Rotate -> shown once -> Update clients on this computer -> key check,
the usage map, the activity view, and tray reminders (issue 14)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixtures_gui import scratch_home
from fixtures_hub import add_test_user, mcp_call
from PySide6.QtCore import Qt

from phhub_keys.api.client import HubClient
from phhub_keys.api.keycheck import CheckStatus, check_key
from phhub_keys.core import client_setup, config_install
from phhub_keys.core.expiry import KeyPolicy
from phhub_keys.core.keyformat import redact
from phhub_keys.core.models import KeyStatus
from phhub_keys.gui.activity_view import ActivityDialog
from phhub_keys.gui.keys_model import Col, Role
from phhub_keys.gui.reminders import ReminderStore, due_reminders
from phhub_keys.gui.theme import accents

DAY = 86_400


def _key_by_label(window: Any, label: str) -> Any:
    keys = window.model.keys()
    return next((k for k in keys if k.label == label), None)


def _create_in_window(qtbot: Any, window: Any, label: str) -> Any:
    window.create_form.label_input.setText(label)
    window.create_form.submit()
    qtbot.waitUntil(lambda: _key_by_label(window, label) is not None, timeout=10_000)
    return _key_by_label(window, label)


def _reload(qtbot: Any, window: Any) -> None:
    with qtbot.waitSignal(window.loaded, timeout=10_000):
        assert window.refresh()


# --------------------------------------------------------------------------- create + list


def test_create_form_offers_the_policy_expiry_and_sends_it(qtbot: Any, manage_window: Any) -> None:
    window = manage_window
    window.open_create_form()
    chooser = window.create_form.expiry
    assert chooser.isVisible()
    combo = chooser.combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "30 days", "90 days", "180 days", "365 days", "On a date…", "No expiry"]
    assert combo.currentText() == "90 days"  # the hub's default_lifetime_days

    assert chooser.select(30)
    key = _create_in_window(qtbot, window, "thirty days")
    hub_now = window.hub_now()
    assert abs((key.expires_at - (hub_now + timedelta(days=30))).total_seconds()) < 10
    row = window.model.row_of(key.id)
    assert window.model.index(row, Col.EXPIRES).data() == "in 30 days"
    assert window.create_form.expiry.combo.currentText() == "90 days"  # back to the default after a create
    window.dismiss_new_key()

    window.open_create_form()
    day = date.today() + timedelta(days=12)
    chooser.set_date(day)
    assert chooser.date_edit.isVisible()
    key = _create_in_window(qtbot, window, "on a date")
    assert key.expires_at == datetime.combine(day, time(0, 0)).astimezone().astimezone(UTC)
    window.dismiss_new_key()

    window.open_create_form()
    assert chooser.select("never")
    key = _create_in_window(qtbot, window, "forever")
    assert key.expires_at is None
    assert window.model.index(window.model.row_of(key.id), Col.EXPIRES).data() == "Never"
    window.dismiss_new_key()


def test_invalid_expiry_is_shown_inline_and_loses_nothing(qtbot: Any, start_hub: Any, window_recorder: Any
                                                            ) -> None:
    from fixtures_gui import close_manage_window, open_manage_window

    hub = start_hub(default_key_lifetime_days=30, max_key_lifetime_days=30)
    creds = add_test_user(hub)
    client = HubClient(hub.url)
    client.login(creds.email, creds.password)
    window = open_manage_window(qtbot, client, window_recorder)
    try:
        window.open_create_form()
        chooser = window.create_form.expiry
        combo = chooser.combo
        # the policy caps the lifetime: no longer presets, no "No expiry"
        assert [combo.itemText(i) for i in range(combo.count())] == ["30 days", "On a date…"]
        # the hub's policy changed after the window loaded it: the hub has the last word
        chooser.set_policy(KeyPolicy(default_lifetime_days=90, max_lifetime_days=None))
        chooser.select(90)
        window.create_form.label_input.setText("too long")
        window.create_form.submit()
        qtbot.waitUntil(lambda: bool(window.create_form.expiry_error_text()), timeout=10_000)
        assert "30" in window.create_form.expiry_error_text()
        assert window.create_form.isVisible() and window.create_form.label_text() == "too long"
        assert window.model.total_count() == 0
        chooser.select(30)  # the error goes when the choice changes
        assert not window.create_form.expiry_error_text()
    finally:
        close_manage_window(window)
        client.close()


def test_expires_column_badge_warning_filter_words_and_banner(qtbot: Any, manage_window: Any,
                                                              qtmodeltester: Any) -> None:
    window = manage_window
    api = window.client()
    soon = api.create_key("expiring soon", expires_in_days=3).key
    api.create_key("ninety", expires_in_days=90)
    never = api.create_key("never", no_expiry=True).key
    lapsing = api.create_key("lapsing", expires_at=api.hub_now() + timedelta(seconds=3)).key
    qtbot.waitUntil(lambda: api.hub_now() > lapsing.expires_at + timedelta(seconds=1), timeout=8000)
    _reload(qtbot, window)
    model = window.model
    qtmodeltester.check(model)

    def cell(key_id: str, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        return model.index(model.row_of(key_id), col).data(role)

    assert cell(lapsing.id, Col.STATUS) == "Expired"
    assert cell(lapsing.id, Col.STATUS, Role.STATUS) == "expired"
    assert cell(lapsing.id, Col.EXPIRES) == "just now"  # the badge says Expired; the cell says when
    assert cell(lapsing.id, Col.EXPIRES, Qt.ItemDataRole.ToolTipRole).startswith("Expired")
    assert cell(lapsing.id, Col.EXPIRES, Role.EXPIRY) == "expired"
    assert cell(lapsing.id, Col.ACTIONS, Role.ACTIONS) == ("delete",)
    assert cell(soon.id, Col.EXPIRES) == "in 3 days"
    assert cell(soon.id, Col.EXPIRES, Role.EXPIRY) == "expiring"
    assert cell(soon.id, Col.EXPIRES, Qt.ItemDataRole.BackgroundRole) == accents().warning_bg
    assert cell(never.id, Col.EXPIRES) == "Never" and not cell(never.id, Col.EXPIRES, Role.EXPIRY)
    assert cell(soon.id, Col.ACTIONS, Role.ACTIONS) == ("deactivate", "rotate")
    assert window.expiry_banner.text() == "1 key expires within 7 days; 1 key has expired"

    window.filter_input.setText("expiring")
    assert [model.key_at(r).id for r in range(model.rowCount())] == [soon.id]
    window.filter_input.setText("expired")
    assert [model.key_at(r).id for r in range(model.rowCount())] == [lapsing.id]
    window.filter_input.clear()
    window.expiry_banner.show_button.click()
    assert window.filter_input.text() == "expiring" and model.rowCount() == 1

    # an expired key is deleted without deactivating it first
    window.filter_input.clear()
    assert window.trigger_action_for_key(lapsing.id, "delete")
    qtbot.waitUntil(lambda: model.key_by_id(lapsing.id) is None, timeout=10_000)
    assert window.expiry_banner.text() == "1 key expires within 7 days"
    qtmodeltester.check(model)


# --------------------------------------------------------------------------- rotate + update clients


def _scratch_clients(tmp_path: Path, server_url: str, secret: str) -> tuple[dict[str, Path], dict[str, Any]]:
    """Config files of Cursor, VS Code, Claude Desktop and Codex holding ``secret``, and Windsurf
    reading it from an environment variable, in a scratch home (Linux layout)."""
    scan = scratch_home(tmp_path)
    paths = {}
    for client in ("cursor", "vscode", "claude-desktop", "codex", "windsurf"):
        path = config_install.config_path(client, **scan)
        snippet = client_setup.generate(client, server_url, secret=None if client == "windsurf" else secret)
        config_install.install(snippet, path)
        paths[client] = path
    return paths, scan


def test_rotate_then_update_clients_then_key_check(qtbot: Any, manage_window: Any, tmp_path: Path) -> None:
    window = manage_window
    window.open_create_form()
    old = _create_in_window(qtbot, window, "laptop clients")
    old_secret = window.new_key_panel.secret_field.text()
    assert old_secret.startswith("phk_") and redact(old_secret) == old.redacted
    assert window.dismiss_new_key()
    server_url = window.server_url()
    paths, scan = _scratch_clients(tmp_path, server_url, old_secret)
    window.hygiene.scan_kwargs = scan

    dialog = window.open_rotate_dialog(old.id)
    assert dialog is not None and dialog.isVisible()
    assert window.table.current_key_id() == old.id
    assert dialog.grace_seconds() == DAY  # the default grace
    assert set(dialog.grace_buttons) == {0, 3600, DAY, 7 * DAY, 30 * DAY}  # up to the policy's 30 days
    # Read alone by a screen reader, each choice still says what it is for.
    assert all("old key keeps working" in b.accessibleDescription() for b in dialog.grace_buttons.values())
    assert dialog.select_grace(3600)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000):
        qtbot.mouseClick(dialog.rotate_button, Qt.MouseButton.LeftButton)

    # the shown-once panel has the new key; the model has both keys, from the hub's answer
    new = dialog.new_key
    new_secret = window.new_key_panel.secret_field.text()
    assert window.new_key_panel.isVisible() and redact(new_secret) == new.redacted != old.redacted
    assert "replaces " + old.redacted in window.new_key_panel.status_label.text()
    old_now = window.model.key_by_id(old.id)
    assert old_now.replaced_by == new.id and old_now.is_active
    assert window.model.key_by_id(new.id).replaces == old.id
    assert window.model.index(window.model.row_of(old.id), Col.ACTIONS).data(Role.ACTIONS) == ("deactivate",)
    assert window.model.index(window.model.row_of(old.id), Col.EXPIRES).data().startswith("in ")

    # Update clients on this computer: 4 files hold the old key; Windsurf reads it from the environment
    listed = {dialog.files_list.item(i).data(Qt.ItemDataRole.UserRole).file.client_id
              for i in range(dialog.files_list.count())}
    assert listed == {"cursor", "vscode", "claude-desktop", "codex"}
    manual = dialog.manual_label.text()
    assert "Windsurf" in manual and "PHHUB_MCP_KEY" in manual
    window.rec.answers = [True]
    with qtbot.waitSignal(dialog.keyCheckFinished, timeout=30_000) as checked:
        qtbot.mouseClick(dialog.update_button, Qt.MouseButton.LeftButton)
    assert window.rec.confirms[-1][0] == "Update client config files?"
    assert [r.ok for r in dialog.results] == [True] * 4
    for client in ("cursor", "vscode", "claude-desktop", "codex"):
        text = paths[client].read_text()
        assert new_secret in text and old_secret not in text
        [backup] = paths[client].parent.glob(paths[client].name + ".phhub-backup-*")
        assert old_secret in backup.read_text()
    assert old_secret not in paths["windsurf"].read_text() and new_secret not in paths["windsurf"].read_text()

    # the real key check passed with the new key; the old key still works during its grace
    result = checked.args[0]
    assert result.ok and result.key_label == "laptop clients", result.message
    assert "New key checked" in dialog.check_label.text()
    assert check_key(server_url, old_secret).ok
    dialog.close()
    assert not dialog.has_secret()

    # ... until the grace ends (brought forward to a few seconds from now): then only the new one works
    api = window.client()
    end = api.set_expiry(old.id, api.hub_now() + timedelta(seconds=3)).expires_at
    qtbot.waitUntil(lambda: api.hub_now() > end + timedelta(seconds=1), timeout=8000)
    assert check_key(server_url, old_secret).status is CheckStatus.REJECTED
    assert check_key(server_url, new_secret).ok
    window.dismiss_new_key()
    _reload(qtbot, window)
    assert window.model.key_by_id(old.id).status is KeyStatus.EXPIRED


def test_rotate_now_and_refusals_are_explained(qtbot: Any, manage_window: Any, tmp_path: Path,
                                               hub_url: str) -> None:
    window = manage_window
    window.hygiene.scan_kwargs = {"home": tmp_path, "env": {}, "platform": "linux"}
    api = window.client()
    made = api.create_key("rotate now", expires_in_days=90)
    _reload(qtbot, window)
    dialog = window.open_rotate_dialog(made.key.id)
    assert dialog.select_grace(0)
    with qtbot.waitSignal(dialog.rotated, timeout=10_000) as rotated:
        dialog.rotate()
    result = rotated.args[0]
    assert result.replaces.status is KeyStatus.DEACTIVATED
    assert check_key(window.server_url(), made.secret).status is CheckStatus.REJECTED  # at once
    assert check_key(window.server_url(), result.secret).ok
    assert "was deactivated" in dialog.done_label.text()
    dialog.close()
    window.dismiss_new_key()

    # a key rotated already (elsewhere) after the dialog opened: the hub's 409 is explained inline
    other = api.create_key("rotated elsewhere", expires_in_days=90)
    _reload(qtbot, window)
    dialog = window.open_rotate_dialog(other.key.id)
    api.rotate_key(other.key.id, grace_seconds=3600)
    with qtbot.waitSignal(dialog.rotateFailed, timeout=10_000):
        dialog.rotate()
    assert "already rotated" in dialog.error_label.text() and dialog.error_label.isVisible()
    dialog.close()
    # ... and after a refresh it is not offered any more
    _reload(qtbot, window)
    assert window.open_rotate_dialog(other.key.id) is None
    assert "rotated already" in window.save_status_text()

    # the dialog closed while the hub works: the new secret still reaches the shown-once panel
    third = api.create_key("closed early", expires_in_days=90)
    fourth = api.create_key("next in line", expires_in_days=90)
    _reload(qtbot, window)
    dialog = window.open_rotate_dialog(third.key.id)
    dialog.rotate()
    dialog.close()
    qtbot.waitUntil(lambda: window.new_key_panel.isVisible() and not window.is_busy(), timeout=10_000)
    assert window.has_unsaved_secret()
    assert window.model.key_by_id(third.key.id).replaced_by is not None
    # and rotating another key now asks before hiding that unsaved secret
    window.rec.answers = [False]
    assert window.open_rotate_dialog(fourth.key.id) is None
    assert window.rec.confirms[-1][0] == "Replace the new key?"
    assert window.has_unsaved_secret()


# --------------------------------------------------------------------------- usage map + activity


def test_usage_map_lists_config_files_and_what_the_hub_saw(qtbot: Any, manage_window: Any,
                                                          tmp_path: Path, hub_url: str) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("used key", expires_in_days=30)
    mcp_call(hub_url, made.secret, client_name="Cursor", client_version="1.7")
    _reload(qtbot, window)
    paths, scan = _scratch_clients(tmp_path, window.server_url(), made.secret)
    window.hygiene.scan_kwargs = scan
    dialog = window.hygiene.open_usage_map(made.key.id)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000) as finished:
        pass
    report = finished.args[0]
    assert {u.file.client_id for u in report.literal} == {"cursor", "vscode", "claude-desktop", "codex"}
    text = dialog.files_label.text()
    assert str(paths["cursor"]) in text and "PHHUB_MCP_KEY" in text
    hub_text = dialog.hub_label.text()
    assert "Cursor 1.7" in hub_text and "127.0.0.1" in hub_text
    assert made.secret not in text + hub_text
    dialog.close()


def test_activity_per_key_and_account_wide_with_paging(qtbot: Any, manage_window: Any,
                                                      qtmodeltester: Any) -> None:
    window = manage_window
    api = window.client()
    kept = api.create_key("kept", expires_in_days=30).key
    api.rename_key(kept.id, "kept, renamed")
    gone = api.create_key("gone", expires_in_days=30).key
    api.deactivate_key(gone.id)
    api.delete_key(gone.id)
    _reload(qtbot, window)

    per_key = window.hygiene.open_activity(kept.id)
    qtbot.waitUntil(lambda: per_key.model.rowCount() >= 2, timeout=10_000)
    kinds = [e.kind for e in per_key.model.events()]
    assert kinds[:2] == ["renamed", "created"]  # newest first
    assert "Renamed from “kept” to “kept, renamed”" in per_key.model.index(0, 2).data()
    per_key.close()

    account = ActivityDialog(api.account_events, title="Account activity", subtitle="", page_size=2)
    qtbot.addWidget(account)
    with qtbot.waitSignal(account.pageLoaded, timeout=10_000):
        account.start()
    assert account.model.rowCount() == 2 and account.has_more()
    while account.has_more():
        with qtbot.waitSignal(account.pageLoaded, timeout=10_000):
            assert account.load_more()
    qtmodeltester.check(account.model)
    events = account.model.events()
    assert len({e.id for e in events}) == len(events) == 5  # created x2, renamed, deactivated, deleted
    assert [e.at for e in events] == sorted((e.at for e in events), reverse=True)
    deleted = [e for e in events if e.key_id == gone.id]
    assert {e.kind for e in deleted} == {"created", "deactivated", "deleted"}  # a deleted key keeps history
    assert all(e.key_label == "gone" for e in deleted)


# --------------------------------------------------------------------------- tray reminders


def test_reminders_once_per_threshold_survive_restart_and_open_rotate(qtbot: Any, local_hub: Any,
                                                                      make_controller: Any) -> None:
    api = HubClient(local_hub.url, local_hub.new_token())
    near = api.create_key("ten days", expires_in_days=10).key
    far = api.create_key("forty days", expires_in_days=40).key
    controller = make_controller(local=local_hub, use_tray=True)
    controller.setup_tray()
    reminders = controller.reminders
    assert reminders is not None and reminders.thresholds == (30, 7, 1)
    start = api.hub_now()
    clock = [start]
    reminders.clock = lambda: clock[0]
    shown: list[tuple[str, str]] = []
    controller.tray.messageShown.connect(lambda title, text: shown.append((title, text)))

    controller.show_manager()
    qtbot.waitUntil(lambda: controller.window is not None and controller.window.is_loaded(), timeout=10_000)
    qtbot.waitUntil(lambda: len(shown) == 1, timeout=5000)
    assert "“ten days” expires in 10 days" in shown[0][1]  # 30-day threshold crossed; the other key is 40 out
    assert controller.tray.last_tag == near.id
    assert reminders.check() == []  # once per key and threshold

    clock[0] = start + timedelta(days=3, hours=12)
    [due] = reminders.check()
    assert (due.key_id, due.threshold_days) == (near.id, 7)
    assert reminders.check() == []

    # a restart: the state file remembers what was shown (key ids and thresholds only)
    state = controller.settings.path.parent / "reminders.json"
    assert near.id in state.read_text() and "phk_" not in state.read_text()
    restarted = ReminderStore(state)
    keys = controller.window.model.keys()
    assert due_reminders(keys, clock[0], (30, 7, 1), restarted, "local") == []

    clock[0] = start + timedelta(days=11)  # the near key has expired; the far one is 29 days out
    [due] = reminders.check()
    assert (due.key_id, due.threshold_days) == (far.id, 30)

    # clicking the notification opens the window on that key with Rotate ready
    controller.tray.icon.messageClicked.emit()
    window = controller.window
    dialogs = window.hygiene.dialogs()
    assert window.table.current_key_id() == far.id
    assert [d.objectName() for d in dialogs] == ["rotateKeyDialog"] and dialogs[0].key.id == far.id
    assert dialogs[0].rotate_button.isEnabled()
    dialogs[0].close()
    api.close()


def test_reminder_thresholds_are_configurable(app_settings: Any) -> None:
    from phhub_keys.gui.settings import AppSettings

    assert app_settings.reminder_days == (30, 7, 1)
    app_settings.reminder_days = (14, 3)
    assert AppSettings(app_settings.path, app_settings.profile).reminder_days == (14, 3)
    text = app_settings.path.read_text().replace('reminder_days="14,3"', "reminder_days=60, 14, 2")
    app_settings.path.write_text(text)  # edited by hand, without quotes
    assert AppSettings(app_settings.path, app_settings.profile).reminder_days == (60, 14, 2)
    with pytest.raises(ValueError, match="1 to 365"):
        from phhub_keys.gui.reminders import parse_thresholds

        parse_thresholds("30, 0")


def test_change_expiry_renews_an_expired_key(qtbot: Any, manage_window: Any) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("renew me", expires_at=api.hub_now() + timedelta(seconds=3))
    qtbot.waitUntil(lambda: api.hub_now() > made.key.expires_at + timedelta(seconds=1), timeout=8000)
    _reload(qtbot, window)
    assert window.model.key_by_id(made.key.id).status is KeyStatus.EXPIRED
    assert check_key(window.server_url(), made.secret).status is CheckStatus.REJECTED

    dialog = window.hygiene.open_change_expiry(made.key.id)
    assert dialog is not None and dialog.objectName() == "changeExpiryDialog"
    assert dialog.chooser.select(30)
    with qtbot.waitSignal(dialog.changed, timeout=10_000) as changed:
        dialog.save_button.click()
    renewed = changed.args[0]
    assert renewed.status is KeyStatus.ACTIVE
    assert abs((renewed.expires_at - (api.hub_now() + timedelta(days=30))).total_seconds()) < 10
    row = window.model.row_of(made.key.id)
    assert window.model.index(row, Col.STATUS).data() == "Active"
    assert window.model.index(row, Col.EXPIRES).data() == "in 30 days"
    assert check_key(window.server_url(), made.secret).ok  # the same secret works again
    # a deactivated key's expiry is not changed from the window (reactivate it first)
    api.deactivate_key(made.key.id)
    _reload(qtbot, window)
    assert window.hygiene.open_change_expiry(made.key.id) is None
    assert "Reactivate" in window.save_status_text()


def test_a_file_changed_after_the_scan_is_skipped_then_look_again_updates_it(qtbot: Any, manage_window: Any,
                                                                             tmp_path: Path) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("edited meanwhile", expires_in_days=90)
    _reload(qtbot, window)
    paths, scan = _scratch_clients(tmp_path, window.server_url(), made.secret)
    window.hygiene.scan_kwargs = scan
    dialog = window.open_rotate_dialog(made.key.id)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000):
        dialog.rotate()
    new_secret = window.new_key_panel.secret_field.text()
    # Cursor rewrites its file after the scan (another server added): that file must not be touched
    cursor = paths["cursor"]
    other = '"mcpServers": {\n    "other": {"url": "https://x.example"},'
    edited = cursor.read_text().replace('"mcpServers": {', other, 1)
    cursor.write_text(edited)
    window.rec.answers = [True]
    with qtbot.waitSignal(dialog.rewireFinished, timeout=20_000) as finished:
        dialog.update_clients()
    by_client = {r.use.file.client_id: r for r in finished.args[0]}
    assert not by_client["cursor"].ok and "changed since it was scanned" in by_client["cursor"].reason
    assert cursor.read_text() == edited  # nothing lost
    assert all(r.ok for c, r in by_client.items() if c != "cursor")
    skipped = [dialog.files_list.item(i).text() for i in range(dialog.files_list.count())]
    assert any(t.startswith("✗ Skipped Cursor") for t in skipped)
    qtbot.waitUntil(lambda: dialog.check_result is not None, timeout=30_000)

    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000) as again:
        dialog.rescan_button.click()
    assert [u.file.client_id for u in again.args[0].literal] == ["cursor"]  # the others hold the new key
    window.rec.answers = [True]
    with qtbot.waitSignal(dialog.rewireFinished, timeout=20_000) as finished:
        assert dialog.update_clients()
    assert [r.ok for r in finished.args[0]] == [True]
    assert new_secret in cursor.read_text() and '"other"' in cursor.read_text()
    qtbot.waitUntil(lambda: dialog._check is None, timeout=30_000)
    dialog.close()


def test_activity_page_that_failed_can_be_tried_again(qtbot: Any, manage_window: Any) -> None:
    from phhub_keys.api.errors import HubUnavailable

    api = manage_window.client()
    api.create_key("one", expires_in_days=30)
    calls = []

    def flaky(**kwargs: Any) -> Any:  # the hub is down for the first request, then back
        calls.append(kwargs)
        if len(calls) == 1:
            raise HubUnavailable("Can't reach the hub — is it running?", code="unreachable")
        return api.account_events(**kwargs)

    dialog = ActivityDialog(flaky, title="Account activity", subtitle="", page_size=5)
    qtbot.addWidget(dialog)
    dialog.start()
    qtbot.waitUntil(lambda: "Could not load events" in dialog.status_label.text(), timeout=10_000)
    assert dialog.more_button.isEnabled() and dialog.more_button.text() == "Retry"
    assert "press Retry" in dialog.status_label.text()  # the message names the button there is
    with qtbot.waitSignal(dialog.pageLoaded, timeout=10_000):
        assert dialog.load_more()
    assert dialog.model.rowCount() >= 1 and calls[1] == {"limit": 5, "before": None}
    assert dialog.more_button.text() == "Load older"


def test_reminder_without_the_window_right_after_signing_in(qtbot: Any, local_hub: Any,
                                                            make_controller: Any) -> None:
    api = HubClient(local_hub.url, local_hub.new_token())
    soon = api.create_key("two days", expires_in_days=2).key
    controller = make_controller(local=local_hub, use_tray=True)
    controller.setup_tray()
    with qtbot.waitSignal(controller.tray.messageShown, timeout=10_000) as shown:
        controller.ensure_signed_in()  # signed in, no window (a start in the tray)
    assert controller.window is None
    assert shown.args[0] == "MCP key expires soon" and "“two days” expires in 2 days" in shown.args[1]
    assert controller.tray.last_tag == soon.id
    api.close()
