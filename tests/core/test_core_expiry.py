"""core.expiry: the key policy's rules (the hub's 422 invalid_expiry), durations, dates, and the
relative texts the list and the CLI show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from phhub_keys.core.expiry import (
    ABSOLUTE_MAX_LIFETIME_DAYS,
    InvalidExpiry,
    KeyPolicy,
    duration_text,
    expires_within,
    expiry_text,
    parse_date,
    parse_duration,
)

NOW = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "seconds"), [
    ("90d", 90 * 86400), ("12h", 43200), ("2w", 14 * 86400), ("30m", 1800), ("45s", 45), ("7", 7 * 86400),
    (" 1D ", 86400), ("0", 0),
])
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "1.5d", "-1d", "1y", "d", "1 d d"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration(text)


def test_dates():
    assert parse_date("2027-03-01") == datetime(2027, 3, 1, tzinfo=UTC)
    assert parse_date("2027-03-01T12:30:00+02:00") == datetime(2027, 3, 1, 10, 30, tzinfo=UTC)
    for bad in ("tomorrow", "2027-03-01T12:30:00", "03/01/2027", ""):
        with pytest.raises(ValueError, match="not a date"):
            parse_date(bad)


def test_texts():
    assert expiry_text(None, NOW) == "Never"
    assert expiry_text(NOW + timedelta(days=6, hours=3), NOW) == "in 6 days"
    assert expiry_text(NOW + timedelta(hours=5), NOW) == "in 5 hours"
    assert expiry_text(NOW + timedelta(seconds=1), NOW) == "in 1 second"
    assert expiry_text(NOW, NOW) == "Expired just now"
    assert expiry_text(NOW - timedelta(days=2, hours=1), NOW) == "Expired 2 days ago"
    assert duration_text(86400) == "1 day" and duration_text(0) == "0 seconds"
    assert expires_within(NOW + timedelta(days=7), NOW, 7 * 86400)
    assert not expires_within(NOW + timedelta(days=7, seconds=1), NOW, 7 * 86400)
    assert not expires_within(NOW, NOW, 86400) and not expires_within(None, NOW, 86400)


def test_policy_without_maximum():
    policy = KeyPolicy()
    assert policy.allows_no_expiry and policy.problem() is None
    assert policy.resolve(NOW, given=False) is None  # nothing asked: no expiry
    assert policy.resolve(NOW, no_expiry=True) is None
    assert policy.resolve(NOW, expires_in_days=30) == NOW + timedelta(days=30)
    assert policy.resolve(NOW, expires_at="2026-06-02T00:00:00.9Z") == datetime(2026, 6, 2, tzinfo=UTC)
    assert policy.max_days == ABSOLUTE_MAX_LIFETIME_DAYS


def test_policy_with_a_maximum():
    policy = KeyPolicy(default_lifetime_days=30, max_lifetime_days=90, max_rotation_grace_days=2)
    assert policy.resolve(NOW, given=False) == NOW + timedelta(days=30)  # the default lifetime
    assert policy.resolve(NOW, expires_in_days=90) == NOW + timedelta(days=90)
    cases = [
        ({"no_expiry": True}, "no_expiry"),
        ({"expires_in_days": 91}, "policy_max"),
        ({"expires_in_days": 0}, "policy_max"),
        ({"expires_at": "2026-09-01T00:00:00Z"}, "policy_max"),
        ({"expires_at": "2026-06-01T12:00:00Z"}, "past"),  # now is not in the future
        ({"expires_at": "June"}, "format"),
        ({"expires_at": "2026-07-01T00:00:00Z", "expires_in_days": 5}, "both"),
    ]
    for kwargs, rule in cases:
        with pytest.raises(InvalidExpiry) as info:
            policy.resolve(NOW, **kwargs)
        assert info.value.rule == rule, kwargs
    assert policy.check_grace(2 * 86400) == 2 * 86400
    for bad in (-1, 2 * 86400 + 1, True):
        with pytest.raises(InvalidExpiry) as info:
            policy.check_grace(bad)
        assert info.value.rule == "grace"


def test_inconsistent_policies_and_json():
    assert "default" in (KeyPolicy(default_lifetime_days=100, max_lifetime_days=90).problem() or "")
    assert "needs a default" in (KeyPolicy(default_lifetime_days=None, max_lifetime_days=90).problem() or "")
    assert "grace" in (KeyPolicy(max_rotation_grace_days=400).problem() or "")
    policy = KeyPolicy(14, 30, 2)
    assert KeyPolicy.from_json(policy.to_json()) == policy
    assert KeyPolicy.from_json({"max_rotation_grace_days": 5}) == KeyPolicy(None, None, 5)
    for bad in ({"max_lifetime_days": "90"}, {"max_rotation_grace_days": None}, [1]):
        with pytest.raises(ValueError):
            KeyPolicy.from_json(bad)
