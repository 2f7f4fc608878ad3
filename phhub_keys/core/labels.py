"""Key label rules, with a human message per rule (client and hub share them)."""

from __future__ import annotations

import unicodedata

from .keyformat import holds_secret

MAX_LABEL_LEN = 100
# Labels are shown in lists, exports and the CSVs people share: a secret pasted into one would leak.
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
# Letters that render as nothing: a label made of them, or hiding them, reads as something else.
HANGUL_FILLERS = frozenset("\u115f\u1160\u3164\uffa0")
ZWJ, ZWNJ = "\u200d", "\u200c"
# Every format character (Cf, Unicode 14) of the Basic Multilingual Plane, the line/paragraph
# separators and the Hangul fillers, as a regular-expression class body: the hub's JSON-schema
# label pattern (BMP only: JSON-schema patterns have no portable astral escapes). The rule itself
# asks unicodedata; tests/core/test_core_labels.py checks the two agree. Joiners included: the
# pattern is stricter than the rule, which allows them in emoji and Persian-like words.
INVISIBLE_BMP_CLASS = (
    r"\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u180e\u200b-\u200f"
    r"\u2028-\u202e\u2060-\u206f\u3164\ufeff\ufff9-\ufffb\uffa0"
)
_EMOJI_TAIL = frozenset("\ufe0f") | frozenset(chr(c) for c in range(0x1F3FB, 0x1F400))  # VS16, skin tones
_NO_ZWNJ_SCRIPTS = ("LATIN", "GREEK", "CYRILLIC", "DIGIT")


class InvalidLabelError(ValueError):
    """A label that breaks a rule; ``rule`` names it, the message explains it."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def _joiner_in_place(label: str, pos: int) -> bool:
    """Whether the ZWJ/ZWNJ at ``pos`` does its job: joining an emoji sequence (ZWJ), or
    separating two letters of a script that spells words with it, such as Persian (ZWNJ)."""
    before = label[pos - 1] if pos > 0 else ""
    after = label[pos + 1] if pos + 1 < len(label) else ""
    if not before or not after:
        return False
    if label[pos] == ZWJ:
        emoji_before = unicodedata.category(before) == "So" or before in _EMOJI_TAIL
        return emoji_before and unicodedata.category(after) == "So"
    for ch in (before, after):
        if unicodedata.category(ch)[0] not in "LM" or unicodedata.name(ch, "").startswith(_NO_ZWNJ_SCRIPTS):
            return False
    return True


def _invisible(label: str, pos: int) -> bool:
    """A character that shows as nothing: a Unicode format character (zero-width space, direction
    marks, BOM, tag characters...) other than a joiner in its place, or a Hangul filler."""
    ch = label[pos]
    if ch in HANGUL_FILLERS:
        return True
    if unicodedata.category(ch) != "Cf":
        return False
    return not (ch in (ZWJ, ZWNJ) and _joiner_in_place(label, pos))


def visible_text(text: str) -> str:
    """``text`` without anything invisible (format characters, controls, line separators, fillers):
    what the secret check reads, so a key split by a zero-width space is still a key. Spaces stay:
    words run together could look like a token."""
    hidden = ("Cf", "Cc", "Zl", "Zp")
    return "".join(ch for ch in text if not (ch in HANGUL_FILLERS or unicodedata.category(ch) in hidden))


def normalize_label(raw: str) -> str:
    """Trim and NFC-normalise ``raw``, or raise InvalidLabelError naming the rule."""
    if not isinstance(raw, str):
        raise InvalidLabelError("The label must be text.", "type")
    label = unicodedata.normalize("NFC", raw).strip()
    if not label:
        raise InvalidLabelError("Enter a label, e.g. where the key will be used.", "empty")
    if holds_secret(label) or holds_secret(visible_text(label)):
        raise InvalidLabelError(
            "The label contains what looks like an MCP key or session token. Labels are shown in "
            "lists and exports: never put a secret in one.",
            "secret",
        )
    if len(label) > MAX_LABEL_LEN:
        raise InvalidLabelError(
            f"A label is at most {MAX_LABEL_LEN} characters; this one has {len(label)}.", "too_long"
        )
    for pos, ch in enumerate(label):
        if ch in BIDI_OVERRIDES:
            raise InvalidLabelError(
                "The label contains an invisible text-direction override character.", "bidi"
            )
        category = unicodedata.category(ch)
        if category in ("Cc", "Zl", "Zp"):
            raise InvalidLabelError(
                "The label contains a control character (such as a tab or line break).", "control"
            )
        if _invisible(label, pos):
            raise InvalidLabelError(
                f"The label contains an invisible character (U+{ord(ch):04X}). Zero-width spaces, "
                "direction marks, byte-order marks, tag characters and fillers are not allowed: "
                "a label shows all it says.",
                "invisible",
            )
        if category == "Cs":
            # A lone surrogate (e.g. from a JSON "\ud800" escape) is not text:
            # it cannot be encoded as UTF-8, so nothing could store or show it.
            raise InvalidLabelError(
                "The label contains an invalid character (a broken emoji or symbol).", "invalid"
            )
    return label


def label_problem(raw: str) -> str | None:
    """The message for the first broken rule, or None when ``raw`` is a valid label."""
    try:
        normalize_label(raw)
    except InvalidLabelError as exc:
        return str(exc)
    return None
