"""The key list's order by keyboard: a Sort By menu that does what clicking a column header does.

The header is not in the Tab chain (no table header is), so without this menu sorting would be
mouse-only. The menu drives the header's sort indicator, so the header, the model and the menu
can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QHeaderView, QMenu


def add_sort_menu(parent: QMenu, header: QHeaderView, columns: Iterable[tuple[int, str]],
                  before: QAction | None = None) -> QMenu:
    """Put a "Sort By" submenu in ``parent`` (before ``before``, else at the end): one checkable
    entry per sortable column, then "Descending". Checks follow the header each time it opens."""
    menu = QMenu("Sort &By", parent)
    if before is None:
        parent.addMenu(menu)
    else:
        parent.insertMenu(before, menu)
    menu.setObjectName("sortMenu")
    group = QActionGroup(menu)
    group.setExclusive(True)
    by_column: dict[int, QAction] = {}
    for column, title in columns:
        action = QAction(title, menu)
        action.setObjectName(f"sortBy{title.title().replace(' ', '')}")
        action.setCheckable(True)
        action.triggered.connect(lambda _checked=False, c=column: header.setSortIndicator(
            c, header.sortIndicatorOrder()))
        group.addAction(action)
        menu.addAction(action)
        by_column[column] = action
    menu.addSeparator()
    descending = QAction("&Descending", menu)
    descending.setObjectName("sortDescending")
    descending.setCheckable(True)
    descending.triggered.connect(lambda checked: header.setSortIndicator(
        header.sortIndicatorSection(),
        Qt.SortOrder.DescendingOrder if checked else Qt.SortOrder.AscendingOrder))
    menu.addAction(descending)

    def follow_header() -> None:
        current = by_column.get(header.sortIndicatorSection())
        if current is not None:
            current.setChecked(True)
        descending.setChecked(header.sortIndicatorOrder() == Qt.SortOrder.DescendingOrder)

    menu.aboutToShow.connect(follow_header)
    follow_header()
    return menu
