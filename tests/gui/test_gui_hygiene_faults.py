"""Key hygiene in the window when things go wrong (issue 14, "Bad input and faults"), against a
real hub: a rotate the hub refuses (key rotated, deactivated or expired behind the window's back)
is explained with the successor named; a rotate whose answer is lost on the way (tests/faultproxy.py)
is pressed again and gives the one new key; re-wiring skips read-only, unreadable and vanished
config files with the reason, loses nothing, and backs up every file it writes."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

from faultproxy import FaultProxy
from fixtures_gui import close_manage_window, open_manage_window, scratch_home
from fixtures_hub import HubClock, add_test_user

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import AlreadyRotated, HubUnavailable, KeyInactive
from phhub_keys.api.keycheck import check_key
from phhub_keys.core import client_setup, config_install
from phhub_keys.core.keyformat import redact
from phhub_keys.core.models import KeyStatus

TIMEOUT = 15_000


def _signed_in(start_hub: Any) -> tuple[Any, HubClock, HubClient]:
    hub = start_hub()
    clock = HubClock()
    hub.store.clock = clock
    creds = add_test_user(hub)
    client = HubClient(hub.url, timeout=10.0)
    client.login(creds.email, creds.password)
    return hub, clock, client


def _rotate_refused(qtbot: Any, window: Any, key_id: str) -> tuple[BaseException, str]:
    dialog = window.open_rotate_dialog(key_id)
    assert dialog is not None
    # the window lists again by itself
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT), \
            qtbot.waitSignal(dialog.rotateFailed, timeout=TIMEOUT) as failed:
        dialog.rotate()
    assert dialog.error_label.isVisible() and dialog.new_key is None
    assert not dialog.rotate_button.isEnabled()  # the same press would get the same refusal
    text = dialog.error_label.text()
    dialog.close()
    return failed.args[0], text


def test_a_rotate_refused_by_the_hub_is_explained_and_names_the_successor(
        qtbot: Any, start_hub: Any, window_recorder: Any) -> None:
    _hub, clock, api = _signed_in(start_hub)
    rotated = api.create_key("rotated elsewhere", expires_in_days=90).key
    off = api.create_key("deactivated elsewhere", expires_in_days=90).key
    lapsing = api.create_key("expires meanwhile", expires_at=clock() + timedelta(hours=1)).key
    window = open_manage_window(qtbot, api, window_recorder)
    try:
        # Each key changes on the hub after the window listed it (another computer, the CLI, time).
        successor = api.rotate_key(rotated.id, grace_seconds=3600).key
        exc, text = _rotate_refused(qtbot, window, rotated.id)
        assert isinstance(exc, AlreadyRotated) and exc.successor == successor.id
        assert "already rotated" in text
        assert f"“rotated elsewhere”, {successor.redacted}" in text  # named as the list names keys
        assert "refreshed" in text
        assert window.model.key_by_id(rotated.id).replaced_by == successor.id  # the list caught up
        assert window.model.key_by_id(successor.id) is not None

        api.deactivate_key(off.id)
        exc, text = _rotate_refused(qtbot, window, off.id)
        assert isinstance(exc, KeyInactive) and "deactivated" in text and "cannot be rotated" in text
        assert window.model.key_by_id(off.id).status is KeyStatus.DEACTIVATED

        clock.advance(hours=1)  # expired by the hub's clock
        exc, text = _rotate_refused(qtbot, window, lapsing.id)
        assert isinstance(exc, KeyInactive) and "expired" in text and "extend it" in text
        assert window.model.key_by_id(lapsing.id).status is KeyStatus.EXPIRED
        # none of them got a (second) successor
        keys = api.list_keys()
        assert [k.replaces for k in keys if k.replaces] == [rotated.id]
        assert not window.has_unsaved_secret()
    finally:
        close_manage_window(window)
        api.close()


def test_a_lost_rotate_answer_then_rotate_again_gives_the_one_new_key(
        qtbot: Any, start_hub: Any, window_recorder: Any) -> None:
    hub, _clock, direct = _signed_in(start_hub)
    old = direct.create_key("behind a flaky network", expires_in_days=90)
    with FaultProxy(hub.url) as proxy:
        client = HubClient(proxy.url, token=direct.token, timeout=10.0)
        window = open_manage_window(qtbot, client, window_recorder)
        try:
            path = f"/api/v1/mcp/keys/{old.key.id}/rotate"
            # the hub rotates, both answers (the client's own retry too) are lost on the way back
            proxy.drop_response(method="POST", path=path, times=2)
            dialog = window.open_rotate_dialog(old.key.id)
            assert dialog.select_grace(3600)
            with qtbot.waitSignal(dialog.rotateFailed, timeout=TIMEOUT) as failed:
                dialog.rotate()
            assert isinstance(failed.args[0], HubUnavailable)
            assert "Press Rotate again" in dialog.error_label.text()
            assert dialog.rotate_button.isEnabled() and not window.new_key_panel.isVisible()

            with qtbot.waitSignal(dialog.rotated, timeout=TIMEOUT) as rotated:
                dialog.rotate_button.click()
            result = rotated.args[0]
            exchanges = proxy.exchanges("POST", path)
            assert [e.upstream_status for e in exchanges] == [201, 201, 201]
            assert len({e.header("Idempotency-Key") for e in exchanges}) == 1
            successors = [k for k in direct.list_keys() if k.replaces == old.key.id]
            assert [k.id for k in successors] == [result.key.id]  # never two successors
            shown = window.new_key_panel.secret_field.text()
            assert shown == result.secret and redact(shown) == successors[0].redacted
            # no client file holds the old key here: the step says so right under its heading
            qtbot.waitUntil(lambda: dialog.report is not None, timeout=TIMEOUT)
            assert dialog.scan_label.text() == (
                f"No client config file on this computer holds {old.key.redacted}: none of the AI clients "
                "this app knows has a config file here.")  # not "(0 known files looked at)"
            assert not dialog.files_list.isVisible()
            gap = dialog.scan_label.geometry().top() - dialog.done_label.geometry().bottom()
            assert gap < 60, gap  # the spare height went below the text, not between its lines
            server = f"{hub.url}/mcp"
            assert check_key(server, shown).ok and check_key(server, old.secret).ok  # grace: both work
            dialog.close()
        finally:
            close_manage_window(window)
            client.close()
            direct.close()


def _install(client_id: str, scan: dict[str, Any], server_url: str, secret: str) -> Path:
    path = config_install.config_path(client_id, **scan)
    config_install.install(client_setup.generate(client_id, server_url, secret=secret), path)
    return path


def test_update_clients_skips_read_only_unreadable_and_vanished_files_and_backs_up_each_write(
        qtbot: Any, manage_window: Any, tmp_path: Path) -> None:
    window = manage_window
    api = window.client()
    made = api.create_key("laptop", expires_in_days=90)
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    scan = scratch_home(tmp_path)
    paths = {c: _install(c, scan, window.server_url(), made.secret)
             for c in ("cursor", "vscode", "claude-desktop", "codex")}
    window.hygiene.scan_kwargs = scan
    dialog = window.open_rotate_dialog(made.key.id)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000):
        dialog.rotate()
    new_secret = window.new_key_panel.secret_field.text()
    assert dialog.files_list.count() == 4

    # after the scan: Cursor's file made read-only, Codex's replaced by a folder, Claude's removed
    os.chmod(paths["cursor"], 0o444)
    before_cursor = paths["cursor"].read_bytes()
    codex_text = paths["codex"].read_bytes()
    paths["codex"].unlink()
    paths["codex"].mkdir()
    paths["claude-desktop"].unlink()
    window.rec.answers = [True]
    with qtbot.waitSignal(dialog.rewireFinished, timeout=20_000) as finished:
        assert dialog.update_clients()
    results = {r.use.file.client_id: r for r in finished.args[0]}
    assert {c: r.ok for c, r in results.items()} == {
        "cursor": False, "codex": False, "claude-desktop": False, "vscode": True}
    assert "read-only" in results["cursor"].reason
    assert results["codex"].reason == "cannot read it (not a regular file (a folder))"
    assert "gone" in results["claude-desktop"].reason
    # shown with the reason, in the list and the summary
    items = [dialog.files_list.item(i).text() for i in range(dialog.files_list.count())]
    assert any(t.startswith("✗ Skipped Cursor") and "read-only" in t for t in items)
    assert "✓ Updated VS Code: ~/.config/Code/User/mcp.json" in items  # "~" is the scanned home
    summary = dialog.scan_label.text()
    assert "Updated 1 file" in summary and "3 skipped" in summary and "nothing in them was changed" in summary
    # nothing lost: the skipped files are as they were, with no backup beside them
    assert paths["cursor"].read_bytes() == before_cursor
    assert not list(paths["cursor"].parent.glob("*.phhub-backup-*"))
    assert paths["codex"].is_dir() and not list(paths["codex"].parent.glob("*.phhub-backup-*"))
    assert made.secret.encode() in codex_text
    # every write has its backup, holding the old key
    vscode = paths["vscode"]
    [backup] = vscode.parent.glob(vscode.name + ".phhub-backup-*")
    assert made.secret in backup.read_text() and new_secret in vscode.read_text()
    assert results["vscode"].backup == backup
    qtbot.waitUntil(lambda: dialog.check_result is not None, timeout=30_000)
    assert dialog.check_result.ok
    # the user fixes Cursor's file and looks again: only it is left, and now it is updated
    os.chmod(paths["cursor"], 0o600)
    with qtbot.waitSignal(dialog.scanFinished, timeout=20_000) as again:
        dialog.rescan_button.click()
    assert [u.file.client_id for u in again.args[0].literal] == ["cursor"]
    window.rec.answers = [True]
    with qtbot.waitSignal(dialog.rewireFinished, timeout=20_000) as finished:
        assert dialog.update_clients()
    assert [r.ok for r in finished.args[0]] == [True]
    assert new_secret in paths["cursor"].read_text()
    assert len(list(paths["cursor"].parent.glob(paths["cursor"].name + ".phhub-backup-*"))) == 1
    qtbot.waitUntil(lambda: dialog._check is None, timeout=30_000)
    dialog.close()
