"""HubClient against the real local hub on loopback: every endpoint and error
code of hub-api.md, isolation between users, idempotent create, URL rules."""

from __future__ import annotations

import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
import requests

from phhub_keys.api.client import CallRecord, HubClient, LoginResult
from phhub_keys.api.errors import (
    AuthenticationError,
    HubError,
    InsecureTransportError,
    InvalidLabel,
    InvalidRequest,
    KeyActive,
    KeyLimit,
    NotFound,
    RateLimited,
)
from phhub_keys.core.expiry import KeyPolicy
from phhub_keys.core.keyformat import is_valid_key, redact
from phhub_keys.core.models import KeyStatus, McpConfig, McpKey, NewKey, User
from phhub_keys.core.net import InsecureUrlError, is_loopback_host, validate_hub_url

Factory = Callable[..., object]


@pytest.fixture
def client(hub, make_user) -> Iterator[HubClient]:  # type: ignore[no-untyped-def]
    creds = make_user(name="Ada Lovelace", facilities=("ALS", "SSRL"))
    c = HubClient(hub.url)
    c.login(creds.email, creds.password)
    c.creds = creds  # type: ignore[attr-defined]
    yield c
    c.close()


def _ids(client: HubClient) -> list[str]:
    return [k.id for k in client.list_keys()]


# -- auth ---------------------------------------------------------------------------


def test_login_returns_token_user_and_expiry_and_hides_the_token(hub, make_user) -> None:  # type: ignore[no-untyped-def]
    creds = make_user(name="Grace Hopper", facilities=("ALS",))
    client = HubClient(hub.url)
    assert not client.signed_in
    result = client.login(creds.email, creds.password)
    assert isinstance(result, LoginResult)
    assert result.token.startswith("phs_")
    assert client.token == result.token and client.signed_in
    assert result.user == User(id=creds.user_id, email=creds.email, name="Grace Hopper", facilities=("ALS",))
    assert result.expires_at is not None and result.expires_at > datetime.now(UTC) + timedelta(days=1)
    for text in (repr(result), str(result), repr(client), str(client)):
        assert result.token not in text
    assert redact(result.token) in repr(result)


def test_wrong_password_is_authentication_error(hub, make_user) -> None:  # type: ignore[no-untyped-def]
    creds = make_user()
    client = HubClient(hub.url)
    with pytest.raises(AuthenticationError) as info:
        client.login(creds.email, creds.password + "x")
    assert info.value.code == "invalid_credentials" and info.value.status == 401
    assert str(info.value) == "The email or password is not correct. Check them and try again."
    assert client.token is None
    with pytest.raises(AuthenticationError):
        client.login("nobody-" + creds.email, creds.password)


def test_repeated_failed_logins_are_rate_limited_with_retry_after(start_hub, tmp_path) -> None:  # type: ignore[no-untyped-def]
    hub2 = start_hub(login_failures_per_account=2, login_failure_window=120.0)
    hub2.store.add_user("rl@example.org", "right-password")
    client = HubClient(hub2.url)
    for _ in range(2):
        with pytest.raises(AuthenticationError):
            client.login("rl@example.org", "wrong")
    with pytest.raises(RateLimited) as info:
        client.login("rl@example.org", "right-password")  # even the right password waits
    assert info.value.status == 429 and info.value.code == "rate_limited"
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 120
    assert str(info.value).startswith("Too many requests to the hub. Wait ")
    assert "second" in str(info.value) or "minute" in str(info.value)


def test_logout_revokes_the_token(hub, client: HubClient) -> None:  # type: ignore[no-untyped-def]
    token = client.token
    assert token
    other = HubClient(hub.url, token)
    assert other.me().email == client.creds.email  # type: ignore[attr-defined]
    client.logout()
    assert client.token is None and not client.signed_in
    with pytest.raises(AuthenticationError) as info:
        other.me()
    assert info.value.status == 401
    assert str(info.value) == "Your session with the hub has expired or was signed out. Sign in again."
    # Logging out a token the hub already rejects counts as done; the hub did answer 401.
    other.logout()
    assert other.token is None
    assert (other.calls[-1].path, other.calls[-1].status) == ("/auth/logout", 401)


def test_calls_without_a_token_fail_before_the_network(hub) -> None:  # type: ignore[no-untyped-def]
    client = HubClient(hub.url)
    for call in (client.me, client.mcp_config, client.list_keys, lambda: client.create_key("x")):
        with pytest.raises(AuthenticationError) as info:
            call()
        assert info.value.code == "not_signed_in"
        assert hub.url in str(info.value)
    assert list(client.calls) == []


def test_mcp_key_and_garbage_never_authenticate_the_management_api(hub, client: HubClient) -> None:  # type: ignore[no-untyped-def]
    new = client.create_key("for MCP only")
    for bad in (new.secret, "phs_" + "x" * 43, "garbage", client.token + "x"):  # type: ignore[operator]
        with pytest.raises(AuthenticationError) as info:
            HubClient(hub.url, bad).list_keys()
        assert info.value.status == 401


def test_a_revoked_session_is_authentication_error_for_every_call(hub, client: HubClient) -> None:  # type: ignore[no-untyped-def]
    key_id = client.create_key("before sign-out").key.id
    stale = HubClient(hub.url, client.token)
    client.logout()
    calls: list[Callable[[], object]] = [
        stale.me, stale.mcp_config, stale.list_keys, lambda: stale.create_key("x"),
        lambda: stale.rename_key(key_id, "y"), lambda: stale.deactivate_key(key_id),
        lambda: stale.reactivate_key(key_id), lambda: stale.delete_key(key_id),
    ]
    for call in calls:
        with pytest.raises(AuthenticationError) as info:
            call()
        assert info.value.status == 401 and "Sign in again" in str(info.value)
    assert [c.status for c in stale.calls] == [401] * len(calls)  # nothing retried


def test_tokens_must_fit_a_header(hub) -> None:  # type: ignore[no-untyped-def]
    for bad in ("phs_a\nInjected: 1", "phs_ a", "phs_\u00e9"):
        with pytest.raises(ValueError):
            HubClient(hub.url, bad)
        with pytest.raises(ValueError):
            HubClient(hub.url).token = bad
    client = HubClient(hub.url, "phs_ok")
    client.token = ""
    assert client.token is None


def test_oversized_request_is_refused(client: HubClient) -> None:
    with pytest.raises(InvalidRequest) as info:
        client.create_key("x" * 200_000)
    assert info.value.status == 413
    assert str(info.value).startswith("The hub refused the request as too large")
    assert client.list_keys() == []


# -- account and config -------------------------------------------------------------


def test_me_and_mcp_config(hub, client: HubClient) -> None:  # type: ignore[no-untyped-def]
    me = client.me()
    assert (me.email, me.name, me.facilities) == (client.creds.email, "Ada Lovelace", ("ALS", "SSRL"))  # type: ignore[attr-defined]
    config = client.mcp_config()
    assert config == McpConfig(server_url=hub.url + "/mcp", docs_url=hub.url + "/docs/mcp", key_prefix="phk_",
                               key_policy=KeyPolicy(90, None, 30))


# -- key lifecycle ------------------------------------------------------------------


def test_create_list_newest_first(client: HubClient) -> None:
    assert client.list_keys() == []
    made = [client.create_key(f"key {i}") for i in range(3)]
    for new in made:
        assert isinstance(new, NewKey)
        assert is_valid_key(new.secret)
        assert new.key.redacted == redact(new.secret)
        assert new.key.status is KeyStatus.ACTIVE and new.key.is_active
        assert new.key.last_used_at is None and new.key.deactivated_at is None
        assert new.secret not in repr(new)
    listed = client.list_keys()
    assert [k.id for k in listed] == [n.key.id for n in reversed(made)]
    assert listed[0] == made[-1].key
    assert all(isinstance(k, McpKey) for k in listed)


def test_labels_are_trimmed_and_nfc_normalised_by_the_hub(client: HubClient) -> None:
    new = client.create_key("  Cafe\u0301 \U0001f511  ")
    assert new.key.label == unicodedata.normalize("NFC", "Cafe\u0301 \U0001f511")
    renamed = client.rename_key(new.key.id, "\tE\u0301cole ")
    assert renamed.label == "\u00c9cole"


@pytest.mark.parametrize(
    ("label", "needle"),
    [
        ("", "Enter a label"),
        ("   ", "Enter a label"),
        ("x" * 101, "at most 100 characters"),
        ("evil\u202etxt", "text-direction override"),
        ("two\nlines", "control character"),
        ("broken \ud83d", "invalid character"),
    ],
)
def test_invalid_labels_are_refused_with_the_rules_message(client: HubClient, label: str,
                                                            needle: str) -> None:
    with pytest.raises(InvalidLabel) as info:
        client.create_key(label)
    assert info.value.status == 422 and info.value.code == "invalid_label"
    assert needle in str(info.value)
    keep = client.create_key("kept")
    with pytest.raises(InvalidLabel) as info:
        client.rename_key(keep.key.id, label)
    assert needle in str(info.value)
    assert [k.label for k in client.list_keys()] == ["kept"]


def test_rename(client: HubClient) -> None:
    new = client.create_key("before")
    renamed = client.rename_key(new.key.id, "after")
    assert (renamed.id, renamed.label, renamed.redacted) == (new.key.id, "after", new.key.redacted)
    assert client.list_keys()[0].label == "after"


def test_deactivate_and_reactivate_are_idempotent(client: HubClient) -> None:
    key_id = client.create_key("toggle").key.id
    off = client.deactivate_key(key_id)
    assert off.status is KeyStatus.DEACTIVATED and off.deactivated_at is not None
    again = client.deactivate_key(key_id)
    assert again.status is KeyStatus.DEACTIVATED
    on = client.reactivate_key(key_id)
    assert on.status is KeyStatus.ACTIVE and on.deactivated_at is None
    assert client.reactivate_key(key_id).status is KeyStatus.ACTIVE
    assert client.list_keys()[0].status is KeyStatus.ACTIVE


def test_delete_of_an_active_key_is_refused_and_the_key_untouched(client: HubClient) -> None:
    new = client.create_key("precious")
    before = client.list_keys()
    with pytest.raises(KeyActive) as info:
        client.delete_key(new.key.id)
    assert info.value.status == 409 and info.value.code == "key_active"
    assert str(info.value) == "An active key can't be deleted. Deactivate it first, then delete it."
    assert client.list_keys() == before
    client.deactivate_key(new.key.id)
    assert client.delete_key(new.key.id) is None
    assert client.list_keys() == []
    with pytest.raises(NotFound) as gone:
        client.delete_key(new.key.id)
    assert gone.value.status == 404 and gone.value.code == "not_found"
    assert "Refresh the list" in str(gone.value)


def test_another_users_key_is_not_found_for_every_verb_and_never_touched(hub, make_user) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_user(name="Alice"), make_user(name="Bob")
    a, b = HubClient(hub.url), HubClient(hub.url)
    a.login(alice.email, alice.password)
    b.login(bob.email, bob.password)
    active = a.create_key("alice active").key
    inactive = a.deactivate_key(a.create_key("alice deactivated").key.id)
    before = a.list_keys()
    for key in (active, inactive):
        verbs: list[Callable[[], object]] = [
            lambda k=key: b.rename_key(k.id, "pwned"),
            lambda k=key: b.deactivate_key(k.id),
            lambda k=key: b.reactivate_key(k.id),
            lambda k=key: b.delete_key(k.id),
        ]
        for verb in verbs:
            with pytest.raises(NotFound) as info:
                verb()
            assert info.value.status == 404 and info.value.code == "not_found"
    assert a.list_keys() == before
    assert b.list_keys() == []


@pytest.mark.parametrize("key_id", ["mk_0000000000000000", "../me", "..", "a/b", "mk_\u00e9", "x" * 300,
                                    "%2e%2e"])
def test_unknown_or_odd_key_ids_are_not_found(client: HubClient, key_id: str) -> None:
    client.create_key("bystander")
    for verb in (client.deactivate_key, client.reactivate_key, client.delete_key,
                 lambda i: client.rename_key(i, "x")):
        with pytest.raises(NotFound):
            verb(key_id)
    assert [k.label for k in client.list_keys()] == ["bystander"]


def test_empty_key_id_is_a_programming_error(client: HubClient) -> None:
    with pytest.raises(ValueError):
        client.delete_key("")


def test_key_limit(start_hub) -> None:  # type: ignore[no-untyped-def]
    hub2 = start_hub(max_keys_per_user=2)
    hub2.store.add_user("limit@example.org", "pw-limit-123")
    client = HubClient(hub2.url)
    client.login("limit@example.org", "pw-limit-123")
    client.create_key("one")
    client.create_key("two")
    with pytest.raises(KeyLimit) as info:
        client.create_key("three")
    assert info.value.status == 409 and info.value.code == "key_limit"
    assert "Delete keys you no longer use" in str(info.value)
    assert len(client.list_keys()) == 2


def test_creating_too_fast_is_rate_limited(start_hub) -> None:  # type: ignore[no-untyped-def]
    hub2 = start_hub(creates_per_user=2, create_window=60.0)
    hub2.store.add_user("fast@example.org", "pw-fast-123")
    client = HubClient(hub2.url)
    client.login("fast@example.org", "pw-fast-123")
    client.create_key("one")
    client.create_key("two")
    with pytest.raises(RateLimited) as info:
        client.create_key("three")
    assert info.value.retry_after is not None and 0 < info.value.retry_after <= 60
    assert len(client.list_keys()) == 2


# -- idempotent create --------------------------------------------------------------


def test_retried_create_with_same_idempotency_key_returns_the_same_key_and_secret(client: HubClient) -> None:
    ikey = uuid.uuid4().hex
    first = client.create_key("once", idempotency_key=ikey)
    second = client.create_key("once", idempotency_key=ikey)
    assert second.key == first.key and second.secret == first.secret
    assert _ids(client) == [first.key.id]
    third = client.create_key("once")  # a fresh key: a new key
    assert third.key.id != first.key.id and len(_ids(client)) == 2


def test_idempotency_key_is_per_user(hub, make_user) -> None:  # type: ignore[no-untyped-def]
    ikey = uuid.uuid4().hex
    made = []
    for creds in (make_user(), make_user()):
        c = HubClient(hub.url)
        c.login(creds.email, creds.password)
        made.append(c.create_key("same", idempotency_key=ikey))
    assert made[0].key.id != made[1].key.id and made[0].secret != made[1].secret


def test_reused_idempotency_key_for_another_label_is_refused(client: HubClient) -> None:
    ikey = uuid.uuid4().hex
    client.create_key("first", idempotency_key=ikey)
    with pytest.raises(InvalidRequest) as info:
        client.create_key("second", idempotency_key=ikey)
    assert info.value.status == 422 and info.value.code == "idempotency_key_reused"
    assert "different label" in str(info.value)
    with pytest.raises(InvalidRequest) as bad:
        client.create_key("x", idempotency_key="bad key with spaces \u00e9")
    assert bad.value.status == 400
    assert len(_ids(client)) == 1


# -- threads ------------------------------------------------------------------------


def test_concurrent_calls_from_worker_threads_and_call_log(client: HubClient) -> None:
    seen: list[CallRecord] = []
    lock = threading.Lock()

    def record(rec: CallRecord) -> None:
        with lock:
            seen.append(rec)

    client.on_request = record
    with ThreadPoolExecutor(max_workers=6, thread_name_prefix="hubworker") as pool:
        created = list(pool.map(lambda i: client.create_key(f"t{i}"), range(12)))
        lists = list(pool.map(lambda _: client.list_keys(), range(12)))
    assert len({n.key.id for n in created}) == 12
    assert all(len(lst) >= 1 for lst in lists)
    assert len(client.list_keys()) == 12
    worker_calls = [r for r in seen if r.thread_name.startswith("hubworker")]
    assert len(worker_calls) == 24
    assert not any(r.on_main_thread for r in worker_calls)
    assert seen[-1].on_main_thread and seen[-1].path == "/mcp/keys" and seen[-1].status == 200
    assert {r.method for r in worker_calls} == {"POST", "GET"}
    assert all(r.status in (200, 201) and r.outcome == "ok" for r in worker_calls)
    text = repr(list(client.calls))
    assert client.token not in text and all(n.secret not in text for n in created)  # type: ignore[operator]


# -- contract coverage --------------------------------------------------------------


def test_every_api_operation_of_the_hub_is_one_the_client_calls(hub) -> None:  # type: ignore[no-untyped-def]
    spec = requests.get(hub.url + "/openapi.json", timeout=10).json()
    operations = {(m.upper(), p) for p, item in spec["paths"].items() for m in item
                  if p.startswith("/api/v1")}
    assert operations == {
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("POST", "/api/v1/auth/logout-all"),
        ("GET", "/api/v1/me"),
        ("GET", "/api/v1/mcp/config"),
        ("GET", "/api/v1/mcp/keys"),
        ("POST", "/api/v1/mcp/keys"),
        ("PATCH", "/api/v1/mcp/keys/{key_id}"),
        ("POST", "/api/v1/mcp/keys/{key_id}/deactivate"),
        ("POST", "/api/v1/mcp/keys/{key_id}/reactivate"),
        ("DELETE", "/api/v1/mcp/keys/{key_id}"),
        ("POST", "/api/v1/mcp/keys/{key_id}/rotate"),
        ("GET", "/api/v1/mcp/keys/{key_id}/events"),
        ("GET", "/api/v1/mcp/events"),
    }


# -- URLs ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8750", "http://127.0.0.1:8750"),
        ("http://127.0.0.1:8750/", "http://127.0.0.1:8750"),
        ("HTTP://LOCALHOST:8750/", "http://localhost:8750"),
        ("http://127.9.8.7", "http://127.9.8.7"),
        ("http://[::1]:8750", "http://[::1]:8750"),
        ("https://Hub.Example.org/base/", "https://hub.example.org/base"),
        ("hub.example.org", "https://hub.example.org"),
        ("127.0.0.1:8750", "http://127.0.0.1:8750"),
        ("localhost:9", "http://localhost:9"),
        ("  https://hub.example.org:8443  ", "https://hub.example.org:8443"),
    ],
)
def test_validate_hub_url_normalises(url: str, expected: str) -> None:
    assert validate_hub_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://hub.example.org", "http://10.0.0.5:8750", "http://192.168.1.2", "http://[2001:db8::1]",
     "http://localhost.example.org", "http://127.0.0.1.nip.io", "http://0.0.0.0:8750"],
)
def test_plain_http_to_other_hosts_is_refused(url: str) -> None:
    with pytest.raises(InsecureUrlError) as info:
        validate_hub_url(url)
    assert "Refusing plain http://" in str(info.value) and "https://" in str(info.value)
    with pytest.raises(InsecureTransportError) as typed:
        HubClient(url)
    assert isinstance(typed.value, HubError) and typed.value.message == str(info.value)
    assert validate_hub_url(url, allow_insecure_http=True).startswith("http://")
    assert HubClient(url, allow_insecure_http=True).base_url.startswith("http://")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("", "Enter the hub address"),
        ("   ", "Enter the hub address"),
        ("ftp://hub.example.org", "must start with https://"),
        ("file:///etc/passwd", "must start with https://"),
        ("javascript:alert(1)", "must start with https://"),
        ("https://user:pw@hub.example.org", "user name or password"),
        ("https://user@hub.example.org", "user name or password"),
        ("https://hub.example.org/?x=1", "'?' or '#'"),
        ("https://hub.example.org/#frag", "'?' or '#'"),
        ("https://", "no host name"),
        ("https://hub.example.org:99999", "not a valid hub address"),
        ("https://hub.example.org:0", "port 0"),
        ("https://hub example.org", "spaces or control characters"),
        ("https://hub.example.org\n", "https://hub.example.org"),
    ],
)
def test_unusable_urls_are_refused_with_a_reason(url: str, needle: str) -> None:
    if url.endswith("\n"):  # surrounding whitespace is trimmed, not refused
        assert validate_hub_url(url) == needle
        return
    with pytest.raises(ValueError) as info:
        validate_hub_url(url)
    assert needle in str(info.value)


def test_loopback_detection() -> None:
    for host in ("127.0.0.1", "127.255.0.9", "::1", "[::1]", "localhost", "LOCALHOST", "localhost.",
                 "::ffff:127.0.0.1"):
        assert is_loopback_host(host), host
    not_loopback = ("", None, "0.0.0.0", "10.0.0.1", "example.org", "localhost.evil.org",  # noqa: S104
                    "128.0.0.1", "::2")
    for host in not_loopback:
        assert not is_loopback_host(host), host
