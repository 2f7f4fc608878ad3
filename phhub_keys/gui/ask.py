"""Default ways the windows ask the user: one Yes/Cancel box, written once.

Windows keep these behind replaceable attributes (``confirm``) so tests and the
controller can answer without a modal dialog.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QMessageBox, QWidget


def ask_yes_cancel(parent: QWidget | None, title: str, text: str,
                   icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> bool:
    """A modal Yes/Cancel question; Cancel is the default, so Enter never destroys anything."""
    box = QMessageBox(icon, title, text, parent=parent)
    box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Yes


def confirm_for(parent: QWidget,
                icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> Callable[[str, str], bool]:
    """``confirm(title, text) -> bool`` asking over ``parent``."""
    return lambda title, text: ask_yes_cancel(parent, title, text, icon)
