"""The /mcp endpoint with the official MCP client: identity, key checks on every request, usage."""

from __future__ import annotations

import asyncio
import re

import pytest
import requests
from fixtures_hub import SignedInSession, add_test_user, mcp_call, mcp_open, mcp_post_status
from mcp.shared.exceptions import MCPError

from phhub_keys.core.keyformat import BASE62, generate_key, redact

WWW_AUTH = 'Bearer error="invalid_token"'


def key_state(s: SignedInSession, key_id: str) -> dict:
    (key,) = [k for k in s.get(s.api("/mcp/keys"), timeout=10).json()["keys"] if k["id"] == key_id]
    return key


def assert_refused(base_url: str, headers: dict[str, str]) -> None:
    """401 with the Bearer challenge and the error envelope, before any MCP processing."""
    response = mcp_post_status(base_url, headers)
    assert response.status_code == 401, response.text
    assert response.headers["WWW-Authenticate"].startswith(WWW_AUTH)
    assert response.json()["error"]["code"] == "invalid_token"
    assert "mcp-session-id" not in response.headers


def _mcp_errors(exc: BaseException) -> list[MCPError]:
    if isinstance(exc, MCPError):
        return [exc]
    if isinstance(exc, BaseExceptionGroup):
        return [e for sub in exc.exceptions for e in _mcp_errors(sub)]
    return []


def assert_client_refused(base_url: str, secret: str) -> None:
    """The official client cannot even connect (the SDK wraps the HTTP 401 in exception groups)."""
    try:
        mcp_call(base_url, secret)
    except BaseException as exc:
        assert _mcp_errors(exc), repr(exc)
    else:
        pytest.fail("the MCP client was let in")


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_whoami_and_list_facilities_as_the_keys_user(hub_url, make_user, mode):
    s = SignedInSession(hub_url, make_user(name="Grace Hopper", facilities=("ALS", "APS")))
    created = s.create_key("OpenAI AgentKit")
    whoami = mcp_call(hub_url, created["secret"], "whoami", mode=mode)
    assert whoami == {"email": s.creds.email, "name": "Grace Hopper", "user_id": s.user["id"],
                      "key_id": created["key"]["id"], "key_label": "OpenAI AgentKit"}
    facilities = mcp_call(hub_url, created["secret"], "list_facilities", mode=mode)
    assert facilities == {"facilities": ["ALS", "APS"]}


def test_tools_are_listed_and_unknown_tool_is_an_error_result(hub_url, signed_in_session):
    secret = signed_in_session.create_key()["secret"]

    async def run() -> None:
        async with mcp_open(hub_url, {"Authorization": f"Bearer {secret}"}) as client:
            names = {tool.name for tool in (await client.list_tools()).tools}
            assert names == {"whoami", "list_facilities"}
            result = await client.call_tool("does_not_exist", {})
            assert result.is_error

    asyncio.run(run())


def test_x_api_key_header_is_accepted(hub_url, signed_in_session):
    created = signed_in_session.create_key("via x-api-key")
    assert mcp_call(hub_url, created["secret"], header="X-API-Key")["key_id"] == created["key"]["id"]


def test_whoami_sees_a_rename_on_the_next_call(hub_url, signed_in_session):
    s = signed_in_session
    created = s.create_key("old name")
    s.patch(s.api(f"/mcp/keys/{created['key']['id']}"), json={"label": "new name"}, timeout=10)
    assert mcp_call(hub_url, created["secret"])["key_label"] == "new name"


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_deactivation_takes_effect_on_the_very_next_request(hub_url, signed_in_session, mode):
    s = signed_in_session
    created = s.create_key("to be cut off")
    key_id, secret = created["key"]["id"], created["secret"]

    async def run() -> None:
        async with mcp_open(hub_url, {"Authorization": f"Bearer {secret}"}, mode=mode) as client:
            assert (await client.call_tool("whoami", {})).structured_content["key_id"] == key_id
            response = await asyncio.to_thread(s.post, s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
            assert response.status_code == 200
            # Same open MCP session, next request: refused.
            with pytest.raises(MCPError):
                await client.call_tool("whoami", {})
            await asyncio.to_thread(s.post, s.api(f"/mcp/keys/{key_id}/reactivate"), timeout=10)
            assert (await client.call_tool("whoami", {})).structured_content["key_id"] == key_id

    asyncio.run(run())


def test_deactivated_then_reactivated_key_in_new_sessions(hub_url, signed_in_session):
    s = signed_in_session
    created = s.create_key("toggle")
    key_id, secret = created["key"]["id"], created["secret"]
    s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    assert_refused(hub_url, {"Authorization": f"Bearer {secret}"})
    assert_client_refused(hub_url, secret)
    s.post(s.api(f"/mcp/keys/{key_id}/reactivate"), timeout=10)
    assert mcp_call(hub_url, secret)["key_id"] == key_id


def test_deleted_key_is_rejected(hub_url, signed_in_session):
    s = signed_in_session
    created = s.create_key("deleted")
    key_id, secret = created["key"]["id"], created["secret"]
    s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    assert s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10).status_code == 204
    assert_refused(hub_url, {"Authorization": f"Bearer {secret}"})
    assert_refused(hub_url, {"X-API-Key": secret})


def _bad_checksum(secret: str) -> str:
    last = secret[-1]
    return secret[:-1] + BASE62[(BASE62.index(last) + 1) % len(BASE62)]


@pytest.mark.parametrize("case", ["bad checksum", "truncated", "unknown but well-formed", "session token",
                                  "no header", "empty bearer", "basic auth", "lowercase scheme unknown key"])
def test_bad_credentials_are_rejected_before_mcp(hub_url, signed_in_session, case):
    s = signed_in_session
    secret = s.create_key("real")["secret"]
    headers = {
        "bad checksum": {"Authorization": f"Bearer {_bad_checksum(secret)}"},
        "truncated": {"Authorization": f"Bearer {secret[:-3]}"},
        "unknown but well-formed": {"Authorization": f"Bearer {generate_key()}"},
        "session token": {"Authorization": f"Bearer {s.token}"},
        "no header": {},
        "empty bearer": {"Authorization": "Bearer "},
        "basic auth": {"Authorization": "Basic cGhrX3g6eA=="},
        "lowercase scheme unknown key": {"authorization": f"bearer {generate_key()}"},
    }[case]
    assert_refused(hub_url, headers)


def test_rejected_key_fails_the_official_client(hub_url, signed_in_session):
    assert_client_refused(hub_url, generate_key())


def test_session_token_never_authenticates_mcp_even_via_x_api_key(hub_url, signed_in_session):
    assert_refused(hub_url, {"X-API-Key": signed_in_session.token})


def test_foreign_host_header_is_refused(hub_url, signed_in_session):
    secret = signed_in_session.create_key()["secret"]
    for host in ("evil.example", "evil.example:80", "127.0.0.1.evil.example", "localhost.evil:1"):
        response = mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}", "Host": host})
        assert response.status_code == 421, host
        assert response.json()["error"]["code"] == "invalid_host"
    assert mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}"}).status_code == 200


def test_foreign_origin_is_refused(hub_url, signed_in_session):
    secret = signed_in_session.create_key()["secret"]
    response = mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}", "Origin": "https://evil.example"})
    assert response.status_code == 403 and response.json()["error"]["code"] == "invalid_origin"
    local = mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}", "Origin": hub_url})
    assert local.status_code == 200


def test_public_host_is_allowed_and_others_refused(start_hub):
    hub = start_hub(public_url="https://hub.example.org")
    s = SignedInSession(hub.url, add_test_user(hub))
    config = s.get(s.api("/mcp/config"), timeout=10).json()
    assert config["server_url"] == "https://hub.example.org/mcp"
    assert config["docs_url"] == "https://hub.example.org/docs/mcp"
    secret = s.create_key()["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    for host, status in (("hub.example.org", 200), ("hub.example.org:443", 200), ("HUB.example.org", 200),
                         ("hub.example.org:8443", 421), ("other.example.org", 421)):
        assert mcp_post_status(hub.url, {**auth, "Host": host}).status_code == status, host


def test_session_is_bound_to_the_key_that_opened_it(hub_url, signed_in_session):
    s = signed_in_session
    first, second = s.create_key("first")["secret"], s.create_key("second")["secret"]
    opened = mcp_post_status(hub_url, {"Authorization": f"Bearer {first}"})
    session_id = opened.headers["mcp-session-id"]
    follow_up = {"jsonrpc": "2.0", "id": 2, "method": "tools/list", "params": {}}

    def post(secret: str) -> requests.Response:
        return requests.post(f"{hub_url}/mcp", json=follow_up, timeout=10, headers={
            "Authorization": f"Bearer {secret}", "Mcp-Session-Id": session_id,
            "Mcp-Protocol-Version": "2025-11-25", "Accept": "application/json, text/event-stream"})

    assert post(second).status_code == 404
    initialized = {"jsonrpc": "2.0", "method": "notifications/initialized"}
    requests.post(f"{hub_url}/mcp", json=initialized, timeout=10, headers={
        "Authorization": f"Bearer {first}", "Mcp-Session-Id": session_id,
        "Mcp-Protocol-Version": "2025-11-25", "Accept": "application/json, text/event-stream"})
    listed = post(first)
    assert listed.status_code == 200 and "whoami" in listed.text


@pytest.mark.parametrize("mode", ["auto", "legacy"])
def test_last_used_fields_are_recorded_and_listed(hub_url, signed_in_session, mode):
    s = signed_in_session
    created = s.create_key("used")
    untouched = s.create_key("never used")
    key_id = created["key"]["id"]
    assert key_state(s, key_id)["last_used_at"] is None
    mcp_call(hub_url, created["secret"], mode=mode, client_name="Cursor", client_version="1.7.2")
    key = key_state(s, key_id)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", key["last_used_at"])
    assert key["last_used_client"] == "Cursor 1.7.2"
    assert key["last_used_ip"] == "127.0.0.1"
    other = key_state(s, untouched["key"]["id"])
    assert (other["last_used_at"], other["last_used_client"], other["last_used_ip"]) == (None, None, None)


def test_a_new_client_on_the_same_key_is_recorded_at_once(hub_url, signed_in_session):
    s = signed_in_session
    created = s.create_key("shared")
    mcp_call(hub_url, created["secret"], mode="legacy", client_name="Cursor", client_version="1.0")
    mcp_call(hub_url, created["secret"], mode="legacy", client_name="Claude Code", client_version="2.1")
    assert key_state(s, created["key"]["id"])["last_used_client"] == "Claude Code 2.1"


def test_client_names_are_cleaned_before_storing(hub_url, signed_in_session):
    s = signed_in_session
    created = s.create_key()
    hostile = "Evil\u202e\nClient\x00"
    mcp_call(hub_url, created["secret"], mode="legacy", client_name=hostile, client_version="1")
    assert key_state(s, created["key"]["id"])["last_used_client"] == "Evil Client 1"


def test_a_secret_in_a_client_name_is_stored_only_redacted(hub_url, signed_in_session):
    """clientInfo is the client's to fill: a key or token in it (a templated name, a hostile
    client) must not reach last_used_client or the activity log, which hold no secret."""
    s = signed_in_session
    created = s.create_key("used")
    other = s.create_key("other")["secret"]
    token = s.headers["Authorization"].removeprefix("Bearer ")
    # Split by a zero-width space, which the cleaning removes: the key is whole again after it.
    name = f"Evil {other[:10]}\u200b{other[10:]}"
    mcp_call(hub_url, created["secret"], mode="legacy", client_name=name, client_version=token)
    state = key_state(s, created["key"]["id"])
    assert state["last_used_client"] == f"Evil {redact(other)} {redact(token)}"
    events = s.get(s.api(f"/mcp/keys/{created['key']['id']}/events"), timeout=10).text
    assert other not in events and token not in events and other[4:20] not in events
    assert redact(other) in events
