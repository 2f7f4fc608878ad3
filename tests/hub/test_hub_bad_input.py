"""Hostile and broken requests get a 4xx with the error envelope: never a 500, never a trace."""

from __future__ import annotations

import json

import pytest
import requests
from fixtures_hub import SignedInSession
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

JSON = {"Content-Type": "application/json"}

BAD_BODIES: dict[str, bytes] = {
    "malformed": b'{"label": "x"',
    "trailing garbage": b'{"label": "x"} xyz',
    "not utf-8": b'{"label": "\xff\xfe\xfa"}',
    "latin-1 text": '{"label": "caf\u00e9"}'.encode("latin-1"),
    "array": b'["label"]',
    "string": b'"label"',
    "number": b"42",
    "null": b"null",
    "empty object": b"{}",
    "label is number": b'{"label": 42}',
    "label is null": b'{"label": null}',
    "label is list": b'{"label": ["a"]}',
    "label is object": b'{"label": {"a": 1}}',
    "label is bool": b'{"label": true}',
    "unknown field": b'{"label": "ok", "owner": "someone-else"}',
    "deeply nested": b"[" * 20000 + b"]" * 20000,
    "NaN": b'{"label": NaN}',
    "lone surrogate": b'{"label": "\\ud800"}',
}


def assert_envelope_4xx(response: requests.Response) -> dict:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) == {"error"} and isinstance(body["error"]["code"], str), body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert "Traceback" not in response.text and "File \"" not in response.text
    return body


@pytest.fixture
def key_id(signed_in_session: SignedInSession) -> str:
    return signed_in_session.create_key("target")["key"]["id"]


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_on_create(signed_in_session, name):
    s = signed_in_session
    assert_envelope_4xx(s.post(s.api("/mcp/keys"), data=BAD_BODIES[name], headers=JSON, timeout=10))
    assert s.get(s.api("/mcp/keys"), timeout=10).json()["keys"] == []


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_on_rename(signed_in_session, key_id, name):
    s = signed_in_session
    response = s.patch(s.api(f"/mcp/keys/{key_id}"), data=BAD_BODIES[name], headers=JSON, timeout=10)
    assert_envelope_4xx(response)
    assert s.get(s.api("/mcp/keys"), timeout=10).json()["keys"][0]["label"] == "target"


@pytest.mark.parametrize("name", list(BAD_BODIES))
def test_bad_bodies_on_login(hub_url, name):
    response = requests.post(f"{hub_url}/api/v1/auth/login", data=BAD_BODIES[name], headers=JSON, timeout=10)
    assert_envelope_4xx(response)


def test_specific_codes_for_common_mistakes(signed_in_session):
    s = signed_in_session
    post = lambda data: s.post(s.api("/mcp/keys"), data=data, headers=JSON, timeout=10)  # noqa: E731
    assert assert_envelope_4xx(post(BAD_BODIES["malformed"]))["error"]["code"] == "invalid_json"
    assert post(BAD_BODIES["malformed"]).status_code == 400
    assert assert_envelope_4xx(post(BAD_BODIES["not utf-8"]))["error"]["code"] == "invalid_request"
    unknown = assert_envelope_4xx(post(BAD_BODIES["unknown field"]))
    assert unknown["error"]["code"] == "invalid_request" and "owner" in unknown["error"]["message"]
    assert assert_envelope_4xx(post(BAD_BODIES["label is number"]))["error"]["code"] == "invalid_label"
    assert assert_envelope_4xx(post(BAD_BODIES["empty object"]))["error"]["code"] == "invalid_label"


def test_non_json_content_type_and_missing_body(signed_in_session):
    s = signed_in_session
    assert_envelope_4xx(s.post(s.api("/mcp/keys"), data=b'{"label": "x"}',
                               headers={"Content-Type": "text/plain"}, timeout=10))
    assert_envelope_4xx(s.post(s.api("/mcp/keys"), data=b"label=x",
                               headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10))
    assert_envelope_4xx(s.post(s.api("/mcp/keys"), timeout=10))
    assert s.get(s.api("/mcp/keys"), timeout=10).json()["keys"] == []


@pytest.mark.parametrize("size", [64 * 1024 + 1, 5 * 1024 * 1024])
def test_huge_api_bodies_are_413(signed_in_session, size):
    s = signed_in_session
    body = json.dumps({"label": "x" * size}).encode()
    response = s.post(s.api("/mcp/keys"), data=body, headers=JSON, timeout=30)
    assert response.status_code == 413
    assert assert_envelope_4xx(response)["error"]["code"] == "payload_too_large"


def test_huge_body_without_content_length_is_413(signed_in_session):
    s = signed_in_session

    def chunks():
        yield b'{"label": "'
        for _ in range(100):
            yield b"x" * 1024
        yield b'"}'

    response = s.post(s.api("/mcp/keys"), data=chunks(), headers=JSON, timeout=30)
    assert response.status_code == 413
    assert_envelope_4xx(response)


def test_huge_mcp_body_is_413(hub_url, signed_in_session):
    secret = signed_in_session.create_key()["secret"]
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "ping", "params": {"x": "' + b"y" * (1024 * 1024) + b'"}}'
    response = requests.post(f"{hub_url}/mcp", data=body, timeout=30, headers={
        "Authorization": f"Bearer {secret}", **JSON, "Accept": "application/json, text/event-stream"})
    assert response.status_code == 413
    assert_envelope_4xx(response)


def test_malformed_mcp_json_with_a_valid_key_is_a_4xx(hub_url, signed_in_session):
    secret = signed_in_session.create_key()["secret"]
    for data in (b"{not json", b'\xff\xfe', b"[]", b'{"jsonrpc": "2.0"}'):
        response = requests.post(f"{hub_url}/mcp", data=data, timeout=10, headers={
            "Authorization": f"Bearer {secret}", **JSON, "Accept": "application/json, text/event-stream"})
        assert 400 <= response.status_code < 500, (data, response.status_code, response.text)


@pytest.mark.parametrize(("method", "path"), [
    ("GET", "/nothing/here"), ("POST", "/api/v1/nope"), ("GET", "/api/v2/me"),
    ("GET", "/api/v1/mcp/keys/x/y/z"),
])
def test_unknown_routes_are_404_envelopes(signed_in_session, method, path):
    response = signed_in_session.request(method, f"{signed_in_session.base_url}{path}", timeout=10)
    assert response.status_code == 404
    assert assert_envelope_4xx(response)["error"]["code"] == "not_found"


@pytest.mark.parametrize(("method", "path"), [
    ("PUT", "/api/v1/me"), ("DELETE", "/api/v1/mcp/keys"), ("GET", "/api/v1/auth/login"),
    ("PUT", "/api/v1/mcp/keys/mk_0000000000000000"),
    ("GET", "/api/v1/mcp/keys/mk_0000000000000000/deactivate"),
])
def test_wrong_methods_are_405_envelopes(signed_in_session, method, path):
    response = signed_in_session.request(method, f"{signed_in_session.base_url}{path}", timeout=10)
    assert response.status_code == 405
    assert assert_envelope_4xx(response)["error"]["code"] == "method_not_allowed"
    assert "Allow" in response.headers


def test_allow_header_names_every_method_of_the_path(signed_in_session):
    s = signed_in_session
    allow = s.request("PUT", s.api("/mcp/keys"), timeout=10).headers["Allow"]
    assert {"GET", "POST"} <= {m.strip() for m in allow.split(",")}
    allow = s.request("PUT", s.api("/mcp/keys/mk_0000000000000000"), timeout=10).headers["Allow"]
    assert {m.strip() for m in allow.split(",")} == {"PATCH", "DELETE"}


def test_odd_login_fields(hub_url):
    for body in ({"email": 1, "password": "x"}, {"email": "a@b", "password": None}, {"email": "a@b"},
                 {"email": "x" * 400, "password": "x"}, {"email": "a@b", "password": "p" * 2000}):
        response = requests.post(f"{hub_url}/api/v1/auth/login", json=body, timeout=10)
        assert response.status_code in (401, 422)
        assert_envelope_4xx(response)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=120),
    lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=10), kids, max_size=4),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(json_values, st.fixed_dictionaries({"label": json_values}),
                      st.fixed_dictionaries({"label": st.text(max_size=150)})))
def test_fuzzed_create_bodies_never_5xx(signed_in_session, body):
    s = signed_in_session
    response = s.post(s.api("/mcp/keys"), json=body, timeout=10)
    if response.status_code == 201:
        created = response.json()
        assert created["key"]["label"] == created["key"]["label"].strip()
        key_id = created["key"]["id"]
        s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
        assert s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10).status_code == 204
    else:
        assert_envelope_4xx(response)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=json_values)
def test_fuzzed_login_bodies_never_5xx(hub_url, body):
    response = requests.post(f"{hub_url}/api/v1/auth/login", json=body, timeout=10)
    assert_envelope_4xx(response)


def test_every_operation_that_takes_a_body_caps_it(signed_in_session, key_id):
    """Every POST/PATCH/DELETE /openapi.json lists (rotate, the expiry PATCH, logout-all... and any
    added later): 413 for a body over 64 KiB, announced or streamed, and nothing changes."""
    s = signed_in_session
    schema = s.get(f"{s.base_url}/openapi.json", timeout=10).json()
    operations = [(method.upper(), path) for path, item in schema["paths"].items() for method in item
                  if method.upper() in ("POST", "PATCH", "PUT", "DELETE")]
    assert ("POST", "/api/v1/mcp/keys/{key_id}/rotate") in operations
    before = s.get(s.api("/mcp/keys"), timeout=10).json()

    def streamed():
        yield b'{"label": "'
        for _ in range(65):
            yield b"x" * 1024
        yield b'"}'

    for method, path in operations:
        url = s.base_url + path.replace("{key_id}", key_id)
        announced = s.request(method, url, data=json.dumps({"label": "x" * 65536}).encode(), headers=JSON,
                              timeout=30)
        assert announced.status_code == 413, (method, path, announced.status_code)
        chunked = s.request(method, url, data=streamed(), headers=JSON, timeout=30)
        assert chunked.status_code == 413, (method, path, chunked.status_code)
        assert_envelope_4xx(chunked)
    assert s.get(s.api("/mcp/keys"), timeout=10).json() == before
