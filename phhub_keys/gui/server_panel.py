"""The ``serverConfigPanel``: the MCP Server URL to paste into a client, with Copy."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QWidget

from . import clipboard
from .accessibility import announce
from .copy_feedback import CopiedFeedback


class ServerConfigPanel(QFrame):
    """Shown by the window when at least one key exists."""

    copied = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("serverConfigPanel")
        self.setAccessibleName("MCP Server Configuration")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        title = QLabel("MCP Server Configuration", self)
        title.setObjectName("serverConfigTitle")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        grid.addWidget(title, 0, 0, 1, 3)

        url_label = QLabel("Server URL", self)
        grid.addWidget(url_label, 1, 0)
        self.url_field = QLineEdit(self)
        self.url_field.setObjectName("serverUrlField")
        self.url_field.setAccessibleName("Server URL")
        self.url_field.setReadOnly(True)
        url_label.setBuddy(self.url_field)
        grid.addWidget(self.url_field, 1, 1)
        self.copy_button = QPushButton("Copy", self)
        self.copy_button.setObjectName("copyServerUrlButton")
        self.copy_button.setAccessibleName("Copy Server URL")
        self.copy_button.setToolTip("Copy the Server URL to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.copy_feedback = CopiedFeedback(self.copy_button)
        grid.addWidget(self.copy_button, 1, 2)

        key_label = QLabel("API Key", self)
        grid.addWidget(key_label, 2, 0, Qt.AlignmentFlag.AlignTop)
        self.reminder = QLabel(
            "Use any <b>Active</b> key from the list below: the secret you copied or saved when "
            "you created it. Treat it like a password.",
            self,
        )
        self.reminder.setObjectName("apiKeyReminder")
        self.reminder.setWordWrap(True)
        grid.addWidget(self.reminder, 2, 1, 1, 2)
        grid.setColumnStretch(1, 1)

        self._restyle()

    def set_server_url(self, url: str) -> None:
        self.url_field.setText(url)
        self.url_field.setCursorPosition(0)
        self.copy_button.setEnabled(bool(url))

    def server_url(self) -> str:
        return self.url_field.text()

    def copy(self) -> None:
        url = self.server_url()
        if not url:
            return
        clipboard.copy_text(url)
        self.copy_feedback.flash()
        announce(self.copy_button, "Server URL copied")
        self.copied.emit(url)

    def _restyle(self) -> None:
        self.copy_feedback.restyle()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
