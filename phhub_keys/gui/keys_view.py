"""The ``keysTable`` view: uniform rows, fixed column widths, keyboard access to row actions.

Keyboard: on the Actions cell, Left/Right move the focus ring between the row's
painted buttons (Deactivate, or Reactivate and Delete) and Space/Enter press
the focused one; Left on the first button goes back to the Last used cell.
Delete on any cell asks to delete the row's key (the window refuses an active
key); F2 renames; the Menu key opens the row menu.

Which button has the focus is the model's ``Role.ACTION_FOCUS`` on that cell,
so the delegate paints the ring and the cell's accessible name ("Delete key
“CI runner”") say the same thing; a change is announced to assistive tools as a
focus event on the cell.
"""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QEvent, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import (
    QAccessible,
    QAccessibleEvent,
    QContextMenuEvent,
    QFontDatabase,
    QFontMetrics,
    QKeyEvent,
    QPainter,
    QPaintEvent,
    QPalette,
)
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
            "Your MCP keys. F2 renames. In the Actions column Left and Right choose a button and Space "
            "or Enter presses it; Delete deletes a deactivated key."
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

    def setModel(self, model: QAbstractItemModel | None) -> None:
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
        header.resizeSection(Col.EXPIRES, fm.horizontalAdvance("in 365 days") + 16)
        header.resizeSection(Col.ACTIONS, ActionsDelegate.preferred_width(fm) + 8)
        header.setMinimumSectionSize(fm.horizontalAdvance("Label") + pad)
        # The Label column takes the stretch; the window is never narrower than the other
        # columns plus this, so Label never shrinks to a stub behind a horizontal scrollbar.
        self.label_minimum = fm.averageCharWidth() * 26 + pad

    def minimum_content_width(self) -> int:
        """Width the view needs for every column at its set size and Label at its minimum."""
        header = self.horizontalHeader()
        fixed = sum(header.sectionSize(c) for c in range(header.count())
                    if c != Col.LABEL and not header.isSectionHidden(c))
        scrollbar = self.verticalScrollBar().sizeHint().width()
        return fixed + self.label_minimum + 2 * self.frameWidth() + scrollbar

    def current_key_id(self) -> str | None:
        index = self.currentIndex()
        return index.data(Role.ID) if index.isValid() else None

    def focused_action(self) -> str | None:
        """The Actions-cell button the keyboard would press now (None off the Actions column)."""
        index = self.currentIndex()
        if not index.isValid() or index.column() != Col.ACTIONS:
            return None
        actions = index.data(Role.ACTIONS) or ()
        return actions[index.data(Role.ACTION_FOCUS) or 0] if actions else None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        index = self.currentIndex()
        if index.isValid() and self.state() != QAbstractItemView.State.EditingState:
            key = event.key()
            plain = event.modifiers() in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
            key_id = index.data(Role.ID)
            if key == Qt.Key.Key_Delete and plain:
                self.actionRequested.emit(key_id, "delete")
                event.accept()
                return
            if key == Qt.Key.Key_F2 and plain and index.column() != Col.LABEL:
                # F2 renames the row wherever the cursor is (the Actions cell included).
                label = index.siblingAtColumn(Col.LABEL)
                if label.flags() & Qt.ItemFlag.ItemIsEditable:
                    self.setCurrentIndex(label)
                    self.edit(label)
                    event.accept()
                    return
            if index.column() == Col.ACTIONS and plain and self._actions_key(index, key):
                event.accept()
                return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        """The Menu key opens the row menu of the current row. Qt hands a keyboard context menu
        a point in the table's own coordinates (the header included), which the row menu reads in
        the viewport's like a click's: it opened for the row below, and acted on that key."""
        if (event.type() == QEvent.Type.ContextMenu and isinstance(event, QContextMenuEvent)
                and event.reason() == QContextMenuEvent.Reason.Keyboard and self.currentIndex().isValid()):
            self.scrollTo(self.currentIndex())
            self.customContextMenuRequested.emit(self.visualRect(self.currentIndex()).center())
            event.accept()
            return True
        return super().event(event)

    def _actions_key(self, index: QModelIndex, key: int) -> bool:
        """Left/Right between the cell's buttons, Space/Enter presses the focused one; True if used."""
        actions = index.data(Role.ACTIONS) or ()
        focus = index.data(Role.ACTION_FOCUS) or 0
        if key in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Select) and actions:
            self.actionRequested.emit(index.data(Role.ID), actions[focus])
            return True
        step = {int(Qt.Key.Key_Left): -1, int(Qt.Key.Key_Right): 1}.get(key)
        if self.layoutDirection() == Qt.LayoutDirection.RightToLeft and step:
            step = -step
        if step is None or not 0 <= focus + step < len(actions):
            return key == Qt.Key.Key_Right  # nothing right of the last button: stay put
        self.model().setData(index, focus + step, Role.ACTION_FOCUS)
        self._announce_focus(index)
        return True

    def currentChanged(self, current: QModelIndex | QPersistentModelIndex,
                       previous: QModelIndex | QPersistentModelIndex) -> None:
        """Entering the Actions cell puts the ring on its first button (or the same one, row to row)."""
        if current.isValid() and current.column() == Col.ACTIONS:
            same_column = previous.isValid() and previous.column() == Col.ACTIONS
            keep = previous.data(Role.ACTION_FOCUS) if same_column else 0
            count = len(current.data(Role.ACTIONS) or ())
            if count:
                self.model().setData(current, min(keep or 0, count - 1), Role.ACTION_FOCUS)
        super().currentChanged(current, previous)

    def _announce_focus(self, index: QModelIndex | QPersistentModelIndex) -> None:
        """Tell assistive tools the focus moved within the cell (its name now names another button)."""
        if not QAccessible.isActive() or not self.hasFocus():
            return
        child = self.accessible_child(index)
        if child is None:
            return
        event = QAccessibleEvent(self, QAccessible.Event.Focus)
        event.setChild(child)
        QAccessible.updateAccessibility(event)

    def accessible_child(self, index: QModelIndex | QPersistentModelIndex) -> int | None:
        """The cell's child number in the table's accessible interface, or None.

        PySide6 has no ``tableInterface()`` (calling it raised AttributeError), so the number
        comes from Qt's own layout of a table's children, row-major with one header row and
        one header column, and is checked against the cell it names.
        """
        table = QAccessible.queryAccessibleInterface(self)
        model = self.model()
        if table is None or model is None or not index.isValid():
            return None
        child = (index.row() + 1) * (model.columnCount() + 1) + index.column() + 1
        if not 0 <= child < table.childCount():
            return None
        cell = table.child(child)
        cell_info = cell.tableCellInterface() if cell is not None else None
        if cell_info is None or (cell_info.rowIndex(), cell_info.columnIndex()) != (index.row(),
                                                                                  index.column()):
            return None
        return child

    def leaveEvent(self, event: QEvent) -> None:
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
