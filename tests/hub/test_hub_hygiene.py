"""Key hygiene on the hub, over real HTTP: expiry, the expired status at /mcp, key policy, rotation
with grace and Idempotency-Key, last_used_ips, the event log and its feeds, the v1 -> v2 migration.

Most tests run on their own hub whose clock is a HubClock (store.clock), so "a day later" takes
no time; one test uses the real clock with a key that expires two seconds ahead.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from fixtures_hub import (
    HubClock,
    SignedInSession,
    add_test_user,
    clocked_hub,
    mcp_call,
    mcp_open,
    mcp_post_status,
)
from mcp.shared.exceptions import MCPError

from phhub_keys.core.keyformat import generate_key, hash_secret, redact
from phhub_keys.core.timestamps import format_ts, parse_ts
from phhub_keys.hub.embedded import EmbeddedHub
from phhub_keys.hub.schema import MIGRATIONS, SCHEMA_VERSION
from phhub_keys.hub.store import HubStore

DAY = 86_400


def error(response: requests.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"]["code"] == code, body
    return body["error"]["message"]


def key_of(s: SignedInSession, key_id: str) -> dict[str, Any]:
    (key,) = [k for k in s.get(s.api("/mcp/keys"), timeout=10).json()["keys"] if k["id"] == key_id]
    return key


def create(s: SignedInSession, label: str = "k", **body: Any) -> dict[str, Any]:
    response = s.post(s.api("/mcp/keys"), json={"label": label, **body}, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()


def rotate(s: SignedInSession, key_id: str, grace: int, **kw: Any) -> requests.Response:
    headers = kw.pop("headers", {})
    return s.post(s.api(f"/mcp/keys/{key_id}/rotate"), json={"grace_seconds": grace, **kw}, headers=headers,
                  timeout=10)


def refusal(base_url: str, secret: str) -> tuple[int, str, str | None]:
    response = mcp_post_status(base_url, {"Authorization": f"Bearer {secret}"})
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    return response.status_code, str(body.get("error")), response.headers.get("WWW-Authenticate")


def works(base_url: str, secret: str) -> bool:
    return mcp_post_status(base_url, {"Authorization": f"Bearer {secret}"}).status_code == 200


def events(s: SignedInSession, path: str = "/mcp/events", **params: Any) -> dict[str, Any]:
    response = s.get(s.api(path), params=params, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def hub_ts(clock: HubClock, **delta: float) -> str:
    return format_ts(clock().replace(microsecond=0) + timedelta(**delta)) or ""


# -- expiry on create and change -----------------------------------------------------


def test_create_with_expiry_in_days_at_a_time_or_none(start_hub):
    _hub, clock, s = clocked_hub(start_hub)
    now = clock().replace(microsecond=0)
    in_days = create(s, expires_in_days=30)["key"]
    assert parse_ts(in_days["expires_at"]) - now in (timedelta(days=30), timedelta(days=30, seconds=1))
    at = hub_ts(clock, days=7)
    assert create(s, expires_at=at)["key"]["expires_at"] == at
    assert create(s, expires_at=None)["key"]["expires_at"] is None
    # A v1 body (label only): no expiry, as this policy (no maximum) allows.
    plain = create(s)["key"]
    assert plain["expires_at"] is None and plain["status"] == "active"
    assert plain["replaces"] is None and plain["replaced_by"] is None and plain["last_used_ips"] == []


@pytest.mark.parametrize(("body", "words", "rule"), [
    ({"expires_at": "2001-01-01T00:00:00Z"}, "in the future", "past"),
    ({"expires_at": "next tuesday"}, "RFC 3339", "format"),
    ({"expires_at": "2030-01-01T00:00:00"}, "RFC 3339", "format"),  # no timezone
    ({"expires_in_days": 0}, "1 to", "policy_max"),
    ({"expires_in_days": 36_501}, "1 to", "policy_max"),
    ({"expires_in_days": 5, "expires_at": "2030-01-01T00:00:00Z"}, "not both", "both"),
    ({"expires_in_days": "5"}, "whole number", "format"),
    ({"expires_at": 5}, "RFC 3339 time or null", "format"),
    ({"expires_at": "9999-12-31T23:59:59Z"}, "at most 36500 days", "policy_max"),
])
def test_bad_expiry_on_create_is_422_invalid_expiry_naming_the_rule(signed_in_session, body, words, rule):
    s = signed_in_session
    response = s.post(s.api("/mcp/keys"), json={"label": "bad expiry", **body}, timeout=10)
    assert words in error(response, 422, "invalid_expiry")
    assert response.json()["error"]["rule"] == rule
    assert s.get(s.api("/mcp/keys"), timeout=10).json()["keys"] == []  # nothing was created


def test_policy_with_a_maximum_lifetime(start_hub):
    hub, clock, s = clocked_hub(start_hub, default_key_lifetime_days=14, max_key_lifetime_days=30,
                            max_rotation_grace_days=2)
    config = s.get(s.api("/mcp/config"), timeout=10).json()
    assert config["key_policy"] == {"default_lifetime_days": 14, "max_lifetime_days": 30,
                                    "max_rotation_grace_days": 2}
    # Neither field: the default lifetime (no expiry is not allowed here).
    key = create(s)["key"]
    assert parse_ts(key["expires_at"]) - parse_ts(key["created_at"]) == timedelta(days=14)
    assert "does not allow keys without expiry" in error(
        s.post(s.api("/mcp/keys"), json={"label": "x", "expires_at": None}, timeout=10), 422,
        "invalid_expiry")
    assert "maximum key lifetime" in error(
        s.post(s.api("/mcp/keys"), json={"label": "x", "expires_in_days": 31}, timeout=10), 422,
        "invalid_expiry")
    assert "maximum key lifetime" in error(
        s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"expires_at": hub_ts(clock, days=31)}, timeout=10),
        422, "invalid_expiry")
    assert "at most" in error(
        s.patch(s.api(f"/mcp/keys/{key['id']}"), json={"expires_at": None}, timeout=10), 422,
        "invalid_expiry")
    # The OpenAPI document states this hub's own maxima.
    schema = requests.get(f"{hub.url}/openapi.json", timeout=10).json()["components"]["schemas"]
    assert schema["RotateRequest"]["properties"]["grace_seconds"]["maximum"] == 2 * DAY
    days = schema["CreateKeyRequest"]["properties"]["expires_in_days"]["anyOf"]
    assert {"type": "integer", "minimum": 1, "maximum": 30}.items() <= days[0].items()


def test_hub_refuses_an_inconsistent_policy():
    from phhub_keys.hub.settings import HubSettings

    with pytest.raises(ValueError, match="default key lifetime"):
        HubSettings(default_key_lifetime_days=90, max_key_lifetime_days=30)
    with pytest.raises(ValueError, match="grace"):
        HubSettings(max_rotation_grace_days=-1)


def test_patch_changes_expiry_label_or_both(start_hub):
    _hub, clock, s = clocked_hub(start_hub)
    key = create(s, "before", expires_in_days=10)["key"]
    path = s.api(f"/mcp/keys/{key['id']}")
    later = hub_ts(clock, days=60)
    changed = s.patch(path, json={"expires_at": later}, timeout=10).json()
    assert (changed["expires_at"], changed["label"]) == (later, "before")
    both = s.patch(path, json={"expires_at": None, "label": "after"}, timeout=10).json()
    assert (both["expires_at"], both["label"]) == (None, "after")
    assert "label" in error(s.patch(path, json={}, timeout=10), 422, "invalid_request")
    assert "in the future" in error(s.patch(path, json={"expires_at": hub_ts(clock, seconds=-5)}, timeout=10),
                                    422, "invalid_expiry")
    assert key_of(s, key["id"])["expires_at"] is None  # the refused change changed nothing
    # v1 rename body still works and keeps the expiry.
    assert s.patch(path, json={"label": "v1 rename"}, timeout=10).json()["label"] == "v1 rename"


# -- expired: computed by the hub's clock, refused by /mcp ------------------------------


def test_expired_key_is_refused_on_the_very_next_request_like_a_deactivated_one(start_hub):
    hub, clock, s = clocked_hub(start_hub)
    expiring = create(s, "expiring", expires_at=hub_ts(clock, hours=1))
    other = create(s, "deactivated")
    s.post(s.api(f"/mcp/keys/{other['key']['id']}/deactivate"), timeout=10)

    async def run() -> None:
        secret = expiring["secret"]
        async with mcp_open(hub.url, {"Authorization": f"Bearer {secret}"}) as client:
            result = await client.call_tool("whoami", {})
            assert result.structured_content["key_id"] == expiring["key"]["id"]
            clock.advance(hours=1)  # exactly at expires_at: expired (now >= expires_at)
            with pytest.raises(MCPError):  # same open MCP session, next request: refused
                await client.call_tool("whoami", {})

    asyncio.run(run())
    # Same status, same envelope, same challenge as a deactivated key: no oracle.
    assert refusal(hub.url, expiring["secret"]) == refusal(hub.url, other["secret"])
    assert refusal(hub.url, expiring["secret"])[0] == 401
    key = key_of(s, expiring["key"]["id"])
    assert key["status"] == "expired" and key["deactivated_at"] is None


def test_a_key_created_to_expire_seconds_ahead_stops_on_the_next_request_after(signed_in_session, hub):
    """Real clock, the shared hub: the key works, then the first request at or after expires_at is 401."""
    s = signed_in_session
    expires = hub.store.now() + timedelta(seconds=2)
    created = create(s, "two seconds", expires_at=format_ts(expires))
    assert works(hub.url, created["secret"])
    deadline = time.monotonic() + 10
    while hub.store.now() < expires:  # waitUntil-style: poll the hub's clock, bounded
        assert time.monotonic() < deadline, "the hub's clock did not reach expires_at"
        time.sleep(0.05)
    assert refusal(hub.url, created["secret"])[0] == 401
    assert key_of(s, created["key"]["id"])["status"] == "expired"


def test_every_answer_is_dated_by_the_hubs_clock(start_hub):
    """The Date header is the clock that decides "expired" (clients count from it), once per answer,
    on successes, API errors, /mcp refusals and the Host guard's refusals alike."""
    from email.utils import parsedate_to_datetime

    hub, clock, s = clocked_hub(start_hub)
    clock.advance(days=-3, hours=-5)  # the hub runs 3 days 5 hours behind this computer

    def dated(response: requests.Response) -> datetime:
        assert len(response.raw.headers.getlist("Date")) == 1, response.raw.headers
        return parsedate_to_datetime(response.headers["Date"])

    answers = [s.get(s.api("/mcp/keys"), timeout=10),
               s.patch(s.api("/mcp/keys/mk_0000000000000000"), json={"label": "x"}, timeout=10),
               requests.post(f"{hub.url}/mcp", json={}, timeout=10),
               requests.get(f"{hub.url}/api/v1/me", headers={"Host": "evil.example"}, timeout=10)]
    assert [r.status_code for r in answers] == [200, 404, 401, 421]
    for response in answers:
        assert abs((dated(response) - clock()).total_seconds()) <= 2, response.status_code
    key = create(s, "dated", expires_in_days=1)["key"]
    assert abs((parse_ts(key["expires_at"]) - timedelta(days=1) - clock()).total_seconds()) <= 2
    clock.advance(days=2)  # the hub's clock moved on: so does its Date, and the key expired by it
    listed = s.get(s.api("/mcp/keys"), timeout=10)
    assert abs((dated(listed) - clock()).total_seconds()) <= 2
    assert listed.json()["keys"][0]["status"] == "expired"


def test_expired_key_cannot_be_reactivated_but_renewed_or_deleted(start_hub):
    hub, clock, s = clocked_hub(start_hub)
    made = create(s, "short", expires_in_days=1)
    key_id = made["key"]["id"]
    clock.advance(days=1, seconds=1)
    assert "renew" in error(s.post(s.api(f"/mcp/keys/{key_id}/reactivate"), timeout=10), 409, "key_expired")
    renewed = s.patch(s.api(f"/mcp/keys/{key_id}"), json={"expires_at": hub_ts(clock, days=30)}, timeout=10)
    assert renewed.json()["status"] == "active"
    feed = events(s, f"/mcp/keys/{key_id}/events")["events"]
    assert [e["kind"] for e in feed[:2]] == ["expiry_changed", "expired"]
    assert feed[0]["detail"]["renewed"] is True
    assert works(hub.url, made["secret"])
    # Expired again: deleted without deactivating first.
    clock.advance(days=31)
    assert s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10).status_code == 204
    assert refusal(hub.url, made["secret"])[0] == 401


# -- rotation --------------------------------------------------------------------------


def test_rotate_with_grace_zero_cuts_the_old_key_at_once(start_hub):
    hub, _clock, s = clocked_hub(start_hub)
    old = create(s, "laptop", expires_in_days=90)
    assert works(hub.url, old["secret"])
    response = rotate(s, old["key"]["id"], 0)
    assert response.status_code == 201, response.text
    body = response.json()
    new, replaced = body["key"], body["replaces"]
    assert body["secret"] != old["secret"] and new["redacted"] == redact(body["secret"])
    assert (new["label"], new["replaces"], new["status"]) == ("laptop", old["key"]["id"], "active")
    # The new key has the old key's lifetime length.
    assert parse_ts(new["expires_at"]) - parse_ts(new["created_at"]) == timedelta(days=90)
    assert (replaced["id"], replaced["status"], replaced["replaced_by"]) == (old["key"]["id"], "deactivated",
                                                                              new["id"])
    assert not works(hub.url, old["secret"]) and works(hub.url, body["secret"])
    assert key_of(s, old["key"]["id"]) == replaced


def test_rotate_with_a_grace_keeps_both_keys_working_until_it_ends(start_hub):
    hub, clock, s = clocked_hub(start_hub)
    old = create(s, "ci runner")  # no expiry
    body = rotate(s, old["key"]["id"], 3600, label="ci runner 2").json()
    new_secret, new = body["secret"], body["key"]
    assert (new["label"], new["expires_at"]) == ("ci runner 2", None)
    before = key_of(s, old["key"]["id"])
    assert before["status"] == "active" and before["replaced_by"] == new["id"]
    assert before["expires_at"] == format_ts(parse_ts(new["created_at"]) + timedelta(hours=1))
    assert works(hub.url, old["secret"]) and works(hub.url, new_secret)
    clock.advance(minutes=59)
    assert works(hub.url, old["secret"])
    clock.advance(minutes=1)
    assert not works(hub.url, old["secret"]) and works(hub.url, new_secret)
    assert key_of(s, old["key"]["id"])["status"] == "expired"
    assert key_of(s, new["id"])["status"] == "active"


def test_grace_never_extends_an_earlier_expiry(start_hub):
    _hub, clock, s = clocked_hub(start_hub)
    soon = hub_ts(clock, minutes=10)
    old = create(s, "soon", expires_at=soon)
    rotate(s, old["key"]["id"], 7 * DAY)
    assert key_of(s, old["key"]["id"])["expires_at"] == soon


def test_rotate_retry_with_the_same_idempotency_key_returns_the_same_successor(signed_in_session):
    s = signed_in_session
    old = create(s, "retry me")
    headers = {"Idempotency-Key": "rotate-attempt-1"}
    first = rotate(s, old["key"]["id"], 600, headers=headers)
    again = rotate(s, old["key"]["id"], 600, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (again.json()["key"]["id"], again.json()["secret"]) == (first.json()["key"]["id"],
                                                                   first.json()["secret"])
    assert len(s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]) == 2  # never two successors
    # Same Idempotency-Key, another request: refused, not replayed.
    error(rotate(s, old["key"]["id"], 60, headers=headers), 422, "idempotency_key_reused")
    # A fresh attempt (no or another Idempotency-Key): 409 naming the successor.
    message = error(rotate(s, old["key"]["id"], 600), 409, "already_rotated")
    assert first.json()["key"]["id"] in message
    message = error(rotate(s, old["key"]["id"], 0, headers={"Idempotency-Key": "other"}), 409,
                    "already_rotated")
    assert first.json()["key"]["id"] in message


def test_concurrent_rotations_of_one_key_make_exactly_one_successor(signed_in_session):
    s = signed_in_session
    old = create(s, "raced")
    statuses: list[int] = []
    barrier = threading.Barrier(6)

    def worker() -> None:
        with requests.Session() as mine:
            mine.headers["Authorization"] = f"Bearer {s.token}"
            barrier.wait(timeout=10)
            url = s.api(f"/mcp/keys/{old['key']['id']}/rotate")
            statuses.append(mine.post(url, json={"grace_seconds": 60}, timeout=20).status_code)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(statuses) == [201, 409, 409, 409, 409, 409]
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert len([k for k in keys if k["replaces"] == old["key"]["id"]]) == 1


def test_rotate_refusals(start_hub):
    _hub, clock, s = clocked_hub(start_hub, max_rotation_grace_days=1)
    deactivated = create(s, "off")["key"]["id"]
    s.post(s.api(f"/mcp/keys/{deactivated}/deactivate"), timeout=10)
    assert "deactivated" in error(rotate(s, deactivated, 0), 409, "key_inactive")
    expired = create(s, "old", expires_at=hub_ts(clock, minutes=1))["key"]["id"]
    clock.advance(minutes=2)
    assert "expired" in error(rotate(s, expired, 0), 409, "key_inactive")
    live = create(s, "live")["key"]["id"]
    assert "86400" in error(rotate(s, live, DAY + 1), 422, "invalid_expiry")
    error(rotate(s, live, -1), 422, "invalid_expiry")
    error(s.post(s.api(f"/mcp/keys/{live}/rotate"), json={}, timeout=10), 422, "invalid_request")
    error(rotate(s, "mk_0000000000000000", 0), 404, "not_found")
    # A rotated key whose grace has run out still names its successor.
    successor = rotate(s, live, 60).json()["key"]["id"]
    clock.advance(minutes=5)
    assert successor in error(rotate(s, live, 0), 409, "already_rotated")


def test_a_key_whose_successor_was_deleted_can_be_rotated_again(start_hub):
    """Rotate, then deactivate and delete the new key while the old one is in its grace: the old
    key must not be stuck naming a successor that is gone (it was a dead end: 409 forever)."""
    _hub, _clock, s = clocked_hub(start_hub)
    old = create(s, "laptop")["key"]["id"]
    first = rotate(s, old, 3600).json()["key"]["id"]
    assert s.post(s.api(f"/mcp/keys/{first}/deactivate"), timeout=10).status_code == 200
    assert s.delete(s.api(f"/mcp/keys/{first}"), timeout=10).status_code == 204
    again = rotate(s, old, 3600)
    assert again.status_code == 201, again.text
    second = again.json()["key"]["id"]
    assert second != first
    assert key_of(s, old)["replaced_by"] == second
    assert key_of(s, second)["replaces"] == old
    # The new successor is live: a third rotation names it, as before.
    assert second in error(rotate(s, old, 0), 409, "already_rotated")


def test_another_users_key_cannot_be_rotated_or_read(start_hub):
    hub, _clock, s = clocked_hub(start_hub)
    other = SignedInSession(hub.url, add_test_user(hub))
    key_id = create(s, "mine")["key"]["id"]
    error(rotate(other, key_id, 0), 404, "not_found")
    error(other.get(other.api(f"/mcp/keys/{key_id}/events"), timeout=10), 404, "not_found")
    assert events(other)["events"] == []
    assert key_of(s, key_id)["replaced_by"] is None


# -- last use --------------------------------------------------------------------------


def test_last_used_ips_keeps_the_five_most_recent_distinct_addresses(start_hub):
    hub, clock, s = clocked_hub(start_hub)
    made = create(s, "roaming")
    key_id = made["key"]["id"]
    mcp_call(hub.url, made["secret"], client_name="Cursor", client_version="1.7")
    assert [a["ip"] for a in key_of(s, key_id)["last_used_ips"]] == ["127.0.0.1"]
    assert hub.store is not None
    for n, ip in enumerate(["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.2", "10.0.0.4", "10.0.0.5",
                            "10.0.0.6"]):
        clock.advance(minutes=n + 1)
        hub.store.record_key_use(key_id, None, ip)
    key = key_of(s, key_id)
    assert [a["ip"] for a in key["last_used_ips"]] == ["10.0.0.6", "10.0.0.5", "10.0.0.4", "10.0.0.2",
                                                       "10.0.0.3"]
    times = [a["at"] for a in key["last_used_ips"]]
    assert times == sorted(times, reverse=True) and key["last_used_ip"] == "10.0.0.6"
    assert key["last_used_client"] == "Cursor 1.7"


# -- events ----------------------------------------------------------------------------


def test_every_event_kind_is_recorded_and_a_deleted_keys_history_stays(start_hub):
    hub, clock, s = clocked_hub(start_hub)
    made = create(s, "first", expires_in_days=30)
    key_id = made["key"]["id"]
    s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": "second"}, timeout=10)
    five_days = hub_ts(clock, days=5)
    s.patch(s.api(f"/mcp/keys/{key_id}"), json={"expires_at": five_days}, timeout=10)
    s.post(s.api(f"/mcp/keys/{key_id}/deactivate"), timeout=10)
    s.post(s.api(f"/mcp/keys/{key_id}/reactivate"), timeout=10)
    mcp_call(hub.url, made["secret"], client_name="Zed", client_version="0.1")
    new = rotate(s, key_id, 60).json()["key"]
    clock.advance(minutes=2)
    assert s.delete(s.api(f"/mcp/keys/{key_id}"), timeout=10).status_code == 204

    history = events(s, f"/mcp/keys/{key_id}/events")["events"]
    kinds = [e["kind"] for e in reversed(history)]
    assert kinds == ["created", "renamed", "expiry_changed", "deactivated", "reactivated", "new_address",
                     "first_use_by_client", "rotated", "expired", "deleted"]
    by_kind = {e["kind"]: e for e in history}
    assert by_kind["renamed"]["detail"] == {"from": "first", "to": "second"}
    assert by_kind["expiry_changed"]["detail"]["to"] == five_days
    assert by_kind["rotated"]["detail"] == {"to": new["id"], "grace_seconds": 60}
    assert by_kind["first_use_by_client"]["detail"] == {"client": "Zed 0.1"}
    assert by_kind["new_address"]["detail"] == {"ip": "127.0.0.1"}
    assert {e["actor"] for e in history if e["kind"] in ("expired", "new_address", "first_use_by_client")} \
        == {"hub"}
    assert by_kind["deleted"]["actor"] == "session" and by_kind["deleted"]["key_label"] == "second"
    for event in history:
        assert set(event) == {"id", "at", "key_id", "key_label", "kind", "detail", "actor"}
        assert event["key_id"] == key_id and event["id"].startswith("ev_")
    # The account feed lists the deleted key's history and the successor's own "rotated" event.
    feed = events(s, limit=200)["events"]
    assert [e for e in feed if e["key_id"] == key_id] == history
    (successor_event,) = [e for e in feed if e["key_id"] == new["id"]]
    assert successor_event["kind"] == "rotated" and successor_event["detail"]["from"] == key_id
    assert "phk_" + made["secret"][4:] not in str(feed)  # never a secret


def test_events_are_kept_365_days(start_hub):
    _hub, clock, s = clocked_hub(start_hub)
    key_id = create(s, "old news")["key"]["id"]
    clock.advance(days=300)
    s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": "recent"}, timeout=10)
    clock.advance(days=70)  # the created event is now 370 days old, the rename 70
    assert [e["kind"] for e in events(s)["events"]] == ["renamed"]


def test_feed_paging_is_stable_under_concurrent_inserts(start_hub):
    _hub, _clock, s = clocked_hub(start_hub)
    key_id = create(s, "busy")["key"]["id"]
    for n in range(40):
        s.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": f"busy {n}"}, timeout=10)
    before = [e["id"] for e in events(s, limit=200)["events"]]
    assert len(before) == 41
    stop = threading.Event()

    def writer() -> None:  # keeps adding events while the reader pages
        with requests.Session() as w:
            w.headers["Authorization"] = f"Bearer {s.token}"
            n = 0
            while not stop.is_set() and n < 200:
                w.patch(s.api(f"/mcp/keys/{key_id}"), json={"label": f"new {n}"}, timeout=10)
                n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        first = events(s, limit=7)
        seen = [e["id"] for e in first["events"]]
        cursor = first["next_before"]
        while cursor:
            page = events(s, limit=7, before=cursor)
            seen += [e["id"] for e in page["events"]]
            cursor = page["next_before"]
    finally:
        stop.set()
        thread.join(30)
    # No duplicates, no gaps: every event older than the first page's newest, in order.
    newest_first_page = int(seen[0][3:])
    assert len(seen) == len(set(seen))
    numbers = [int(x[3:]) for x in seen]
    assert numbers == sorted(numbers, reverse=True)
    assert [x for x in before if int(x[3:]) <= newest_first_page] == [x for x in seen if x in before]
    assert set(before) <= set(seen)


def test_feed_limits_and_cursor_are_checked(signed_in_session):
    s = signed_in_session
    for params in ({"limit": 0}, {"limit": 201}, {"before": "42"}, {"before": "ev_x"}):
        error(s.get(s.api("/mcp/events"), params=params, timeout=10), 422, "invalid_request")
    error(s.get(s.api("/mcp/keys/mk_0000000000000000/events"), timeout=10), 404, "not_found")
    assert events(s, limit=1)["next_before"] is None  # a new account: nothing yet


# -- migration of a v1 database ---------------------------------------------------------


def _v1_database(path: Path) -> list[tuple[Any, ...]]:
    """A database as a v1 hub left it (schema 1 only), with keys in every state."""
    conn = sqlite3.connect(path)
    conn.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    from phhub_keys.hub.security import hash_password

    conn.execute("INSERT INTO users VALUES ('u_1', 'v1@example.org', 'Old', ?, '[]', '2025-01-01T00:00:00Z')",
                 (hash_password("old password", 2**4),))
    rows = []
    for n, status in enumerate(["active", "deactivated", "active"]):
        secret = generate_key()
        rows.append((f"mk_{n:016x}", "u_1", hash_secret(secret), redact(secret), f"v1 key {n}", status,
                     f"2025-0{n + 1}-01T00:00:00Z",
                     "2025-06-01T00:00:00Z" if status == "deactivated" else None,
                     "2025-05-01T10:00:00Z" if n != 2 else None, 'Cursor "1.0"' if n != 2 else None,
                     "10.1.2.3" if n != 2 else None))
    conn.executemany("INSERT INTO keys VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    conn.commit()
    conn.close()
    return rows


def test_a_v1_database_migrates_with_every_key_intact(tmp_path, start_hub):
    db = tmp_path / "v1.db"
    rows = _v1_database(db)
    hub = start_hub(db_path=db)
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    s = SignedInSession(hub.url, _creds("v1@example.org", "old password"))
    keys = {k["id"]: k for k in s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]}
    assert set(keys) == {r[0] for r in rows}
    for r in rows:
        key = keys[r[0]]
        assert (key["redacted"], key["label"], key["status"], key["created_at"], key["deactivated_at"],
                key["last_used_at"], key["last_used_client"], key["last_used_ip"]) == (r[3], *r[4:])
        assert (key["expires_at"], key["replaces"], key["replaced_by"]) == (None, None, None)
        expected_ips = [{"ip": r[10], "at": r[8]}] if r[10] else []
        assert key["last_used_ips"] == expected_ips
    # The old keys still rotate, and a client seen before the upgrade is not "new".
    assert rotate(s, rows[0][0], 60).status_code == 201
    assert hub.store is not None
    hub.store.record_key_use(rows[0][0], 'Cursor "1.0"', "10.1.2.3")
    assert [e["kind"] for e in events(s, f"/mcp/keys/{rows[0][0]}/events")["events"]] == ["rotated"]


def test_migration_is_idempotent_and_a_newer_file_is_refused(tmp_path):
    db = tmp_path / "v1.db"
    _v1_database(db)
    with HubStore(db, password_cost=2**4) as store:
        assert store.count_keys("u_1") == 3
    with HubStore(db, password_cost=2**4) as store:  # a second open migrates nothing
        assert store.count_keys("u_1") == 3
        assert store.integrity_check() == "ok"


def _creds(email: str, password: str) -> Any:
    from fixtures_hub import Creds

    return Creds(email=email, password=password)


def test_times_are_the_hubs_not_the_clients(start_hub):
    """Creation time and expiry come from the hub's clock, whatever the caller's clock says."""
    _hub, clock, s = clocked_hub(start_hub)
    clock.advance(days=3)
    key = create(s, "clock", expires_in_days=1)["key"]
    assert parse_ts(key["created_at"]) > datetime.now(UTC) + timedelta(days=2)
    assert key["status"] == "active"


def test_a_rotate_retried_after_a_hub_restart_never_makes_a_second_successor(start_hub, tmp_path):
    hub = start_hub(tmp_path / "restart.db")
    s = SignedInSession(hub.url, add_test_user(hub))
    old = create(s, "rotated before the restart")["key"]["id"]
    headers = {"Idempotency-Key": "rotate-across-restart"}
    first = rotate(s, old, 600, headers=headers).json()
    hub.stop()  # the in-memory replay (with the secret) is gone
    hub.start()
    s.headers["Authorization"] = f"Bearer {SignedInSession(hub.url, s.creds).token}"
    response = rotate(s, old, 600, headers=headers)
    message = error(response, 409, "already_rotated")
    assert first["key"]["id"] in message
    assert response.json()["error"]["key"]["id"] == first["key"]["id"]
    assert first["secret"] not in response.text
    # The same Idempotency-Key for another rotation is still recognised as reused (persisted record).
    error(rotate(s, old, 60, headers=headers), 422, "idempotency_key_reused")
    keys = s.get(s.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [k["id"] for k in keys if k["replaces"] == old] == [first["key"]["id"]]


def test_a_client_update_is_not_a_first_use_by_a_new_client(start_hub):
    hub, _clock, s = clocked_hub(start_hub)
    made = create(s, "updated client")
    key_id = made["key"]["id"]
    uses = (("Cursor", "1.7.2"), ("Cursor", "1.8.0"), ("Claude Code", "2.0"), ("Cursor", "2.0"))
    for client, version in uses:
        mcp_call(hub.url, made["secret"], client_name=client, client_version=version)
    firsts = [e["detail"]["client"] for e in events(s, f"/mcp/keys/{key_id}/events")["events"]
              if e["kind"] == "first_use_by_client"]
    assert firsts == ["Claude Code 2.0", "Cursor 1.7.2"]  # newest first
    assert key_of(s, key_id)["last_used_client"] == "Cursor 2.0"


def test_a_rotation_counts_as_a_create_for_the_key_cap_and_the_rate_limit(start_hub):
    _hub, _clock, s = clocked_hub(start_hub, max_keys_per_user=2, creates_per_user=3)
    first = create(s, "one")["key"]["id"]
    create(s, "two")
    error(rotate(s, first, 60), 409, "key_limit")  # the successor would be a third key
    assert key_of(s, first)["replaced_by"] is None  # nothing half-done
    s.post(s.api(f"/mcp/keys/{first}/deactivate"), timeout=10)
    assert s.delete(s.api(f"/mcp/keys/{first}"), timeout=10).status_code == 204
    three = create(s, "three")["key"]["id"]  # the third create of the window
    s.post(s.api(f"/mcp/keys/{three}/deactivate"), timeout=10)
    s.delete(s.api(f"/mcp/keys/{three}"), timeout=10)
    two = next(k["id"] for k in s.get(s.api("/mcp/keys"), timeout=10).json()["keys"])
    response = rotate(s, two, 60)
    error(response, 429, "rate_limited")
    assert int(response.headers["Retry-After"]) > 0


def _initialize_as(hub: EmbeddedHub, secret: str, client: str) -> None:
    body = {"jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": {"protocolVersion": "2025-11-25", "capabilities": {},
                       "clientInfo": {"name": client, "version": "1"}}}
    response = requests.post(f"{hub.url}/mcp", json=body, timeout=10, headers={
        "Authorization": f"Bearer {secret}", "Accept": "application/json, text/event-stream"})
    assert response.status_code == 200, response.text


def test_a_key_holder_cannot_flood_the_activity_log_with_new_client_names(start_hub):
    """Each request may name another client (clientInfo, or _meta on every request), and cycling
    more names than the hub remembers made every request a first_use_by_client event: a leaked
    key could grow the database without end and bury the owner's real events. At most
    MAX_USE_EVENTS_PER_DAY such events (new clients and new addresses together) per key per 24 h;
    the use itself is still recorded."""
    from phhub_keys.hub.store import MAX_CLIENTS_SEEN, MAX_USE_EVENTS_PER_DAY

    hub, clock, s = clocked_hub(start_hub)
    made = create(s, "leaked")
    key_id = made["key"]["id"]
    names = [f"Client{n}" for n in range(MAX_CLIENTS_SEEN + 1)]
    for round_ in range(2):  # the second round: each name was pushed out of the remembered list
        for name in names:
            _initialize_as(hub, made["secret"], f"{name} r{round_}" if round_ else name)
    page = events(s, f"/mcp/keys/{key_id}/events", limit=200)
    uses = [e["kind"] for e in page["events"] if e["kind"] in ("first_use_by_client", "new_address")]
    assert len(uses) == MAX_USE_EVENTS_PER_DAY, len(uses)
    assert uses[-1] == "new_address" and set(uses[:-1]) == {"first_use_by_client"}
    assert key_of(s, key_id)["last_used_client"] == f"{names[-1]} r1 1"  # the use itself is kept
    # A day later, a new client is logged again.
    clock.advance(days=1, seconds=1)
    _initialize_as(hub, made["secret"], "Cursor")
    latest = events(s, f"/mcp/keys/{key_id}/events", limit=1)["events"][0]
    assert (latest["kind"], latest["detail"]) == ("first_use_by_client", {"client": "Cursor 1"})
