"""Table models of the CSV review window: the file's rows, its flags, and the changes between two files.

Built for 100,000-row files: the row model holds the parsed tuples and formats
a cell only when the view asks for it (a screenful at a time); sorting and
filtering happen inside the model (one Python ``sort`` over precomputed keys,
one substring scan over cached haystacks) instead of a QSortFilterProxyModel,
whose per-comparison ``lessThan``/``data`` calls would cost seconds.

Full secrets (a shown-once CSV) are shown redacted unless ``set_revealed(True)``;
tooltips, the filter and every other role only ever see the redacted form.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QFont, QFontDatabase, QIcon

from ..core.csvio import CsvDocument, CsvRow
from ..core.review import Change, Comparison, Flag, Review, shown_key
from ..core.wording import natural_key
from .theme import accents

ModelIndex = QModelIndex | QPersistentModelIndex
DISPLAY = Qt.ItemDataRole.DisplayRole
TOOLTIP = Qt.ItemDataRole.ToolTipRole


class Role(enum.IntEnum):
    ROW = Qt.ItemDataRole.UserRole + 1  # the CsvRow
    FLAGS = Qt.ItemDataRole.UserRole + 2  # tuple of Flag
    LINE = Qt.ItemDataRole.UserRole + 3  # the file line (int)


# Column id -> (header, header tooltip). The row model shows the columns the file has, in this order.
COLUMNS: dict[str, tuple[str, str]] = {
    "line": ("Line", "Line number in the file"),
    "key": ("Key", "The key (redacted; full keys of a secret file are hidden until you press Reveal)"),
    "status": ("Status", "Active keys authenticate MCP requests; deactivated keys are rejected"),
    "label": ("Label", "The key's label"),
    "created_at": ("Created", "When the key was created (your local time)"),
    "last_used_at": ("Last used", "When an MCP client last used the key"),
    "expires_at": ("Expires", "When the key stops working (Never: no expiry)"),
    "flags": ("Flags", "Why a key needs attention; hover for the reason"),
    "server_url": ("Server URL", "The MCP server the key is for"),
    "id": ("ID", "The hub's key id"),
}



def format_time(dt: datetime | None, never: str = "") -> str:
    """The day, local time: a review works in days (90 days unused, expires in 10 days), and with the
    Expires column the label needs the room; the tooltip has the exact UTC time and "N days ago"."""
    return dt.astimezone().strftime("%Y-%m-%d") if dt else never


def _days_ago(dt: datetime, now: datetime) -> str:
    days = (now - dt).days
    if days <= 0:
        return "today"
    return "yesterday" if days == 1 else f"{days} days ago"


def _time_sort(dt: datetime | None) -> float:
    return dt.timestamp() if dt else float("-inf")


class CsvRowsModel(QAbstractTableModel):
    """The rows of one CSV document, with their flags; sorts and filters itself."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[CsvRow] = []
        self._review: Review | None = None
        self._flag_cache: dict[int, tuple[Flag, ...]] = {}
        self._flagged: set[int] | None = None
        self._columns: list[str] = []
        self._order: list[int] = []  # all row positions, in the current sort order
        self._visible: list[int] = []  # the filtered subset of _order
        self._haystacks: list[str] | None = None
        self._filter = ""
        self._flagged_only = False
        self._sort: tuple[int, Qt.SortOrder] = (0, Qt.SortOrder.AscendingOrder)
        self._revealed = False
        self._holds_secrets = False
        self._as_of: datetime | None = None
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._warning_icon: QIcon | None = None

    # ---------------------------------------------------------------- loading
    def set_document(self, doc: CsvDocument | None, result: Review | None) -> None:
        """Show ``doc`` (None: nothing); keeps the current filter and sort column when it still exists."""
        self.beginResetModel()
        self._rows = doc.rows if doc else []
        self._review = result
        self._flag_cache = {}
        self._flagged = None
        self._as_of = result.as_of if result else None
        self._holds_secrets = bool(result and result.summary.holds_secrets)
        self._revealed = False
        present = set(doc.columns) if doc else set()
        self._columns = [c for c in COLUMNS if c in ("line", "flags") or c in present] if doc else []
        self._haystacks = None
        self._order = list(range(len(self._rows)))
        if self._sort != (0, Qt.SortOrder.AscendingOrder) and self._sort[0] < len(self._columns):
            self._order.sort(key=self._sort_key(self._columns[self._sort[0]]))
            if self._sort[1] == Qt.SortOrder.DescendingOrder:
                self._order.reverse()
        self._apply_filter()
        self.endResetModel()

    # ---------------------------------------------------------------- queries
    @property
    def columns(self) -> list[str]:
        return list(self._columns)

    def column_of(self, name: str) -> int:
        """The view column showing ``name`` (e.g. "flags"), or -1."""
        return self._columns.index(name) if name in self._columns else -1

    def row_at(self, view_row: int) -> CsvRow:
        return self._rows[self._visible[view_row]]

    def view_row_of_line(self, line: int) -> int:
        """The view row showing file line ``line``, or -1 (filtered out or absent)."""
        for view_row, pos in enumerate(self._visible):
            if self._rows[pos].line == line:
                return view_row
        return -1

    @property
    def revealed(self) -> bool:
        return self._revealed

    @property
    def holds_secrets(self) -> bool:
        return self._holds_secrets

    def set_revealed(self, revealed: bool) -> None:
        """Show full keys (True) or their redacted form (False); only the key column changes."""
        if revealed == self._revealed:
            return
        self._revealed = revealed
        col = self.column_of("key")
        if col >= 0 and self._visible:
            self.dataChanged.emit(self.index(0, col), self.index(len(self._visible) - 1, col), [DISPLAY])

    # ---------------------------------------------------------------- filter
    def set_filter(self, text: str) -> None:
        needle = text.strip().casefold()
        if needle == self._filter:
            return
        self.beginResetModel()
        self._filter = needle
        self._apply_filter()
        self.endResetModel()

    def set_flagged_only(self, flagged_only: bool) -> None:
        if flagged_only == self._flagged_only:
            return
        self.beginResetModel()
        self._flagged_only = flagged_only
        self._apply_filter()
        self.endResetModel()

    def _apply_filter(self) -> None:
        order = self._order
        if self._flagged_only:
            flagged = self._flagged_set()
            order = [pos for pos in order if pos in flagged]
        if self._filter:
            hay = self._haystacks_built()
            needle = self._filter
            order = [pos for pos in order if needle in hay[pos]]
        self._visible = order if order is not self._order else list(order)

    def _flagged_set(self) -> set[int]:
        if self._flagged is None:
            self._flagged = set(self._review.flagged) if self._review else set()
        return self._flagged

    def flags_at(self, pos: int) -> tuple[Flag, ...]:
        """The flags of row position ``pos``, made on first use (the review makes them lazily)."""
        if self._review is None or pos not in self._flagged_set():
            return ()
        found = self._flag_cache.get(pos)
        if found is None:
            found = self._flag_cache[pos] = self._review.flags_at(pos)
        return found

    def _haystacks_built(self) -> list[str]:
        if self._haystacks is None:
            flags = self.flags_at
            self._haystacks = [
                "\x1f".join((
                    str(row.line),
                    shown_key(row) or "",
                    row.status.value if row.status else "",
                    row.label or "",
                    row.id or "",
                    row.server_url or "",
                    " ".join(f.kind.words for f in flags(pos)),
                )).casefold()
                for pos, row in enumerate(self._rows)
            ]
        return self._haystacks

    # ---------------------------------------------------------------- sort
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self._columns):
            return
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        lines = [self._rows[self._visible[p.row()]].line if p.row() < len(self._visible) else -1
                 for p in persistent]
        self._sort = (column, order)
        self._order = list(range(len(self._rows)))
        self._order.sort(key=self._sort_key(self._columns[column]))
        if order == Qt.SortOrder.DescendingOrder:
            self._order.reverse()
        self._apply_filter()
        if persistent:
            where = {self._rows[pos].line: view_row for view_row, pos in enumerate(self._visible)}
            self.changePersistentIndexList(
                persistent,
                [self.index(where[line], p.column()) if line in where else QModelIndex()
                 for p, line in zip(persistent, lines, strict=True)],
            )
        self.layoutChanged.emit()

    def _sort_key(self, name: str) -> Callable[[int], Any]:
        rows, flags = self._rows, self.flags_at
        if name == "line":
            return lambda pos: rows[pos].line
        if name in ("created_at", "last_used_at", "expires_at"):
            field = CsvRow._fields.index(name)
            return lambda pos: _time_sort(cast("datetime | None", rows[pos][field]))
        if name == "flags":
            return lambda pos: (len(flags(pos)), [f.kind.value for f in flags(pos)])
        if name == "status":
            return lambda pos: (status.value if (status := rows[pos].status) else "")
        if name == "key":
            return lambda pos: shown_key(rows[pos]) or ""
        field = CsvRow._fields.index(name)
        return lambda pos: natural_key(cast("str | None", rows[pos][field]) or "")

    # ---------------------------------------------------------------- Qt model API
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._visible)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self._columns):
            return None
        header, tip = COLUMNS[self._columns[section]]
        if role == DISPLAY:
            return header
        if role == TOOLTIP:
            return tip
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: ModelIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._visible):
            return None
        pos = self._visible[index.row()]
        row = self._rows[pos]
        name = self._columns[index.column()]
        if role == DISPLAY:
            return self._display(row, pos, name)
        if role == TOOLTIP:
            return self._tooltip(row, pos, name)
        if role == Qt.ItemDataRole.AccessibleTextRole:  # a blank cell still says what it is
            return self._display(row, pos, name) or f"No {COLUMNS[name][0].lower()}"
        if role == Role.ROW:
            return row
        if role == Role.FLAGS:
            return self.flags_at(pos)
        if role == Role.LINE:
            return row.line
        if role == Qt.ItemDataRole.DecorationRole and name == "flags" and self.flags_at(pos):
            return self._warning()
        if role == Qt.ItemDataRole.ForegroundRole and name == "flags" and self.flags_at(pos):
            return QBrush(accents().danger)
        if role == Qt.ItemDataRole.FontRole and name == "key":
            return self._mono
        if role == Qt.ItemDataRole.TextAlignmentRole and name == "line":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: CsvRow, pos: int, name: str) -> str:
        if name == "line":
            return str(row.line)
        if name == "key":
            if self._revealed or not row.key:
                return row.key or ""
            return shown_key(row) or ""
        if name == "status":
            return row.status.display if row.status else ""
        if name == "created_at":
            return format_time(row.created_at)
        if name == "last_used_at":
            return format_time(row.last_used_at, "Never")
        if name == "expires_at":
            return format_time(row.expires_at, "Never")
        if name == "flags":
            return ", ".join(f.kind.words for f in self.flags_at(pos))
        value = getattr(row, name)
        return value or ""

    def _tooltip(self, row: CsvRow, pos: int, name: str) -> str | None:
        if name == "flags":
            return "\n".join(f.reason for f in self.flags_at(pos)) or None
        if name == "key" and row.holds_secret:
            return "A full key: anyone with it can use your account" if self._revealed else (
                "A full key, hidden: press Reveal keys to show it"
            )
        if name in ("created_at", "last_used_at", "expires_at"):
            dt = getattr(row, name)
            if dt is None:
                return {"last_used_at": "Never used", "expires_at": "No expiry"}.get(name)
            utc = dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            if name == "expires_at":
                from ..core.expiry import expiry_text

                return f"{utc}, {expiry_text(dt, self._as_of).lower()}" if self._as_of else utc
            ago = f", {_days_ago(dt, self._as_of)}" if self._as_of else ""
            return f"{utc}{ago}"
        if name == "label" and row.label:
            return row.label
        return None

    def _warning(self) -> QIcon:
        if self._warning_icon is None:
            from .resources import icon

            self._warning_icon = icon("warning", accents().danger)
        return self._warning_icon


class _ReadOnlyTable(QAbstractTableModel):
    """Fixed ``HEADERS``, selectable read-only cells: what the flags and compare tables share."""

    HEADERS: tuple[str, ...] = ()

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = DISPLAY) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == DISPLAY and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable


class FlagsModel(_ReadOnlyTable):
    """The rows worth action, one line per row: line, label, its flags and why.

    Rows are the review's ``flagged`` positions; flags and reasons are made only
    for the lines the view shows.
    """

    HEADERS = ("Line", "Label", "Flags", "Reason")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._review: Review | None = None
        self._positions: list[int] = []
        self._cache: dict[int, tuple[Flag, ...]] = {}

    def set_review(self, result: Review | None) -> None:
        self.beginResetModel()
        self._review = result
        self._positions = result.flagged if result else []
        self._cache = {}
        self.endResetModel()

    def flags_of(self, row: int) -> tuple[Flag, ...]:
        pos = self._positions[row]
        found = self._cache.get(pos)
        if found is None:
            assert self._review is not None
            found = self._cache[pos] = self._review.flags_at(pos)
        return found

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._positions)

    def data(self, index: ModelIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._positions):
            return None
        found = self.flags_of(index.row())
        first = found[0]
        col = index.column()
        if role == DISPLAY:
            if col == 0:
                return str(first.line)
            if col == 1:
                return first.label or ""
            if col == 2:
                return ", ".join(f.kind.words for f in found)
            return " ".join(f.reason for f in found)
        if role == TOOLTIP and col == 3:
            return "\n".join(f.reason for f in found)
        if role == Role.LINE:
            return first.line
        if role == Role.FLAGS:
            return found
        if role == Qt.ItemDataRole.TextAlignmentRole and col == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class ChangeKind(enum.StrEnum):
    ADDED = "Added"
    REMOVED = "Removed"
    STATUS = "Status changed"
    LABEL = "Label changed"
    ROTATED = "Rotated"


class CompareModel(_ReadOnlyTable):
    """What changed between two exports, one line per change."""

    HEADERS = ("Change", "Key", "Label", "Status", "Old line", "New line")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[tuple[ChangeKind, CsvRow | None, CsvRow | None]] = []
        self._old_now: dict[int, CsvRow | None] = {}  # rotations: new key's line -> the old key now
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._bold = QFont()
        self._bold.setBold(True)

    def set_comparison(self, comparison: Comparison | None) -> None:
        self.beginResetModel()
        entries: list[tuple[ChangeKind, CsvRow | None, CsvRow | None]] = []
        self._old_now = {}
        if comparison is not None:
            entries += [(ChangeKind.ADDED, None, row) for row in comparison.added]
            entries += [(ChangeKind.REMOVED, row, None) for row in comparison.removed]
            entries += [(ChangeKind.STATUS, c.old, c.new) for c in comparison.status_changed]
            entries += [(ChangeKind.LABEL, c.old, c.new) for c in comparison.label_changed]
            entries += [(ChangeKind.ROTATED, r.old, r.new) for r in comparison.rotations]
            self._old_now = {r.new.line: r.old_now for r in comparison.rotations}
        self._entries = entries
        self.endResetModel()

    def entry(self, row: int) -> tuple[ChangeKind, CsvRow | None, CsvRow | None]:
        return self._entries[row]

    def kinds(self) -> list[ChangeKind]:
        return [kind for kind, _, _ in self._entries]

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def data(self, index: ModelIndex, role: int = DISPLAY) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._entries):
            return None
        kind, old, new = self._entries[index.row()]
        col = index.column()
        either = new or old
        assert either is not None
        if role == DISPLAY:
            return self._display(kind, old, new, either, col)
        if role == Qt.ItemDataRole.ForegroundRole and col == 0:
            colours = accents()
            return QBrush(colours.success if kind is ChangeKind.ADDED else
                          colours.danger if kind is ChangeKind.REMOVED else colours.inactive_fg)
        if role == Qt.ItemDataRole.FontRole:
            if col == 1:
                return self._mono
            if col == 0:
                return self._bold
        if role == Role.ROW:
            return either
        if role == Qt.ItemDataRole.TextAlignmentRole and col >= 4:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, kind: ChangeKind, old: CsvRow | None, new: CsvRow | None, either: CsvRow,
                 col: int) -> str:
        if col == 0:
            return kind.value
        if col == 1:
            return shown_key(either) or either.id or ""
        if col == 2:
            if kind is ChangeKind.ROTATED and old and new:
                return f"{new.label or ''} — replaces {shown_key(old) or old.id or ''}"
            if kind is ChangeKind.LABEL and old and new:
                return f"{old.label or ''} → {new.label or ''}"
            return either.label or ""
        if col == 3:
            if kind is ChangeKind.ROTATED and new:
                now = self._old_now.get(new.line)
                return f"Old key: {_status(now) or 'unknown'}" if now is not None else "Old key: gone"
            if kind is ChangeKind.STATUS and old and new:
                return f"{_status(old)} → {_status(new)}"
            return _status(either)
        if col == 4:
            return str(old.line) if old else ""
        return str(new.line) if new else ""


def _status(row: CsvRow) -> str:
    return row.status.display if row.status else ""


__all__ = ["COLUMNS", "Change", "ChangeKind", "CompareModel", "CsvRowsModel", "FlagsModel", "Role"]
