"""The ``errorBanner``: what went wrong with the hub, in words a person can act on, plus Retry.

The same strip serves the review window's notices (``secretsBanner``, ``csvErrorBanner``): a tone
(error or notice), rich text with a plain twin for screen readers, no button when there is
nothing to do.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from .accessibility import announce
from .resources import icon
from .theme import accents


class ErrorBanner(QFrame):
    """Hidden until ``show_error``; ``actionRequested`` when its button (Retry / Sign in…) is pressed.

    ``name``/``tone``/``dismissible`` make the other banners of the app (see the module docstring);
    the defaults are the window's ``errorBanner`` (objectNames per the UI spec).
    """

    actionRequested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None, *, name: str = "errorBanner", tone: str = "error",
                 dismissible: bool = True) -> None:
        super().__init__(parent)
        self._tone = tone
        self._plain: str | None = None  # the plain twin of rich text (show_message)
        self.setObjectName(name)
        self.setAccessibleName("Error")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        layout.setSpacing(10)
        self._icon = QLabel(self)
        self._icon.setObjectName("errorIcon")
        layout.addWidget(self._icon, 0, Qt.AlignmentFlag.AlignTop)
        self.message = QLabel(self)
        self.message.setObjectName("errorMessage" if name == "errorBanner" else f"{name}Text")
        self.message.setWordWrap(True)
        self.message.setTextFormat(Qt.TextFormat.PlainText)  # labels and hub messages are not markup
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.message, 1)
        self.action_button = QPushButton("Retry", self)
        self.action_button.setObjectName("retryButton")
        self.action_button.setAccessibleName("Retry")
        self.action_button.clicked.connect(self.actionRequested)
        layout.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.close_button = QToolButton(self)
        self.close_button.setObjectName("dismissErrorButton")
        self.close_button.setAccessibleName("Dismiss error")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        self.close_button.clicked.connect(self._dismiss)
        layout.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.close_button.setVisible(dismissible)
        if not dismissible:
            layout.setContentsMargins(12, 8, 12, 8)
        self._restyle()
        self.hide()

    def show_message(self, rich_text: str, plain: str) -> None:
        """Rich text (the caller escaped what came from a file), no button; ``text()`` is ``plain``."""
        self._plain = plain
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setText(rich_text)
        self.setAccessibleDescription(plain)
        self.action_button.setVisible(False)
        self.show()

    def show_error(self, message: str, action_text: str | None = "Retry") -> None:
        """Show ``message``; ``action_text`` None hides the button."""
        self._plain = None
        self.message.setTextFormat(Qt.TextFormat.PlainText)
        self.message.setText(message)
        self.setAccessibleDescription(message)
        self.action_button.setVisible(action_text is not None)
        if action_text is not None:
            self.action_button.setText(action_text)
            self.action_button.setAccessibleName(action_text.rstrip("…"))
        self.show()
        announce(self, message, assertive=True)

    def text(self) -> str:
        return self._plain if self._plain is not None else self.message.text()

    def _dismiss(self) -> None:
        self.hide()
        self.dismissed.emit()

    def _restyle(self) -> None:
        colours = accents()
        error = self._tone == "error"
        bg, border = ((colours.error_bg, colours.error_border) if error
                      else (colours.notice_bg, colours.notice_border))
        sheet = (
            f"QFrame#{self.objectName()} {{ background-color: {bg.name()};"
            f" border: 1px solid {border.name()}; border-radius: 6px; }}"
        )
        if self.styleSheet() != sheet:  # setting it changes the palette: avoid a restyle loop
            self.setStyleSheet(sheet)
        tint = colours.danger if error else colours.notice_border
        self._icon.setPixmap(icon("warning", tint).pixmap(20, 20))
        self.close_button.setIcon(icon("close"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
