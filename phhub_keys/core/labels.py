"""Key label rules, with a human message per rule (client and hub share them)."""

from __future__ import annotations

import re
import unicodedata

from .keyformat import is_valid_key

MAX_LABEL_LEN = 100
# Labels are shown in lists, exports and the CSVs people share: a secret pasted into one would leak.
_KEY_CANDIDATE = re.compile(r"phk_[0-9A-Za-z]{36}(?![0-9A-Za-z])")
_TOKEN_CANDIDATE = re.compile(r"phs_[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])")
BIDI_OVERRIDES = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class InvalidLabelError(ValueError):
    """A label that breaks a rule; ``rule`` names it, the message explains it."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.rule = rule


def normalize_label(raw: str) -> str:
    """Trim and NFC-normalise ``raw``, or raise InvalidLabelError naming the rule."""
    if not isinstance(raw, str):
        raise InvalidLabelError("The label must be text.", "type")
    label = unicodedata.normalize("NFC", raw).strip()
    if not label:
        raise InvalidLabelError("Enter a label, e.g. where the key will be used.", "empty")
    if len(label) > MAX_LABEL_LEN:
        raise InvalidLabelError(
            f"A label is at most {MAX_LABEL_LEN} characters; this one has {len(label)}.", "too_long"
        )
    for ch in label:
        if ch in BIDI_OVERRIDES:
            raise InvalidLabelError(
                "The label contains an invisible text-direction override character.", "bidi"
            )
        category = unicodedata.category(ch)
        if category == "Cc":
            raise InvalidLabelError(
                "The label contains a control character (such as a tab or line break).", "control"
            )
        if category == "Cs":
            # A lone surrogate (e.g. from a JSON "\ud800" escape) is not text:
            # it cannot be encoded as UTF-8, so nothing could store or show it.
            raise InvalidLabelError(
                "The label contains an invalid character (a broken emoji or symbol).", "invalid"
            )
    if any(is_valid_key(m.group()) for m in _KEY_CANDIDATE.finditer(label)) or _TOKEN_CANDIDATE.search(label):
        raise InvalidLabelError(
            "The label contains what looks like an MCP key or session token. Labels are shown in "
            "lists and exports: never put a secret in one.",
            "secret",
        )
    return label


def label_problem(raw: str) -> str | None:
    """The message for the first broken rule, or None when ``raw`` is a valid label."""
    try:
        normalize_label(raw)
    except InvalidLabelError as exc:
        return str(exc)
    return None
