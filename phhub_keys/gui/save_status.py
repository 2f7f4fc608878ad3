"""The brief "Changes Saved" (or "Label not changed: …") note beside the filter row."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

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
        # Never wider than the room it is given: the text is elided there, never pushing controls.
        self.text_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout.addWidget(self.text_label, 1)
        self._full_text = ""
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        self.restyle()

    def text(self) -> str:
        """The whole message (the label may show it shortened)."""
        return self._full_text

    def show_status(self, text: str, ok: bool) -> None:
        self._ok = ok
        self._full_text = text
        self._fit_text()
        self.restyle()
        self._timer.start(SAVED_NOTICE_MS if ok else PROBLEM_NOTICE_MS)
        announce(self.text_label, text, assertive=not ok)

    def clear(self) -> None:
        self._full_text = ""
        self._fit_text()
        self.restyle()

    def _fit_text(self) -> None:
        width = self.text_label.width()
        shown = self.text_label.fontMetrics().elidedText(self._full_text, Qt.TextElideMode.ElideRight, width)
        self.text_label.setText(shown if width > 0 else self._full_text)
        elided = shown != self._full_text
        self.text_label.setToolTip(self._full_text if elided else "")
        # A shortened text: the whole message is there for screen readers too.
        self.text_label.setAccessibleDescription(self._full_text if elided else "Status of the last change")

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_text()

    def restyle(self) -> None:
        """Colours from the current palette's accents (readable in light and dark)."""
        colours = accents()
        colour = colours.success if self._ok else colours.danger
        self.text_label.setStyleSheet(f"color: {colour.name()};")
        if self._full_text:
            self.icon_label.setPixmap(icon("check" if self._ok else "warning", colour).pixmap(16, 16))
            self.icon_label.show()
        else:
            self.icon_label.clear()
            self.icon_label.hide()
