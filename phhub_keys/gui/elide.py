"""Shortening text for display so the part that tells things apart stays visible.

Labels often share a long beginning ("Claude Desktop on the shared analytics
workstation (room 101)" / "(room 204)"): cutting the end makes them read the
same, so labels are shortened in the middle. The full text always stays
available (tooltip, accessible name).
"""

from __future__ import annotations

from PySide6.QtCore import Qt

LABEL_ELIDE = Qt.TextElideMode.ElideMiddle
ELLIPSIS = "…"


def middle(text: str, limit: int = 40) -> str:
    """``text`` cut to ``limit`` characters by dropping its middle (for messages naming a label)."""
    if len(text) <= limit:
        return text
    keep = limit - len(ELLIPSIS)
    head = (keep + 1) // 2
    return text[:head].rstrip() + ELLIPSIS + text[len(text) - (keep - head):].lstrip()
