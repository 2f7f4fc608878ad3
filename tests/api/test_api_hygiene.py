"""HubClient's key-hygiene methods against the real hub: expiry, rotation (also with its answer
lost in transit), activity feeds, the key policy, and the hub's clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from faultproxy import FaultProxy

from phhub_keys.api.client import HubClient
from phhub_keys.api.errors import AlreadyRotated, HubUnavailable, InvalidExpiry, KeyInactive
from phhub_keys.core.expiry import KeyPolicy
from phhub_keys.core.keyformat import is_valid_key
from phhub_keys.core.models import KeyStatus, McpKey, RotatedKey


@pytest.fixture
def client(hub, make_user) -> Iterator[HubClient]:  # type: ignore[no-untyped-def]
    creds = make_user()
    c = HubClient(hub.url)
    c.login(creds.email, creds.password)
    c.creds = creds  # type: ignore[attr-defined]
    yield c
    c.close()


def test_key_policy_from_the_hub(client: HubClient) -> None:
    assert client.key_policy() == KeyPolicy(default_lifetime_days=90, max_lifetime_days=None,
                                            max_rotation_grace_days=30)


def test_create_with_each_kind_of_expiry_and_change_it(client: HubClient) -> None:
    now = client.hub_now()
    in_days = client.create_key("days", expires_in_days=10).key
    assert in_days.expires_at is not None and in_days.expires_at - now >= timedelta(days=10)
    at = (now + timedelta(days=3)).replace(microsecond=0)
    assert client.create_key("at", expires_at=at).key.expires_at == at
    assert client.create_key("never", no_expiry=True).key.expires_at is None
    assert client.create_key("policy").key.expires_at is None  # this hub allows no expiry
    with pytest.raises(ValueError, match="at most one"):
        client.create_key("both", expires_in_days=1, no_expiry=True)
    later = at + timedelta(days=30)
    changed = client.set_expiry(in_days.id, later)
    assert (changed.expires_at, changed.status) == (later, KeyStatus.ACTIVE)
    assert client.set_expiry(in_days.id, None).expires_at is None
    with pytest.raises(InvalidExpiry, match="in the future") as refused:
        client.set_expiry(in_days.id, now - timedelta(days=1))
    assert refused.value.rule == "past"
    with pytest.raises(InvalidExpiry, match="in the future"):
        client.create_key("past", expires_at=now - timedelta(days=1))


def test_rotate_and_its_refusals(client: HubClient) -> None:
    old = client.create_key("laptop").key
    rotated = client.rotate_key(old.id, grace_seconds=3600)
    assert isinstance(rotated, RotatedKey) and is_valid_key(rotated.secret)
    assert rotated.secret not in repr(rotated)
    assert (rotated.key.replaces, rotated.key.label) == (old.id, "laptop")
    assert rotated.replaces is not None and rotated.replaces.replaced_by == rotated.key.id
    assert rotated.replaces.status is KeyStatus.ACTIVE and rotated.replaces.expires_at is not None
    with pytest.raises(AlreadyRotated) as info:
        client.rotate_key(old.id)
    assert info.value.successor == rotated.key.id and rotated.key.id in str(info.value)
    assert info.value.successor_key == rotated.key  # named to a person by label and preview
    assert f"(“laptop”, {rotated.key.redacted})" in str(info.value)
    off = client.create_key("off").key
    client.deactivate_key(off.id)
    with pytest.raises(KeyInactive, match="deactivated"):
        client.rotate_key(off.id)
    with pytest.raises(InvalidExpiry, match="grace_seconds"):
        client.rotate_key(rotated.key.id, grace_seconds=31 * 86400)
    listed = {k.id: k for k in client.list_keys()}
    assert listed[old.id].replaced_by == rotated.key.id and listed[rotated.key.id].replaces == old.id


def test_lost_rotate_answer_is_retried_and_gives_the_same_successor(hub, client: HubClient) -> None:  # type: ignore[no-untyped-def]
    old = client.create_key("behind a flaky network").key
    with FaultProxy(hub.url) as proxy:
        flaky = HubClient(proxy.url, client.token, timeout=5.0)
        path = f"/api/v1/mcp/keys/{old.id}/rotate"
        proxy.drop_response(method="POST", path=path, times=2)
        with pytest.raises(HubUnavailable) as info:
            flaky.rotate_key(old.id, grace_seconds=60)
        ikey = info.value.idempotency_key
        assert ikey
        # Later, the same Idempotency-Key recovers the one successor and its secret.
        again = flaky.rotate_key(old.id, grace_seconds=60, idempotency_key=ikey)
        exchanges = proxy.exchanges("POST", path)
        assert [e.upstream_status for e in exchanges] == [201, 201, 201]
        assert {e.header("Idempotency-Key") for e in exchanges} == {ikey}
    successors = [k for k in client.list_keys() if k.replaces == old.id]
    assert [k.id for k in successors] == [again.key.id]
    assert is_valid_key(again.secret) and successors[0].redacted == again.key.redacted


def test_feeds_page_and_a_deleted_keys_history_stays(client: HubClient) -> None:
    key = client.create_key("short lived").key
    for n in range(4):
        client.rename_key(key.id, f"name {n}")
    client.deactivate_key(key.id)
    client.delete_key(key.id)
    first = client.account_events(limit=3)
    assert [e.kind for e in first.events] == ["deleted", "deactivated", "renamed"]
    assert first.next_before == first.events[-1].id
    rest = client.account_events(limit=50, before=first.next_before)
    assert [e.kind for e in rest.events] == ["renamed"] * 3 + ["created"] and rest.next_before is None
    per_key = client.key_events(key.id, limit=50)
    assert [e.id for e in per_key.events] == [e.id for e in first.events + rest.events]
    assert per_key.events[0].detail == {"redacted": key.redacted} and per_key.events[0].actor == "session"
    with pytest.raises(ValueError):
        client.account_events(limit=0)


def test_hub_now_follows_the_hubs_date_header(client: HubClient) -> None:
    client.me()
    assert abs((client.hub_now() - datetime.now(UTC)).total_seconds()) < 3
    client._clock_offset = -2 * 86400.0  # as if this computer's clock ran two days fast
    assert client.hub_now() < datetime.now(UTC) - timedelta(days=1)


def test_v1_shaped_keys_parse_with_the_new_fields_empty() -> None:
    v1 = {"id": "mk_0123456789abcdef", "label": "old", "redacted": "phk_abcd...efghij", "status": "active",
          "created_at": "2026-01-01T00:00:00Z", "last_used_at": None, "last_used_client": None,
          "last_used_ip": None, "deactivated_at": None}
    key = McpKey.from_json(v1)
    assert (key.expires_at, key.replaces, key.replaced_by, key.last_used_ips) == (None, None, None, ())
    expired = McpKey.from_json({**v1, "status": "expired", "expires_at": "2026-02-01T00:00:00Z",
                                "last_used_ips": [{"ip": "10.0.0.1", "at": "2026-01-15T00:00:00Z"}]})
    assert expired.is_expired and not expired.is_active and expired.status.display == "Expired"
    assert McpKey.from_json(expired.to_json()) == expired


def test_the_fast_list_decoders_read_the_v2_fields_like_the_general_path() -> None:
    """keys_from_list_body (msgspec) and keys_from_json give exactly McpKey.from_json's keys for
    bodies with expiry, rotation links and address lists (and fall back on a non-UTC time)."""
    import json

    from phhub_keys.core.models import keys_from_json, keys_from_list_body

    base = {"id": "mk_0123456789abcdef", "label": "k", "redacted": "phk_abcd...efghij", "status": "active",
            "created_at": "2026-01-01T00:00:00Z", "last_used_at": "2026-01-02T00:00:00Z",
            "last_used_client": "Cursor 1.7", "last_used_ip": "10.0.0.2", "deactivated_at": None}
    items = [
        {**base, "expires_at": "2026-04-01T00:00:00Z", "replaces": "mk_00000000000000aa", "replaced_by": None,
         "last_used_ips": [{"ip": "10.0.0.2", "at": "2026-01-02T00:00:00Z"},
                           {"ip": "10.0.0.1", "at": "2026-01-01T12:00:00Z"}]},
        {**base, "id": "mk_00000000000000aa", "status": "expired", "expires_at": "2026-01-03T00:00:00Z",
         "replaces": None, "replaced_by": "mk_0123456789abcdef", "last_used_ips": []},
        dict(base),  # a v1 hub's key: none of the new fields
    ]
    reference = [McpKey.from_json(item) for item in items]
    assert reference[0].last_used_ips[1].ip == "10.0.0.1" and reference[1].is_expired
    assert keys_from_json(items) == reference
    assert keys_from_list_body(json.dumps({"keys": items}).encode(), min_bytes=0) == reference
    offset = [{**items[0], "expires_at": "2026-04-01T02:00:00+02:00"}]
    assert keys_from_list_body(json.dumps({"keys": offset}).encode(), min_bytes=0) is None
