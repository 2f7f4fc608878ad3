"""HubClient under network faults, injected by tests/faultproxy.py between the
client and the real hub: lost responses, resets, 5xx, slow and dead hubs,
malformed answers. Retries happen only where they are safe."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from faultproxy import FaultProxy

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import (
    HubTimeout,
    HubUnavailable,
    InvalidRequest,
    NotFound,
    ProtocolError,
    RateLimited,
)
from phhub_keys.core.keyformat import is_valid_key

KEYS = "/api/v1/mcp/keys"


@pytest.fixture
def proxy(hub) -> Iterator[FaultProxy]:  # type: ignore[no-untyped-def]
    with FaultProxy(hub.url) as p:
        yield p


@pytest.fixture
def creds(make_user):  # type: ignore[no-untyped-def]
    return make_user()


@pytest.fixture
def client(proxy: FaultProxy, creds) -> Iterator[HubClient]:  # type: ignore[no-untyped-def]
    c = HubClient(proxy.url, timeout=5.0)
    c.login(creds.email, creds.password)
    yield c
    c.close()


@pytest.fixture
def direct(hub, creds) -> HubClient:  # type: ignore[no-untyped-def]
    """The same account, straight to the hub: the truth to compare against."""
    c = HubClient(hub.url)
    c.login(creds.email, creds.password)
    return c


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- the lost response --------------------------------------------------------------


def test_lost_create_response_recovers_the_same_secret_and_one_key(proxy: FaultProxy, client: HubClient,
                                                                   direct: HubClient) -> None:
    proxy.drop_response(method="POST", path=KEYS)
    new = client.create_key("lost in transit")
    posts = proxy.exchanges("POST", KEYS)
    assert [e.action for e in posts] == ["drop_response", "forward"]
    # The hub committed the first request (201) but the client never saw it.
    assert [e.upstream_status for e in posts] == [201, 201]
    ikeys = {e.header("Idempotency-Key") for e in posts}
    assert len(ikeys) == 1 and None not in ikeys
    keys = direct.list_keys()
    assert [k.id for k in keys] == [new.key.id]
    assert is_valid_key(new.secret) and keys[0].redacted == new.key.redacted
    outcomes = [(c.method, c.path, c.outcome) for c in client.calls][-2:]
    assert outcomes == [("POST", KEYS[7:], "HubUnavailable"), ("POST", KEYS[7:], "ok")]


def test_create_lost_twice_gives_the_idempotency_key_to_recover_later(proxy: FaultProxy, client: HubClient,
                                                                       direct: HubClient) -> None:
    proxy.drop_response(method="POST", path=KEYS, times=2)
    with pytest.raises(HubUnavailable) as info:
        client.create_key("unlucky")
    ikey = info.value.idempotency_key
    assert ikey
    assert info.value.code == "connection_lost"
    assert "was lost before it answered" in str(info.value)
    assert len(direct.list_keys()) == 1  # made once, answer lost twice
    new = client.create_key("unlucky", idempotency_key=ikey)
    assert [k.id for k in direct.list_keys()] == [new.key.id]
    assert [e.header("Idempotency-Key") for e in proxy.exchanges("POST", KEYS)] == [ikey] * 3


def test_create_reset_before_reaching_the_hub_is_retried_once(proxy: FaultProxy, client: HubClient,
                                                              direct: HubClient) -> None:
    proxy.reset(method="POST", path=KEYS)
    new = client.create_key("reset first")
    assert [e.action for e in proxy.exchanges("POST", KEYS)] == ["reset", "forward"]
    assert [k.id for k in direct.list_keys()] == [new.key.id]


@pytest.mark.parametrize("status", [502, 503, 504])
def test_create_after_gateway_error_is_retried_with_the_same_key(proxy: FaultProxy, client: HubClient,
                                                                 direct: HubClient, status: int) -> None:
    proxy.respond(status, b"<html>bad gateway</html>", {"Content-Type": "text/html"},
                  method="POST", path=KEYS)
    new = client.create_key("through a flaky gateway")
    posts = proxy.exchanges("POST", KEYS)
    assert [e.action for e in posts] == ["respond", "forward"]
    assert posts[0].header("Idempotency-Key") == posts[1].header("Idempotency-Key")
    assert [k.id for k in direct.list_keys()] == [new.key.id]


def test_create_after_500_is_not_retried(proxy: FaultProxy, client: HubClient, direct: HubClient) -> None:
    proxy.respond(500, json.dumps({"error": {"code": "internal_error", "message": "boom"}}),
                  {"Content-Type": "application/json"}, method="POST", path=KEYS)
    with pytest.raises(HubUnavailable) as info:
        client.create_key("x")
    assert info.value.status == 500
    assert "internal error (HTTP 500)" in str(info.value) and "administrator" in str(info.value)
    assert info.value.idempotency_key
    assert len(proxy.exchanges("POST", KEYS)) == 1
    assert direct.list_keys() == []


def test_slow_create_times_out_then_retry_returns_the_key_made_once(proxy: FaultProxy, creds,  # type: ignore[no-untyped-def]
                                                                    direct: HubClient) -> None:
    client = HubClient(proxy.url, timeout=1.0)
    client.login(creds.email, creds.password)
    proxy.hang(method="POST", path=KEYS)  # the first attempt never gets an answer
    new = client.create_key("slow")
    assert [e.action for e in proxy.exchanges("POST", KEYS)] == ["hang", "forward"]
    assert [k.id for k in direct.list_keys()] == [new.key.id]


# -- no blind retries of other writes ------------------------------------------------


@pytest.mark.parametrize("verb", ["rename", "deactivate", "reactivate", "delete", "login", "logout"])
def test_other_writes_are_never_retried(proxy: FaultProxy, client: HubClient, direct: HubClient,
                                        creds, verb: str) -> None:  # type: ignore[no-untyped-def]
    key = direct.deactivate_key(direct.create_key("target").key.id)
    calls = {
        "rename": ("PATCH", lambda: client.rename_key(key.id, "new")),
        "deactivate": ("POST", lambda: client.deactivate_key(key.id)),
        "reactivate": ("POST", lambda: client.reactivate_key(key.id)),
        "delete": ("DELETE", lambda: client.delete_key(key.id)),
        "login": ("POST", lambda: client.login(creds.email, creds.password)),
        "logout": ("POST", client.logout),
    }
    method, call = calls[verb]
    proxy.reset(method=method, path="/api/v1/")
    before = len(proxy.log)
    with pytest.raises(HubUnavailable) as info:
        call()
    assert info.value.code == "connection_lost"
    assert len(proxy.log) == before + 1  # exactly one attempt
    assert [(k.label, k.status) for k in direct.list_keys()] == [("target", key.status)]
    proxy.drop_response(method=method, path="/api/v1/")  # the hub acts; the client hears nothing
    with pytest.raises(HubUnavailable):
        call()
    assert len(proxy.log) == before + 2


# -- GETs retry -------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["reset", "drop_response", "truncate", "503", "502", "504"])
def test_get_survives_one_transient_fault(proxy: FaultProxy, client: HubClient, direct: HubClient,
                                          fault: str) -> None:
    made = direct.create_key("visible").key
    if fault.isdigit():
        proxy.respond(int(fault), method="GET", path=KEYS)
    else:
        proxy.add(fault, method="GET", path=KEYS)
    if fault == "truncate":
        # A body cut short is noticed only while reading, after the transport's retry
        # point: the client reports it, and the next call works.
        with pytest.raises(HubUnavailable) as info:
            client.list_keys()
        assert info.value.code == "connection_lost"
        assert "Try again" in str(info.value)
    assert [k.id for k in client.list_keys()] == [made.id]
    gets = proxy.exchanges("GET", KEYS)
    assert gets[0].action == ("respond" if fault.isdigit() else fault)
    assert gets[-1].action == "forward"


def test_get_gives_up_after_the_retries(proxy: FaultProxy, client: HubClient) -> None:
    proxy.respond(503, json.dumps({"error": {"code": "maintenance", "message": "Back at noon."}}),
                  {"Content-Type": "application/json"}, method="GET", path="/api/v1/me", times=None)
    with pytest.raises(HubUnavailable) as info:
        client.me()
    assert info.value.status == 503 and info.value.code == "maintenance"
    assert str(info.value) == (
        f"The hub at {client.base_url} is unavailable right now (HTTP 503). Try again in a moment."
    )
    assert len(proxy.exchanges("GET", "/api/v1/me")) == 3  # first try + 2 retries


def test_slow_get_times_out_without_retrying(proxy: FaultProxy, creds) -> None:  # type: ignore[no-untyped-def]
    client = HubClient(proxy.url, timeout=0.5)
    client.login(creds.email, creds.password)
    proxy.hang(method="GET", path="/api/v1/me", times=None)
    with pytest.raises(HubTimeout) as info:
        client.me()
    assert isinstance(info.value, HubUnavailable)
    assert info.value.code == "timeout"
    assert str(info.value) == (
        f"The hub at {proxy.url} did not answer within 0.5 seconds. Try again in a moment."
    )
    assert len(proxy.exchanges("GET", "/api/v1/me")) == 1


def test_delayed_answer_within_the_timeout_is_fine(proxy: FaultProxy, client: HubClient) -> None:
    proxy.delay(0.5, method="GET", path="/api/v1/me")
    assert client.me().email


# -- hub down and back ---------------------------------------------------------------


def test_hub_not_running(creds) -> None:  # type: ignore[no-untyped-def]
    url = f"http://127.0.0.1:{_free_port()}"
    client = HubClient(url, token="phs_" + "x" * 43)
    for call in (client.list_keys, lambda: client.create_key("x"), lambda: client.login(creds.email, "pw")):
        with pytest.raises(HubUnavailable) as info:
            call()
        assert str(info.value) == f"Can't reach the hub at {url} — is it running?"
        assert info.value.code == "unreachable"


def test_hub_goes_down_and_comes_back(proxy: FaultProxy, client: HubClient) -> None:
    assert client.list_keys() == []
    proxy.stop()
    with pytest.raises(HubUnavailable) as info:
        client.list_keys()
    assert "is it running?" in str(info.value)
    with pytest.raises(HubUnavailable) as create_info:
        client.create_key("while down")
    ikey = create_info.value.idempotency_key
    proxy.start()
    assert client.list_keys() == []  # nothing was created while down
    new = client.create_key("while down", idempotency_key=ikey)
    assert [k.id for k in client.list_keys()] == [new.key.id]


# -- answers that are not the API ----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"<html>captive portal</html>", "bad_json"),
        (b'{"keys": [', "bad_json"),
        (b"\xff\xfe\x00garbage", "bad_json"),
        (b'{"keys": {"not": "a list"}}', "bad_shape"),
        (b'{"keys": [{"id": "mk_1"}]}', "bad_shape"),
        (b'{"keys": [{"id": 1, "label": "x", "redacted": "r", "status": "active", '
         b'"created_at": "2026-01-01T00:00:00Z"}]}', "bad_shape"),
        (b'{"keys": [{"id": "mk_1", "label": "x", "redacted": "r", "status": "paused", '
         b'"created_at": "2026-01-01T00:00:00Z"}]}', "bad_shape"),
        (b'{"keys": [{"id": "mk_1", "label": "x", "redacted": "r", "status": "active", '
         b'"created_at": "last tuesday"}]}', "bad_shape"),
        (b"[]", "bad_shape"),
        (b"null", "bad_shape"),
    ],
)
def test_malformed_or_wrong_shaped_json_is_a_protocol_error(proxy: FaultProxy, client: HubClient,
                                                            body: bytes, code: str) -> None:
    proxy.respond(200, body, {"Content-Type": "application/json"}, method="GET", path=KEYS)
    with pytest.raises(ProtocolError) as info:
        client.list_keys()
    assert info.value.code == code
    assert client.base_url in str(info.value)
    assert client.list_keys() == []  # the next answer is fine again


@pytest.mark.parametrize(
    "body",
    [
        {"key": {}, "secret": "phk_x"},
        {"secret": "phk_x"},
        {"key": {"id": "mk_1", "label": "x", "redacted": "r", "status": "active",
                 "created_at": "2026-01-01T00:00:00Z"}, "secret": "not-a-key"},
    ],
)
def test_wrong_shaped_create_answer_is_a_protocol_error(proxy: FaultProxy, client: HubClient,
                                                        body: dict) -> None:  # type: ignore[type-arg]
    proxy.respond(201, json.dumps(body), {"Content-Type": "application/json"}, method="POST", path=KEYS)
    with pytest.raises(ProtocolError) as info:
        client.create_key("x")
    assert "does not understand" in str(info.value)
    assert "not-a-key" not in str(info.value)


def test_wrong_shaped_login_answer(proxy: FaultProxy, creds) -> None:  # type: ignore[no-untyped-def]
    client = HubClient(proxy.url)
    proxy.respond(200, b'{"token": "", "user": {}}', method="POST", path="/api/v1/auth/login")
    with pytest.raises(ProtocolError):
        client.login(creds.email, creds.password)
    assert client.token is None


def test_rate_limit_with_http_date_retry_after(proxy: FaultProxy, client: HubClient) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    proxy.respond(429, b'{"error": {"code": "rate_limited", "message": "slow down"}}',
                  {"Retry-After": when}, method="GET", path=KEYS)
    with pytest.raises(RateLimited) as info:
        client.list_keys()
    assert info.value.retry_after is not None and 80 <= info.value.retry_after <= 91
    assert "Wait 1" in str(info.value) or "Wait 9" in str(info.value) or "Wait 8" in str(info.value)
    proxy.respond(429, b"", {"Retry-After": "soon"}, method="GET", path=KEYS)
    with pytest.raises(RateLimited) as vague:
        client.list_keys()
    assert vague.value.retry_after is None
    assert str(vague.value) == "Too many requests to the hub. Wait a moment and try again."
    # The data the words are made from travel with the error: the hub's host too (not searched for
    # in the message text).
    assert (vague.value.code, vague.value.status) == ("rate_limited", 429)
    assert vague.value.host == proxy.url.split("://", 1)[1].rstrip("/")


def test_redirect_is_not_followed(proxy: FaultProxy, client: HubClient) -> None:
    proxy.respond(301, b"", {"Location": "https://elsewhere.example.org/api/v1/me"}, method="GET")
    with pytest.raises(ProtocolError) as info:
        client.me()
    assert info.value.code == "redirect"
    assert "https://elsewhere.example.org/api/v1/me" in str(info.value)
    assert len(proxy.exchanges("GET")) == 1


def test_a_server_that_is_not_a_hub(proxy: FaultProxy, client: HubClient) -> None:
    proxy.respond(404, b"<html>Not Found</html>", {"Content-Type": "text/html"}, method="GET", times=None)
    with pytest.raises(ProtocolError) as info:
        client.list_keys()
    assert info.value.code == "not_a_hub"
    assert "does not look like a Performance Hub" in str(info.value)
    proxy.clear()
    proxy.respond(404, b'{"error": {"code": "not_found", "message": "No such key."}}', method="POST")
    with pytest.raises(NotFound):
        client.deactivate_key("mk_x")


def test_hostile_error_messages_are_sanitised(proxy: FaultProxy, client: HubClient) -> None:
    evil = {"error": {"code": "invalid_request", "message": "bad\x1b[31m\u202e\n" + "x" * 1000}}
    proxy.respond(400, json.dumps(evil), method="GET", path=KEYS)
    with pytest.raises(InvalidRequest) as info:
        client.list_keys()
    text = str(info.value)
    assert "\x1b" not in text and "\n" not in text and "\u202e" not in text
    assert len(text) < 400
