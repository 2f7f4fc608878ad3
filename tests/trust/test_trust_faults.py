"""The fault matrix: every network fault of issue 6, through the client and through the window.

The window and the client talk to the real hub through tests/faultproxy.py. A
fault stays on (``times=None``) until the test clears it, so the client's own
safe retries (GETs, and a create with the same Idempotency-Key) meet it too and
the failure reaches the person. For each fault the tests check that:

- the window keeps running its event loop (a 20 ms QTimer heartbeat never
  stops for long) while the call is under way;
- what it shows says what to do (Retry, try again, sign in, wait ...) and is
  not a traceback or a raw exception;
- what the person typed survives: the label stays in the create form, and an
  unsaved new secret stays in the shown-once panel;
- when the fault ends, Retry (or signing in again) finishes the job: a create
  whose answer was lost shows its secret exactly once and the hub holds
  exactly one key.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
import requests
from faultproxy import FaultProxy
from fixtures_hub import Creds
from PySide6.QtCore import QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QPushButton

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import (
    AuthenticationError,
    HubError,
    HubTimeout,
    HubUnavailable,
    NotFound,
    ProtocolError,
    RateLimited,
)
from phhub_keys.core.keyformat import is_valid_key, redact
from phhub_keys.gui import workers
from phhub_keys.gui.keys_model import Col
from phhub_keys.gui.manage_window import ManageKeysWindow
from phhub_keys.hub.embedded import EmbeddedHub

WAIT_MS = 20_000
CLIENT_TIMEOUT = 1.5  # the "slow hub" answers after SLOW_SECONDS, well past this
SLOW_SECONDS = 3.0
KEYS = "/api/v1/mcp/keys"
JSON = {"Content-Type": "application/json"}
# What a message must never look like: a traceback or a raw library exception.
RAW = ("Traceback", 'File "', "HTTPConnectionPool", "urllib3", "Max retries", "requests.", "Errno",
       "object at 0x", "NoneType", "KeyError", "json.decoder")
# ... and one of these says what to do next.
ACTIONS = ("is it running?", "Retry", "Try again", "try again", "Sign in", "sign in", "Wait", "Check",
           "check", "Refresh", "refresh")


def assert_actionable(text: str) -> None:
    assert text.strip(), "no message shown"
    for raw in RAW:
        assert raw not in text, f"raw technical text {raw!r} in {text!r}"
    assert any(word in text for word in ACTIONS), f"nothing to act on in {text!r}"


# --------------------------------------------------------------------------- the faults


@dataclass(frozen=True)
class Fault:
    """One fault of the matrix, applied to requests matching ``method``/``path``."""

    name: str
    error: type[HubError]
    lost_create: bool  # the hub may have made the key: the outcome is unknown to the client
    apply: Callable[[FaultProxy, str | None, str], None]
    settle: float = 0.0  # seconds after which late (delayed) requests have reached the hub

    def __str__(self) -> str:
        return self.name


def _respond(status: int, body: bytes | str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    def apply(proxy: FaultProxy, method: str | None, path: str) -> None:
        proxy.respond(status, body, headers if headers is not None else JSON, method=method, path=path,
                      times=None)

    return apply


def _action(name: str, **params: object):  # type: ignore[no-untyped-def]
    def apply(proxy: FaultProxy, method: str | None, path: str) -> None:
        proxy.add(name, method=method, path=path, times=None, **params)

    return apply


def _down(proxy: FaultProxy, method: str | None, path: str) -> None:
    proxy.stop()  # the hub is gone: connections are refused


ENVELOPE_500 = json.dumps({"error": {"code": "internal_error", "message": "Something went wrong."}})
ENVELOPE_503 = json.dumps({"error": {"code": "unavailable", "message": "Down for maintenance."}})
ENVELOPE_429 = json.dumps({"error": {"code": "rate_limited", "message": "Slow down."}})

FAULTS = [
    Fault("hub down", HubUnavailable, False, _down),
    Fault("response lost (hub killed mid-create)", HubUnavailable, True, _action("drop_response")),
    Fault("reset mid-body", HubUnavailable, True, _action("truncate")),
    Fault("reset before forwarding", HubUnavailable, True, _action("reset")),
    Fault("slower than the timeout", HubTimeout, True, _action("delay", seconds=SLOW_SECONDS),
          settle=SLOW_SECONDS + 1.0),
    Fault("500", HubUnavailable, False, _respond(500, ENVELOPE_500)),
    Fault("503", HubUnavailable, False, _respond(503, ENVELOPE_503)),
    Fault("200 malformed json", ProtocolError, False, _respond(200, b'{"keys": [{"id": ')),
    Fault("200 html", ProtocolError, False,
          _respond(200, b"<html>portal</html>", {"Content-Type": "text/html"})),
    Fault("200 wrong shape", ProtocolError, False, _respond(200, b'{"keys": "none", "key": 1}')),
    Fault("429 retry-after", RateLimited, False,
          _respond(429, ENVELOPE_429, {**JSON, "Retry-After": "7"})),
]
CREATE_STATUS = {"200 malformed json": 201, "200 html": 201, "200 wrong shape": 201}


def _fault_for_create(fault: Fault) -> Fault:
    """A 2xx fault on create answers 201, as a create does."""
    status = CREATE_STATUS.get(fault.name)
    if status is None:
        return fault
    body = {"200 malformed json": b'{"key": {"id": "mk_', "200 html": b"<html>portal</html>",
            "200 wrong shape": b'{"key": {"id": 7}, "secret": "phk_nope"}'}[fault.name]
    headers = {"Content-Type": "text/html"} if fault.name == "200 html" else JSON
    return Fault(fault.name, fault.error, fault.lost_create, _respond(status, body, headers), fault.settle)


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def proxy(hub: EmbeddedHub) -> Iterator[FaultProxy]:
    p = FaultProxy(hub.url).start()
    yield p
    p.stop()


@pytest.fixture
def creds(make_user: Callable[..., Creds]) -> Creds:
    return make_user(name="Fault Tester")


@pytest.fixture
def direct(hub: EmbeddedHub, creds: Creds) -> Iterator[HubClient]:
    """The same account straight to the hub (no proxy): the truth to compare against."""
    c = HubClient(hub.url)
    c.login(creds.email, creds.password)
    yield c
    c.close()


@pytest.fixture
def client(proxy: FaultProxy, creds: Creds) -> Iterator[HubClient]:
    c = HubClient(proxy.url, timeout=CLIENT_TIMEOUT, retry_backoff=0.05)
    c.login(creds.email, creds.password)
    yield c
    c.close()


class Heartbeat:
    """A 20 ms QTimer; ``max_gap()`` is the longest the event loop went without running it."""

    def __init__(self) -> None:
        self.ticks: list[float] = []
        self.timer = QTimer()
        self.timer.timeout.connect(lambda: self.ticks.append(time.monotonic()))

    def __enter__(self) -> Heartbeat:
        self.started = time.monotonic()
        self.timer.start(20)
        return self

    def __exit__(self, *exc: object) -> None:
        self.timer.stop()
        self.stopped = time.monotonic()

    def max_gap(self) -> float:
        points = [self.started, *self.ticks, self.stopped]
        return max(b - a for a, b in itertools.pairwise(points))


@pytest.fixture
def make_window(qtbot, window_recorder) -> Iterator[Callable[[HubClient], ManageKeysWindow]]:  # type: ignore[no-untyped-def]
    made: list[ManageKeysWindow] = []

    def make(client: HubClient, *, wait_loaded: bool = True) -> ManageKeysWindow:
        window = ManageKeysWindow(client, account_text="fault tester")
        window_recorder(window)
        window.secret_clipboard.clear_after_ms = 0
        qtbot.addWidget(window)
        made.append(window)
        if wait_loaded:
            with qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
                window.show()
        else:
            window.show()
        return window

    yield make
    for window in made:
        window.discard_secret()
    workers.wait_idle()
    QGuiApplication.clipboard().clear()


def retry_button(window: ManageKeysWindow) -> QPushButton:
    button = window.error_banner.findChild(QPushButton, "retryButton")
    assert button is not None and button.isVisible()
    return button


def wait_failed(qtbot, window: ManageKeysWindow) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: window.error_banner.isVisible() and not window.is_busy(), timeout=WAIT_MS)


def count_secret_shows(window: ManageKeysWindow) -> list[str]:
    """Every secret the shown-once panel is given, in order."""
    shown: list[str] = []
    original = window.new_key_panel.show_secret

    def show_secret(label: str, secret: str) -> None:
        shown.append(secret)
        original(label, secret)

    window.new_key_panel.show_secret = show_secret  # type: ignore[method-assign]
    return shown


# --------------------------------------------------------------------------- the client


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_client_create_under_fault_then_recovers_one_key(proxy: FaultProxy, client: HubClient,
                                                          direct: HubClient, fault: Fault) -> None:
    fault = _fault_for_create(fault)
    fault.apply(proxy, "POST", KEYS)
    with pytest.raises(HubError) as info:
        client.create_key("under fault")
    error = info.value
    assert isinstance(error, fault.error), (type(error), error)
    assert_actionable(str(error))
    if fault.lost_create:
        assert error.idempotency_key, "an unknown outcome must hand back the Idempotency-Key"  # type: ignore[attr-defined]
    ikey = getattr(error, "idempotency_key", None)
    posts = proxy.exchanges("POST", KEYS)
    if posts:
        # every attempt of this create carried the same Idempotency-Key
        assert len({e.header("Idempotency-Key") for e in posts}) == 1
    time.sleep(fault.settle)
    if not proxy.running:
        proxy.start()
    proxy.clear()
    new = client.create_key("under fault", idempotency_key=ikey)
    assert is_valid_key(new.secret)
    assert [(k.id, k.redacted) for k in direct.list_keys()] == [(new.key.id, redact(new.secret))]


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_client_list_under_fault_then_recovers(proxy: FaultProxy, client: HubClient, direct: HubClient,
                                               fault: Fault) -> None:
    made = direct.create_key("listed").key
    fault.apply(proxy, "GET", KEYS)
    with pytest.raises(HubError) as info:
        client.list_keys()
    assert isinstance(info.value, fault.error), (type(info.value), info.value)
    assert_actionable(str(info.value))
    if not proxy.running:
        proxy.start()
    proxy.clear()
    assert [k.id for k in client.list_keys()] == [made.id]


def test_client_401_mid_session_and_404_of_a_row_deleted_elsewhere(hub: EmbeddedHub, client: HubClient,
                                                                    direct: HubClient, creds: Creds) -> None:
    key = direct.deactivate_key(direct.create_key("gone soon").key.id)
    direct.delete_key(key.id)
    for call in (lambda: client.rename_key(key.id, "x"), lambda: client.deactivate_key(key.id),
                 lambda: client.reactivate_key(key.id), lambda: client.delete_key(key.id)):
        with pytest.raises(NotFound) as info:
            call()
        assert_actionable(str(info.value))
    revoked = client.token
    requests.post(f"{hub.url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {revoked}"}, timeout=10)
    with pytest.raises(AuthenticationError) as auth:
        client.list_keys()
    assert "Sign in again" in str(auth.value)
    client.login(creds.email, creds.password)
    assert client.token != revoked and client.list_keys() == []


# --------------------------------------------------------------------------- the window: create


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_window_create_under_fault_keeps_the_label_and_retry_shows_one_secret(
    qtbot, proxy: FaultProxy, client: HubClient, direct: HubClient, make_window, fault: Fault
) -> None:
    fault = _fault_for_create(fault)
    window = make_window(client)
    shown = count_secret_shows(window)
    window.open_create_form()
    window.create_form.label_input.setText("Typed by hand")
    fault.apply(proxy, "POST", KEYS)
    with Heartbeat() as beat:
        window.create_form.submit()
        wait_failed(qtbot, window)
    assert beat.max_gap() < 1.0, f"the event loop stalled for {beat.max_gap():.2f} s"
    assert_actionable(window.error_banner.text())
    assert window.create_form.isVisible()
    assert window.create_form.label_text() == "Typed by hand"
    assert not window.create_form.is_busy()
    assert shown == [] and not window.new_key_panel.isVisible()
    if fault.error is RateLimited:
        assert "7 s" in window.error_banner.text()
        assert "Wait 7 seconds" in window.create_form.error_text()

    time.sleep(fault.settle)  # a slow hub's late requests land before the retry
    if not proxy.running:
        proxy.start()
    proxy.clear()
    retry_button(window).click()
    qtbot.waitUntil(lambda: bool(shown) and not window.is_busy(), timeout=WAIT_MS)
    assert not window.error_banner.isVisible()
    (secret,) = shown  # shown exactly once
    assert window.has_unsaved_secret() and window.new_key_panel.secret_field.text() == secret
    keys = direct.list_keys()
    assert [(k.label, k.redacted) for k in keys] == [("Typed by hand", redact(secret))]  # one key on the hub
    assert window.key_count() == 1
    posts = proxy.exchanges("POST", KEYS)
    assert len({e.header("Idempotency-Key") for e in posts}) == 1  # Retry reused the Idempotency-Key


# --------------------------------------------------------------------------- the window: list


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_window_opening_under_fault_explains_and_retry_loads(
    qtbot, proxy: FaultProxy, client: HubClient, direct: HubClient, make_window, fault: Fault
) -> None:
    made = direct.create_key("already there").key
    fault.apply(proxy, None, "/api/v1/mcp/")  # config and keys
    with Heartbeat() as beat:
        window = make_window(client, wait_loaded=False)
        wait_failed(qtbot, window)
    assert beat.max_gap() < 1.0, f"the event loop stalled for {beat.max_gap():.2f} s"
    assert_actionable(window.error_banner.text())
    assert not window.is_loaded()
    if not proxy.running:
        proxy.start()
    proxy.clear()
    with qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
        retry_button(window).click()
    assert not window.error_banner.isVisible()
    assert window.model.key_by_id(made.id) is not None


# --------------------------------------------------------------------------- the window: unsaved secret


RENAME_FAULTS = [f for f in FAULTS if f.name in ("hub down", "response lost (hub killed mid-create)",
                                                  "reset mid-body", "slower than the timeout", "500", "503",
                                                  "200 malformed json", "429 retry-after")]


@pytest.mark.parametrize("fault", RENAME_FAULTS, ids=str)
def test_window_fault_while_a_new_secret_is_unsaved_keeps_it(
    qtbot, proxy: FaultProxy, client: HubClient, direct: HubClient, make_window, fault: Fault
) -> None:
    other = direct.create_key("old name").key
    window = make_window(client)
    window.create_key("fresh")
    qtbot.waitUntil(lambda: window.has_unsaved_secret() and not window.is_busy(), timeout=WAIT_MS)
    secret = window.new_key_panel.secret_field.text()
    assert is_valid_key(secret)
    fault.apply(proxy, "PATCH", f"{KEYS}/")
    with Heartbeat() as beat:
        assert window.rename_key(other.id, "new name")
        wait_failed(qtbot, window)
    assert beat.max_gap() < 1.0, f"the event loop stalled for {beat.max_gap():.2f} s"
    assert_actionable(window.error_banner.text())
    assert window.has_unsaved_secret() and window.new_key_panel.isVisible()
    assert window.new_key_panel.secret_field.text() == secret
    time.sleep(fault.settle)
    if not proxy.running:
        proxy.start()
    proxy.clear()
    retry_button(window).click()
    qtbot.waitUntil(lambda: window.save_status_text() == "Changes Saved", timeout=WAIT_MS)
    assert {k.id: k.label for k in direct.list_keys()}[other.id] == "new name"
    assert window.new_key_panel.secret_field.text() == secret and window.has_unsaved_secret()


# --------------------------------------------------------------------------- the window: 401, 404


def test_window_401_mid_session_keeps_the_label_and_finishes_after_sign_in(
    qtbot, hub: EmbeddedHub, proxy: FaultProxy, client: HubClient, direct: HubClient, creds: Creds,
    make_window,
) -> None:
    window = make_window(client)
    shown = count_secret_shows(window)
    # Signed out elsewhere (or expired): the hub now refuses the window's token.
    requests.post(f"{hub.url}/api/v1/auth/logout", headers={"Authorization": f"Bearer {client.token}"},
                  timeout=10)
    window.open_create_form()
    window.create_form.label_input.setText("after sign-in")
    with qtbot.waitSignal(window.authenticationRequired, timeout=WAIT_MS):
        window.create_form.submit()
    qtbot.waitUntil(lambda: window.error_banner.isVisible() and not window.is_busy(), timeout=WAIT_MS)
    assert_actionable(window.error_banner.text())
    assert "Sign in" in window.error_banner.text()
    assert window.create_form.label_text() == "after sign-in" and window.create_form.isVisible()
    assert direct.list_keys() == []
    # The person signs in again; what they were doing is finished.
    fresh = HubClient(proxy.url, timeout=CLIENT_TIMEOUT)
    fresh.login(creds.email, creds.password)
    window.set_client(fresh)
    window.retry_after_sign_in()
    qtbot.waitUntil(lambda: bool(shown) and not window.is_busy(), timeout=WAIT_MS)
    (secret,) = shown
    assert [k.redacted for k in direct.list_keys()] == [redact(secret)]
    fresh.close()


@pytest.mark.parametrize("verb", ["rename", "deactivate", "delete"])
def test_window_404_for_a_row_deleted_elsewhere_says_so_and_refreshes(
    qtbot, client: HubClient, direct: HubClient, make_window, verb: str
) -> None:
    gone = direct.create_key("deleted elsewhere").key
    kept = direct.create_key("kept").key
    if verb == "delete":
        direct.deactivate_key(gone.id)
    window = make_window(client)
    assert window.key_count() == 2
    # Another client (the web dialog, another laptop) deletes the key.
    if verb != "delete":
        direct.deactivate_key(gone.id)
    direct.delete_key(gone.id)
    with Heartbeat() as beat, qtbot.waitSignal(window.loaded, timeout=WAIT_MS):
        if verb == "rename":
            assert window.rename_key(gone.id, "too late")
        else:
            assert window.trigger_action_for_key(gone.id, verb)
    assert beat.max_gap() < 1.0
    message = window.statusBar().currentMessage()
    assert "no longer exists" in message and "refreshed" in message
    assert_actionable(message)
    assert window.model.key_by_id(gone.id) is None and window.model.key_by_id(kept.id) is not None
    assert window.model.index(0, Col.LABEL).data() == "kept"
    assert [k.id for k in direct.list_keys()] == [kept.id]
