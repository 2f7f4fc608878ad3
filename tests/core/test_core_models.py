"""Hub objects to and from JSON: round trips, and wrong shapes give ModelError only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phhub_keys.core.keyformat import generate_key, redact
from phhub_keys.core.models import KeyStatus, McpConfig, McpKey, ModelError, NewKey, User
from phhub_keys.core.timestamps import format_ts, parse_ts

timestamps = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1),
                          timezones=st.just(UTC)).map(lambda d: d.replace(microsecond=0))
opt_ts = st.none() | timestamps
text = st.text(st.characters(codec="utf-8"), max_size=30)


@st.composite
def keys(draw: st.DrawFn) -> McpKey:
    return McpKey(
        id=draw(text), label=draw(text), redacted=draw(text), status=draw(st.sampled_from(KeyStatus)),
        created_at=draw(timestamps), last_used_at=draw(opt_ts), last_used_client=draw(st.none() | text),
        last_used_ip=draw(st.none() | text), deactivated_at=draw(opt_ts),
    )


@given(keys())
def test_key_round_trip(key: McpKey) -> None:
    assert McpKey.from_json(key.to_json()) == key


@given(text, text, text, st.lists(text, max_size=4))
def test_user_and_config_round_trip(a: str, b: str, c: str, facilities: list[str]) -> None:
    user = User(a, b, c, tuple(facilities))
    assert User.from_json(user.to_json()) == user
    config = McpConfig(a, b, c)
    assert McpConfig.from_json(config.to_json()) == config


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
key_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | text, "label": json_values | text, "redacted": json_values,
        "status": st.sampled_from(["active", "deactivated", "paused"]) | json_values,
        "created_at": st.sampled_from(["2026-11-26T10:04:05Z", "yesterday", "2026-11-26T10:04:05"])
        | json_values,
        "last_used_at": json_values, "deactivated_at": json_values, "last_used_client": json_values,
        "facilities": json_values, "email": json_values, "name": json_values,
        "server_url": json_values, "docs_url": json_values, "key_prefix": json_values,
    },
)


@given(json_values | key_fields)
def test_wrong_shapes_raise_model_error_only(data: object) -> None:
    for cls in (McpKey, User, McpConfig):
        try:
            obj = cls.from_json(data)  # type: ignore[arg-type]
        except ModelError:
            continue
        # Whatever parsed has the declared types.
        for name, value in obj.to_json().items():
            assert value is None or isinstance(value, (str, list)), (cls, name, value)


def test_key_status() -> None:
    assert KeyStatus("active").display == "Active"
    assert KeyStatus.DEACTIVATED.display == "Deactivated"
    key = McpKey("mk_1", "x", "r", KeyStatus.ACTIVE, datetime(2026, 1, 1, tzinfo=UTC))
    assert key.is_active


def test_new_key_repr_hides_the_secret() -> None:
    secret = generate_key()
    key = McpKey("mk_1", "x", redact(secret), KeyStatus.ACTIVE, datetime(2026, 1, 1, tzinfo=UTC))
    new = NewKey(key, secret)
    for shown in (repr(new), str(new), f"{new}", repr([new])):
        assert secret not in shown
        assert redact(secret) in shown


ZONES = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]


@given(st.datetimes(min_value=datetime(2, 1, 1), max_value=datetime(9998, 12, 31),
                    timezones=st.sampled_from(ZONES)))
def test_timestamps_round_trip_in_utc_with_second_precision(value: datetime) -> None:
    text = format_ts(value)
    assert text is not None and text.endswith("Z") and len(text) == 20
    parsed = parse_ts(text)
    assert parsed == value.replace(microsecond=0)
    assert parsed is not None and parsed.tzinfo is UTC


def test_timestamp_rules() -> None:
    assert parse_ts(None) is None and parse_ts("  ") is None and format_ts(None) is None
    assert parse_ts("2026-11-26T10:04:05+02:00") == datetime(2026, 11, 26, 8, 4, 5, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_ts("2026-11-26T10:04:05")  # no timezone
    with pytest.raises(ValueError):
        parse_ts("never")
    with pytest.raises(ValueError):
        format_ts(datetime(2026, 1, 1))
