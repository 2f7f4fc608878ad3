"""The inline ``createKeyForm``: a Label field, validated as you type with core's rules, and the
Expiry choice (``gui.expiry``) when the hub has a key policy (a v1 hub has none: no expiry row)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QPushButton, QWidget

from ..core.expiry import KeyPolicy
from ..core.labels import label_problem, normalize_label
from .accessibility import announce, name_clear_button
from .expiry import ExpiryChooser
from .resources import icon
from .theme import accents


class CreateKeyForm(QFrame):
    """Emits ``submitted(label)`` (normalised) on Create/Enter and ``cancelled`` on Cancel/Esc."""

    submitted = Signal(str)
    cancelled = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("createKeyForm")
        self.setAccessibleName("Create an MCP key")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._edited = False
        self._busy = False

        grid = QGridLayout(self)
        grid.setContentsMargins(12, 10, 12, 10)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(4)
        title = QLabel("Create a new key", self)
        title.setObjectName("createKeyTitle")
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        grid.addWidget(title, 0, 0, 1, 4)

        label = QLabel("&Label", self)
        grid.addWidget(label, 1, 0)
        self.label_input = QLineEdit(self)
        self.label_input.setObjectName("labelInput")
        self.label_input.setAccessibleName("Label")
        self.label_input.setAccessibleDescription("Where the key will be used, e.g. OpenAI AgentKit")
        self.label_input.setPlaceholderText("Where will this key be used? e.g. OpenAI AgentKit")
        name_clear_button(self.label_input, "Clear the label")
        label.setBuddy(self.label_input)
        self.label_input.textEdited.connect(self._on_edited)
        self.label_input.textChanged.connect(self._update_state)  # also programmatic text
        self.label_input.returnPressed.connect(self.submit)
        self.label_input.installEventFilter(self)
        grid.addWidget(self.label_input, 1, 1)

        self.confirm_button = QPushButton("Create", self)
        self.confirm_button.setObjectName("confirmCreateButton")
        self.confirm_button.setAccessibleName("Create key")
        self.confirm_button.setToolTip("Create the key (Enter)")
        self.confirm_button.clicked.connect(self.submit)
        grid.addWidget(self.confirm_button, 1, 2)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("cancelCreateButton")
        self.cancel_button.setAccessibleName("Cancel creating a key")
        self.cancel_button.setToolTip("Close the form (Esc)")
        self.cancel_button.clicked.connect(self.cancel)
        grid.addWidget(self.cancel_button, 1, 3)

        self.error_label = QLabel(self)
        self.error_label.setObjectName("labelError")
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        grid.addWidget(self.error_label, 2, 1, 1, 3)

        self.expiry_label = QLabel("E&xpires", self)
        grid.addWidget(self.expiry_label, 3, 0)
        self.expiry = ExpiryChooser(self)
        self.expiry_label.setBuddy(self.expiry.combo)
        self.expiry.changed.connect(self._on_expiry_changed)
        grid.addWidget(self.expiry, 3, 1, 1, 3, Qt.AlignmentFlag.AlignLeft)
        self.expiry_error = QLabel(self)
        self.expiry_error.setObjectName("expiryError")
        self.expiry_error.setWordWrap(True)
        self.expiry_error.hide()
        grid.addWidget(self.expiry_error, 4, 1, 1, 3)
        self.set_policy(None)
        self.hint_label = QLabel(
            "The label is just for your own reference; you can rename the key later.", self
        )
        self.hint_label.setObjectName("labelHint")
        self.hint_label.setWordWrap(True)
        self.hint_label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        grid.addWidget(self.hint_label, 5, 1, 1, 3)
        grid.setColumnStretch(1, 1)
        self._restyle()
        self._update_state()
        self.hide()

    # -- public ------------------------------------------------------------------------------
    def open(self) -> None:
        """Show the form and focus the field (keeps text a failed create left behind)."""
        self.show()
        self.label_input.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.label_input.selectAll()

    def reset(self) -> None:
        self.label_input.setText("")
        self._edited = False
        self.error_label.hide()
        self.expiry_error.hide()
        self.expiry.reset()
        self._update_state()

    def set_policy(self, policy: KeyPolicy | None) -> None:
        """The hub's key policy: the Expiry choices and default (None: a v1 hub, no Expiry row)."""
        self._has_policy = policy is not None
        self.expiry_label.setVisible(self._has_policy)
        self.expiry.setVisible(self._has_policy)
        if policy is not None:
            self.expiry.set_policy(policy)

    def expiry_request(self) -> dict[str, Any]:
        """What to send with the label: ``expires_in_days`` / ``expires_at`` / ``no_expiry`` ({} for v1)."""
        return self.expiry.request() if self._has_policy else {}

    def show_expiry_error(self, message: str) -> None:
        """The hub's 422 invalid_expiry, next to the Expiry choice (the form keeps what was typed)."""
        self.expiry_error.setText(message)
        self.expiry_error.show()

    def expiry_error_text(self) -> str:
        return self.expiry_error.text() if self.expiry_error.isVisible() else ""

    def _on_expiry_changed(self) -> None:
        self.expiry_error.hide()

    def label_text(self) -> str:
        return self.label_input.text()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.label_input.setReadOnly(busy)
        self.expiry.setEnabled(not busy)
        self.confirm_button.setText("Creating…" if busy else "Create")
        self._update_state()

    def is_busy(self) -> bool:
        return self._busy

    def show_error(self, message: str) -> None:
        said = self.error_label.isVisible() and self.error_label.text() == message
        self.error_label.setText(message)
        self.error_label.show()
        if not said:  # the rule, once: not again on every keystroke that keeps it
            announce(self.error_label, message, assertive=True)

    def error_text(self) -> str:
        return self.error_label.text() if self.error_label.isVisible() else ""

    def submit(self) -> None:
        if self._busy:
            return
        problem = label_problem(self.label_input.text())
        if problem is not None:
            self._edited = True
            self.show_error(problem)
            self._update_state()
            return
        self.submitted.emit(normalize_label(self.label_input.text()))

    def cancel(self) -> None:
        if self._busy:
            return
        self.reset()
        self.hide()
        self.cancelled.emit()

    # -- internals ---------------------------------------------------------------------------
    def _on_edited(self, _text: str) -> None:
        self._edited = True
        self._update_state()

    def _update_state(self, *_args: object) -> None:
        problem = label_problem(self.label_input.text())
        self.confirm_button.setEnabled(problem is None and not self._busy)
        if self._edited and problem is not None:
            self.show_error(problem)
        elif problem is None and not self._busy:
            self.error_label.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.label_input
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.cancel()
            return True
        return super().eventFilter(watched, event)

    def _restyle(self) -> None:
        colours = accents()
        self.error_label.setStyleSheet(f"color: {colours.danger.name()};")
        self.expiry_error.setStyleSheet(f"color: {colours.danger.name()};")
        self.confirm_button.setIcon(icon("plus"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()
        super().changeEvent(event)
