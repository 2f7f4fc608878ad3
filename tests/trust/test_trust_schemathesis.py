"""Schemathesis against the running hub's own ``/openapi.json``: every operation, signed in.

For every operation schemathesis generates requests from the schema (valid and
invalid ones) and ``call_and_validate`` runs its checks on each answer: no 5xx,
the status is one the schema documents, the body matches the documented
response schema, the content type and headers match, invalid input is refused
and valid input is accepted. The examples per operation are kept small so the
whole module runs in about a minute on the 2-core CI machine.

Authentication: each operation runs as a fresh user with its own session token
(so one operation's data never meets another's). ``POST /auth/logout`` revokes
the token it is sent (``/auth/logout-all`` every token of its user), so they get a
new token for every example; otherwise the
examples after the first would test only the 401 path. ``POST /mcp/keys`` runs
each example as a new user: schemathesis reuses one generated Idempotency-Key
value for different labels across examples, which the hub rightly refuses
(422 ``idempotency_key_reused``, per user), and that is not what is under test
here (tests/hub/test_hub_api.py covers the reuse rules).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
import schemathesis
from fixtures_hub import Creds
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from phhub_keys.core.expiry import InvalidExpiry
from phhub_keys.core.timestamps import utcnow
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

MAX_EXAMPLES = 25
LOGOUT = ("POST", "/api/v1/auth/logout")
LOGOUT_ALL = ("POST", "/api/v1/auth/logout-all")
CREATE = ("POST", "/api/v1/mcp/keys")
ROTATE = ("POST", "/api/v1/mcp/keys/{key_id}/rotate")
PATCH = ("PATCH", "/api/v1/mcp/keys/{key_id}")
# Operations that may carry an expiry: see _expiry_refusal.
WITH_EXPIRY = (CREATE, PATCH)
AuthFor = Callable[[Any], dict[str, str]]


OPERATIONS = [
    ("POST", "/api/v1/auth/login"), LOGOUT, LOGOUT_ALL, ("GET", "/api/v1/me"), ("GET", "/api/v1/mcp/config"),
    ("GET", "/api/v1/mcp/keys"), ("POST", "/api/v1/mcp/keys"), ("PATCH", "/api/v1/mcp/keys/{key_id}"),
    ("DELETE", "/api/v1/mcp/keys/{key_id}"), ("POST", "/api/v1/mcp/keys/{key_id}/deactivate"),
    ("POST", "/api/v1/mcp/keys/{key_id}/reactivate"), ROTATE, ("GET", "/api/v1/mcp/keys/{key_id}/events"),
    ("GET", "/api/v1/mcp/events"),
]


@pytest.fixture(scope="module")
def hub_schema(hub: EmbeddedHub) -> Any:
    """The schema as the running hub serves it (the hub is also the base URL)."""
    return schemathesis.openapi.from_url(f"{hub.url}/openapi.json")


def _operation(hub_schema: Any, method: str, path: str) -> Any:
    for result in hub_schema.get_all_operations():
        op = result.ok()
        if (op.method.upper(), op.path) == (method, path):
            return op
    raise AssertionError(f"{method} {path} is not in the hub's schema")


def _login(url: str, creds: Creds) -> str:
    body = {"email": creds.email, "password": creds.password}
    response = requests.post(f"{url}/api/v1/auth/login", json=body, timeout=10)
    response.raise_for_status()
    return response.json()["token"]


@pytest.fixture
def auth_headers(hub: EmbeddedHub, make_user: Callable[..., Creds]) -> Iterator[AuthFor]:
    """``auth_headers(case)``: the Authorization header for this example (see module docstring)."""
    creds = make_user(name="Schemathesis")
    shared = _login(hub.url, creds)
    with requests.Session() as session:
        # A key of this user's, so some generated paths can meet a real row too.
        session.headers["Authorization"] = f"Bearer {shared}"
        made = session.post(f"{hub.url}/api/v1/mcp/keys", json={"label": "fuzz target"}, timeout=10)
        assert made.status_code == 201

        def headers(case: Any) -> dict[str, str]:
            operation = (case.method.upper(), case.path)
            if operation in (LOGOUT, LOGOUT_ALL):
                token = _login(hub.url, creds)
            elif operation in (CREATE, ROTATE):  # both honour Idempotency-Key, per user
                token = _login(hub.url, make_user(name="Schemathesis"))
            else:
                token = shared
            return {"Authorization": f"Bearer {token}"}

        yield headers


# schemathesis' own @schema.parametrize / from_fixture loader does not run under pytest 9
# (it reads a private Function attribute that is gone), so each operation gets a plain
# hypothesis test over the operation's own strategy; test_the_schema_lists_every_operation
# proves the list above is the whole schema.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=lambda v: v)
def test_every_operation_conforms_and_never_5xx(hub_schema: Any, auth_headers: AuthFor, method: str,
                                                 path: str, mode: GenerationMode) -> None:
    operation = _operation(hub_schema, method, path)
    seen: list[int] = []

    @settings(max_examples=MAX_EXAMPLES, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        # Passed to call_and_validate (not put in case.headers) so schemathesis knows these are
        # real credentials: its auth check then also replays the request without them and with
        # wrong ones and expects a 401.
        # A JSON schema cannot say "in the future" or "within the policy": a well-formed
        # expires_at can still be refused (422 invalid_expiry). For those operations the
        # positive-data check is done here instead, precisely (see _expiry_refusal).
        excluded = [positive_data_acceptance] if (method, path) in WITH_EXPIRY else None
        response = case.call_and_validate(headers=auth_headers(case), excluded_checks=excluded)
        seen.append(response.status_code)
        assert response.status_code < 500
        if excluded and mode == GenerationMode.POSITIVE:
            assert response.status_code < 400 or response.status_code in (401, 404, 409, 429) or \
                _expiry_refusal(case, response), (response.status_code, response.text, case.body)

    run()
    assert seen, "no example reached the hub"


def _expiry_refusal(case: Any, response: Any) -> bool:
    """Whether a schema-valid request was refused only for an expires_at the policy rules out
    (in the past, or further ahead than the hub allows), as core.expiry decides it."""
    body = case.body if isinstance(case.body, dict) else {}
    if response.status_code != 422 or response.json()["error"]["code"] != "invalid_expiry":
        return False
    if not isinstance(body.get("expires_at"), str):
        return False
    try:
        HubSettings().key_policy.resolve(utcnow(), expires_at=body["expires_at"])
    except InvalidExpiry as exc:
        return exc.rule in ("past", "policy_max")
    return False


def test_the_schema_lists_every_operation(hub_schema: Any) -> None:
    """The parametrized test above covers exactly the hub's operations (none silently skipped)."""
    operations = {(op.ok().method.upper(), op.ok().path) for op in hub_schema.get_all_operations()}
    assert operations == set(OPERATIONS)
