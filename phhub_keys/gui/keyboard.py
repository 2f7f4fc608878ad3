"""Keyboard behaviour Qt leaves out of plain (non-dialog) windows, in one place.

Why: in a QMainWindow a focused push or tool button ignores Enter (only Space
presses it; Enter works in dialogs because their buttons are auto-default), so a
keyboard user who Tabs to "Create Key" and presses Enter gets nothing. And Qt
draws the focus ring only while the window's last focus change came from the
keyboard: a plain ``setFocus()`` by the app (after Create, after the last key is
deleted) clears that, leaving the focus on a button nobody can see.
"""

from __future__ import annotations

import weakref

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractButton, QApplication, QToolButton, QWidget

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_PLAIN = (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)


def focus_visibly(widget: QWidget) -> None:
    """Move the keyboard focus to ``widget`` with its focus ring shown: the app moved it, so show where."""
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    widget.window().setAttribute(Qt.WidgetAttribute.WA_KeyboardFocusChange, True)
    widget.update()


# A button disabled while it had the focus -> where Qt sent the focus then.
_handed_on: weakref.WeakKeyDictionary[QWidget, weakref.ReferenceType[QWidget]] = weakref.WeakKeyDictionary()


def set_enabled_keeping_focus(widget: QWidget, enabled: bool) -> None:
    """Enable or disable ``widget``; disabling it while it has the focus (Refresh while it lists,
    Open while a file loads) makes Qt pass the focus on for good, so it comes back on re-enable
    as long as the user has not moved it since."""
    if not enabled and widget.isEnabled() and widget.hasFocus():
        widget.setEnabled(False)
        moved = QApplication.focusWidget()
        if moved is not None:
            _handed_on[widget] = weakref.ref(moved)
            for earlier, ref in list(_handed_on.items()):  # Open -> Compare -> the check box
                if ref() is widget:
                    _handed_on[earlier] = weakref.ref(moved)
        return
    widget.setEnabled(enabled)
    if enabled:
        moved_ref = _handed_on.pop(widget, None)
        moved = moved_ref() if moved_ref is not None else None
        if moved is not None and QApplication.focusWidget() is moved and widget.isVisible():
            focus_visibly(widget)


class EnterPressesButtons(QObject):
    """Installed on a main window: Enter on its focused button presses it, as Space does.

    A button that used Enter itself (an auto-default one) accepts the key, so only
    the ones that let it pass up to the window are pressed here.
    """

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() in _ENTER and event.modifiers() in _PLAIN and not event.isAutoRepeat():
                button = QApplication.focusWidget()
                if (isinstance(button, QAbstractButton) and button.window() is self._window
                        and button.isEnabled() and button.isVisible()):
                    if isinstance(button, QToolButton) and button.menu() is not None:
                        button.showMenu()
                    else:
                        button.animateClick()
                    return True
        return super().eventFilter(watched, event)
