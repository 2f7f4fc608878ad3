"""Painting and editing the key list's special cells, without a widget per row.

- ``StatusBadgeDelegate``: an Active (green) / Deactivated (grey) pill.
- ``LabelDelegate``: in-place label editor, plus "Saving…" / a green check and
  "Changes Saved" painted in the cell after a rename.
- ``ActionsDelegate``: Deactivate | Reactivate + Delete painted as push buttons
  with the current style and made clickable through ``editorEvent``; the button
  the keyboard would press (``Role.ACTION_FOCUS``) gets a focus ring while the
  cell has the focus. Keyboard access lives in ``KeysTableView`` (keys_view.py).
"""

from __future__ import annotations

from collections import OrderedDict

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QIcon,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QWidget,
)

from ..core.labels import label_problem
from .elide import LABEL_ELIDE
from .keys_model import ACTION_TEXT, Role
from .resources import icon
from .theme import accents

ModelIndex = QModelIndex | QPersistentModelIndex

BUTTON_HPAD = 10
FOCUS_RING_WIDTH = 2
BUTTON_SPACING = 6
CELL_MARGIN = 4
SAVED_TEXT = "Changes Saved"
SAVING_TEXT = "Saving…"


class _PixmapLru:
    """A small cache of rendered badges and button rows: a repaint then costs a blit per cell."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[tuple, QPixmap] = OrderedDict()

    def get(self, key: tuple) -> QPixmap | None:
        pixmap = self._items.get(key)
        if pixmap is not None:
            self._items.move_to_end(key)
        return pixmap

    def put(self, key: tuple, pixmap: QPixmap) -> None:
        self._items[key] = pixmap
        if len(self._items) > self._size:
            self._items.popitem(last=False)


_PIXMAPS = _PixmapLru()


def _draw_cell_background(option: QStyleOptionViewItem, painter: QPainter, cell_focus: bool = True) -> None:
    """Background, selection and (unless ``cell_focus`` is False) focus as the style draws them, no text."""
    opt = QStyleOptionViewItem(option)
    opt.text = ""
    opt.icon = QIcon()
    if not cell_focus:
        opt.state &= ~QStyle.StateFlag.State_HasFocus
    style = opt.widget.style() if opt.widget else QApplication.style()
    style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget)


def focus_ring_colour(option: QStyleOptionViewItem) -> QColor:
    """The highlight colour, or on a selected (highlighted) row the text colour drawn on it."""
    selected = bool(option.state & QStyle.StateFlag.State_Selected)
    role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
    return option.palette.color(QPalette.ColorGroup.Active, role)


class StatusBadgeDelegate(QStyledItemDelegate):
    """A rounded pill with the status word, coloured for light and dark palettes."""

    def _badge_font(self, base: QFont) -> QFont:
        font = QFont(base)
        font.setWeight(QFont.Weight.DemiBold)
        return font

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        _draw_cell_background(option, painter)
        text = index.data(Qt.ItemDataRole.DisplayRole) or ""
        status = index.data(Role.STATUS) or ""
        dpr = painter.device().devicePixelRatioF()
        key = ("badge", text, status, option.rect.height(), dpr, option.palette.cacheKey(), option.font.key())
        pixmap = _PIXMAPS.get(key)
        if pixmap is None:
            pixmap = self._render(text, status, option, dpr)
            _PIXMAPS.put(key, pixmap)
        top = option.rect.top() + (option.rect.height() - round(pixmap.height() / dpr)) // 2
        painter.drawPixmap(option.rect.left() + CELL_MARGIN + 2, top, pixmap)

    def _render(self, text: str, status: str, option: QStyleOptionViewItem, dpr: float) -> QPixmap:
        colours = accents(option.palette)
        fg, bg = {
            "active": (colours.active_fg, colours.active_bg),
            "expired": (colours.expired_fg, colours.expired_bg),
        }.get(status, (colours.inactive_fg, colours.inactive_bg))
        font = self._badge_font(option.font)
        fm = QFontMetrics(font)
        width = fm.horizontalAdvance(text) + 2 * 9
        height = min(fm.height() + 6, option.rect.height() - 4)
        pixmap = QPixmap(max(1, round(width * dpr)), max(1, round(height * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(bg)
        rect = QRect(0, 0, width, height)
        painter.drawRoundedRect(rect, height / 2, height / 2)
        painter.setPen(fg)
        painter.setFont(font)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        return pixmap

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        fm = QFontMetrics(self._badge_font(option.font))
        return QSize(fm.horizontalAdvance("Deactivated") + 2 * 9 + 2 * CELL_MARGIN + 4, fm.height() + 10)


class LabelDelegate(QStyledItemDelegate):
    """Edits labels in place; the model validates and requests the rename.

    Labels are elided in the middle: long labels often differ only at the end.

    A label that breaks a rule never closes the editor: Enter (or Tab) is held
    back and the rule is shown right under the cell (``labelEditorHint``), so
    the typed text stays and the message is where the eyes are. When the editor
    closed anyway (a click elsewhere, or the hub refused the label later), the
    window reopens it with the text via ``show_problem``.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hints: dict[QLineEdit, QLabel] = {}
        self._committed: dict[str, str] = {}  # key id -> text last committed from an editor
        self.closeEditor.connect(lambda editor, _hint=None: self._hide_hint(editor))

    def initStyleOption(self, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = LABEL_ELIDE

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: ModelIndex) -> QWidget:
        editor = QLineEdit(parent)
        editor.setObjectName("labelEditor")
        editor.setAccessibleName("Key label")
        editor.setPlaceholderText("Label, e.g. OpenAI AgentKit")
        editor.setFrame(False)
        hint = QLabel(parent)
        hint.setObjectName("labelEditorHint")
        hint.setTextFormat(Qt.TextFormat.PlainText)
        hint.hide()
        self._hints[editor] = hint
        editor.destroyed.connect(lambda _obj=None, e=editor: self._drop_hint(e))
        editor.textEdited.connect(lambda text, e=editor: self._recheck(e, text))
        return editor

    def _drop_hint(self, editor: QLineEdit) -> None:
        hint = self._hints.pop(editor, None)
        if hint is not None:
            hint.hide()
            hint.deleteLater()

    def _hide_hint(self, editor: QWidget) -> None:
        hint = self._hints.get(editor)  # type: ignore[call-overload]
        if hint is not None:
            hint.hide()

    def hint_for(self, editor: QWidget) -> QLabel | None:
        """The rule shown under ``editor`` (hidden when there is none)."""
        return self._hints.get(editor)  # type: ignore[call-overload]

    def show_problem(self, editor: QLineEdit, message: str) -> None:
        """Show ``message`` right under the editor's cell ('' hides it)."""
        hint = self._hints.get(editor)
        if hint is None:
            return
        if not message:
            hint.hide()
            return
        colours = accents(editor.palette())
        hint.setStyleSheet(
            f"QLabel#labelEditorHint {{ color: {colours.danger.name()};"
            f" background-color: {colours.error_bg.name()}; border: 1px solid {colours.error_border.name()};"
            " border-radius: 4px; padding: 3px 8px; }"
        )
        hint.setText(message)
        hint.setAccessibleName(message)
        hint.adjustSize()
        self._place_hint(editor, hint)
        hint.show()
        hint.raise_()
        from .accessibility import announce

        announce(hint, message, assertive=True)

    def _place_hint(self, editor: QWidget, hint: QLabel) -> None:
        """Just below the cell, or just above when the cell is at the bottom of the list."""
        parent = hint.parentWidget()
        area = parent.rect() if parent is not None else editor.rect()
        cell = editor.geometry()
        room = max(area.width() - cell.left() - 4, 240)
        hint.setWordWrap(False)
        natural = hint.sizeHint().width()
        hint.setWordWrap(natural > room)  # a long rule wraps instead of running off the list
        width = min(natural, room)
        hint.resize(width, hint.heightForWidth(width) if natural > room else hint.sizeHint().height())
        top = cell.bottom() + 2
        if top + hint.height() > area.bottom():
            top = cell.top() - hint.height() - 2
        left = max(0, min(cell.left(), area.right() - width))
        hint.move(left, top)

    def _recheck(self, editor: QLineEdit, text: str) -> None:
        """While a rule is shown, keep it current as the user types (and hide it once fixed)."""
        hint = self._hints.get(editor)
        if hint is not None and hint.isVisible():
            self.show_problem(editor, label_problem(text) or "")

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if (isinstance(obj, QLineEdit) and obj in self._hints and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Tab, Qt.Key.Key_Backtab)):
            problem = label_problem(obj.text())
            if problem is not None:
                self.show_problem(obj, problem)
                return True  # the editor stays open with the text
        return super().eventFilter(obj, event)

    def take_committed(self, key_id: str) -> str | None:
        """The text an editor last committed for ``key_id`` (once), to reopen the editor with it."""
        return self._committed.pop(key_id, None)

    def setEditorData(self, editor: QWidget, index: ModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            editor.setText(index.data(Qt.ItemDataRole.EditRole) or "")
            editor.selectAll()

    def setModelData(self, editor: QWidget, model: QAbstractItemModel, index: ModelIndex) -> None:
        if isinstance(editor, QLineEdit):
            key_id = index.data(Role.ID)
            if key_id:
                self._committed[key_id] = editor.text()  # for a refusal signalled from inside setData
            model.setData(index, editor.text(), Qt.ItemDataRole.EditRole)
            if key_id:
                self._committed.pop(key_id, None)  # sent (or refused and already taken): nothing to keep

    def updateEditorGeometry(self, editor: QWidget, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        editor.setGeometry(option.rect)
        hint = self._hints.get(editor)  # type: ignore[call-overload]
        if hint is not None and hint.isVisible():
            self._place_hint(editor, hint)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        state = index.data(Role.SAVE_STATE)
        if not state:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else QApplication.style()
        text_rect = style.subElementRect(QStyle.SubElement.SE_ItemViewItemText, opt, opt.widget)
        # the same inner margin the style uses for item text, so labels line up across rows
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, opt.widget) + 1
        text_rect.adjust(margin, 0, -margin - 2, 0)
        _draw_cell_background(opt, painter)
        colours = accents(opt.palette)
        fm = QFontMetrics(opt.font)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        if state == "saved":
            note, colour = SAVED_TEXT, colours.success
        else:
            note = SAVING_TEXT
            colour = opt.palette.color(QPalette.ColorRole.PlaceholderText)
        on_pill = selected and state == "saved"  # the green check stays green on a selected row
        if selected and not on_pill:
            colour = opt.palette.color(QPalette.ColorRole.HighlightedText)
        icon_px = fm.height() - 2 if state == "saved" else 0
        note_width = fm.horizontalAdvance(note) + (icon_px + 4 if icon_px else 0)
        note_rect = QRect(text_rect.right() - note_width, text_rect.top(), note_width, text_rect.height())
        label_rect = QRect(text_rect)
        label_rect.setRight(note_rect.left() - 8)
        painter.save()
        painter.setFont(opt.font)
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(text_role))
        elided = fm.elidedText(opt.text, LABEL_ELIDE, max(0, label_rect.width()))
        painter.drawText(label_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), elided)
        if on_pill:
            # A small light (or dark) pill under the note, so green reads on the selection colour.
            pill = QRect(note_rect).adjusted(-5, 0, 5, 0)
            pill.setHeight(fm.height() + 4)
            pill.moveTop(note_rect.top() + (note_rect.height() - pill.height()) // 2)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(opt.palette.color(QPalette.ColorRole.Base))
            painter.drawRoundedRect(pill, pill.height() / 2, pill.height() / 2)
        if icon_px:
            icon_rect = QRect(note_rect.left(), 0, icon_px, icon_px)
            icon_rect.moveTop(note_rect.top() + (note_rect.height() - icon_px) // 2)
            icon("check", colour).paint(painter, icon_rect)
            note_rect.setLeft(icon_rect.right() + 5)
        painter.setPen(colour)
        painter.drawText(note_rect, int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft), note)
        painter.restore()


class ActionsDelegate(QStyledItemDelegate):
    """Lifecycle buttons painted per row; ``actionTriggered(key_id, action)`` on click."""

    actionTriggered = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._hover: tuple[str, str] | None = None  # (key id, action) under the mouse
        self._pressed: tuple[str, str] | None = None

    # -- geometry ------------------------------------------------------------------------------
    @staticmethod
    def button_rects(cell: QRect, actions: tuple[str, ...], fm: QFontMetrics) -> list[tuple[str, QRect]]:
        height = min(fm.height() + 10, cell.height() - 4)
        top = cell.top() + (cell.height() - height) // 2
        x = cell.left() + CELL_MARGIN
        rects = []
        for action in actions:
            width = fm.horizontalAdvance(ACTION_TEXT[action]) + 2 * BUTTON_HPAD
            rects.append((action, QRect(x, top, width, height)))
            x += width + BUTTON_SPACING
        return rects

    @staticmethod
    def preferred_width(fm: QFontMetrics) -> int:
        widest = max(
            sum(fm.horizontalAdvance(ACTION_TEXT[a]) + 2 * BUTTON_HPAD for a in group)
            + BUTTON_SPACING * (len(group) - 1)
            for group in (("deactivate", "rotate"), ("reactivate", "delete"), ("delete",))
        )
        return widest + 2 * CELL_MARGIN + 4

    def action_at(self, option: QStyleOptionViewItem, index: ModelIndex, pos: QPoint) -> str | None:
        actions = index.data(Role.ACTIONS) or ()
        for action, rect in self.button_rects(option.rect, actions, QFontMetrics(option.font)):
            if rect.contains(pos):
                return action
        return None

    # -- painting ------------------------------------------------------------------------------
    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        # The ring goes on the focused button, not around the whole cell.
        _draw_cell_background(option, painter, cell_focus=False)
        actions = index.data(Role.ACTIONS) or ()
        if not actions:
            return
        busy = bool(index.data(Role.BUSY))
        key_id = index.data(Role.ID)
        enabled = not busy and bool(option.state & QStyle.StateFlag.State_Enabled)
        hovered_cell = bool(option.state & QStyle.StateFlag.State_MouseOver)
        focused_cell = bool(option.state & QStyle.StateFlag.State_HasFocus)
        focus = index.data(Role.ACTION_FOCUS) or 0
        states = tuple(
            (
                action,
                enabled,
                hovered_cell and self._hover == (key_id, action),
                self._pressed == (key_id, action),
                focused_cell and i == focus,
            )
            for i, action in enumerate(actions)
        )
        dpr = painter.device().devicePixelRatioF()
        size = option.rect.size()
        key = ("actions", states, bool(option.state & QStyle.StateFlag.State_Selected), size.width(),
               size.height(), dpr, option.palette.cacheKey(), option.font.key())
        pixmap = _PIXMAPS.get(key)
        if pixmap is None:
            pixmap = self._render(states, option, dpr)
            _PIXMAPS.put(key, pixmap)
        painter.drawPixmap(option.rect.topLeft(), pixmap)

    def _render(self, states: tuple, option: QStyleOptionViewItem, dpr: float) -> QPixmap:
        """The cell's buttons drawn by the current style into a transparent pixmap (cached)."""
        size = option.rect.size()
        pixmap = QPixmap(max(1, round(size.width() * dpr)), max(1, round(size.height() * dpr)))
        pixmap.setDevicePixelRatio(dpr)
        pixmap.fill(Qt.GlobalColor.transparent)
        widget = option.widget
        style = widget.style() if widget else QApplication.style()
        fm = QFontMetrics(option.font)
        colours = accents(option.palette)
        cell = QRect(0, 0, size.width(), size.height())
        actions = tuple(state[0] for state in states)
        painter = QPainter(pixmap)
        painter.setFont(option.font)
        for (action, rect), (_, enabled, hovered, pressed, focused) in zip(
            self.button_rects(cell, actions, fm), states, strict=True
        ):
            button = QStyleOptionButton()
            if widget is not None:
                button.initFrom(widget)
            button.rect = rect
            button.text = ACTION_TEXT[action]
            button.fontMetrics = fm
            button.palette = QPalette(option.palette)
            state = QStyle.StateFlag.State_Raised
            if enabled:
                state |= QStyle.StateFlag.State_Enabled
                if action == "delete":
                    button.palette.setColor(QPalette.ColorRole.ButtonText, colours.danger)
            else:
                button.palette.setCurrentColorGroup(QPalette.ColorGroup.Disabled)
            if hovered:
                state |= QStyle.StateFlag.State_MouseOver
            if pressed:
                state |= QStyle.StateFlag.State_Sunken
            if focused:
                state |= QStyle.StateFlag.State_HasFocus | QStyle.StateFlag.State_KeyboardFocusChange
            button.state = state
            style.drawControl(QStyle.ControlElement.CE_PushButton, button, painter, widget)
            if focused:
                self._draw_focus_ring(painter, rect, focus_ring_colour(option))
        painter.end()
        return pixmap

    @staticmethod
    def _draw_focus_ring(painter: QPainter, rect: QRect, colour: QColor) -> None:
        """A ring drawn by us, not the style: visible in every style, light or dark."""
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(colour, FOCUS_RING_WIDTH)
        painter.setPen(pen)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        ring = rect.adjusted(-1, -1, 1, 1)
        painter.drawRoundedRect(ring.toRectF().adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: ModelIndex) -> QSize:
        fm = QFontMetrics(option.font)
        return QSize(self.preferred_width(fm), fm.height() + 14)

    # -- interaction ---------------------------------------------------------------------------
    def editorEvent(
        self, event: QEvent, model: QAbstractItemModel, option: QStyleOptionViewItem, index: ModelIndex
    ) -> bool:
        kind = event.type()
        if kind not in (
            QEvent.Type.MouseMove,
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
        ) or not isinstance(event, QMouseEvent):
            return False
        key_id = index.data(Role.ID)
        action = self.action_at(option, index, event.position().toPoint())
        target = (key_id, action) if action else None
        view = option.widget
        if kind == QEvent.Type.MouseMove:
            if target != self._hover:
                self._hover = target
                self._repaint(view, option.rect)
            return False
        if event.button() != Qt.MouseButton.LeftButton:
            return False
        if index.data(Role.BUSY):
            return target is not None
        if kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick):
            self._pressed = target
            self._repaint(view, option.rect)
            return target is not None
        # release
        pressed, self._pressed = self._pressed, None
        self._repaint(view, option.rect)
        if target is not None and pressed == target:
            self.actionTriggered.emit(key_id, action)
            return True
        return pressed is not None

    def clear_hover(self) -> None:
        self._hover = None

    @staticmethod
    def _repaint(view: QWidget | None, rect: QRect) -> None:
        viewport = getattr(view, "viewport", None)
        if callable(viewport):
            viewport().update(rect)
