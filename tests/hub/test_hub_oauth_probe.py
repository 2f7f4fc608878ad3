"""OAuth discovery paths: the hub says it signs in with MCP keys only, and why a key was refused.

mcp-remote (Claude Desktop's and JetBrains' bridge) and other SDK-based clients answer a 401
from /mcp by probing these paths and show the user only the last answer (issue 11). The
real-client proof, through mcp-remote itself, is in tests/tooling/test_realclients.py.
"""

from __future__ import annotations

import pytest
import requests
from fixtures_hub import mcp_call, mcp_post_status

from phhub_keys.core.keyformat import generate_key
from phhub_keys.hub.oauth_probe import CODE, HOW
from phhub_keys.hub.refusals import RecentRefusals

PROBES = (
    ("GET", "/.well-known/oauth-protected-resource/mcp"),
    ("GET", "/.well-known/oauth-protected-resource"),
    ("GET", "/.well-known/oauth-authorization-server"),
    ("GET", "/.well-known/oauth-authorization-server/mcp"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/openid-configuration/mcp"),
    ("GET", "/mcp/.well-known/openid-configuration"),
    ("POST", "/register"),
    ("GET", "/authorize"),
    ("POST", "/token"),
)


def probe(hub_url: str, method: str, path: str) -> requests.Response:
    registration = {"client_name": "mcp-remote", "redirect_uris": ["http://localhost:1/cb"]}
    body = registration if method == "POST" else None
    return requests.request(method, hub_url + path, json=body, timeout=10)


@pytest.mark.parametrize(("method", "path"), PROBES)
def test_every_discovery_path_answers_with_the_envelope_and_no_metadata(hub_url: str, method: str,
                                                                        path: str) -> None:
    response = probe(hub_url, method, path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == CODE
    assert body["error"]["message"].startswith(HOW)
    assert "Authorization: Bearer phk_" in body["error"]["message"]
    # Never OAuth metadata: a server that advertises it makes Cursor/Claude Code drop the header.
    for field in ("issuer", "authorization_endpoint", "token_endpoint", "registration_endpoint",
                  "authorization_servers", "resource", "client_id"):
        assert field not in response.text


def test_the_reason_of_the_last_refusal_reaches_the_registration_answer(hub_url: str,
                                                                         signed_in_session) -> None:
    s = signed_in_session
    created = s.create_key("deactivated for the probe")
    key_id, secret = created["key"]["id"], created["secret"]
    assert s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10).status_code == 200
    refused = mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}"})
    assert refused.status_code == 401
    reason = refused.json()["error"]["message"]
    assert "deactivated" in reason
    answer = probe(hub_url, "POST", "/register").json()["error"]["message"]
    assert answer.endswith(f"The key sent from your address was refused: {reason}")

    # A malformed key: its own reason.
    malformed = mcp_post_status(hub_url, {"Authorization": "Bearer phk_short"}).json()["error"]["message"]
    answer = probe(hub_url, "GET", "/.well-known/oauth-authorization-server").json()["error"]["message"]
    assert malformed != reason and answer.endswith(f"refused: {malformed}")

    # A key that works from the same address: the old refusal is no longer the story.
    good = s.create_key("works")
    assert mcp_call(hub_url, good["secret"])["key_label"] == "works"
    message = probe(hub_url, "POST", "/register").json()["error"]["message"]
    assert "was refused:" not in message and "If your client sent a key" in message


def test_refusal_memory_expires_and_stays_bounded() -> None:
    now = [1000.0]
    memory = RecentRefusals(ttl=60, max_entries=3, clock=lambda: now[0])
    memory.note("10.0.0.1", "This MCP key is unknown, deactivated or deleted.")
    assert memory.recent("10.0.0.1") == "This MCP key is unknown, deactivated or deleted."
    assert memory.recent("10.0.0.2") is None
    now[0] += 61
    assert memory.recent("10.0.0.1") is None
    for n in range(5):
        memory.note(f"10.0.1.{n}", "x")
    assert memory.recent("10.0.1.0") is None and memory.recent("10.0.1.4") == "x"


def test_the_mcp_401_advertises_no_oauth(hub_url: str) -> None:
    response = mcp_post_status(hub_url, {"Authorization": f"Bearer {generate_key()}"})
    assert response.status_code == 401
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith("Bearer") and "resource_metadata" not in challenge
    # The reason rides in RFC 6750's error_description, for clients that show only the challenge.
    assert challenge == ('Bearer error="invalid_token", '
                         f'error_description="{response.json()["error"]["message"]}"')


def test_the_challenge_is_ascii_with_quotes_escaped() -> None:
    from phhub_keys.hub.mcp_gate import challenge

    assert challenge('Send "phk_…" \\ please') == (
        'Bearer error="invalid_token", error_description="Send \\"phk_?\\" \\\\ please"')


def test_the_discovery_answers_never_tell_whether_a_key_exists(hub_url: str, signed_in_session) -> None:
    """A refused key's reason is the same whether it is deactivated, deleted, rotated away or never
    existed (well-formed), so the discovery answers tell a guesser nothing /mcp does not."""
    s = signed_in_session
    deactivated = s.create_key("deactivated")
    s.post(s.api(f"/mcp/keys/{deactivated['key']['id']}/deactivate"), timeout=10)
    deleted = s.create_key("deleted")
    s.post(s.api(f"/mcp/keys/{deleted['key']['id']}/deactivate"), timeout=10)
    assert s.delete(s.api(f"/mcp/keys/{deleted['key']['id']}"), timeout=10).status_code == 204
    rotated = s.create_key("rotated away")
    assert s.post(s.api(f"/mcp/keys/{rotated['key']['id']}/rotate"), json={"grace_seconds": 0},
                  timeout=10).status_code == 201
    answers = set()
    for secret in (deactivated["secret"], deleted["secret"], rotated["secret"], generate_key()):
        assert mcp_post_status(hub_url, {"Authorization": f"Bearer {secret}"}).status_code == 401
        for method, path in PROBES:
            answers.add(probe(hub_url, method, path).text)
    assert len(answers) == 1, answers
