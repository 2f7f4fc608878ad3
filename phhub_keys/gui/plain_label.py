"""A QLabel that shows its text as text, never as markup.

QLabel's default (AutoText) renders anything that looks like HTML: a key label such as
``<b>Cursor</b> <img …>`` (angle brackets are allowed in labels), a server name or path from a
client config file, or a hub message would be drawn bold, with images or links, dressed up as
the app's own words. Labels that show such text use this.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QWidget


class PlainLabel(QLabel):
    """``QLabel(text, parent)`` or ``QLabel(parent)`` with ``Qt.TextFormat.PlainText``."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.setTextFormat(Qt.TextFormat.PlainText)


def heading_label(text: str, parent: QWidget) -> PlainLabel:
    """A bold plain-text heading (dialog titles naming a key label, section titles)."""
    label = PlainLabel(text, parent)
    font = label.font()
    font.setBold(True)
    label.setFont(font)
    return label
