"""The ``newKeyPanel``: "New MCP key (shown once)" with Copy, CSV, Set up a client and Dismiss.

The panel only displays the secret; the window owns it. ``clear()`` empties the
field through ``setText`` (which also drops the line edit's undo history), and
the field refuses plain Ctrl+C/drag so every copy goes through the window's
secret-aware clipboard (password-manager hints + timed clear).
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QFontDatabase, QFontMetrics, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from .accessibility import announce
from .copy_feedback import CopiedFeedback
from .keyboard import focus_visibly
from .names import SET_UP_CLIENT
from .resources import icon
from .theme import accents


class SecretField(QLineEdit):
    """Read-only monospace field whose Copy shortcut asks the window to copy safely."""

    copyRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setDragEnabled(False)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setMinimumWidth(QFontMetrics(self.font()).horizontalAdvance("x" * 42) + 12)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.matches(QKeySequence.StandardKey.Copy) or event.matches(QKeySequence.StandardKey.Cut):
            self.copyRequested.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class NewKeyPanel(QFrame):
    """Signals the window's actions; shows short confirmations in ``status_label``."""

    copyRequested = Signal()
    saveRequested = Signal()
    setupRequested = Signal()
    dismissRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("newKeyPanel")
        self.setAccessibleName("New MCP key (shown once)")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)

        self.title = QLabel("New MCP key (shown once)", self)
        self.title.setObjectName("newKeyTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        grid.addWidget(self.title, 0, 0, 1, 2)
        self.explanation = QLabel(self)
        self.explanation.setObjectName("newKeyExplanation")
        self.explanation.setWordWrap(True)
        grid.addWidget(self.explanation, 1, 0, 1, 2)

        self.secret_field = SecretField(self)
        self.secret_field.setObjectName("newKeySecretField")
        self.secret_field.setAccessibleName("New key secret")
        self.secret_field.copyRequested.connect(self.copyRequested)
        grid.addWidget(self.secret_field, 2, 0)

        buttons = QHBoxLayout()
        buttons.setSpacing(6)
        self.copy_button = self._button("Copy", "copyNewKeyButton", "Copy the key", "copy",
                                        "Copy the key to the clipboard (cleared again after 30 s)")
        self.copy_button.clicked.connect(self.copyRequested)
        self.copy_feedback = CopiedFeedback(self.copy_button)  # the same "✓ Copied" as the Server URL's
        self.save_button = self._button("CSV", "saveNewKeyCsvButton", "Save the key as CSV", "save",
                                        "Save label, key, Server URL and created time to a CSV file "
                                        "readable only by you")
        self.save_button.clicked.connect(self.saveRequested)
        self.setup_button = self._button(SET_UP_CLIENT, "setupClientButton", "Set up an MCP client",
                                         "setup", "Configure Cursor, Claude, VS Code… with this key")
        self.setup_button.clicked.connect(self.setupRequested)
        self.dismiss_button = self._button("Dismiss", "dismissNewKeyButton", "Dismiss the new key", "close",
                                           "Close this panel: the full key can never be shown again")
        self.dismiss_button.clicked.connect(self.dismissRequested)
        for button in (self.copy_button, self.save_button, self.setup_button, self.dismiss_button):
            buttons.addWidget(button)
        grid.addLayout(buttons, 2, 1)

        self.status_label = QLabel(self)
        self.status_label.setObjectName("newKeyStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        grid.addWidget(self.status_label, 3, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        self._restyle()
        self.hide()

    def _button(self, text: str, name: str, accessible: str, icon_name: str, tip: str) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.setAccessibleName(accessible)
        button.setToolTip(tip)
        button.setProperty("iconName", icon_name)
        return button

    def show_secret(self, label: str, secret: str) -> None:
        self.explanation.setText(
            f"Your key “{label}” is ready. Copy it now, or save it as CSV, and store it somewhere "
            "safe such as a password manager or your MCP client's settings. Once you dismiss this "
            "panel, refresh or close the window, only a redacted preview remains.\n"
            "Treat it like a password: never paste it into shared documents, screenshots or chat. "
            "If it is ever exposed, deactivate it straight away and create a replacement."
        )
        self.secret_field.setText(secret)
        self.secret_field.setCursorPosition(0)
        self.set_status("")
        self.show()
        focus_visibly(self.copy_button)

    def set_status(self, text: str, ok: bool = True) -> None:
        colours = accents()
        self.status_label.setStyleSheet("" if ok else f"color: {colours.danger.name()};")
        self.status_label.setText(text)
        self.status_label.setVisible(bool(text))
        announce(self.status_label, text, assertive=not ok)

    def clear(self) -> None:
        """Forget the secret in every widget (setText also clears the undo history)."""
        self.copy_feedback.reset()
        self.secret_field.setText("")
        self.explanation.setText("")
        self.set_status("")
        self.hide()

    def _restyle(self) -> None:
        colours = accents()
        sheet = (
            f"QFrame#newKeyPanel {{ background-color: {colours.notice_bg.name()};"
            f" border: 1px solid {colours.notice_border.name()}; border-radius: 6px; }}"
        )
        if self.styleSheet() != sheet:  # setting it changes the palette: avoid a restyle loop
            self.setStyleSheet(sheet)
        for button in (self.save_button, self.setup_button, self.dismiss_button):
            button.setIcon(icon(str(button.property("iconName"))))
        self.copy_feedback.restyle()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
