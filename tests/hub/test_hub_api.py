"""Every management endpoint of hub-api.md and its error codes, over real HTTP."""

from __future__ import annotations

import re
import unicodedata

import pytest
import requests
from fixtures_hub import SignedInSession

from phhub_keys.core.keyformat import is_valid_key, redact

TS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
KEY_FIELDS = {"id", "label", "redacted", "status", "created_at", "last_used_at", "last_used_client",
              "last_used_ip", "deactivated_at",
              # v2 (key hygiene), additive: a v1 client ignores them
              "expires_at", "replaces", "replaced_by", "last_used_ips"}


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert body["error"]["code"] == code, body
    assert body["error"]["message"].strip()
    return body


def keys(s: SignedInSession) -> list[dict]:
    response = s.get(s.api("/mcp/keys"), timeout=10)
    assert response.status_code == 200
    return response.json()["keys"]


# -- auth -----------------------------------------------------------------------

def test_login_returns_session_token_and_user(hub_url, make_user):
    creds = make_user(name="Ada Lovelace", facilities=("ALS", "NSLS-II"))
    response = requests.post(f"{hub_url}/api/v1/auth/login",
                              json={"email": creds.email, "password": creds.password}, timeout=10)
    assert response.status_code == 200
    body = response.json()
    assert body["token"].startswith("phs_")
    assert TS.match(body["expires_at"])
    assert body["user"] == {"id": creds.user_id, "email": creds.email, "name": "Ada Lovelace",
                            "facilities": ["ALS", "NSLS-II"]}


def test_login_email_is_case_insensitive(hub_url, make_user):
    creds = make_user()
    response = requests.post(f"{hub_url}/api/v1/auth/login",
                             json={"email": creds.email.upper(), "password": creds.password}, timeout=10)
    assert response.status_code == 200


@pytest.mark.parametrize("which", ["wrong password", "unknown email", "empty password"])
def test_login_refused(hub_url, make_user, which):
    creds = make_user()
    email = "nobody-here@example.org" if which == "unknown email" else creds.email
    password = {"wrong password": creds.password + "x", "empty password": ""}.get(which, creds.password)
    response = requests.post(f"{hub_url}/api/v1/auth/login", json={"email": email, "password": password},
                             timeout=10)
    assert_error(response, 401, "invalid_credentials")


def test_me_and_missing_or_bad_tokens(hub_url, signed_in_session):
    s = signed_in_session
    me = s.get(s.api("/me"), timeout=10)
    assert me.status_code == 200 and me.json() == s.user
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer phs_not-a-real-token"},
                    {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer garbage"}):
        response = requests.get(f"{hub_url}/api/v1/me", headers=headers, timeout=10)
        assert_error(response, 401, "invalid_token")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_mcp_key_never_authenticates_management_api(hub_url, signed_in_session):
    secret = signed_in_session.create_key("mcp only")["secret"]
    for path in ("/me", "/mcp/keys", "/mcp/config"):
        response = requests.get(f"{hub_url}/api/v1{path}", headers={"Authorization": f"Bearer {secret}"},
                                timeout=10)
        assert_error(response, 401, "invalid_token")
    response = requests.post(f"{hub_url}/api/v1/mcp/keys", json={"label": "minted by a key"},
                             headers={"Authorization": f"Bearer {secret}"}, timeout=10)
    assert_error(response, 401, "invalid_token")
    assert len(keys(signed_in_session)) == 1


def test_logout_revokes_the_token(hub_url, signed_in_session):
    s = signed_in_session
    response = s.post(s.api("/auth/logout"), timeout=10)
    assert response.status_code == 204 and response.content == b""
    assert_error(s.get(s.api("/me"), timeout=10), 401, "invalid_token")
    assert_error(s.post(s.api("/auth/logout"), timeout=10), 401, "invalid_token")


def test_other_sessions_survive_a_logout(hub_url, make_user):
    creds = make_user()
    first, second = SignedInSession(hub_url, creds), SignedInSession(hub_url, creds)
    assert first.token != second.token
    assert first.post(first.api("/auth/logout"), timeout=10).status_code == 204
    assert second.get(second.api("/me"), timeout=10).status_code == 200


# -- config and docs ------------------------------------------------------------

def test_mcp_config_and_docs_page(hub_url, signed_in_session):
    s = signed_in_session
    config = s.get(s.api("/mcp/config"), timeout=10).json()
    assert config == {"server_url": f"{hub_url}/mcp", "docs_url": f"{hub_url}/docs/mcp", "key_prefix": "phk_",
                      "key_policy": {"default_lifetime_days": 90, "max_lifetime_days": None,
                                     "max_rotation_grace_days": 30}}
    page = requests.get(config["docs_url"], timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert f"{hub_url}/mcp" in page.text and "Authorization: Bearer" in page.text
    assert_error(requests.get(f"{hub_url}/api/v1/mcp/config", timeout=10), 401, "invalid_token")


def test_openapi_lists_every_operation(hub_url):
    spec = requests.get(f"{hub_url}/openapi.json", timeout=10).json()
    operations = {(method.upper(), path) for path, item in spec["paths"].items() for method in item}
    assert operations == {
        ("POST", "/api/v1/auth/login"), ("POST", "/api/v1/auth/logout"), ("POST", "/api/v1/auth/logout-all"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/mcp/config"), ("GET", "/api/v1/mcp/keys"), ("POST", "/api/v1/mcp/keys"),
        ("PATCH", "/api/v1/mcp/keys/{key_id}"), ("DELETE", "/api/v1/mcp/keys/{key_id}"),
        ("POST", "/api/v1/mcp/keys/{key_id}/deactivate"), ("POST", "/api/v1/mcp/keys/{key_id}/reactivate"),
        ("POST", "/api/v1/mcp/keys/{key_id}/rotate"), ("GET", "/api/v1/mcp/keys/{key_id}/events"),
        ("GET", "/api/v1/mcp/events"),
    }
    create = spec["paths"]["/api/v1/mcp/keys"]["post"]
    assert {"201", "401", "409", "422", "429"} <= set(create["responses"])
    error_ref = create["responses"]["422"]["content"]["application/json"]["schema"]["$ref"]
    assert error_ref.endswith("/ErrorEnvelope")
    assert "sessionToken" in spec["components"]["securitySchemes"]


# -- key lifecycle --------------------------------------------------------------

def test_create_returns_key_and_secret_once(signed_in_session):
    s = signed_in_session
    body = s.create_key("  OpenAI AgentKit  ")
    key, secret = body["key"], body["secret"]
    assert set(key) == KEY_FIELDS
    assert is_valid_key(secret)
    assert re.fullmatch(r"mk_[0-9a-f]{16}", key["id"])
    assert key["label"] == "OpenAI AgentKit"
    assert key["redacted"] == redact(secret)
    assert key["status"] == "active" and TS.match(key["created_at"])
    unused = ("last_used_at", "last_used_client", "last_used_ip", "deactivated_at")
    assert [key[f] for f in unused] == [None] * 4
    listed = s.get(s.api("/mcp/keys"), timeout=10)
    assert listed.json() == {"keys": [key]}
    assert secret not in listed.text


def test_list_is_newest_first(signed_in_session):
    s = signed_in_session
    ids = [s.create_key(f"key {i}")["key"]["id"] for i in range(4)]
    assert [k["id"] for k in keys(s)] == ids[::-1]


def test_rename(signed_in_session):
    s = signed_in_session
    key = s.create_key("before")["key"]
    response = s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"label": " after "}, timeout=10)
    assert response.status_code == 200
    assert response.json() == {**key, "label": "after"}
    assert keys(s)[0]["label"] == "after"


def test_rename_refused_keeps_old_label(signed_in_session):
    s = signed_in_session
    key = s.create_key("keep me")["key"]
    response = s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"label": "   "}, timeout=10)
    assert_error(response, 422, "invalid_label")
    assert keys(s)[0]["label"] == "keep me"


def test_deactivate_reactivate_are_idempotent(signed_in_session):
    s = signed_in_session
    key = s.create_key("toggle")["key"]
    first = s.post(s.api(f"/mcp/keys/{key['id']}/deactivate"), timeout=10).json()
    assert first["status"] == "deactivated" and TS.match(first["deactivated_at"])
    again = s.post(s.api(f"/mcp/keys/{key['id']}/deactivate"), timeout=10)
    assert again.status_code == 200 and again.json() == first
    back = s.post(s.api(f"/mcp/keys/{key['id']}/reactivate"), timeout=10).json()
    assert back == {**key, "status": "active", "deactivated_at": None}
    assert s.post(s.api(f"/mcp/keys/{key['id']}/reactivate"), timeout=10).json() == back


def test_delete_active_key_is_refused_and_key_untouched(signed_in_session):
    s = signed_in_session
    key = s.create_key("still in use")["key"]
    before = keys(s)
    assert_error(s.delete(s.api(f"/mcp/keys/{key['id']}"), timeout=10), 409, "key_active")
    assert keys(s) == before


def test_delete_deactivated_key(signed_in_session):
    s = signed_in_session
    keep = s.create_key("keep")["key"]
    key = s.create_key("goes")["key"]
    s.post(s.api(f"/mcp/keys/{key['id']}/deactivate"), timeout=10)
    response = s.delete(s.api(f"/mcp/keys/{key['id']}"), timeout=10)
    assert response.status_code == 204 and response.content == b""
    assert [k["id"] for k in keys(s)] == [keep["id"]]
    assert_error(s.delete(s.api(f"/mcp/keys/{key['id']}"), timeout=10), 404, "not_found")


def _every_verb(s: SignedInSession, key_id: str) -> list[requests.Response]:
    base = s.api(f"/mcp/keys/{key_id}")
    return [
        s.patch(base, json={"label": "hijacked"}, timeout=10),
        s.post(f"{base}/deactivate", timeout=10),
        s.post(f"{base}/reactivate", timeout=10),
        s.delete(base, timeout=10),
    ]


@pytest.mark.parametrize("key_id", ["mk_0000000000000000", "mk_nothex", "nope", "mk_" + "a" * 200,
                                    "..%2F..%2Fetc"])
def test_unknown_or_malformed_ids_are_404(signed_in_session, key_id):
    for response in _every_verb(signed_in_session, key_id):
        assert_error(response, 404, "not_found")


def test_other_users_keys_are_404_for_every_verb_and_untouched(hub_url, make_user):
    alice, bob = SignedInSession(hub_url, make_user()), SignedInSession(hub_url, make_user())
    active = alice.create_key("alice active")["key"]
    inactive = alice.create_key("alice deactivated")["key"]
    alice.post(alice.api(f"/mcp/keys/{inactive['id']}/deactivate"), timeout=10)
    before = keys(alice)
    for key in (active, inactive):
        for response in _every_verb(bob, key["id"]):
            assert_error(response, 404, "not_found")
    assert keys(alice) == before
    assert keys(bob) == []


# -- labels ---------------------------------------------------------------------

@pytest.mark.parametrize("label", ["", "   ", "x" * 101, "tab\there", "line\nbreak", "nul\x00",
                                   "bidi \u202e override", "isolate \u2066x\u2069", "del\x7f"])
def test_invalid_labels_refused_on_create_and_rename(signed_in_session, label):
    s = signed_in_session
    assert_error(s.post(s.api("/mcp/keys"), json={"label": label}, timeout=10), 422, "invalid_label")
    key = s.create_key("valid")["key"]
    assert_error(s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"label": label}, timeout=10),
                 422, "invalid_label")
    assert [k["label"] for k in keys(s)] == ["valid"]


def _split_key() -> str:
    from phhub_keys.core.keyformat import generate_key

    key = generate_key()
    return f"Cursor {key[:12]}\u200b{key[12:]}"


@pytest.mark.parametrize(("label", "rule_text"), [
    ("Cur\u200bsor", "invisible character (U+200B)"), ("\ufeffCursor", "invisible character (U+FEFF)"),
    ("Cursor\u200f", "invisible character (U+200F)"), ("\u3164", "invisible character (U+3164)"),
    ("Cursor" + "".join(chr(0xE0000 + ord(c)) for c in "obey me"), "invisible character (U+E006F)"),
    ("a\u2028b", "line break"), ("Cur\u200csor", "invisible character (U+200C)"),
    (_split_key(), "looks like an MCP key"),
], ids=["zwsp", "bom", "rlm", "hangul-filler", "tags", "line-separator", "zwnj-latin", "split-key"])
def test_invisible_characters_and_split_secrets_refused_on_create_and_rename(signed_in_session, label,
                                                                            rule_text):
    s = signed_in_session
    response = s.post(s.api("/mcp/keys"), json={"label": label}, timeout=10)
    assert_error(response, 422, "invalid_label")
    assert rule_text in response.json()["error"]["message"]
    key = s.create_key("Cursor")["key"]
    response = s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"label": label}, timeout=10)
    assert_error(response, 422, "invalid_label")
    assert rule_text in response.json()["error"]["message"]
    assert [k["label"] for k in keys(s)] == ["Cursor"]


@pytest.mark.parametrize("label", ["x" * 100, "🔑 laptop", "مفتاح", "=SUM(A1)", "a, \"quoted\" one",
                                   "  padded  ", "e\u0301t\u0301e\u0301",
                                   "\U0001f469\u200d\U0001f4bb dev",
                                   "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"])
def test_valid_labels_are_stored_normalised(signed_in_session, label):
    key = signed_in_session.create_key(label)["key"]
    assert key["label"] == unicodedata.normalize("NFC", label).strip()


# -- idempotent create ----------------------------------------------------------

def test_idempotent_create_returns_same_key_and_secret(signed_in_session):
    s = signed_in_session
    headers = {"Idempotency-Key": "retry-7f3a"}
    first = s.post(s.api("/mcp/keys"), json={"label": "once"}, headers=headers, timeout=10)
    second = s.post(s.api("/mcp/keys"), json={"label": "once"}, headers=headers, timeout=10)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert [k["id"] for k in keys(s)] == [first.json()["key"]["id"]]
    other = s.post(s.api("/mcp/keys"), json={"label": "once"}, headers={"Idempotency-Key": "another"},
                   timeout=10)
    assert other.json()["secret"] != first.json()["secret"]
    assert len(keys(s)) == 2


def test_idempotent_replay_shows_the_keys_current_state(signed_in_session):
    s = signed_in_session
    headers = {"Idempotency-Key": "state-check"}
    first = s.post(s.api("/mcp/keys"), json={"label": "orig"}, headers=headers, timeout=10).json()
    key_id = first["key"]["id"]
    s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    replay = s.post(s.api("/mcp/keys"), json={"label": "orig"}, headers=headers, timeout=10)
    assert replay.status_code == 201 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json()["secret"] == first["secret"]
    assert replay.json()["key"]["status"] == "deactivated"
    # Once that key is deleted, the same Idempotency-Key cannot duplicate anything: a new key.
    s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10)
    fresh = s.post(s.api("/mcp/keys"), json={"label": "orig"}, headers=headers, timeout=10).json()
    assert fresh["key"]["id"] != key_id and fresh["secret"] != first["secret"]
    assert [k["id"] for k in keys(s)] == [fresh["key"]["id"]]


def test_idempotency_key_reused_for_other_label_is_refused(signed_in_session):
    s = signed_in_session
    headers = {"Idempotency-Key": "same-key"}
    assert s.post(s.api("/mcp/keys"), json={"label": "a"}, headers=headers, timeout=10).status_code == 201
    assert_error(s.post(s.api("/mcp/keys"), json={"label": "b"}, headers=headers, timeout=10),
                 422, "idempotency_key_reused")
    assert len(keys(s)) == 1


def test_idempotency_keys_are_per_user(hub_url, make_user):
    alice, bob = SignedInSession(hub_url, make_user()), SignedInSession(hub_url, make_user())
    headers = {"Idempotency-Key": "shared-value"}
    a = alice.post(alice.api("/mcp/keys"), json={"label": "x"}, headers=headers, timeout=10).json()
    b = bob.post(bob.api("/mcp/keys"), json={"label": "x"}, headers=headers, timeout=10).json()
    assert a["secret"] != b["secret"]
    assert [k["id"] for k in keys(bob)] == [b["key"]["id"]]


@pytest.mark.parametrize("value", ["has space", "x" * 256, "tab\tinside"])
def test_bad_idempotency_key_is_400(signed_in_session, value):
    s = signed_in_session
    response = s.post(s.api("/mcp/keys"), json={"label": "x"}, headers={"Idempotency-Key": value}, timeout=10)
    assert_error(response, 400, "invalid_request")
    assert keys(s) == []


def test_the_label_pattern_never_admits_a_character_the_label_rules_refuse():
    """The OpenAPI label pattern is what schema-driven clients (and fuzzers) trust: any BMP
    character that core.labels refuses inside a label must fail the pattern too."""
    from phhub_keys.core.labels import InvalidLabelError, normalize_label
    from phhub_keys.hub.api_models import LABEL_PATTERN

    pattern = re.compile(LABEL_PATTERN)
    admitted_but_refused = []
    for code in (*range(0xD800), *range(0xE000, 0x10000)):  # lone surrogates: see api_models
        label = f"a{chr(code)}b"
        try:
            normalize_label(label)
        except InvalidLabelError:
            if pattern.fullmatch(label):
                admitted_but_refused.append(f"U+{code:04X}")
    assert admitted_but_refused == []
