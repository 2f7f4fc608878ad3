"""Isolation and abuse: another user's keys, the wrong credential at the wrong door, brute force,
and key lists that a spreadsheet would run as formulas.

Brute force is measured on a hub with the shipped limits (HubSettings defaults):
the tests count how many wrong guesses the hub answers before it starts saying
429, check the Retry-After it gives, and print the allowed rate (run with -s to
see it; the figures are also in the test report's user properties).
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
import requests
from fixtures_hub import Creds, SignedInSession, add_test_user, mcp_post_status

from phhub_keys import scripting
from phhub_keys.api.client import HubClient
from phhub_keys.api.credentials import MemoryKeyring
from phhub_keys.api.errors import NotFound
from phhub_keys.core.csvio import FORMULA_STARTS, KEY_LIST_HEADER, key_list_csv
from phhub_keys.core.keyformat import generate_key
from phhub_keys.gui import workers
from phhub_keys.gui.manage_window import ManageKeysWindow
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.settings import HubSettings

API = "/api/v1"


def _state(client: HubClient) -> list[tuple[object, ...]]:
    return [(k.id, k.label, k.status, k.redacted, k.created_at, k.last_used_at) for k in client.list_keys()]


@pytest.fixture
def alice_bob(hub: EmbeddedHub, make_user: Callable[..., Creds]) -> Iterator[tuple[HubClient, HubClient]]:
    alice, bob = HubClient(hub.url), HubClient(hub.url)
    alice.login(*_pw(make_user(name="Alice")))
    bob.login(*_pw(make_user(name="Bob")))
    yield alice, bob
    alice.close()
    bob.close()


def _pw(creds: Creds) -> tuple[str, str]:
    return creds.email, creds.password


# --------------------------------------------------------------------------- isolation


def test_user_b_with_user_a_key_ids_gets_404_everywhere_and_changes_nothing(alice_bob) -> None:  # type: ignore[no-untyped-def]
    alice, bob = alice_bob
    active = alice.create_key("alice active").key
    inactive = alice.deactivate_key(alice.create_key("alice inactive").key.id)
    bob.create_key("bob's own")
    before = _state(alice)
    bob_before = _state(bob)
    verbs = {
        "rename": lambda key_id: bob.rename_key(key_id, "hijacked"),
        "deactivate": bob.deactivate_key,
        "reactivate": bob.reactivate_key,
        "delete": bob.delete_key,
    }
    for key in (active, inactive):
        for verb, call in verbs.items():
            with pytest.raises(NotFound):
                call(key.id)
            assert _state(alice) == before, f"{verb} by another user changed alice's keys"
    # Bob's own views never show Alice's keys, and his own are unchanged.
    assert {k.id for k in bob.list_keys()}.isdisjoint({active.id, inactive.id})
    assert _state(bob) == bob_before
    assert bob.me().email != alice.me().email
    # The same Idempotency-Key from another user mints that user's own key, never replays Alice's.
    first = alice.create_key("same ikey", idempotency_key="shared-ikey-1")
    other = bob.create_key("same ikey", idempotency_key="shared-ikey-1")
    assert other.secret != first.secret and other.key.id != first.key.id


MANAGEMENT = [("POST", "/auth/logout"), ("GET", "/me"), ("GET", "/mcp/config"), ("GET", "/mcp/keys"),
              ("POST", "/mcp/keys"), ("PATCH", "/mcp/keys/{id}"), ("DELETE", "/mcp/keys/{id}"),
              ("POST", "/mcp/keys/{id}/deactivate"), ("POST", "/mcp/keys/{id}/reactivate")]


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_an_mcp_key_never_opens_any_management_endpoint(hub_url: str, signed_in_session: SignedInSession,
                                                         header: str) -> None:
    s = signed_in_session
    made = s.create_key("only for mcp")
    secret, key_id = made["secret"], made["key"]["id"]
    value = f"Bearer {secret}" if header == "Authorization" else secret
    for method, path in MANAGEMENT:
        body = {"label": "via mcp key"} if method in ("POST", "PATCH") else None
        response = requests.request(method, f"{hub_url}{API}{path.format(id=key_id)}", json=body,
                                    headers={header: value}, timeout=10)
        assert response.status_code == 401, (method, path, response.status_code)
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [(k["id"], k["label"], k["status"]) for k in keys] == [(key_id, "only for mcp", "active")]


def _schema_operations(hub_url: str) -> list[tuple[str, str]]:
    schema = requests.get(f"{hub_url}/openapi.json", timeout=10).json()
    return [(method.upper(), path) for path, item in schema["paths"].items() for method in item]


_BODIES = {"/api/v1/mcp/keys": {"label": "intruder"}, "/api/v1/mcp/keys/{key_id}": {"expires_at": None},
           "/api/v1/mcp/keys/{key_id}/rotate": {"grace_seconds": 0}}


def test_every_operation_of_the_schema_keeps_accounts_and_doors_apart(hub_url: str, make_user) -> None:
    """Over every operation /openapi.json lists (rotate, expiry PATCH, the two feeds, logout-all...,
    and any added later), not a hand-kept list: an MCP key opens none (Authorization or X-API-Key),
    another user's key id is 404 on every {key_id} path, and neither changes anything or shows
    anything of the other account, feeds and cursors included."""
    alice, bob = SignedInSession(hub_url, make_user("Alice")), SignedInSession(hub_url, make_user("Bob"))
    made = alice.create_key("alice's")
    key_id, secret = made["key"]["id"], made["secret"]
    alice.patch(alice.api(f"/mcp/keys/{key_id}"), json={"label": "alice's, renamed"}, timeout=10)
    bob.create_key("bob's")

    def alice_state() -> tuple[object, object]:
        keys = alice.get(alice.api("/mcp/keys"), timeout=10).json()["keys"]
        feed = alice.get(alice.api("/mcp/events"), timeout=10).json()
        return keys, feed

    before = alice_state()
    operations = _schema_operations(hub_url)
    assert ("POST", "/api/v1/mcp/keys/{key_id}/rotate") in operations and len(operations) >= 14
    for method, path in operations:
        if path == "/api/v1/auth/login":
            continue
        url = hub_url + path.replace("{key_id}", key_id)
        for header, value in (("Authorization", f"Bearer {secret}"), ("X-API-Key", secret)):
            response = requests.request(method, url, json=_BODIES.get(path), headers={header: value},
                                        timeout=10)
            assert response.status_code == 401, (header, method, path, response.status_code)
        if "{key_id}" in path:
            response = bob.request(method, url, json=_BODIES.get(path), timeout=10)
            assert response.status_code == 404, (method, path, response.status_code)
            assert response.json()["error"]["code"] == "not_found"
    assert alice_state() == before
    # Bob's feed, from the start or from a cursor of Alice's, never holds Alice's key.
    cursor = before[1]["events"][0]["id"]  # type: ignore[index]
    for params in ({}, {"before": cursor}, {"before": "ev_999999999999999999"}):
        page = bob.get(bob.api("/mcp/events"), params=params, timeout=10).json()
        assert all(e["key_id"] != key_id for e in page["events"]), params
    keys = bob.get(bob.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [k["label"] for k in keys] == ["bob's"]


@pytest.mark.parametrize("header", ["Authorization", "X-API-Key"])
def test_a_session_token_never_opens_mcp(hub_url: str, signed_in_session: SignedInSession,
                                        header: str) -> None:
    token = signed_in_session.token
    value = f"Bearer {token}" if header == "Authorization" else token
    assert mcp_post_status(hub_url, {header: value}).status_code == 401


# --------------------------------------------------------------------------- brute force


def _login(url: str, email: str, password: str) -> requests.Response:
    return requests.post(f"{url}{API}/auth/login", json={"email": email, "password": password}, timeout=10)


def _until_429(attempt: Callable[[int], requests.Response], cap: int) -> tuple[int, requests.Response, float]:
    """(refused guesses answered before the first 429, that 429, seconds taken)."""
    started = time.monotonic()
    for n in range(cap):
        response = attempt(n)
        if response.status_code == 429:
            return n, response, time.monotonic() - started
        assert response.status_code == 401, response.text
    raise AssertionError(f"no 429 after {cap} wrong guesses: brute force is not slowed")


def _report(record_property, what: str, allowed: int, window: float, taken: float) -> float:  # type: ignore[no-untyped-def]
    per_minute = allowed * 60.0 / window
    line = (f"{what}: {allowed} wrong guesses answered in {taken:.2f} s, then 429 for the rest of a "
            f"{window:g} s window = at most {per_minute:g} guesses/minute")
    print(line)
    record_property(what, line)
    return per_minute


@pytest.fixture
def default_limits_hub(start_hub: Callable[..., EmbeddedHub]) -> EmbeddedHub:
    """A hub with the shipped rate limits (only the scrypt cost lowered, to keep the test quick)."""
    return start_hub()


def test_login_brute_force_on_one_account_is_slowed(default_limits_hub: EmbeddedHub,
                                                    record_property) -> None:  # type: ignore[no-untyped-def]
    hub, limits = default_limits_hub, HubSettings()
    victim = add_test_user(hub)
    allowed, refused, taken = _until_429(lambda n: _login(hub.url, victim.email, f"guess-{n}"), cap=100)
    assert allowed == limits.login_failures_per_account
    retry_after = int(refused.headers["Retry-After"])
    assert 1 <= retry_after <= limits.login_failure_window
    assert refused.json()["error"]["code"] == "rate_limited"
    # While limited even the right password is refused: the limit is no oracle.
    assert _login(hub.url, victim.email, victim.password).status_code == 429
    per_minute = _report(record_property, "login, one account", allowed, limits.login_failure_window, taken)
    assert per_minute <= 2.0


def test_login_brute_force_from_one_address_is_slowed(default_limits_hub: EmbeddedHub,
                                                      record_property) -> None:  # type: ignore[no-untyped-def]
    hub, limits = default_limits_hub, HubSettings()
    # A different account each time, so only the per-address limit can stop it.
    allowed, refused, taken = _until_429(
        lambda n: _login(hub.url, f"nobody-{n}@example.org", "guess"), cap=500)
    assert allowed == limits.login_failures_per_ip
    assert int(refused.headers["Retry-After"]) >= 1
    per_minute = _report(record_property, "login, one address", allowed, limits.login_failure_window, taken)
    assert per_minute <= 10.0


def test_mcp_key_guessing_from_one_address_is_slowed(default_limits_hub: EmbeddedHub,
                                                     record_property) -> None:  # type: ignore[no-untyped-def]
    hub, limits = default_limits_hub, HubSettings()
    real = SignedInSession(hub.url, add_test_user(hub)).create_key()["secret"]
    allowed, refused, taken = _until_429(
        lambda n: mcp_post_status(hub.url, {"Authorization": f"Bearer {generate_key()}"}), cap=500)
    assert allowed == limits.mcp_auth_failures_per_ip
    assert int(refused.headers["Retry-After"]) >= 1
    # A guesser who then hits the real key still gets nothing from this address until the window passes.
    assert mcp_post_status(hub.url, {"Authorization": f"Bearer {real}"}).status_code == 429
    per_minute = _report(record_property, "MCP key guesses, one address", allowed,
                         limits.mcp_auth_failure_window, taken)
    assert per_minute <= 30.0


def test_foreign_host_header_is_refused_by_mcp(hub_url: str, signed_in_session: SignedInSession) -> None:
    secret = signed_in_session.create_key()["secret"]
    auth = {"Authorization": f"Bearer {secret}"}
    assert mcp_post_status(hub_url, auth).status_code == 200
    for host in ("evil.example.org", "evil.example.org:80", "127.0.0.1.evil.example.org"):
        assert mcp_post_status(hub_url, {**auth, "Host": host}).status_code in (400, 403, 421), host


# --------------------------------------------------------------------------- formula cells


FORMULA_LABELS = ["=HYPERLINK(\"http://evil.example.org\",\"x\")", "+1+1", "-2+3", "@SUM(A1:A2)",
                  "=cmd|' /C calc'!A0", "'=already quoted"]


def _cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def _assert_no_formula(text: str) -> None:
    for cell in _cells(text):
        assert not cell.startswith(FORMULA_STARTS), f"a spreadsheet would evaluate {cell!r}"


@pytest.fixture
def formula_user(hub: EmbeddedHub, make_user: Callable[..., Creds]) -> Iterator[tuple[Creds, HubClient]]:
    creds = make_user(name="=Formula User")
    client = HubClient(hub.url)
    client.login(creds.email, creds.password)
    for label in FORMULA_LABELS:
        client.create_key(label)
    yield creds, client
    client.close()


def test_key_list_exports_have_no_formula_cells(qtbot, tmp_path: Path, formula_user, window_recorder,
                                                monkeypatch: pytest.MonkeyPatch, hub: EmbeddedHub) -> None:
    creds, client = formula_user
    keys = client.list_keys()
    assert sorted(k.label for k in keys) == sorted(FORMULA_LABELS)  # the hub stored them as typed

    # 1. the core export of the real hub's list
    _assert_no_formula(key_list_csv(keys))

    # 2. the window's Download CSV
    window = ManageKeysWindow(client, account_text=creds.email)
    window_recorder(window)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.loaded, timeout=15_000):
        window.show()
    target = tmp_path / "download.csv"
    window.rec.save_path = str(target)
    assert window.download_csv() == target
    downloaded = target.read_bytes().decode("utf-8")
    _assert_no_formula(downloaded)
    assert len(_cells(downloaded)) == len(KEY_LIST_HEADER) * (len(FORMULA_LABELS) + 1)
    workers.wait_idle()

    # 3. the scripting CLI's `keys export`
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in (scripting.KEY_ENV, scripting.HUB_ENV, scripting.EMAIL_ENV):
        monkeypatch.delenv(name, raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    try:
        def cli(*argv: str, stdin: str = "") -> tuple[int, str]:
            out = io.StringIO()
            code = scripting.main(list(argv), scripting.Io(io.StringIO(stdin), out, io.StringIO()))
            return code, out.getvalue()

        assert cli("login", "--hub", hub.url, "--email", creds.email, stdin=creds.password + "\n")[0] == 0
        code, exported = cli("keys", "export", "-")
        assert code == 0
        _assert_no_formula(exported)
        assert exported == downloaded
    finally:
        keyring.set_keyring(previous)
