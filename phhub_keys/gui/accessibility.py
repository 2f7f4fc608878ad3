"""Screen-reader support in one place: announcing status changes and naming Qt's unnamed parts.

Why: a status that appears beside the focus ("Changes Saved", "Copied", an error
banner) is invisible to a screen reader unless it is announced, because the
focus does not move there. Qt 6.8 added ``QAccessibleAnnouncementEvent``, which
the Linux AT-SPI bridge turns into the ``Announcement`` signal Orca speaks; on
older Qt the label's name change is sent instead (spoken by screen readers that
follow live regions).
"""

from __future__ import annotations

from PySide6 import QtGui
from PySide6.QtWidgets import QComboBox, QLineEdit, QToolButton, QWidget


def announce(source: QWidget, text: str, *, assertive: bool = False) -> None:
    """Have assistive tools speak ``text`` now (polite: after current speech; assertive: at once)."""
    # Imported here, not at the top: the QAccessible class brings ~200 enum members that the
    # window's first paint does not need (docs/performance.md, cold start).
    from PySide6.QtGui import QAccessible, QAccessibleEvent

    text = text.strip()
    if not text or not QAccessible.isActive():
        return
    announcement = getattr(QtGui, "QAccessibleAnnouncementEvent", None)  # Qt >= 6.8
    if announcement is not None:
        event = announcement(source, text)
        politeness = QAccessible.AnnouncementPoliteness
        event.setPoliteness(politeness.Assertive if assertive else politeness.Polite)
        QAccessible.updateAccessibility(event)
        return
    QAccessible.updateAccessibility(QAccessibleEvent(source, QAccessible.Event.NameChanged))


def name_popup_lists(root: QWidget) -> None:
    """Name each combo box's drop-down list after its combo box (Qt leaves the list unnamed)."""
    for combo in root.findChildren(QComboBox):
        view = combo.view()
        if view is not None and not view.accessibleName():
            view.setAccessibleName(f"{combo.accessibleName() or 'Choices'}: choices")


def name_clear_button(field: QLineEdit, name: str = "Clear") -> None:
    """Give a line edit's built-in clear button (an unnamed QToolButton) a name."""
    field.setClearButtonEnabled(True)
    for button in field.findChildren(QToolButton):
        if not button.accessibleName():
            button.setAccessibleName(name)
