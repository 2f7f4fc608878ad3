"""Text for a terminal: what a hub or a file says is shown, never obeyed.

A label, a client name, a user's name, an error message from a hub, or a CSV
cell can hold ESC or C1 control characters. Printed raw, ``ESC ] 52 ; c ; ...``
writes the user's clipboard, ``ESC ] 0 ; ...`` retitles the window, and other
sequences move the cursor to hide or fake lines. Every human-readable line the
CLI prints goes through ``printable`` (``--json`` output is JSON-escaped
already): control and invisible format characters become visible escapes such
as ``\\x1b`` or ``\\u202e``.
"""

from __future__ import annotations

import unicodedata

_HIDDEN = frozenset(("Cc", "Cf", "Cs", "Zl", "Zp"))
_JOINERS = "\u200c\u200d"  # inside emoji and Persian words; terminals draw nothing for them


def _escape(ch: str) -> str:
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object, *, multiline: bool = False) -> str:
    """``text`` with every control, format and separator character escaped; with ``multiline``,
    line feeds and tabs (our own layout) stay as they are."""
    value = str(text)
    if value.isascii() and value.isprintable():  # the common case, checked in C
        return value
    keep = _JOINERS + ("\n\t" if multiline else "")
    return "".join(
        _escape(ch) if unicodedata.category(ch) in _HIDDEN and ch not in keep else ch for ch in value
    )
