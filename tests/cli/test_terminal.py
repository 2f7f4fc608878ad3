"""phhub_keys.terminal.printable: the one escaper for human-readable CLI output."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from phhub_keys.terminal import printable


def test_control_format_and_separator_characters_are_escaped() -> None:
    assert printable("a\x1b]52;c;eA==\x07b") == "a\\x1b]52;c;eA==\\x07b"
    assert (printable("\x9b2J \x7f \u202eevil \u2028 \U000e0041")
            == "\\x9b2J \\x7f \\u202eevil \\u2028 \\U000e0041")
    assert printable("line\nnext\ttab\r") == "line\\x0anext\\x09tab\\x0d"
    assert printable("line\nnext\ttab\r", multiline=True) == "line\nnext\ttab\\x0d"


def test_ordinary_text_is_unchanged() -> None:
    for text in ("plain", "Zwölf Boxkämpfer", "日本語", "مفتاح", "\U0001f469\u200d\U0001f4bb dev", 42):
        assert printable(text) == str(text)


@given(st.text())
def test_nothing_a_terminal_obeys_survives(text: str) -> None:
    shown = printable(text)
    assert not any(ord(ch) < 0x20 or 0x7F <= ord(ch) <= 0x9F for ch in shown)
