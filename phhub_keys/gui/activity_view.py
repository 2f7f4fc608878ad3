"""The Activity view (``activityDialog``): a key's events, or the whole account's, newest first.

The hub keeps events for a year, deleted keys included, so this is the inventory that
never forgets. Pages come from the hub's cursor (``next_before``): "Load older" asks for
the next page on a worker thread and appends it; rows never move under the reader.
The table is model/view (``EventsModel``), like the key list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ..api.errors import HubError
from ..api.messages import failure_text
from ..core.expiry import duration_text
from ..core.timestamps import parse_ts
from .keys_model import format_absolute, format_created
from .plain_label import PlainLabel
from .workers import run_in_pool

PAGE_SIZE = 50
ModelIndex = QModelIndex | QPersistentModelIndex
HEADERS = ("When", "Key", "What happened", "By")


def _ts_text(value: object) -> str:
    if not isinstance(value, str) or not value:
        return "never"
    try:
        when = parse_ts(value)
    except ValueError:
        return value
    return format_created(when) if when else "never"


def describe(kind: str, detail: dict[str, Any], name_for: Callable[[str], str] = str) -> str:
    """One line per event kind, in words (detail strings were cleaned by the hub); ``name_for``
    turns a key id into what the user knows it by (its redacted preview, when the list has it)."""
    d = detail or {}
    if kind == "created":
        expires = d.get("expires_at")
        return "Created" + (f", expires {_ts_text(expires)}" if expires else ", no expiry")
    if kind == "renamed":
        return f"Renamed from “{d.get('from', '')}” to “{d.get('to', '')}”"
    if kind == "expiry_changed":
        verb = "Renewed: expiry" if d.get("renewed") else "Expiry"
        return f"{verb} changed from {_ts_text(d.get('from'))} to {_ts_text(d.get('to'))}"
    if kind == "rotated":
        if d.get("to"):
            grace = d.get("grace_seconds")
            tail = "" if not isinstance(grace, int) else (
                "; deactivated at once" if grace == 0 else f"; kept working {duration_text(grace)} more")
            return f"Rotated: replaced by {name_for(str(d['to']))}{tail}"
        if d.get("from"):
            return f"Created by rotating {name_for(str(d['from']))}"
        return "Created by a rotation"
    if kind == "first_use_by_client":
        return f"First used by {d.get('client') or 'an MCP client'}"
    if kind == "new_address":
        return f"Used from a new address: {d.get('ip', '?')}"
    words = {"deactivated": "Deactivated", "reactivated": "Reactivated", "expired": "Expired",
             "deleted": "Deleted"}
    return words.get(kind, kind.replace("_", " ").capitalize())


class EventsModel(QAbstractTableModel):
    """Rows of hub events (objects with id, at, key_id, key_label, kind, detail, actor)."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._events: list[Any] = []
        self._ids: set[str] = set()
        self.name_for: Callable[[str], str] = str  # key id -> what to call it (the window's previews)

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(HEADERS):
            return HEADERS[section]
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid():
            return None
        event = self._events[index.row()]
        col = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            if col == 0:
                return format_created(event.at)
            if col == 1:
                return event.key_label
            if col == 2:
                return describe(event.kind, event.detail, self.name_for)
            if col == 3:
                return "you" if event.actor == "session" else "the hub"
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == 0:
                return format_absolute(event.at)
            if col == 1:
                return f"{event.key_label}\nKey id: {event.key_id}"
            if col == 2:
                return describe(event.kind, event.detail, self.name_for)
            if col == 3:
                return ("Done by a signed-in session" if event.actor == "session"
                        else "Done by the hub itself (expiry, MCP use)")
        if role == Qt.ItemDataRole.UserRole:
            return event
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def append(self, events: list[Any]) -> int:
        """Add an older page at the end (events already shown are skipped); returns how many were added."""
        new = [e for e in events if e.id not in self._ids]
        if not new:
            return 0
        first = len(self._events)
        self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
        self._events.extend(new)
        self._ids.update(e.id for e in new)
        self.endInsertRows()
        return len(new)

    def clear(self) -> None:
        self.beginResetModel()
        self._events = []
        self._ids = set()
        self.endResetModel()

    def events(self) -> list[Any]:
        return list(self._events)


class ActivityDialog(QDialog):
    """Non-modal. ``fetch(limit, before) -> page`` (a page has ``events`` and ``next_before``) runs on a
    worker; ``pageLoaded(count)`` after each page."""

    pageLoaded = Signal(int)

    def __init__(self, fetch: Callable[..., Any], *, title: str, subtitle: str, hub_host: str = "",
                 parent: QWidget | None = None, page_size: int = PAGE_SIZE,
                 name_for: Callable[[str], str] = str) -> None:
        super().__init__(parent)
        self.setObjectName("activityDialog")
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self._fetch = fetch
        self._hub_host = hub_host
        self._page_size = page_size
        self._next: str | None = None
        self._retry: tuple[str | None] | None = None  # the page that failed, for "Retry"
        self._pending: str | None = None
        self._loading = False
        self._started = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(8)
        heading = PlainLabel(subtitle, self)
        heading.setObjectName("activitySubtitle")
        heading.setWordWrap(True)
        layout.addWidget(heading)
        self.model = EventsModel(self)
        self.model.name_for = name_for
        self.table = QTableView(self)
        self.table.setObjectName("activityTable")
        self.table.setAccessibleName("Events, newest first")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        fm = self.table.fontMetrics()
        self.table.verticalHeader().setDefaultSectionSize(fm.height() + 12)
        header = self.table.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.resizeSection(0, fm.horizontalAdvance("2026-12-31 23:59") + 28)
        header.resizeSection(1, fm.horizontalAdvance("M" * 14) + 20)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(3, fm.horizontalAdvance("the hub") + 28)
        layout.addWidget(self.table, 1)
        footer = QHBoxLayout()
        self.status_label = PlainLabel(self)
        self.status_label.setObjectName("activityStatus")
        self.status_label.setWordWrap(True)
        footer.addWidget(self.status_label, 1)
        self.more_button = QPushButton("Load older", self)
        self.more_button.setObjectName("activityMoreButton")
        self.more_button.setAccessibleName("Load older events")
        self.more_button.clicked.connect(self.load_more)
        self.more_button.setEnabled(False)
        footer.addWidget(self.more_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        footer.addWidget(buttons)
        layout.addLayout(footer)
        self.resize(880, 480)

    def start(self) -> None:
        """Load the first page (once)."""
        if not self._started:
            self._started = True
            self._load(None)

    def has_more(self) -> bool:
        return self._next is not None

    def load_more(self) -> bool:
        """The next (older) page, or the page that failed last time again."""
        if self._loading:
            return False
        if self._retry is not None:
            self._load(self._retry[0])
            return True
        if self._next is None:
            return False
        self._load(self._next)
        return True

    def _load(self, before: str | None) -> None:
        self._loading = True
        self._retry = None
        self._pending = before
        self.more_button.setText("Load older")
        self.more_button.setEnabled(False)
        self.status_label.setText("Loading…")
        job = run_in_pool(self._fetch, limit=self._page_size, before=before, name="events")
        job.succeeded.connect(self._loaded)
        job.failed.connect(self._failed)

    def _loaded(self, page: Any) -> None:
        if not shiboken6.isValid(self):
            return
        self._loading = False
        added = self.model.append(list(page.events))
        self._next = page.next_before
        total = self.model.rowCount()
        if total == 0:
            self.status_label.setText("No events yet.")
        else:
            more = "" if self._next is None else "; older events are available"
            self.status_label.setText(f"{total} event{'s' if total != 1 else ''} shown{more}.")
        self.more_button.setEnabled(self._next is not None)
        self.pageLoaded.emit(added)

    def _failed(self, exc: BaseException) -> None:
        if not shiboken6.isValid(self):
            return
        self._loading = False
        self._retry = (self._pending,)
        self.more_button.setText("Retry")  # the word the hub messages use ("then press Retry")
        self.more_button.setEnabled(True)
        text = failure_text(exc, self._hub_host) if isinstance(exc, HubError) else str(exc)
        self.status_label.setText(f"Could not load events: {text}")
