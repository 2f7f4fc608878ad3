"""The hub's MCP key cache never outlives a change (issue 15 item 3), over real HTTP.

Every test first makes the cache hold the key (two accepted requests, then checks the store
would answer from its cache: the tests cannot pass vacuously against an empty cache), then
changes the key the way a user or the hub does, and proves the very next /mcp request sees it.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from typing import Any

import pytest
from fixtures_hub import HubClock, SignedInSession, clocked_hub, mcp_call, mcp_post_status

from phhub_keys.core.timestamps import format_ts
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.store import HubStore


def works(hub: EmbeddedHub, secret: str) -> bool:
    status = mcp_post_status(hub.url, {"Authorization": f"Bearer {secret}"}).status_code
    assert status in (200, 401), status
    return status == 200


def warm(hub: EmbeddedHub, secret: str) -> None:
    """Accepted requests until one was answered from the store's cache (the first ones write
    the key's first use, which rightly empties the cache)."""
    assert hub.store is not None
    for _ in range(4):
        hits = hub.store.key_cache_hits
        assert works(hub, secret)
        if hub.store.key_cache_hits > hits:
            return
    pytest.fail("the MCP key cache answered none of 4 requests: these tests would prove nothing")


@pytest.fixture
def clocked(start_hub: Any) -> tuple[EmbeddedHub, HubClock, SignedInSession]:
    return clocked_hub(start_hub)


def create(s: SignedInSession, label: str = "cached", **body: Any) -> tuple[str, str]:
    response = s.post(s.api("/mcp/keys"), json={"label": label, **body}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["key"]["id"], response.json()["secret"]


def test_deactivation_of_a_cached_key_refuses_the_next_request_and_reactivation_restores_it(clocked):
    hub, _clock, s = clocked
    key_id, secret = create(s)
    warm(hub, secret)
    assert s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10).status_code == 200
    assert not works(hub, secret)
    assert s.post(s.api(f"/mcp/keys/{key_id}/reactivate"), timeout=10).status_code == 200
    assert works(hub, secret)


def test_deletion_of_a_cached_key_refuses_the_next_request(clocked):
    hub, _clock, s = clocked
    key_id, secret = create(s)
    warm(hub, secret)
    s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    warm_again = works(hub, secret)  # refused already (deactivated), and refusals are never cached
    assert s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10).status_code == 204
    assert not warm_again and not works(hub, secret)


def test_an_expiry_change_to_a_near_time_is_seen_by_the_cache(clocked):
    hub, clock, s = clocked
    key_id, secret = create(s)  # no expiry
    warm(hub, secret)
    soon = format_ts(clock().replace(microsecond=0) + timedelta(minutes=5))
    response = s.patch(s.api(f"/mcp/keys/{key_id}"), json={"expires_at": soon}, timeout=10)
    assert response.status_code == 200, response.text
    warm(hub, secret)  # still valid for 5 minutes, and cached again with the new expiry
    clock.offset += timedelta(minutes=5)
    assert not works(hub, secret)


def test_a_cached_key_whose_expiry_passes_is_refused_on_the_very_next_request(clocked):
    """No write happens at all: the expiry is compared with the hub's clock on every cache hit."""
    hub, clock, s = clocked
    expires = format_ts(clock().replace(microsecond=0) + timedelta(days=1))
    _key_id, secret = create(s, expires_at=expires)
    warm(hub, secret)
    clock.offset += timedelta(days=1) - timedelta(seconds=2)
    assert works(hub, secret)
    clock.offset += timedelta(seconds=2)  # the hub's clock reaches expires_at (to the second)
    assert not works(hub, secret)


def test_rotation_without_grace_cuts_the_cached_old_key_at_once(clocked):
    hub, _clock, s = clocked
    key_id, secret = create(s, "laptop")
    warm(hub, secret)
    response = s.post(s.api(f"/mcp/keys/{key_id}/rotate"), json={"grace_seconds": 0}, timeout=10)
    assert response.status_code == 201, response.text
    assert not works(hub, secret)
    assert works(hub, response.json()["secret"])


def test_rotation_with_grace_ends_the_cached_old_key_when_the_grace_ends(clocked):
    hub, clock, s = clocked
    key_id, secret = create(s, "ci")
    warm(hub, secret)
    response = s.post(s.api(f"/mcp/keys/{key_id}/rotate"), json={"grace_seconds": 600}, timeout=10)
    assert response.status_code == 201, response.text
    warm(hub, secret)
    clock.offset += timedelta(seconds=600)
    assert not works(hub, secret)


def test_a_rename_is_seen_by_whoami_on_the_next_call_after_the_cache_held_the_old_label(clocked):
    hub, _clock, s = clocked
    key_id, secret = create(s, "old label")
    warm(hub, secret)
    assert mcp_call(hub.url, secret)["key_label"] == "old label"
    s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": "new label"}, timeout=10)
    assert mcp_call(hub.url, secret)["key_label"] == "new label"


def test_a_change_written_by_another_process_on_the_same_database_is_seen(clocked):
    """The hub CLI or a second hub writes through its own connection: SQLite's data_version
    tells the serving hub's read connection, so its cache is not used after that commit."""
    hub, _clock, s = clocked
    key_id, secret = create(s)
    warm(hub, secret)
    script = ("import sys\nfrom phhub_keys.hub.store import HubStore\n"
              "with HubStore(sys.argv[1]) as store:\n"
              "    assert store.set_key_active(sys.argv[2], sys.argv[3], False) is not None\n")
    done = subprocess.run([sys.executable, "-c", script, str(hub.db_path), s.user["id"], key_id],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert not works(hub, secret)


# -- the store's single write path: every write transaction invalidates on its own -------------

@pytest.mark.parametrize("change", ["deactivate", "delete", "expiry", "rename", "rotate", "usage"])
def test_every_key_change_through_the_store_empties_the_cache_without_data_version(
        tmp_path, monkeypatch, change):
    """With SQLite's data_version pinned (as if it never moved), the generation that ``_tx``
    bumps after every commit is enough: each way of changing a key invalidates the cache."""
    from phhub_keys.hub import store as store_module

    monkeypatch.setattr(store_module, "_data_version", lambda _reader: 0)
    with HubStore(tmp_path / "hub.db") as store:
        user = store.add_user("cache@example.org", "pw-cache-test")
        record, secret = store.create_key(user.id, "k", max_keys=100)
        assert store.authenticate_key_nowait(secret) is not None
        hits = store.key_cache_hits
        assert store.authenticate_key_nowait(secret) is not None and store.key_cache_hits == hits + 1
        if change == "deactivate":
            store.set_key_active(user.id, record.id, False)
        elif change == "delete":
            store.set_key_active(user.id, record.id, False)
            store.delete_key(user.id, record.id)
        elif change == "expiry":
            store.update_key(user.id, record.id, expires_at=store.now() + timedelta(days=1))
        elif change == "rename":
            store.rename_key(user.id, record.id, "renamed")
        elif change == "rotate":
            store.rotate_key(user.id, record.id, grace_seconds=0, label=None, max_keys=100,
                             max_lifetime_days=None, default_lifetime_days=None)
        else:
            store.record_key_use(record.id, "client 1.0", "127.0.0.1")
        assert store.cached_key_identity(secret) is None
        answer = store.authenticate_key_nowait(secret)
        if change in ("deactivate", "delete", "rotate"):
            assert answer is None
        else:
            assert answer is not None
            assert answer.key.label == ("renamed" if change == "rename" else "k")
