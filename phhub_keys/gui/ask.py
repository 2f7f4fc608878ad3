"""Default ways the windows ask the user: one question box, written once.

The confirming button names what it does ("Delete Key", "Discard Key"), never
a bare Yes, so the answer is clear without reading the question twice; Cancel
is the default, so Enter never destroys anything.

Windows keep these behind replaceable attributes (``confirm``) so tests and the
controller can answer without a modal dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget


def question_box(parent: QWidget | None, title: str, text: str,
                 icon: QMessageBox.Icon = QMessageBox.Icon.Warning,
                 yes_text: str | None = None) -> QMessageBox:
    """The Yes/Cancel box, not yet shown. ``yes_text`` names the Yes button for what it does
    (e.g. "Sign Out Everywhere"), so the answer is clear without reading the question twice."""
    box = QMessageBox(icon, title, text, parent=parent)
    box.setTextFormat(Qt.TextFormat.PlainText)  # the text quotes labels and hub words: never markup
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    if yes_text:
        box.button(QMessageBox.StandardButton.Yes).setText(yes_text)
    return box


def ask_yes_cancel(parent: QWidget | None, title: str, text: str,
                   icon: QMessageBox.Icon = QMessageBox.Icon.Warning, yes_text: str | None = None) -> bool:
    """A modal Yes/Cancel question; Cancel is the default, so Enter never destroys anything."""
    return question_box(parent, title, text, icon, yes_text).exec() == QMessageBox.StandardButton.Yes


def confirm_for(parent: QWidget,
                icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> Callable[[str, str, str], bool]:
    """``confirm(title, text, action) -> bool`` asking over ``parent``; ``action`` names the button."""
    return lambda title, text, action: ask_yes_cancel(parent, title, text, icon, yes_text=action)
