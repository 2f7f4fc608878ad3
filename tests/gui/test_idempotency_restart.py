"""A create retried after the hub restarted (issue 10 item 16): told which key was made, never a second key.

The replay of a create (with its secret) lives only in the hub's memory. What the
create made is also recorded in SQLite (SHA-256 of the Idempotency-Key, the user, a
fingerprint of the request and the key id; never the secret), so a retry that reaches
a restarted hub gets 409 ``idempotency_replay_unavailable`` naming that key, and the
window and the CLI offer to deactivate it.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from faultproxy import FaultProxy
from fixtures_hub import Creds, add_test_user, find_plaintext_secrets
from test_scripting import cli, cli_env  # noqa: F401 (cli_env is a fixture)
from test_trust_faults import count_secret_shows, make_window, retry_button, wait_failed  # noqa: F401

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import IdempotencyReplayUnavailable
from phhub_keys.core.models import KeyStatus
from phhub_keys.core.timestamps import utcnow
from phhub_keys.hub import idempotency
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.store import HubStore

KEYS = "/api/v1/mcp/keys"
WAIT_MS = 20_000


@pytest.fixture
def restartable(start_hub: Callable[..., EmbeddedHub], tmp_path: Path) -> EmbeddedHub:
    return start_hub(tmp_path / "restart.db")


@pytest.fixture
def creds(restartable: EmbeddedHub) -> Creds:
    return add_test_user(restartable, name="Restart Tester")


@pytest.fixture
def proxy(restartable: EmbeddedHub) -> Iterator[FaultProxy]:
    p = FaultProxy(restartable.url).start()
    yield p
    p.stop()


def restart(hub: EmbeddedHub) -> None:
    """Stop the hub (its memory, replay cache included, is gone) and start it on the same DB and port."""
    hub.stop()
    hub.start()


def keys_on_hub(hub: EmbeddedHub, creds: Creds) -> list[dict]:
    with HubClient(hub.url) as direct:
        direct.login(creds.email, creds.password)
        return [k.to_json() for k in direct.list_keys()]


# --------------------------------------------------------------------------- hub + client


def test_create_retried_after_a_restart_is_409_naming_the_key_and_makes_no_second_key(
    restartable: EmbeddedHub, proxy: FaultProxy, creds: Creds
) -> None:
    client = HubClient(proxy.url, timeout=5, retry_backoff=0.05)
    client.login(creds.email, creds.password)
    proxy.drop_response(method="POST", path=KEYS, times=None)  # the create commits, its answer is lost
    with pytest.raises(Exception) as lost:
        client.create_key("lost in transit")
    ikey = lost.value.idempotency_key  # type: ignore[attr-defined]
    assert ikey
    restart(restartable)
    proxy.clear()
    with pytest.raises(IdempotencyReplayUnavailable) as info:
        client.create_key("lost in transit", idempotency_key=ikey)
    (made,) = keys_on_hub(restartable, creds)  # one key on the hub, the one the lost create made
    error = info.value
    assert error.status == 409 and error.code == "idempotency_replay_unavailable"
    assert error.key is not None and error.key_id == made["id"]
    assert error.key.label == "lost in transit" and error.key.redacted == made["redacted"]
    assert made["id"] in error.message and "Deactivate" in error.message
    assert "never be shown again" in error.message
    # The same key again: still refused, still one key.
    with pytest.raises(IdempotencyReplayUnavailable):
        client.create_key("lost in transit", idempotency_key=ikey)
    # Another label under the same Idempotency-Key is a misuse, as before the restart.
    response = requests.post(f"{restartable.url}{KEYS}", json={"label": "something else"}, timeout=10,
                             headers={"Authorization": f"Bearer {client.token}", "Idempotency-Key": ikey})
    assert response.status_code == 422 and response.json()["error"]["code"] == "idempotency_key_reused"
    assert len(keys_on_hub(restartable, creds)) == 1
    # Once that key is deleted nothing can be duplicated: the same request creates a key.
    client.deactivate_key(made["id"])
    client.delete_key(made["id"])
    fresh = client.create_key("lost in transit", idempotency_key=ikey)
    assert [k["id"] for k in keys_on_hub(restartable, creds)] == [fresh.key.id]
    client.close()


def test_the_409_body_follows_the_envelope_and_names_the_key(restartable: EmbeddedHub, creds: Creds) -> None:
    session = requests.Session()
    token = session.post(f"{restartable.url}/api/v1/auth/login", timeout=10,
                         json={"email": creds.email, "password": creds.password}).json()["token"]
    session.headers["Authorization"] = f"Bearer {token}"
    headers = {"Idempotency-Key": "raw-http-retry"}
    first = session.post(f"{restartable.url}{KEYS}", json={"label": "raw"}, headers=headers, timeout=10)
    assert first.status_code == 201
    restart(restartable)
    again = session.post(f"{restartable.url}{KEYS}", json={"label": "raw"}, headers=headers, timeout=10)
    assert again.status_code == 409
    error = again.json()["error"]
    assert set(error) == {"code", "message", "key"}
    assert error["code"] == "idempotency_replay_unavailable"
    assert error["key"]["id"] == first.json()["key"]["id"] and "secret" not in error["key"]
    assert find_plaintext_secrets(again.content) == []
    session.close()


def test_a_replay_past_its_memory_window_is_409_too(start_hub: Callable[..., EmbeddedHub]) -> None:
    """No restart: once the in-memory replay has expired, the record still prevents a second key."""
    hub = start_hub(idempotency_ttl=0.2)
    creds = add_test_user(hub)
    with HubClient(hub.url) as client:
        client.login(creds.email, creds.password)
        first = client.create_key("slow retry", idempotency_key="late-retry")
        assert client.create_key("slow retry", idempotency_key="late-retry").secret == first.secret
        time.sleep(0.5)
        with pytest.raises(IdempotencyReplayUnavailable) as info:
            client.create_key("slow retry", idempotency_key="late-retry")
        assert info.value.key_id == first.key.id and info.value.key.is_active
        assert [k.id for k in client.list_keys()] == [first.key.id]
        client.deactivate_key(first.key.id)  # the 409 names the key as it is now
        with pytest.raises(IdempotencyReplayUnavailable) as again:
            client.create_key("slow retry", idempotency_key="late-retry")
        assert again.value.key_id == first.key.id and not again.value.key.is_active


def test_the_record_holds_no_secret_and_expires(tmp_path: Path) -> None:
    db = tmp_path / "records.db"
    with HubStore(db, password_cost=2**4) as store:
        user = store.add_user("rec@example.org", "pw")
        claim = idempotency.IdempotencyClaim("create_key", "client-chosen-key-7", "f" * 64, ttl_seconds=3600)
        record, secret = store.create_key(user.id, "recorded", max_keys=10, idempotency_claim=claim)
        found = store.idempotency_record("create_key", user.id, "client-chosen-key-7")
        assert found is not None and found.resource_id == record.id and found.fingerprint == "f" * 64
        assert store.idempotency_record("rotate_key", user.id, "client-chosen-key-7") is None
        assert store.idempotency_record("create_key", "someone-else", "client-chosen-key-7") is None
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT * FROM idempotency").fetchall()
    assert len(rows) == 1
    text = repr(rows)
    assert secret not in text and "client-chosen-key-7" not in text  # only the key's SHA-256
    assert find_plaintext_secrets(db.read_bytes()) == []
    later = utcnow() + timedelta(seconds=3601)
    assert idempotency.lookup(conn, "create_key", user.id, "client-chosen-key-7", now=later) is None
    # Expired records are swept when the next one is written.
    idempotency.remember(conn, user.id, idempotency.IdempotencyClaim("create_key", "k2", "0", 60), "mk_x",
                         now=later)
    assert conn.execute("SELECT COUNT(*) FROM idempotency").fetchone()[0] == 1
    conn.close()


# --------------------------------------------------------------------------- the CLI


def test_cli_create_whose_answer_was_lost_across_a_restart_names_the_key_and_can_deactivate_it(
    restartable: EmbeddedHub, proxy: FaultProxy, creds: Creds, cli_env  # noqa: F811 (the fixture)
) -> None:
    assert cli("login", "--hub", proxy.url, "--email", creds.email, stdin=creds.password + "\n").code == 0

    def lost_then_restarted(*argv: str):  # type: ignore[no-untyped-def]
        """The create's answer is lost; its one retry waits in the proxy while the hub restarts."""
        proxy.clear()
        proxy.drop_response(method="POST", path=KEYS, times=1)
        proxy.delay(3.0, method="POST", path=KEYS, times=1)
        posts_before = len(proxy.exchanges("POST", KEYS))

        def restart_when_retried() -> None:
            deadline = time.monotonic() + 20
            while len(proxy.exchanges("POST", KEYS)) < posts_before + 2 and time.monotonic() < deadline:
                time.sleep(0.02)
            restart(restartable)

        restarter = threading.Thread(target=restart_when_retried)
        restarter.start()
        try:
            return cli("keys", "create", *argv)
        finally:
            restarter.join(30)

    result = lost_then_restarted("made once")
    (made,) = keys_on_hub(restartable, creds)
    assert result.code == 1, result
    assert result.out == ""  # no secret printed: there is none to print
    assert made["id"] in result.err and "can't be shown again" in result.err
    assert f"phhub-keys keys deactivate {made['id']}" in result.err and "--yes" in result.err
    assert made["status"] == "active"

    result = lost_then_restarted("made again", "--yes")
    keys = {k["label"]: k for k in keys_on_hub(restartable, creds)}
    assert set(keys) == {"made once", "made again"}  # one key per create, never two
    assert result.code == 1, result
    assert keys["made again"]["status"] == KeyStatus.DEACTIVATED.value
    assert f"Deactivated {keys['made again']['id']}" in result.err


# --------------------------------------------------------------------------- the window


def test_window_retry_after_a_restart_explains_and_offers_to_deactivate_the_unseen_key(
    qtbot, restartable: EmbeddedHub, proxy: FaultProxy, creds: Creds, tmp_path: Path,
    make_window,  # noqa: F811 (the fixture)
) -> None:
    client = HubClient(proxy.url, timeout=5, retry_backoff=0.05)
    client.login(creds.email, creds.password)
    window = make_window(client)
    shown = count_secret_shows(window)
    window.open_create_form()
    window.create_form.label_input.setText("Typed once")
    proxy.drop_response(method="POST", path=KEYS, times=None)
    window.create_form.submit()
    wait_failed(qtbot, window)
    restart(restartable)
    proxy.clear()
    retry_button(window).click()
    qtbot.waitUntil(lambda: "can't be shown again" in window.error_banner.text() and not window.is_busy(),
                    timeout=WAIT_MS)
    (made,) = keys_on_hub(restartable, creds)
    banner = window.error_banner
    assert "Typed once" in banner.text() and made["redacted"] in banner.text()
    assert banner.action_button.text() == "Deactivate key" and banner.action_button.isVisible()
    assert shown == [] and not window.new_key_panel.isVisible()  # no secret to show, none invented
    assert window.create_form.label_text() == "Typed once"  # kept for a new create
    qtbot.waitUntil(lambda: window.model.key_by_id(made["id"]) is not None, timeout=WAIT_MS)  # listed
    window.grab().save(str(tmp_path / "unseen-key-banner.png"))
    banner.action_button.click()
    qtbot.waitUntil(lambda: keys_on_hub(restartable, creds)[0]["status"] == "deactivated", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not window.model.key_by_id(made["id"]).is_active, timeout=WAIT_MS)
    assert not banner.isVisible()
    # A new create is a new request: a new key and its secret, shown once.
    window.create_form.submit()
    qtbot.waitUntil(lambda: bool(shown) and not window.is_busy(), timeout=WAIT_MS)
    assert len(keys_on_hub(restartable, creds)) == 2 and len(shown) == 1
    client.close()
