"""Property tests of the MCP key format: generation, checksum validation, redaction."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phhub_keys.core.keyformat import (
    BASE62,
    KEY_LEN,
    KEY_PREFIX,
    KeyFormatError,
    checksum,
    generate_key,
    generate_session_token,
    hash_secret,
    is_valid_key,
    key_problem,
    redact,
    validate_key,
)

REDACTED = re.compile(r"^phk_[0-9A-Za-z]{4}\.\.\.[0-9A-Za-z]{6}$")


def _any_key(data: st.DataObject) -> str:
    body = data.draw(st.text(alphabet=BASE62, min_size=30, max_size=30), label="random part")
    return KEY_PREFIX + body + checksum(body)


def test_generated_keys_have_the_format() -> None:
    keys = {generate_key() for _ in range(500)}
    assert len(keys) == 500
    for key in keys:
        assert len(key) == KEY_LEN == 40
        assert key.startswith(KEY_PREFIX)
        assert set(key[4:]) <= set(BASE62)
        assert is_valid_key(key)
        assert validate_key(key) == key


def test_checksum_is_injective_on_crc_range() -> None:
    # 6 base62 digits (62**6 > 2**32) hold every CRC32 value without collision.
    assert 62**6 > 2**32
    assert checksum("0" * 30) != checksum("1" + "0" * 29)


@given(st.data())
def test_any_single_character_substitution_is_caught(data: st.DataObject) -> None:
    key = _any_key(data)
    assert is_valid_key(key)
    pos = data.draw(st.integers(0, KEY_LEN - 1), label="position")
    new = data.draw(st.characters(codec="utf-8").filter(lambda c: c != key[pos]), label="replacement")
    altered = key[:pos] + new + key[pos + 1:]
    assert not is_valid_key(altered)
    with pytest.raises(KeyFormatError):
        validate_key(altered)


@given(st.data())
def test_any_base62_substitution_after_the_prefix_fails_the_checksum(data: st.DataObject) -> None:
    key = _any_key(data)
    pos = data.draw(st.integers(len(KEY_PREFIX), KEY_LEN - 1))
    new = data.draw(st.sampled_from(BASE62).filter(lambda c: c != key[pos]))
    altered = key[:pos] + new + key[pos + 1:]
    assert key_problem(altered) == "The key's checksum does not match: it was mistyped or altered."


@given(st.data())
def test_truncation_deletion_and_insertion_are_caught(data: st.DataObject) -> None:
    key = _any_key(data)
    cut = data.draw(st.integers(0, KEY_LEN - 1))
    assert not is_valid_key(key[:cut])
    assert not is_valid_key(key[cut:]) or cut == 0
    pos = data.draw(st.integers(0, KEY_LEN - 1))
    deleted = key[:pos] + key[pos + 1:]
    assert not is_valid_key(deleted)
    extra = data.draw(st.sampled_from(BASE62))
    assert not is_valid_key(key[:pos] + extra + key[pos:])
    if cut >= len(KEY_PREFIX):
        assert "characters long" in (key_problem(key[:cut]) or "")


@given(st.data())
def test_adjacent_transposition_in_random_part_is_caught(data: st.DataObject) -> None:
    key = _any_key(data)
    pos = data.draw(st.integers(len(KEY_PREFIX), len(KEY_PREFIX) + 28))
    if key[pos] == key[pos + 1]:
        return
    swapped = key[:pos] + key[pos + 1] + key[pos] + key[pos + 2:]
    assert not is_valid_key(swapped)


@given(st.text(max_size=60))
def test_key_problem_is_total_and_agrees_with_is_valid(text: str) -> None:
    problem = key_problem(text)
    assert (problem is None) == is_valid_key(text)
    if problem is not None:
        assert problem.endswith((".", ")."))


def test_problem_messages_name_the_mistake() -> None:
    key = generate_key()
    assert key_problem("") == "No key was given."
    assert "session token" in (key_problem(generate_session_token()) or "")
    assert key_problem("sk-abc") == "MCP keys start with 'phk_'."
    assert "this one has 39" in (key_problem(key[:-1]) or "")
    assert "only letters and digits" in (key_problem(key[:10] + "-" + key[11:]) or "")


@given(st.data())
def test_redaction_of_a_key(data: st.DataObject) -> None:
    key = _any_key(data)
    shown = redact(key)
    assert REDACTED.match(shown)
    assert shown == key[:8] + "..." + key[-6:]
    # 26 of the 36 characters after the prefix stay hidden.
    assert key[8:-6] not in shown


@given(st.text(max_size=80))
def test_redaction_never_reveals_more_than_half(text: str) -> None:
    shown = redact(text)
    revealed = len(shown.replace("...", "").replace("****", ""))
    assert revealed <= len(text) // 2 + (len(KEY_PREFIX) if text.startswith(KEY_PREFIX) else 0)
    if len(text) >= 4 and text != "****":
        assert shown != text


def test_redaction_examples() -> None:
    assert redact("phk_dLK5abcdefghijklmnopqrstuvwxyzJ6HMii") == "phk_dLK5...J6HMii"
    assert redact("short") == "****"
    assert redact("phk_abcdefghij") == "****"  # too short to show the key-style preview safely
    token = generate_session_token()
    assert redact(token) == token[:4] + "..." + token[-4:]


def test_hash_secret_is_sha256_hex() -> None:
    digest = hash_secret("phk_x")
    assert re.fullmatch(r"[0-9a-f]{64}", digest)
    assert digest != hash_secret("phk_y")


def test_session_tokens_are_not_keys() -> None:
    token = generate_session_token()
    assert token.startswith("phs_")
    assert not is_valid_key(token)
