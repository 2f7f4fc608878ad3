"""The "✓ Copied" moment on a Copy button, one behaviour for every Copy in the app.

Why: the Server URL's Copy said "✓ Copied" while the new key's Copy only wrote a
line below, so the two looked like they did different things. The button keeps
the width of its longer text, so the flip never moves its neighbours.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QPushButton

from .resources import icon

COPIED_MS = 2000
COPIED_TEXT = "Copied"


class CopiedFeedback(QObject):
    """Flips ``button`` to a check and "Copied" for ``COPIED_MS``, then back."""

    def __init__(self, button: QPushButton, idle_text: str = "Copy", idle_icon: str = "copy") -> None:
        super().__init__(button)
        self.button = button
        self.idle_text = idle_text
        self.idle_icon = idle_icon
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.reset)
        metrics = button.fontMetrics()
        extra = max(metrics.horizontalAdvance(COPIED_TEXT) - metrics.horizontalAdvance(idle_text), 0)
        button.setMinimumWidth(button.sizeHint().width() + extra)

    @property
    def active(self) -> bool:
        return self._timer.isActive()

    def flash(self) -> None:
        self.button.setText(COPIED_TEXT)
        self.button.setIcon(icon("check"))
        self._timer.start(COPIED_MS)

    def reset(self) -> None:
        self._timer.stop()
        self.button.setText(self.idle_text)
        self.button.setIcon(icon(self.idle_icon))

    def restyle(self) -> None:
        """Icons follow the palette: redraw the one for the current state."""
        self.button.setIcon(icon("check" if self.active else self.idle_icon))
