"""The key list as a Qt table model, with the filter behind ``keysFilterInput`` built in.

Built for 10,000 keys: rows are set with one model reset, display strings are
computed lazily once per row and cached, ``data()`` dispatches on plain ints,
sorting is one Python ``sort`` over precomputed keys (not 10,000 x log n
``lessThan`` calls from C++), and filtering is one pass over cached lower-case
haystacks followed by one reset (a QSortFilterProxyModel with a Python
``filterAcceptsRow`` costs ~17 ms per keystroke at 10,000 rows before doing
any work, measured on the CI machine).

The model never changes a key on its own: a label edit is validated with the
core rules and then *requested* (``renameRequested``); the row shows the
pending label with "Saving…" until the hub answers and the window replaces the
row with the hub's Key (the hub is the truth).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from itertools import compress, count, repeat
from operator import attrgetter

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QFontDatabase

from ..core.expiry import SECONDS_PER_DAY, expires_within, expiry_text, remaining_text
from ..core.labels import label_problem, normalize_label
from ..core.models import KeyStatus, McpKey
from ..core.wording import natural_key
from .theme import accents

ModelIndex = QModelIndex | QPersistentModelIndex


class Col(enum.IntEnum):
    KEY = 0
    STATUS = 1
    LABEL = 2
    CREATED = 3
    LAST_USED = 4
    EXPIRES = 5
    ACTIONS = 6


HEADERS = ("Key", "Status", "Label", "Created", "Last used", "Expires", "Actions")
HEADER_TIPS = (
    "Redacted key: the full secret is shown only once, when the key is created",
    "Active keys authenticate MCP requests; deactivated keys are rejected",
    "Your own name for the key (double-click or F2 to rename)",
    "When the key was created (your local time)",
    "When an MCP client last used the key (hover for client and address)",
    "When the key stops working (by the hub's clock); rotate or extend it before then",
    "Deactivate, rotate, reactivate or delete the key",
)

# "Rotate" without the ellipsis on the painted button (the column must fit beside six others);
# the row menu, which has room, says "Rotate…".
ACTION_TEXT = {"deactivate": "Deactivate", "rotate": "Rotate", "reactivate": "Reactivate",
               "delete": "Delete"}
# Keys that expire within this many days get the warning colour and match the filter word "expiring".
EXPIRING_SOON_DAYS = 7
FILTER_EXPIRED = "expired"
FILTER_EXPIRING = "expiring"


class Role(enum.IntEnum):
    KEY = Qt.ItemDataRole.UserRole + 1  # the McpKey
    ID = Qt.ItemDataRole.UserRole + 2  # key id (str)
    STATUS = Qt.ItemDataRole.UserRole + 3  # "active" | "deactivated"
    ACTIONS = Qt.ItemDataRole.UserRole + 4  # tuple of action names, primary first
    BUSY = Qt.ItemDataRole.UserRole + 5  # a hub call for this key is in flight
    SAVE_STATE = Qt.ItemDataRole.UserRole + 6  # None | "saving" | "saved"
    SORT = Qt.ItemDataRole.UserRole + 7
    FILTER = Qt.ItemDataRole.UserRole + 8  # lower-case haystack
    # Which of the Actions cell's buttons has the keyboard focus (int, 0 = primary). The view
    # sets it (Left/Right) with setData; painting, Space/Enter and the accessible name read it.
    ACTION_FOCUS = Qt.ItemDataRole.UserRole + 9
    EXPIRY = Qt.ItemDataRole.UserRole + 10  # "expired" | "expiring" | "" (the warning state)


def actions_for(status: KeyStatus, rotated: bool = False) -> tuple[str, ...]:
    """The lifecycle actions offered for a key, primary first (Delete only when deactivated or expired).

    Rotate is offered for an active key that was not rotated already (the hub refuses the
    others with 409); an expired key can only be deleted (or extended from its menu).
    """
    if status is KeyStatus.ACTIVE:
        return ("deactivate",) if rotated else ("deactivate", "rotate")
    if status is KeyStatus.EXPIRED:
        return ("delete",)
    return ("reactivate", "delete")


def key_actions(key: McpKey, rotation: bool = True) -> tuple[str, ...]:
    """The row's actions; ``rotation`` False (a v1 hub) leaves Rotate out."""
    return actions_for(key.status, key.replaced_by is not None or not rotation)


def expiry_state(key: McpKey, now: datetime) -> str:
    """"expired", "expiring" (active, expires within EXPIRING_SOON_DAYS by ``now``, the hub's time) or "".

    A rotated key in its grace period is not "expiring": its end was chosen and its successor
    exists, so no warning colour, and the filter word finds what the banner counts.
    """
    if key.status is KeyStatus.EXPIRED:
        return FILTER_EXPIRED
    if (key.is_active and key.replaced_by is None
            and expires_within(key.expires_at, now, EXPIRING_SOON_DAYS * SECONDS_PER_DAY)):
        return FILTER_EXPIRING
    return ""


def format_expires(key: McpKey, now: datetime) -> str:
    """The Expires cell, in the Last used column's words: "in 6 days", "in 5 h", "in 12 min", "Never",
    and for a past expiry "2 days ago" (the Status badge says Expired). ``now`` is the hub's time.

    Why this short: the column sits beside six others and the window must still fit a small
    screen; the tooltip has the full "Expired 2 days ago" / "Expires …" with the date.
    """
    if key.expires_at is None:
        return "Never"
    ahead = (key.expires_at - now).total_seconds()
    if ahead <= 0:
        return relative_time(key.expires_at, now)
    if ahead >= 1.5 * SECONDS_PER_DAY:  # whole days, rounded: a new 30-day key reads "in 30 days"
        return f"in {remaining_text(ahead)}"
    if ahead >= 3600:
        return f"in {int(ahead // 3600)} h"
    return f"in {max(1, int(ahead // 60))} min"


def _local(dt: datetime) -> datetime:
    return dt.astimezone()


def format_created(dt: datetime) -> str:
    return _local(dt).strftime("%Y-%m-%d %H:%M")


def format_absolute(dt: datetime) -> str:
    """Local time with seconds and the UTC form, for tooltips."""
    utc = dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{_local(dt).strftime('%Y-%m-%d %H:%M:%S %Z').strip()} ({utc})"


def relative_time(then: datetime, now: datetime) -> str:
    """"just now", "3 min ago", "5 h ago", "yesterday", "12 days ago", or a date for old times."""
    seconds = (now - then).total_seconds()
    if seconds < 60:
        return "just now"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min ago"
    hours = int(seconds // 3600)
    if hours < 24:
        return f"{hours} h ago"
    days = int(seconds // 86400)
    if days == 1:
        return "yesterday"
    if days < 30:
        return f"{days} days ago"
    return _local(then).strftime("%Y-%m-%d")


class _Row:
    """One key plus its cached display strings (computed on first use)."""

    __slots__ = ("action_focus", "busy", "created_text", "expires_text", "expiry", "haystack", "key",
                 "last_used_text", "pending_label", "save_state")

    def __init__(self, key: McpKey) -> None:
        self.key = key
        self.created_text: str | None = None
        self.last_used_text: str | None = None
        self.expires_text: str | None = None
        self.expiry: str | None = None  # expiry_state, cached until the clock moves
        self.haystack: str | None = None
        self.busy = False
        self.save_state: str | None = None
        self.pending_label: str | None = None
        self.action_focus = 0

    @property
    def shown_label(self) -> str:
        return self.pending_label if self.pending_label is not None else self.key.label


def _sort_value(row: _Row, column: int) -> object:
    key = row.key
    if column == Col.KEY:
        return key.redacted.casefold()
    if column == Col.STATUS or column == Col.ACTIONS:
        return key.status.value
    if column == Col.LABEL:
        return natural_key(row.shown_label)  # "machine 13" before "machine 104"
    if column == Col.CREATED:
        return key.created_at
    if column == Col.LAST_USED:
        return key.last_used_at.timestamp() if key.last_used_at else float("-inf")
    if column == Col.EXPIRES:  # soonest first; "Never" after every date
        return key.expires_at.timestamp() if key.expires_at else float("inf")
    return 0


_HAYSTACK = attrgetter("haystack")
_KEY_ID = attrgetter("key.id")

# Sort keys read in C for the columns whose value is a plain attribute (no Python call per row):
# identical to _sort_value for those columns.
_C_SORT_KEYS = {
    int(Col.CREATED): attrgetter("key.created_at"),
    int(Col.STATUS): attrgetter("key.status.value"),
    int(Col.ACTIONS): attrgetter("key.status.value"),
}


def _sort_key(column: int):  # type: ignore[no-untyped-def]
    return _C_SORT_KEYS.get(int(column)) or (lambda r: _sort_value(r, column))


# Plain ints for the hot path: data() runs for every painted cell and role, and PySide
# enum attribute lookups cost more than the work itself.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_EDIT = int(Qt.ItemDataRole.EditRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FONT = int(Qt.ItemDataRole.FontRole)
_ACCESSIBLE = int(Qt.ItemDataRole.AccessibleTextRole)
_DESCRIPTION = int(Qt.ItemDataRole.AccessibleDescriptionRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_BACKGROUND = int(Qt.ItemDataRole.BackgroundRole)
_ROLES = frozenset({_DISPLAY, _EDIT, _TOOLTIP, _FONT, _ACCESSIBLE, _DESCRIPTION, _FOREGROUND, _BACKGROUND,
                    *(int(r) for r in Role)})
_KEY, _LABEL, _CREATED, _LAST_USED, _ACTIONS = (int(Col.KEY), int(Col.LABEL), int(Col.CREATED),
                                                 int(Col.LAST_USED), int(Col.ACTIONS))
_EXPIRES = int(Col.EXPIRES)
_EXPIRED = KeyStatus.EXPIRED
_ACTIVE = KeyStatus.ACTIVE
_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
_EDITABLE_FLAGS = _FLAGS | Qt.ItemFlag.ItemIsEditable


class KeysModel(QAbstractTableModel):
    """Table of McpKey rows. Signals carry key ids, never row numbers (rows move).

    The model holds every key (``keys()``, ``total_count()``) and shows the rows
    matching the filter (``set_filter``): matching 10,000 keys is one Python pass
    (about a millisecond) and one reset, where a QSortFilterProxyModel calling a
    Python ``filterAcceptsRow`` per row costs more than a frame per keystroke.
    """

    renameRequested = Signal(str, str)  # key id, normalised label
    labelRejected = Signal(str, str)  # key id, the rule's message

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._all: list[_Row] = []  # every key, in sort order
        self._rows: list[_Row] = []  # the rows shown (matching the filter), same order
        self._by_id: dict[str, _Row] = {}
        self._visible_index: dict[str, int] | None = {}  # key id -> visible row; None: rebuild on use
        self._needle = ""
        # True while _rows is exactly the rows matching _needle (a rename or a replaced row that
        # stays put breaks that): then a longer needle only needs to look at _rows.
        self._exact = True
        self._now = datetime.now(UTC)
        self._sort: tuple[int, Qt.SortOrder] | None = None
        self._rotation = True  # the hub can rotate keys (it has a key policy)
        self._mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        self._italic = QFont()
        self._italic.setItalic(True)

    # -- structure -----------------------------------------------------------------------------
    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = _DISPLAY) -> object:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(HEADERS):
            return None
        if role == _DISPLAY:
            return HEADERS[section]
        if role == _TOOLTIP:
            return HEADER_TIPS[section]
        return None

    def flags(self, index: ModelIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        if index.column() == _LABEL and not self._rows[index.row()].busy:
            return _EDITABLE_FLAGS
        return _FLAGS

    # -- data ----------------------------------------------------------------------------------
    def data(self, index: ModelIndex, role: int = _DISPLAY) -> object:
        if role not in _ROLES or not index.isValid():
            return None
        row = self._rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return self._display(row, col)
        if role == _EDIT:
            return row.shown_label if col == _LABEL else self._display(row, col)
        if role == _FONT:
            if col == _KEY:
                return self._mono
            if col == _EXPIRES and row.key.replaced_by is not None and row.key.is_active:
                return self._italic  # rotated: its end is the grace period's
            return self._italic if col == _LABEL and row.pending_label is not None else None
        if role in (_FOREGROUND, _BACKGROUND):
            if col != _EXPIRES or not self._expiry(row):
                return None
            colours = accents()
            if self._expiry(row) == FILTER_EXPIRED:
                return colours.expired_fg if role == _FOREGROUND else None
            return colours.warning_fg if role == _FOREGROUND else colours.warning_bg
        if role == _TOOLTIP:
            return self._tooltip(row, col)
        if role == _ACCESSIBLE:
            return self._accessible(row, col)
        if role == _DESCRIPTION:
            return self._description(row, col)
        if role == Role.KEY:
            return row.key
        if role == Role.ID:
            return row.key.id
        if role == Role.STATUS:
            return row.key.status.value
        if role == Role.ACTIONS:
            return key_actions(row.key, self._rotation)
        if role == Role.EXPIRY:
            return self._expiry(row)
        if role == Role.BUSY:
            return row.busy
        if role == Role.SAVE_STATE:
            return row.save_state
        if role == Role.SORT:
            return _sort_value(row, col)
        if role == Role.FILTER:
            return self._haystack(row)
        if role == Role.ACTION_FOCUS:
            return self._action_focus(row)
        return None

    def _display(self, row: _Row, col: int) -> str:
        key = row.key
        if col == _KEY:
            return key.redacted
        if col == Col.STATUS:
            return key.status.display
        if col == _LABEL:
            return row.shown_label
        if col == _CREATED:
            if row.created_text is None:
                row.created_text = format_created(key.created_at)
            return row.created_text
        if col == _LAST_USED:
            if row.last_used_text is None:
                row.last_used_text = (
                    relative_time(key.last_used_at, self._now) if key.last_used_at else "Never"
                )
            return row.last_used_text
        if col == _EXPIRES:
            if row.expires_text is None:
                row.expires_text = format_expires(key, self._now)
            return row.expires_text
        if col == _ACTIONS:
            return " · ".join(ACTION_TEXT[a] for a in key_actions(key, self._rotation))
        return ""

    def _expiry(self, row: _Row) -> str:
        if row.expiry is None:
            row.expiry = expiry_state(row.key, self._now)
        return row.expiry

    def _tooltip(self, row: _Row, col: int) -> str | None:
        key = row.key
        if col == Col.KEY:
            return "Redacted preview; the full secret was shown once, when the key was created"
        if col == Col.STATUS:
            if key.replaced_by and key.is_active:
                return "Rotated: a newer key replaces this one; it keeps working until its grace period ends"
            if key.status is KeyStatus.EXPIRED:
                return "Expired: MCP requests with this key are rejected. Rotate or extend it, or delete it"
            if key.is_active:
                return "Active: this key authenticates MCP requests"
            since = f" since {format_absolute(key.deactivated_at)}" if key.deactivated_at else ""
            return f"Deactivated{since}: MCP requests with this key are rejected"
        if col == Col.LABEL:  # the full label too: a long one is elided in the cell
            return f"{row.shown_label}\n\nDouble-click or press F2 to rename"
        if col == Col.CREATED:
            return f"Created {format_absolute(key.created_at)}"
        if col == Col.LAST_USED:
            if key.last_used_at is None:
                return "Never used by an MCP client"
            lines = [f"Last used {format_absolute(key.last_used_at)}"]
            if key.last_used_client:
                lines.append(f"Client: {key.last_used_client}")
            if key.last_used_ip:
                lines.append(f"From: {key.last_used_ip}")
            return "\n".join(lines)
        if col == Col.EXPIRES:
            if key.expires_at is None:
                return "This key has no expiry date"
            when = expiry_text(key.expires_at, self._now)  # "in 6 days" / "Expired 2 days ago"
            verb = "" if when.startswith("Expired") else "Expires "
            tip = f"{verb}{when}: {format_absolute(key.expires_at)}"
            if key.replaced_by and key.is_active:
                tip += "\nRotated: a newer key replaces this one; it works until then (its grace period)"
            return tip
        if col == Col.ACTIONS:
            if key.status is KeyStatus.EXPIRED:
                return "Delete (Delete key) permanently; to renew it, use Change expiry… in the row menu"
            if key.is_active:
                return ("Deactivate (Space): MCP clients using this key stop working at once; "
                        "Rotate…: a new key replaces this one, with a grace period")
            return "Reactivate (Space), or Delete (Delete key) permanently"
        return None

    def _action_focus(self, row: _Row) -> int:
        return min(row.action_focus, len(key_actions(row.key, self._rotation)) - 1)

    def _accessible(self, row: _Row, col: int) -> str:
        """What a screen reader says for the cell: the Actions cell names its focused button and key."""
        if col == Col.ACTIONS:
            action = key_actions(row.key, self._rotation)[self._action_focus(row)]
            return f"{ACTION_TEXT[action]} key “{row.shown_label}”"
        text = self._display(row, col)
        if col == Col.LABEL and row.save_state == "saved":
            return f"{text} (changes saved)"
        return text

    def _description(self, row: _Row, col: int) -> str | None:
        """How to work the cell: the painted buttons are not widgets, so the cell says what they do."""
        if col == Col.ACTIONS:
            actions = key_actions(row.key, self._rotation)
            if len(actions) == 1:
                if actions[0] == "delete":
                    return "Button. Space or Enter deletes the expired key (after a question)."
                return "Button. Space or Enter deactivates the key: MCP clients using it stop working."
            names = " and ".join(ACTION_TEXT[a] for a in actions)
            return (f"Button {self._action_focus(row) + 1} of {len(actions)} ({names}). "
                    "Left and Right arrows choose, Space or Enter presses.")
        if col == Col.LABEL:
            return "Press F2 to rename."
        return None

    def _haystack(self, row: _Row) -> str:
        if row.haystack is None:
            key = row.key
            # "expired" / "expiring": the filter words (a key without expiry has neither: no call)
            expiry = self._expiry(row) if key.expires_at is not None or key.status is _EXPIRED else ""
            row.haystack = f"{row.shown_label}\n{key.redacted}\n{key.status.display}\n{expiry}".casefold()
        return row.haystack

    def _matches(self, row: _Row) -> bool:
        return not self._needle or self._needle in self._haystack(row)

    # -- filter --------------------------------------------------------------------------------
    def set_filter(self, text: str) -> None:
        """Show only keys whose label, redacted key or status contains ``text`` (any case)."""
        needle = text.strip().casefold()
        if needle == self._needle:
            return
        # Typing on: whatever matches the longer needle matches the shorter one, and _rows keeps
        # the order of _all, so only the shown rows need a look (1,300 instead of 10,000 rows).
        narrowing = self._exact and self._needle and self._needle in needle
        self.beginResetModel()
        source = self._rows if narrowing else self._all
        self._rows = self._filtered(needle, source) if needle else list(self._all)
        self._needle = needle
        self._exact = True
        self._reindex_visible()
        self.endResetModel()

    def _filtered(self, needle: str, rows: list[_Row]) -> list[_Row]:
        """The rows matching ``needle``: C-level passes over the cached haystacks (keystroke path)."""
        hay = list(map(_HAYSTACK, rows))
        if None in hay:  # new or changed rows: fill their haystacks first
            hay = [h if h is not None else self._haystack(r) for r, h in zip(rows, hay, strict=True)]
        return list(compress(rows, map(str.__contains__, hay, repeat(needle))))

    def filter_text(self) -> str:
        return self._needle

    # -- editing -------------------------------------------------------------------------------
    def setData(self, index: ModelIndex, value: object, role: int = _EDIT) -> bool:
        """A label edit: validated, then requested from the hub (the row shows it as pending).

        Also takes ``Role.ACTION_FOCUS`` on the Actions cell: which painted button has the focus.
        """
        if index.isValid() and index.column() == _ACTIONS and role == Role.ACTION_FOCUS:
            return self._set_action_focus(index, value)
        if not index.isValid() or index.column() != _LABEL or role != _EDIT:
            return False
        row = self._rows[index.row()]
        if row.busy:
            return False
        text = value if isinstance(value, str) else str(value)
        problem = label_problem(text)
        if problem is not None:
            self.labelRejected.emit(row.key.id, problem)
            return False
        label = normalize_label(text)
        if label == row.key.label:
            return False
        row.pending_label = label
        row.save_state = "saving"
        row.busy = True
        row.haystack = None
        self._exact = False  # the row stays shown whether its new label matches or not
        self._row_changed(row)
        self.renameRequested.emit(row.key.id, label)
        return True

    def _set_action_focus(self, index: ModelIndex, value: object) -> bool:
        row = self._rows[index.row()]
        count = len(key_actions(row.key, self._rotation))
        if not isinstance(value, int) or not 0 <= value < count:
            return False
        if value != row.action_focus:
            row.action_focus = value
            self.dataChanged.emit(index, index, [int(Role.ACTION_FOCUS), _ACCESSIBLE, _DESCRIPTION])
        return True

    # -- updates from the hub ------------------------------------------------------------------
    def set_keys(self, keys: Iterable[McpKey], now: datetime | None = None, *, busy: bool = False) -> None:
        """Replace every row (one reset, however many keys); ``busy`` marks them all busy
        (a saved list shown before the hub answered: no action until it has)."""
        self.beginResetModel()
        self._now = now or datetime.now(UTC)
        self._all = [_Row(k) for k in keys]
        if busy:
            for row in self._all:
                row.busy = True
        if self._sort is not None:
            column, order = self._sort
            descending = order == Qt.SortOrder.DescendingOrder
            self._all.sort(key=_sort_key(column), reverse=descending)
        self._by_id = {r.key.id: r for r in self._all}
        self._rows = [r for r in self._all if self._matches(r)] if self._needle else list(self._all)
        self._exact = True
        self._reindex_visible()
        self.endResetModel()

    def keys(self) -> list[McpKey]:
        """Every key, shown or filtered out, in the current order."""
        return [r.key for r in self._all]

    def total_count(self) -> int:
        return len(self._all)

    def key_at(self, row: int) -> McpKey:
        """The key on (visible) row ``row``."""
        return self._rows[row].key

    def row_of(self, key_id: str) -> int | None:
        """The visible row of a key (None when unknown or filtered out)."""
        return self._visible().get(key_id)

    def key_by_id(self, key_id: str) -> McpKey | None:
        row = self._by_id.get(key_id)
        return None if row is None else row.key

    def upsert_key(self, key: McpKey) -> int | None:
        """Replace a key's row with the hub's Key (clearing pending state), or insert it.

        Returns the visible row, or None when the key is filtered out. A replaced
        row stays where it is even if it no longer matches the filter (rows do
        not jump away under the user's eyes); the next filter change re-checks.
        """
        old = self._by_id.get(key.id)
        new = _Row(key)
        if old is not None:
            new.save_state = old.save_state if old.save_state != "saving" else None
            self._all[self._all.index(old)] = new
            self._by_id[key.id] = new
            self._exact = False  # the new row stays shown (or hidden) whether it matches or not
            visible = self._visible().get(key.id)
            if visible is not None:
                self._rows[visible] = new
                self._row_changed(new)
            return visible
        position = self._insert_position(new)
        self._all.insert(position, new)
        self._by_id[key.id] = new
        if not self._matches(new):
            return None
        shown = self._visible()
        visible = sum(1 for r in self._all[:position] if r.key.id in shown)
        self.beginInsertRows(QModelIndex(), visible, visible)
        self._rows.insert(visible, new)
        self._reindex_visible()
        self.endInsertRows()
        return visible

    def _insert_position(self, row: _Row) -> int:
        if self._sort is None:
            return 0  # the hub lists newest first
        column, order = self._sort
        probe = _sort_value(row, column)
        descending = order == Qt.SortOrder.DescendingOrder
        for i, r in enumerate(self._all):
            value = _sort_value(r, column)
            # Among equal values a new key goes where the hub's newest-first order puts it: first
            # when descending (keys created within the same second tie on Created), last otherwise.
            if (value <= probe) if descending else (probe < value):  # type: ignore[operator]
                return i
        return len(self._all)

    def remove_key(self, key_id: str) -> bool:
        row = self._by_id.pop(key_id, None)
        if row is None:
            return False
        self._all.remove(row)
        visible = self._visible().get(key_id)
        if visible is not None:
            self.beginRemoveRows(QModelIndex(), visible, visible)
            del self._rows[visible]
            self._reindex_visible()
            self.endRemoveRows()
        return True

    def set_busy(self, key_id: str, busy: bool) -> None:
        row = self._by_id.get(key_id)
        if row is not None and row.busy != busy:
            row.busy = busy
            self._row_changed(row)

    def is_busy(self, key_id: str) -> bool:
        row = self._by_id.get(key_id)
        return row is not None and row.busy

    def set_save_state(self, key_id: str, state: str | None) -> None:
        row = self._by_id.get(key_id)
        if row is not None and row.save_state != state:
            row.save_state = state
            self._row_changed(row, Col.LABEL, Col.LABEL)

    def save_state(self, key_id: str) -> str | None:
        row = self._by_id.get(key_id)
        return None if row is None else row.save_state

    def revert_pending(self, key_id: str) -> None:
        """A rename failed: show the hub's label again."""
        row = self._by_id.get(key_id)
        if row is not None:
            row.pending_label = None
            row.save_state = None
            row.busy = False
            row.haystack = None
            self._exact = False
            self._row_changed(row)

    def refresh_times(self, now: datetime | None = None, *, hub_time: bool = True) -> None:
        """Recompute the relative "Last used" and "Expires" texts (called on a timer; ``now`` is the
        hub's time). A key crossing into "expiring" gets the filter word and colour then, and an
        active key whose expiry has passed is expired, as the hub computes it (badge, actions,
        banner). With a filter set, such keys join or leave the rows shown at once (rows inserted
        or removed: the other rows and the selection stay). ``hub_time`` False (``now`` is only
        this computer's clock: a saved list the hub has not answered for) leaves statuses alone."""
        self._now = now = now or datetime.now(UTC)
        changed: list[_Row] = []
        status_changed = False
        for r in self._all:
            r.last_used_text = None
            r.expires_text = None
            key = r.key
            if key.expires_at is None:
                continue  # nothing about it changes with time
            if hub_time and key.status is _ACTIVE and key.expires_at <= now:
                r.key = key = replace(key, status=_EXPIRED)  # the hub's rule: now >= expires_at
                status_changed = True
            state = expiry_state(key, now)
            if r.expiry != state:
                if r.haystack is not None:
                    r.haystack = None
                    changed.append(r)
                r.expiry = state
        if changed and self._needle:
            self._refilter(changed)
        if self._rows:
            first = 0 if status_changed else Col.LAST_USED
            last = len(HEADERS) - 1 if status_changed else Col.EXPIRES
            self.dataChanged.emit(self.index(0, first), self.index(len(self._rows) - 1, last))

    def _refilter(self, changed: list[_Row]) -> None:
        """Show or hide just the ``changed`` rows by the filter (the others keep their place, as
        after an edit); as row removals and insertions, never a reset."""
        shown = self._visible()
        recheck = {id(r): self._matches(r) for r in changed}
        wanted = [r for r in self._all if recheck.get(id(r), r.key.id in shown)]
        keep = {id(r) for r in wanted}
        for position in range(len(self._rows) - 1, -1, -1):
            if id(self._rows[position]) not in keep:
                self.beginRemoveRows(QModelIndex(), position, position)
                del self._rows[position]
                self._reindex_visible()
                self.endRemoveRows()
        for position, row in enumerate(wanted):
            if position >= len(self._rows) or self._rows[position] is not row:
                self.beginInsertRows(QModelIndex(), position, position)
                self._rows.insert(position, row)
                self._reindex_visible()
                self.endInsertRows()

    def set_rotation_supported(self, supported: bool) -> None:
        """Offer Rotate… in the Actions cells (False for a v1 hub, which cannot rotate)."""
        if supported != self._rotation:
            self._rotation = supported
            if self._rows:
                self.dataChanged.emit(self.index(0, _ACTIONS), self.index(len(self._rows) - 1, _ACTIONS))

    def now(self) -> datetime:
        """The (hub) time the relative texts are computed from."""
        return self._now

    def expiry_counts(self, within_days: int = EXPIRING_SOON_DAYS) -> tuple[int, int]:
        """(active keys expiring within ``within_days``, expired keys) by the model's clock: the banner."""
        soon = expired = 0
        horizon = within_days * SECONDS_PER_DAY
        for r in self._all:
            key = r.key
            if key.status is KeyStatus.EXPIRED:
                expired += 1
            elif (key.is_active and key.replaced_by is None
                  and expires_within(key.expires_at, self._now, horizon)):
                soon += 1
        return soon, expired

    # -- sorting -------------------------------------------------------------------------------
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(HEADERS):
            self._sort = None
            return
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        old_rows = list(self._rows)
        self._all.sort(key=_sort_key(column), reverse=order == Qt.SortOrder.DescendingOrder)
        shown = self._visible()
        self._rows = [r for r in self._all if r.key.id in shown]
        self._reindex_visible()
        persistent = self.persistentIndexList()
        if persistent:
            position = self._visible()
            moved = [
                self.index(position[old_rows[p.row()].key.id], p.column()) if p.isValid() else QModelIndex()
                for p in persistent
            ]
            self.changePersistentIndexList(persistent, moved)
        self.layoutChanged.emit()

    # -- helpers -------------------------------------------------------------------------------
    def _reindex_visible(self) -> None:
        """Forget the visible-row index; it is rebuilt when first asked (~2 ms at 10,000 rows, and a
        filter keystroke usually has no one asking)."""
        self._visible_index = None

    def _visible(self) -> dict[str, int]:
        if self._visible_index is None:
            self._visible_index = dict(zip(map(_KEY_ID, self._rows), count()))
        return self._visible_index

    def _row_changed(self, row: _Row, first: int = 0, last: int = len(HEADERS) - 1) -> None:
        visible = self._visible().get(row.key.id)
        if visible is not None:
            self.dataChanged.emit(self.index(visible, first), self.index(visible, last))
