"""The window when the network misbehaves: a slow hub, error answers, a lost create response.

The window talks to the real hub through tests/faultproxy.py, which delays or
rewrites chosen requests.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from faultproxy import FaultProxy
from fixtures_gui import close_manage_window, open_manage_window
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit

from phhub_keys.api.client import HubClient
from phhub_keys.api.messages import rate_limited_text
from phhub_keys.core.keyformat import redact
from phhub_keys.gui.keys_model import Col, Role
from phhub_keys.gui.manage_window import ManageKeysWindow
from phhub_keys.hub.embedded import EmbeddedHub

TIMEOUT = 15_000


@pytest.fixture
def proxy(hub: EmbeddedHub) -> Iterator[FaultProxy]:
    with FaultProxy(hub.url) as p:
        yield p


@pytest.fixture
def slow_window(qtbot, proxy: FaultProxy, signed_in_client: HubClient,
                window_recorder) -> Iterator[ManageKeysWindow]:
    client = HubClient(proxy.url, token=signed_in_client.token, timeout=10.0)
    client.creds = signed_in_client.creds  # type: ignore[attr-defined]
    window = open_manage_window(qtbot, client, window_recorder,
                                signed_in_client.creds.email, TIMEOUT)  # type: ignore[attr-defined]
    yield window
    close_manage_window(window)
    client.close()


def test_slow_hub_shows_busy_state_and_never_freezes(qtbot, slow_window: ManageKeysWindow, proxy: FaultProxy,
                                                     signed_in_client: HubClient) -> None:
    window = slow_window
    key = signed_in_client.create_key("slow key").key
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    proxy.delay(1.5, method="POST", path=f"/api/v1/mcp/keys/{key.id}/deactivate")
    ticks: list[int] = []
    heartbeat = QTimer()
    heartbeat.timeout.connect(lambda: ticks.append(1))
    heartbeat.start(20)
    try:
        with qtbot.waitSignal(window.busyChanged, timeout=TIMEOUT) as busy:
            assert window.trigger_action(0, "deactivate")
        assert busy.args == [True]
        assert window.busy_bar.isVisible()
        assert window.model.index(0, Col.ACTIONS).data(Role.BUSY) is True
        assert not window.trigger_action(0, "deactivate")  # no second call while one is in flight
        assert not window.rename_key(key.id, "while busy")
        with qtbot.waitSignal(window.busyChanged, timeout=TIMEOUT) as idle:
            pass
        assert idle.args == [False]
    finally:
        heartbeat.stop()
    # the event loop kept running during the 1.5 s call (a frozen window would tick ~0 times)
    assert len(ticks) > 20
    assert not window.busy_bar.isVisible()
    assert window.model.index(0, Col.STATUS).data() == "Deactivated"


def test_hub_error_on_rename_reverts_and_explains(qtbot, slow_window: ManageKeysWindow, proxy: FaultProxy,
                                                  signed_in_client: HubClient) -> None:
    window = slow_window
    key = signed_in_client.create_key("stays").key
    with qtbot.waitSignal(window.loaded, timeout=TIMEOUT):
        window.refresh()
    body = json.dumps({"error": {"code": "internal_error", "message": "The database is locked."}})
    proxy.respond(500, body, {"Content-Type": "application/json"}, method="PATCH")
    assert window.rename_key(key.id, "never saved")
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=TIMEOUT)
    text = window.error_banner.text()
    assert "internal error" in text and "Retry" in text and "network" not in text
    assert window.model.index(0, Col.LABEL).data() == "stays"
    assert window.model.save_state(key.id) is None
    assert signed_in_client.list_keys()[0].label == "stays"
    # Retry sends the rename again, and this time the hub answers
    # (waits on the signal: the "Changes Saved" text clears itself after 2.5 s, which a poll of
    # the label could miss on a loaded machine)
    with qtbot.waitSignal(window.saveStatusShown, timeout=TIMEOUT,
                          check_params_cb=lambda text, ok: ok and text == "Changes Saved"):
        window.findChild(type(window.error_banner.action_button), "retryButton").click()
    assert window.model.save_state(key.id) == "saved"
    assert signed_in_client.list_keys()[0].label == "never saved"
    assert not window.error_banner.isVisible()


def test_lost_create_response_shows_the_one_key_once(qtbot, slow_window: ManageKeysWindow, proxy: FaultProxy,
                                                     signed_in_client: HubClient) -> None:
    window = slow_window
    proxy.drop_response(method="POST", path="/api/v1/mcp/keys")  # the hub commits, the answer is lost
    window.create_key("lost in transit")
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=TIMEOUT)
    secret = window.findChild(QLineEdit, "newKeySecretField").text()
    keys = signed_in_client.list_keys()
    assert [k.redacted for k in keys] == [redact(secret)]  # one key, and it is the one shown
    assert window.key_count() == 1
    QGuiApplication.clipboard().clear()


def test_a_rate_limit_reads_the_same_in_the_window_as_on_the_command_line(
        qtbot, slow_window: ManageKeysWindow, proxy: FaultProxy) -> None:
    """One voice (api.messages): the banner says what the client's error (and so the CLI) says."""
    window = slow_window
    proxy.respond(429, b'{"error": {"code": "rate_limited", "message": "slow down"}}',
                  {"Retry-After": "30"}, method="GET", path="/api/v1/mcp/keys")
    window.refresh()
    qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=TIMEOUT)
    assert window.error_banner.text() == "Too many requests to the hub. Wait 30 seconds and try again."
    assert window.error_banner.text() == rate_limited_text(30)
