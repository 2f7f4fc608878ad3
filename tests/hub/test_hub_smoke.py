"""The shared hub fixture works: sign in, create a key, list it."""

from __future__ import annotations

import requests


def test_shared_hub_round_trip(hub_url, signed_in_session):
    created = signed_in_session.create_key("smoke")
    listed = signed_in_session.get(signed_in_session.api("/mcp/keys"), timeout=10).json()["keys"]
    assert [k["id"] for k in listed] == [created["key"]["id"]]
    assert requests.get(f"{hub_url}/openapi.json", timeout=10).status_code == 200


def test_make_user_gives_distinct_users(make_user):
    a, b = make_user(), make_user(name="Bob", facilities=("ALS",))
    assert a.email != b.email and a.user_id != b.user_id
    assert "password" not in repr(a)
