"""Rate limits (429 + Retry-After) and the per-user key cap, on hubs with lowered limits."""

from __future__ import annotations

import time

import pytest
import requests
from fixtures_hub import SignedInSession, add_test_user, mcp_call, mcp_post_status

from phhub_keys.core.keyformat import generate_key
from phhub_keys.hub.idempotency import IdempotencyCache
from phhub_keys.hub.ratelimit import SlidingWindowLimiter


def login(url: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{url}/api/v1/auth/login", json={"email": email, "password": password}, timeout=10)


def assert_429(response: requests.Response) -> int:
    assert response.status_code == 429, response.text
    assert response.json()["error"]["code"] == "rate_limited"
    retry_after = int(response.headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


def test_key_cap(start_hub):
    hub = start_hub(max_keys_per_user=3)
    s = SignedInSession(hub.url, add_test_user(hub))
    ids = [s.create_key(f"k{i}")["key"]["id"] for i in range(3)]
    refused = s.post(s.api("/mcp/keys"), json={"label": "one too many"}, timeout=10)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "key_limit"
    assert len(s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]) == 3
    # The cap is per user, and freeing a slot allows a new key.
    other = SignedInSession(hub.url, add_test_user(hub))
    other.create_key("someone else")
    s.post(s.api(f"/mcp/keys/{ids[0]}/deactivate"), timeout=10)
    s.delete(s.api(f"/mcp/keys/{ids[0]}"), timeout=10)
    s.create_key("fits again")


def test_default_key_cap_is_ten_thousand():
    from phhub_keys.hub.settings import HubSettings

    assert HubSettings().max_keys_per_user == 10_000


def test_login_failures_per_account(start_hub):
    hub = start_hub(login_failures_per_account=3, login_failures_per_ip=1000)
    victim, bystander = add_test_user(hub), add_test_user(hub)
    for _ in range(3):
        assert login(hub.url, victim.email, "wrong").status_code == 401
    retry_after = assert_429(login(hub.url, victim.email, "wrong"))
    assert retry_after <= 300
    # Even the right password is refused while limited (no oracle for a guesser)...
    assert_429(login(hub.url, victim.email, victim.password))
    assert_429(login(hub.url, victim.email.upper(), victim.password))
    # ...and other accounts are unaffected.
    assert login(hub.url, bystander.email, bystander.password).status_code == 200


def test_login_window_expires(start_hub):
    hub = start_hub(login_failures_per_account=2, login_failure_window=1.0)
    user = add_test_user(hub)
    login(hub.url, user.email, "wrong")
    login(hub.url, user.email, "wrong")
    retry_after = assert_429(login(hub.url, user.email, user.password))
    assert retry_after == 1
    time.sleep(1.05)  # honour Retry-After: the window has slid past both failures
    assert login(hub.url, user.email, user.password).status_code == 200


def test_login_failures_per_address(start_hub):
    hub = start_hub(login_failures_per_account=100, login_failures_per_ip=4)
    users = [add_test_user(hub) for _ in range(5)]
    for user in users[:4]:
        assert login(hub.url, user.email, "wrong").status_code == 401
    assert_429(login(hub.url, users[4].email, users[4].password))


def test_create_rate_limit_per_user(start_hub):
    hub = start_hub(creates_per_user=2)
    s = SignedInSession(hub.url, add_test_user(hub))
    first = s.post(s.api("/mcp/keys"), json={"label": "a"}, headers={"Idempotency-Key": "k1"}, timeout=10)
    s.create_key("b")
    assert_429(s.post(s.api("/mcp/keys"), json={"label": "c"}, timeout=10))
    # A retried create (same Idempotency-Key) still recovers its key while limited.
    replay = s.post(s.api("/mcp/keys"), json={"label": "a"}, headers={"Idempotency-Key": "k1"}, timeout=10)
    assert replay.status_code == 201 and replay.json() == first.json()
    assert len(s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]) == 2
    # Limits are per user.
    SignedInSession(hub.url, add_test_user(hub)).create_key("other user")


def test_mcp_auth_failures_per_address(start_hub):
    hub = start_hub(mcp_auth_failures_per_ip=3)
    s = SignedInSession(hub.url, add_test_user(hub))
    secret = s.create_key()["secret"]
    assert mcp_call(hub.url, secret)["key_label"] == "test key"
    for _ in range(3):
        assert mcp_post_status(hub.url, {"Authorization": f"Bearer {generate_key()}"}).status_code == 401
    assert_429(mcp_post_status(hub.url, {"Authorization": f"Bearer {generate_key()}"}))
    # The address is throttled as a whole, valid key or not, until the window passes.
    assert_429(mcp_post_status(hub.url, {"Authorization": f"Bearer {secret}"}))
    # The management API is a different door.
    assert s.get(s.api("/me"), timeout=10).status_code == 200


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_sliding_window_limiter_counts_and_retry_after():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(3, 60.0, clock=clock)
    for _ in range(3):
        assert limiter.retry_after("a") is None
        limiter.hit("a")
        clock.now += 10
    assert limiter.retry_after("a") == 30  # first event at 1000 expires at 1060; now 1030
    assert limiter.retry_after("b") is None
    clock.now = 1060.0
    assert limiter.retry_after("a") is None
    limiter.hit("a")
    assert limiter.retry_after("a") == 10  # oldest live event (1010) expires at 1070


def test_limiter_memory_is_bounded():
    clock = FakeClock()
    limiter = SlidingWindowLimiter(1, 60.0, max_subjects=100, clock=clock)
    for i in range(1000):
        limiter.hit(f"subject-{i}")
        clock.now += 0.001
    assert len(limiter._events) <= 100
    assert limiter.retry_after("subject-999") is not None


def test_idempotency_cache_expires_and_is_bounded():
    clock = FakeClock()
    cache = IdempotencyCache(600.0, max_entries=3, clock=clock)
    cache.put("create_key", "u", "k", "fp", {"secret": "phk_x"})
    assert cache.get("create_key", "u", "k").fingerprint == "fp"
    assert cache.get("create_key", "other-user", "k") is None
    assert cache.get("rotate_key", "u", "k") is None  # scoped per operation
    clock.now += 601
    assert cache.get("create_key", "u", "k") is None
    for i in range(5):
        cache.put("create_key", "u", f"k{i}", "fp", {})
    assert cache.get("create_key", "u", "k0") is None and cache.get("create_key", "u", "k4") is not None
    assert "phk_x" not in repr(cache.get("create_key", "u", "k4"))


@pytest.mark.parametrize("value,ok", [("a", True), ("x" * 255, True), ("x" * 256, False), ("", False),
                                      ("with space", False), ("ünï", False)])
def test_idempotency_key_format(value, ok):
    from phhub_keys.hub.idempotency import valid_idempotency_key

    assert valid_idempotency_key(value) is ok
