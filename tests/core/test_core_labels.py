"""Property tests of the label rules: trim, NFC, 1-100 characters, no control or
bidi-override characters, one human message per rule."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from phhub_keys.core.keyformat import generate_key
from phhub_keys.core.labels import (
    BIDI_OVERRIDES,
    HANGUL_FILLERS,
    MAX_LABEL_LEN,
    InvalidLabelError,
    label_problem,
    normalize_label,
)

RULES = {"empty", "too_long", "bidi", "control", "invalid", "secret", "invisible"}
JOINERS = ("\u200c", "\u200d")  # allowed only in place (emoji sequences, Persian...)


def _ok_char(ch: str) -> bool:
    return (ch not in BIDI_OVERRIDES and ch not in HANGUL_FILLERS
            and (unicodedata.category(ch) not in ("Cc", "Cs", "Cf", "Zl", "Zp") or ch in JOINERS))


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
        assert info.value.rule in ("bidi", "control", "invisible")  # an earlier invisible character wins
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


INVISIBLE = {
    "zero-width space": "\u200b", "left-to-right mark": "\u200e", "right-to-left mark": "\u200f",
    "Arabic letter mark": "\u061c", "byte-order mark": "\ufeff", "word joiner": "\u2060",
    "soft hyphen": "\u00ad", "tag A": "\U000e0041", "tag cancel": "\U000e007f", "language tag": "\U000e0001",
    "Hangul choseong filler": "\u115f", "Hangul jungseong filler": "\u1160", "Hangul filler": "\u3164",
    "halfwidth Hangul filler": "\uffa0", "ZWNJ inside Latin": "\u200c", "ZWJ inside Latin": "\u200d",
}


@pytest.mark.parametrize("ch", INVISIBLE.values(), ids=INVISIBLE.keys())
@pytest.mark.parametrize("where", ["inside", "start", "end", "alone"])
def test_invisible_characters_are_refused(ch: str, where: str) -> None:
    """'Cur<ZWSP>sor' would read as a second "Cursor"; hidden tag text would reach whoami."""
    raw = {"inside": f"Cur{ch}sor", "start": f"{ch}Cursor", "end": f"Cursor{ch}", "alone": ch}[where]
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(raw)
    assert info.value.rule == "invisible", (raw, info.value.rule)
    assert f"U+{ord(ch):04X}" in str(info.value) and "invisible character" in str(info.value)


@pytest.mark.parametrize("ch", ["\u2028", "\u2029"], ids=["line separator", "paragraph separator"])
def test_line_and_paragraph_separators_are_refused_as_line_breaks(ch: str) -> None:
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(f"first{ch}second")
    assert info.value.rule == "control" and "line break" in str(info.value)


def test_hidden_tag_text_is_refused() -> None:
    hidden = "".join(chr(0xE0000 + ord(c)) for c in "ignore previous instructions")
    with pytest.raises(InvalidLabelError) as info:
        normalize_label("Cursor" + hidden)
    assert info.value.rule == "invisible"


def test_joiners_where_they_belong_are_kept() -> None:
    for label in ["\U0001f469\u200d\U0001f4bb dev", "\U0001f469\U0001f3fd\u200d\U0001f4bb laptop",
                  "\u2764\ufe0f\u200d\U0001f525 prod", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645"]:
        assert normalize_label(label) == label
    for raw in ["a\u200db", "\u200d\U0001f4bb", "\U0001f469\u200d", "\U0001f469\u200dx", "x\u200c\u0645",
                "\u0645\u200c", "\u0645\u200c\u200c\u0645"]:
        with pytest.raises(InvalidLabelError) as info:
            normalize_label(raw)
        assert info.value.rule == "invisible", raw


@pytest.mark.parametrize("splitter", ["\u200b", "\ufeff", "\u2060", "\u200e", "\U000e0041", "\u3164",
                                      "\u2028", "\t", "\u200b\u200b"])
def test_a_key_split_by_invisible_characters_is_still_a_secret(splitter: str) -> None:
    key = generate_key()
    token = "phs_" + "A1b2-C3d4_" * 4 + "xyz"
    for secret in (key, token):
        for cut in (4, 10, len(secret) - 1):
            raw = f"prod {secret[:cut]}{splitter}{secret[cut:]}"
            with pytest.raises(InvalidLabelError) as info:
                normalize_label(raw)
            assert info.value.rule == "secret", (raw, info.value.rule)
            assert secret not in str(info.value)
    # A broken checksum is still only text, however it is split (then the invisible rule applies).
    broken = key[:-1] + ("A" if key[-1] != "A" else "B")
    with pytest.raises(InvalidLabelError) as info:
        normalize_label(broken[:10] + "\u200b" + broken[10:])
    assert info.value.rule == "invisible"
    # Spaces are not removed: words run together must not read as a token.
    assert normalize_label("phs_ " + "word " * 12) == "phs_ " + ("word " * 12).strip()


def test_the_schema_class_names_exactly_the_invisible_characters() -> None:
    """core.labels.INVISIBLE_BMP_CLASS (the hub's JSON-schema pattern) and the rule agree on this
    Python's Unicode database: every BMP format character (plus U+2066-206F, unassigned or format),
    both separators and the Hangul fillers."""
    import re

    from phhub_keys.core.labels import INVISIBLE_BMP_CLASS
    from phhub_keys.hub.api_models import LABEL_PATTERN

    in_class = re.compile(f"[{INVISIBLE_BMP_CLASS}]")
    for code in range(0x10000):
        ch = chr(code)
        expected = unicodedata.category(ch) in ("Cf", "Zl", "Zp") or ch in HANGUL_FILLERS
        if 0x2065 <= code <= 0x206F and unicodedata.category(ch) == "Cn":
            expected = True  # unassigned inside the format block: the pattern keeps the block whole
        assert bool(in_class.fullmatch(ch)) == expected, hex(code)
    pattern = re.compile(LABEL_PATTERN)
    for label in ("Cursor", "\U0001f511 prod", "\u0645\u0641\u062a\u0627\u062d"):
        assert pattern.fullmatch(label)
    for label in ("Cur\u200bsor", "\u3164", "a\u2028b", "\ufeffx"):
        assert not pattern.fullmatch(label)
