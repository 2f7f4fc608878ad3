"""KeysSession (gui/keys_session.py) on its own, without a window: the rules it owns, against a
real hub on loopback."""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject

from phhub_keys.api.client import HubClient
from phhub_keys.core.models import McpKey
from phhub_keys.gui.keys_session import KeysSession

TIMEOUT = 10_000


def test_only_the_newest_of_two_lists_is_delivered(qtbot, signed_in_client: HubClient) -> None:
    owner = QObject()
    session = KeysSession(signed_in_client, owner)
    signed_in_client.create_key("first")
    listed: list[int] = []
    session.listed.connect(lambda _config, keys: listed.append(len(keys)))
    session.list()
    signed_in_client.create_key("second")
    session.list()  # supersedes the first list, whose answer is dropped when it lands
    qtbot.waitUntil(lambda: not session.is_busy(), timeout=TIMEOUT)
    assert listed == [2]
    assert not session.list_in_flight()


def test_a_change_made_during_a_list_is_in_the_last_list_delivered(qtbot,
                                                                       signed_in_client: HubClient) -> None:
    """The list reads the hub before the create commits and lands after it: the session lists again.
    (The first list is held until the create has landed: left to the two workers, the list could
    also land first, and then the window adds the new key itself; that order is not this test's.)"""
    owner = QObject()
    session = KeysSession(signed_in_client, owner)
    busy: list[bool] = []
    session.busyChanged.connect(busy.append)
    listed: list[list[str]] = []
    session.listed.connect(lambda _config, keys: listed.append(sorted(k.label for k in keys)))
    created: list[str] = []
    create_landed = threading.Event()
    session.created.connect(lambda new: (created.append(new.key.label), create_landed.set()))
    read_before_create = signed_in_client.list_keys()
    calls = [0]
    list_keys = signed_in_client.list_keys

    def first_list_waits_for_the_create() -> list[McpKey]:
        calls[0] += 1
        if calls[0] == 1:
            create_landed.wait(TIMEOUT / 1000)
            return read_before_create  # what it read before the create committed
        return list_keys()

    signed_in_client.list_keys = first_list_waits_for_the_create  # type: ignore[method-assign]
    session.list()
    assert session.create("made meanwhile", {}, retry=lambda: None)
    assert not session.create("a second create at once", {}, retry=lambda: None)  # one at a time
    qtbot.waitUntil(lambda: not session.is_busy() and len(listed) >= 1, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: listed[-1] == ["made meanwhile"], timeout=TIMEOUT)
    assert created == ["made meanwhile"]
    assert busy[0] is True and busy[-1] is False


def test_a_refused_label_is_the_forms_and_nothing_is_retried(qtbot, signed_in_client: HubClient) -> None:
    owner = QObject()
    session = KeysSession(signed_in_client, owner)
    refused: list[str] = []
    failed: list[object] = []
    session.createRefused.connect(lambda exc: refused.append(exc.code))
    session.failed.connect(lambda exc, _retry: failed.append(exc))
    session.create("x" * 500, {}, retry=lambda: None)
    qtbot.waitUntil(lambda: not session.is_busy(), timeout=TIMEOUT)
    assert refused == ["invalid_label"] and failed == []
    assert not session.create_in_flight()


def test_a_window_showing_a_saved_list_before_sign_in_keeps_time_and_asks_to_sign_in(qtbot) -> None:
    """No client yet (a saved list on screen): the relative-time timer must not fail (hub_now
    called None.hub_now), and Activity asks for a sign-in instead of calling None."""
    from phhub_keys.gui.manage_window import ManageKeysWindow

    window = ManageKeysWindow(None)
    qtbot.addWidget(window)
    window.refresh_times()  # what the timer does every minute
    assert window.hub_now().tzinfo is not None
    with qtbot.waitSignal(window.authenticationRequired, timeout=TIMEOUT):
        assert window.hygiene.open_activity(None) is None
