"""Fast paths added for the benchmarks give exactly the results of the plain code they replace.

``keys_from_json`` (the key list parse, ~2x faster) must equal
``[McpKey.from_json(item) ...]`` for every input, including rows that are not
in the hub's exact shape, and raise the same error for rows that are invalid.
"""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from phhub_keys.core.models import McpKey, ModelError, keys_from_json, keys_from_list_body

_TS = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)).map(
        lambda d: d.replace(microsecond=0).isoformat().replace("+00:00", "Z")),
    st.sampled_from(["", " ", "2026-11-26T10:04:05z", " 2026-11-26T10:04:05Z", "2026-11-26T10:04:05+02:00",
                     "2026-11-26T10:04:05", "2026-11-26 10:04:05Z", "2026-13-26T10:04:05Z", "not a time",
                     "2026-11-26T10:04:05.5Z", "0999-01-01T00:00:00Z"]),
    st.integers(), st.text(max_size=25),
)
_STR = st.one_of(st.text(max_size=30), st.none(), st.integers(), st.lists(st.text(), max_size=2))
_KEY = st.fixed_dictionaries(
    {"id": _STR, "label": _STR, "redacted": _STR,
     "status": st.one_of(st.sampled_from(["active", "deactivated", "Active", "gone", ""]), st.integers()),
     "created_at": _TS},
    optional={"last_used_at": _TS, "deactivated_at": _TS, "last_used_client": _STR, "last_used_ip": _STR},
)


def _careful(item: object) -> McpKey | str:
    try:
        return McpKey.from_json(item)  # type: ignore[arg-type]
    except ModelError as exc:
        return f"ModelError: {exc}"


def _fast(item: object) -> McpKey | str:
    try:
        return keys_from_json([item])[0]
    except ModelError as exc:
        return f"ModelError: {exc}"


@settings(max_examples=600, deadline=None)
@given(st.one_of(_KEY, st.none(), st.integers(), st.lists(st.integers(), max_size=2)))
def test_keys_from_json_equals_from_json(item: object) -> None:
    assert _fast(item) == _careful(item)


def _general(body: bytes) -> list[McpKey] | str:
    """What HubClient.list_keys did before the msgspec path: json.loads, then keys_from_json."""
    import json

    try:
        return keys_from_json(json.loads(body)["keys"])
    except (ModelError, ValueError, KeyError, TypeError) as exc:
        return f"{type(exc).__name__}: {exc}"


_UTC_TS = st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31),
                       timezones=st.just(UTC)).map(lambda d: d.isoformat().replace("+00:00", "Z"))
_HUB_KEY = st.fixed_dictionaries(
    {"id": st.text(max_size=30), "label": st.text(max_size=30), "redacted": st.text(max_size=20),
     "status": st.sampled_from(["active", "deactivated"]), "created_at": _UTC_TS},
    optional={"last_used_at": st.one_of(st.none(), _UTC_TS), "deactivated_at": st.one_of(st.none(), _UTC_TS),
              "last_used_client": st.one_of(st.none(), st.text(max_size=20)),
              "last_used_ip": st.one_of(st.none(), st.text(max_size=20)), "extra": st.integers()},
)


@settings(max_examples=600, deadline=None)
@given(st.one_of(
    st.lists(_HUB_KEY, min_size=1, max_size=4).map(lambda keys: {"keys": keys}),
    st.lists(st.one_of(_HUB_KEY, _KEY), max_size=4).map(lambda keys: {"keys": keys}),
    st.fixed_dictionaries({"keys": st.one_of(st.none(), st.integers(), st.text(max_size=3))}),
    st.lists(_KEY, max_size=2),
    st.none(),
))
def test_keys_from_list_body_equals_the_general_path(data: object) -> None:
    """The C decoder either gives exactly the general path's keys, or declines (None)."""
    import json

    body = json.dumps(data).encode()
    fast = keys_from_list_body(body, min_bytes=0)
    if fast is not None:
        assert fast == _general(body)
        assert all(k.created_at.tzinfo is UTC for k in fast)


def test_keys_from_list_body_takes_the_hubs_shape_and_declines_the_rest() -> None:
    import json

    row = {"id": "mk_0123456789abcdef", "label": "Cursor", "redacted": "phk_abcd...uvwxyz",
           "status": "active", "created_at": "2026-11-26T10:04:05Z", "last_used_at": "2026-11-27T01:02:03Z",
           "last_used_client": "Cursor 1.7.2", "last_used_ip": "127.0.0.1", "deactivated_at": None}
    body = json.dumps({"keys": [row, {**row, "id": "mk_2", "status": "deactivated"}]}).encode()
    fast = keys_from_list_body(body, min_bytes=0)
    assert fast is not None and fast == _general(body) and len(fast) == 2
    assert keys_from_list_body(b'{"keys": []}', min_bytes=0) == []
    assert keys_from_list_body(body) is None  # small lists: the general path, no msgspec import
    big = json.dumps({"keys": [{**row, "id": f"mk_{i}"} for i in range(600)]}).encode()
    assert len(big) > 64 * 1024 and keys_from_list_body(big) == _general(big)
    # Not the hub's exact shape: the caller must take the general path (which may accept or explain).
    for other in ({**row, "created_at": "2026-11-26T12:04:05+02:00"}, {**row, "last_used_at": ""},
                  {**row, "status": "gone"}, {**row, "created_at": None}, {**row, "id": 7}):
        assert keys_from_list_body(json.dumps({"keys": [other]}).encode(), min_bytes=0) is None
    assert keys_from_list_body(b"not json", min_bytes=0) is None
    assert keys_from_list_body(b'[{"keys": []}]', min_bytes=0) is None


def test_keys_from_json_of_the_hubs_shape() -> None:
    row = {"id": "mk_0123456789abcdef", "label": "Cursor", "redacted": "phk_abcd...uvwxyz",
           "status": "active", "created_at": "2026-11-26T10:04:05Z", "last_used_at": "2026-11-27T01:02:03Z",
           "last_used_client": "Cursor 1.7.2", "last_used_ip": "127.0.0.1", "deactivated_at": None}
    (key,) = keys_from_json([row])
    assert key == McpKey.from_json(row)
    assert key.created_at == datetime(2026, 11, 26, 10, 4, 5, tzinfo=UTC)
    assert key.created_at.tzinfo is UTC
    assert keys_from_json([]) == []


def test_list_keys_body_equals_list_keys_json(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The hub's SQLite-built list body holds exactly the keys list_keys_json gives, in order."""
    import json

    from phhub_keys.hub.store import HubStore

    labels = ['plain', 'quote " and \\\\ backslash', "emoji 🔑 and RTL שלום", "tab\there", "=formula",
              "new\nline", "zero width \u200b", "ünïcödé", "'single'", "</script>"]
    with HubStore(tmp_path / "hub.db") as store:
        alice = store.add_user("alice@example.org", "pw-alice-1")
        bob = store.add_user("bob@example.org", "pw-bob-1")
        assert json.loads(store.list_keys_body(alice.id)) == {"keys": []}
        for label in labels:
            record, _secret = store.create_key(alice.id, label, max_keys=100)
        store.create_key(bob.id, "bob's", max_keys=100)
        store.set_key_active(alice.id, record.id, False)
        store.record_key_use(record.id, 'Cursor "1.7"', "127.0.0.1")
        body = store.list_keys_body(alice.id)
        assert json.loads(body) == {"keys": store.list_keys_json(alice.id)}
        assert len(json.loads(body)["keys"]) == len(labels)
        assert body.decode("utf-8")  # valid UTF-8


_LABELS = st.lists(
    st.one_of(
        st.none(),
        st.text(alphabet=st.characters(exclude_categories=("Cs",)), max_size=8),
        st.sampled_from(["Zoë", "Zoe\u0308", " ZOË ", "会议室", "e\u0301", "\u0301", "ß", "SS", "a\nb", ""]),
    ),
    max_size=12,
)


@settings(max_examples=400, deadline=None)
@given(_LABELS)
def test_duplicates_match_label_identity_per_label(labels: list[str | None]) -> None:
    # review._duplicates normalises all labels in one NFC pass; it must group exactly as label_identity.
    from phhub_keys.core.csvio import CsvRow
    from phhub_keys.core.review import _duplicates, label_identity

    rows = [CsvRow(line=n + 2, label=label) for n, label in enumerate(labels)]
    lines_of, positions = _duplicates(rows, labels)
    idents = [label_identity(label) for label in labels]
    expected_positions = [p for p, i in enumerate(idents) if i and idents.count(i) > 1]
    expected: dict[str, list[int]] = {}
    for p in expected_positions:
        expected.setdefault(idents[p], []).append(p + 2)  # type: ignore[arg-type]
    assert positions == expected_positions
    assert lines_of == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text(max_size=45)), max_size=6), st.booleans())
def test_any_secret_equals_the_plain_check(keys: list[str | None], with_real_key: bool) -> None:
    from phhub_keys.core.csvio import any_secret
    from phhub_keys.core.keyformat import generate_key, is_valid_key

    if with_real_key:
        keys = [*keys, generate_key()]
    assert any_secret(keys) == any(k and is_valid_key(k) for k in keys)
