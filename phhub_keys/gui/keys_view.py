"""The ``keysTable`` view: uniform rows, fixed column widths, keyboard access to row actions.

Keyboard: Space or Enter on the Actions cell runs the row's primary action
(Deactivate / Reactivate); Delete on any cell asks to delete the row's key (the
window refuses an active key); F2 renames; the Menu key opens the row menu.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFontDatabase, QFontMetrics, QKeyEvent, QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from .delegates import ActionsDelegate, LabelDelegate, StatusBadgeDelegate
from .keys_model import Col, Role


class KeysTableView(QTableView):
    """Emits ``actionRequested(key_id, action)`` for clicks and keys alike."""

    actionRequested = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("keysTable")
        self.setAccessibleName("MCP keys")
        self.setAccessibleDescription(
            "Your MCP keys. F2 renames, Space on Actions deactivates or reactivates, Delete deletes "
            "a deactivated key."
        )
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.setWordWrap(False)
        self.setShowGrid(False)
        self.setAlternatingRowColors(True)
        self.setMouseTracking(True)
        self.setTabKeyNavigation(False)
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.verticalHeader().hide()

        self.badge_delegate = StatusBadgeDelegate(self)
        self.label_delegate = LabelDelegate(self)
        self.actions_delegate = ActionsDelegate(self)
        self.setItemDelegateForColumn(Col.STATUS, self.badge_delegate)
        self.setItemDelegateForColumn(Col.LABEL, self.label_delegate)
        self.setItemDelegateForColumn(Col.ACTIONS, self.actions_delegate)
        self.actions_delegate.actionTriggered.connect(self.actionRequested)
        self._empty_text = ""

    def set_empty_text(self, text: str) -> None:
        """What the view says while it has no rows (e.g. a filter matched nothing); '' for nothing."""
        if text != self._empty_text:
            self._empty_text = text
            self.viewport().update()

    def empty_text(self) -> str:
        return self._empty_text

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if not self._empty_text or model is None or model.rowCount() > 0:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        rect = self.viewport().rect().adjusted(24, 24, -24, -24)
        rect.setHeight(min(rect.height(), 6 * self.fontMetrics().height()))
        painter.drawText(rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop
                                   | Qt.TextFlag.TextWordWrap), self._empty_text)
        painter.end()

    def setModel(self, model) -> None:
        super().setModel(model)
        self.apply_metrics()  # header sections exist only once there is a model

    def apply_metrics(self) -> None:
        """Uniform row height and column widths from font metrics (never ResizeToContents)."""
        fm = QFontMetrics(self.font())
        mono = QFontMetrics(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        vertical = self.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(fm.height() + 16)
        header = self.horizontalHeader()
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(Col.LABEL, QHeaderView.ResizeMode.Stretch)
        pad = 28
        header.resizeSection(Col.KEY, mono.horizontalAdvance("phk_XXXX...XXXXXX") + pad)
        header.resizeSection(Col.STATUS, fm.horizontalAdvance("Deactivated") + 18 + pad)
        header.resizeSection(Col.CREATED, fm.horizontalAdvance("2026-12-31 23:59") + pad)
        header.resizeSection(Col.LAST_USED, fm.horizontalAdvance("59 min ago") + pad + 10)
        header.resizeSection(Col.ACTIONS, ActionsDelegate.preferred_width(fm) + 8)
        header.setMinimumSectionSize(fm.horizontalAdvance("Label") + pad)

    def current_key_id(self) -> str | None:
        index = self.currentIndex()
        return index.data(Role.ID) if index.isValid() else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if index.isValid() and self.state() != QAbstractItemView.State.EditingState:
            key = event.key()
            actions = index.data(Role.ACTIONS) or ()
            key_id = index.data(Role.ID)
            if key == Qt.Key.Key_Delete and event.modifiers() == Qt.KeyboardModifier.NoModifier:
                self.actionRequested.emit(key_id, "delete")
                event.accept()
                return
            if (
                index.column() == Col.ACTIONS
                and key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select)
                and actions
            ):
                self.actionRequested.emit(key_id, actions[0])
                event.accept()
                return
        super().keyPressEvent(event)

    def leaveEvent(self, event) -> None:
        self.actions_delegate.clear_hover()
        self.viewport().update()
        super().leaveEvent(event)

    def index_for_key(self, key_id: str, column: int = 0) -> QModelIndex:
        """The view (proxy) index of a key's cell, or an invalid index when filtered out."""
        model = self.model()
        if model is None:
            return QModelIndex()
        matches = model.match(model.index(0, 0), Role.ID, key_id, 1, Qt.MatchFlag.MatchExactly)
        return model.index(matches[0].row(), column) if matches else QModelIndex()
