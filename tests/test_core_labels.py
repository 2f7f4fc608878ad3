"""Property tests of the label rules: trim, NFC, 1-100 characters, no control or
bidi-override characters, one human message per rule."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from phhub_keys.core.labels import (
    BIDI_OVERRIDES,
    MAX_LABEL_LEN,
    InvalidLabelError,
    label_problem,
    normalize_label,
)

RULES = {"empty", "too_long", "bidi", "control", "invalid", "secret"}


def _ok_char(ch: str) -> bool:
    return ch not in BIDI_OVERRIDES and unicodedata.category(ch) not in ("Cc", "Cs")


@given(st.text(max_size=150))
@example("e\u0301" * 100)  # NFC makes this 100 characters: allowed
@example(" \u0301 ")
@example("\ud800")
def test_normalize_either_returns_a_valid_label_or_names_a_rule(raw: str) -> None:
    try:
        label = normalize_label(raw)
    except InvalidLabelError as exc:
        assert exc.rule in RULES
        assert str(exc) and str(exc)[0].isupper() and str(exc).endswith(".")
        assert label_problem(raw) == str(exc)
        return
    assert label_problem(raw) is None
    assert 1 <= len(label) <= MAX_LABEL_LEN
    assert label == label.strip()
    assert unicodedata.is_normalized("NFC", label)
    assert all(_ok_char(ch) for ch in label)
    label.encode("utf-8")  # storable and sendable as JSON/UTF-8
    assert normalize_label(label) == label  # idempotent


@given(st.text(st.characters(codec="utf-8"), min_size=1, max_size=100).filter(lambda s: s.strip()))
def test_surrounding_whitespace_is_trimmed(core: str) -> None:
    try:
        expected = normalize_label(core)
    except InvalidLabelError:
        return
    assert normalize_label("  \t" + core + " \n ") == expected


@given(st.text(alphabet=" \t\r\n\u00a0\u2003\u3000", max_size=20))
def test_blank_labels_are_refused_as_empty(raw: str) -> None:
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(raw)
    assert info.value.rule == "empty"
    assert str(info.value) == "Enter a label, e.g. where the key will be used."


@given(st.integers(MAX_LABEL_LEN + 1, 300))
def test_too_long_names_the_limit_and_the_length(n: int) -> None:
    with pytest.raises(InvalidLabelError) as info:
        normalize_label("x" * n)
    assert info.value.rule == "too_long"
    assert f"at most {MAX_LABEL_LEN} characters" in str(info.value)
    assert f"has {n}" in str(info.value)


def test_length_is_counted_after_nfc() -> None:
    decomposed = "e\u0301" * MAX_LABEL_LEN  # 200 code points, 100 after NFC
    assert normalize_label(decomposed) == "\u00e9" * MAX_LABEL_LEN
    assert normalize_label("x" * MAX_LABEL_LEN) == "x" * MAX_LABEL_LEN


@given(
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Zs", "Zl", "Zp")), min_size=1,
            max_size=40),
    st.sampled_from(sorted(BIDI_OVERRIDES)),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cc",)), min_size=1, max_size=40),
)
def test_bidi_override_anywhere_is_refused(before: str, bidi: str, after: str) -> None:
    raw = before + bidi + after
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(raw)
    if len(unicodedata.normalize("NFC", raw).strip()) <= MAX_LABEL_LEN and not any(
        unicodedata.category(c) == "Cc" for c in before
    ):
        assert info.value.rule in ("bidi", "control")
    assert info.value.rule != "empty"


@given(st.sampled_from([chr(c) for c in [*range(0, 32), *range(127, 160)]]))
def test_control_character_inside_is_refused(ch: str) -> None:
    with pytest.raises(InvalidLabelError) as info:
        normalize_label("Open" + ch + "AI")
    assert info.value.rule == "control"
    assert "control character" in str(info.value)


def test_each_rule_has_its_message() -> None:
    cases = {
        "": ("empty", "Enter a label, e.g. where the key will be used."),
        "x" * 101: ("too_long", "A label is at most 100 characters; this one has 101."),
        "evil\u202etxt.exe": ("bidi", "The label contains an invisible text-direction override character."),
        "a\tb": ("control", "The label contains a control character (such as a tab or line break)."),
    }
    for raw, (rule, message) in cases.items():
        with pytest.raises(InvalidLabelError) as info:
            normalize_label(raw)
        assert (info.value.rule, str(info.value)) == (rule, message)
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(None)  # type: ignore[arg-type]
    assert info.value.rule == "type"


def test_real_world_labels_are_kept() -> None:
    for label in ["OpenAI AgentKit", "Cursor — laptop", "日本語のラベル", "مفتاح الخادم", "🔑 prod",
                  "=SUM(A1)", "Zwölf Boxkämpfer", "👩‍💻 dev (ZWJ emoji)", "'quoted'", 'say "hi", ok']:
        assert normalize_label(label) == label
    assert normalize_label("  Claude Desktop  ") == "Claude Desktop"
    assert normalize_label("Cafe\u0301") == "Caf\u00e9"


def test_unpaired_surrogates_are_refused() -> None:
    # Such text cannot be encoded as UTF-8: the hub could not store it.
    with pytest.raises(InvalidLabelError) as info:
        normalize_label("key \ud83d")
    assert info.value.rule == "invalid"


def test_a_secret_pasted_into_a_label_is_refused() -> None:
    """Labels are listed and exported; a key or session token in one would leak."""
    from phhub_keys.core.keyformat import generate_key

    key = generate_key()
    token = "phs_" + "A1b2-C3d4_" * 4 + "xyz"  # the hub's 43-character url-safe token shape
    for raw in (key, f"Cursor {key}", f"key={key};", token, f"session {token} here"):
        with pytest.raises(InvalidLabelError) as info:
            normalize_label(raw)
        assert info.value.rule == "secret"
        assert key not in str(info.value) and token not in str(info.value)
    # Text that only resembles a key is a label like any other.
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")  # checksum no longer matches
    for raw in (broken, "phk_", "phk_short", key[:20], key + "x", "phs_short", token[:-1]):
        assert normalize_label(raw) == raw
