"""A centred icon, title, text and button: the key list's loading and empty states."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFrame, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from .resources import icon

TEXT_WIDTH = 520


class MessagePage(QFrame):
    """One page of the key list's stack; child objectNames are ``<name>Icon/Title/Text/Button``."""

    def __init__(self, name: str, title: str, body: str, act: QAction | None, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        self.icon_label = QLabel(self)
        self.icon_label.setObjectName(name + "Icon")
        self.icon_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.icon_label)
        self.title_label = QLabel(title, self)
        self.title_label.setObjectName(name + "Title")
        font = self.title_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title_label.setFont(font)
        self.title_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(self.title_label)
        if body:
            text = QLabel(body, self)
            text.setObjectName(name + "Text")
            text.setWordWrap(True)
            text.setAlignment(Qt.AlignmentFlag.AlignCenter)
            text.setMaximumWidth(TEXT_WIDTH)
            # A word-wrapped label asks for its narrowest width; give it a readable line instead.
            text.setMinimumWidth(min(TEXT_WIDTH, text.fontMetrics().horizontalAdvance(body[:60]) + 20))
            text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
            layout.addWidget(text, 0, Qt.AlignmentFlag.AlignHCenter)
        self.button: QPushButton | None = None
        if act is not None:
            button = self.button = QPushButton(act.text(), self)
            button.setObjectName(name + "Button")
            button.setAccessibleName(act.text())
            button.setProperty("iconName", act.property("iconName"))
            button.clicked.connect(act.trigger)
            layout.addSpacing(6)
            layout.addWidget(button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def set_title(self, text: str) -> None:
        self.title_label.setText(text)

    def restyle(self) -> None:
        """Repaint the icon in the current palette (light/dark switches)."""
        self.icon_label.setPixmap(icon("key").pixmap(40, 40))
