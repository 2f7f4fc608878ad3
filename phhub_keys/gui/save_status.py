"""The brief "Changes Saved" (or "Label not changed: …") note beside the filter row."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QWidget

from .accessibility import announce
from .resources import icon
from .theme import accents

SAVED_NOTICE_MS = 2500
PROBLEM_NOTICE_MS = 8000  # a refusal stays long enough to be read


class SaveStatus(QWidget):
    """A green check and text that clear themselves; red with a warning icon for a refusal."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._ok = True
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.icon_label = QLabel(self)
        self.icon_label.setObjectName("saveStatusIcon")
        layout.addWidget(self.icon_label)
        self.text_label = QLabel(self)
        self.text_label.setObjectName("saveStatusLabel")
        # No accessible name: a label's name would replace its text ("Changes Saved") for screen readers.
        self.text_label.setAccessibleDescription("Status of the last change")
        self.text_label.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.text_label)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        self.restyle()

    def text(self) -> str:
        return self.text_label.text()

    def show_status(self, text: str, ok: bool) -> None:
        self._ok = ok
        self.text_label.setText(text)
        self.restyle()
        self._timer.start(SAVED_NOTICE_MS if ok else PROBLEM_NOTICE_MS)
        announce(self.text_label, text, assertive=not ok)

    def clear(self) -> None:
        self.text_label.setText("")
        self.restyle()

    def restyle(self) -> None:
        """Colours from the current palette's accents (readable in light and dark)."""
        colours = accents()
        colour = colours.success if self._ok else colours.danger
        self.text_label.setStyleSheet(f"color: {colour.name()};")
        if self.text_label.text():
            self.icon_label.setPixmap(icon("check" if self._ok else "warning", colour).pixmap(16, 16))
            self.icon_label.show()
        else:
            self.icon_label.clear()
            self.icon_label.hide()
