"""Expiry reminders from the tray: once per key and threshold (30, 7, 1 days by default).

Why a file of its own: reminders must survive restarts (nobody wants "expires in 7
days" at every start), so what was sent is kept in a small JSON file next to the
settings: hub address, key id, the expiry it was for and the thresholds already
shown. Nothing secret: ids are what the hub's own list shows. When a key's expiry
changes (renewed, extended) its record starts over, so the new date gets its own
reminders.

Time is the hub's (``clock`` is injectable: the controller passes the hub's
"now" from its last answer, tests a fixed one), never the local clock alone.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer, Signal

from ..core.expiry import remaining_text
from ..core.safefile import write_private_text
from ..core.timestamps import format_ts

DEFAULT_THRESHOLDS_DAYS: tuple[int, ...] = (30, 7, 1)
CHECK_INTERVAL_MS = 15 * 60 * 1000  # thresholds are days apart: a quarter-hour check is plenty
STATE_FILE = "reminders.json"


class _KeyLike(Protocol):
    id: str
    label: str
    expires_at: datetime | None

    @property
    def is_active(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Reminder:
    """One notification to show: ``threshold_days`` is the threshold crossed."""

    key_id: str
    label: str
    expires_at: datetime
    threshold_days: int
    remaining_seconds: float

    @property
    def title(self) -> str:
        return "MCP key expires soon"

    @property
    def text(self) -> str:
        remaining = self.remaining_seconds
        return (f"“{self.label}” expires in {remaining_text(remaining)}. "
                "Click to rotate it (the app can update your AI clients).")


def parse_thresholds(text: str) -> tuple[int, ...]:
    """``"30, 7, 1"`` -> (30, 7, 1): whole days, 1 to 365, largest first; ValueError otherwise."""
    days = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().removesuffix("d").strip()
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 365:
            raise ValueError(f"Reminder thresholds are whole days from 1 to 365, got {part!r}.")
        days.append(int(part))
    if not days:
        raise ValueError("Give at least one reminder threshold in days, e.g. 30, 7, 1.")
    return tuple(sorted(set(days), reverse=True))


class ReminderStore:
    """What was already shown, per hub and key; a JSON file (0600, no secrets) or memory only."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, dict[str, Any]] = {}
        self._load()

    def _load(self) -> None:
        if self.path is None:
            return
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return  # absent or damaged: start over (the worst case is a repeated reminder)
        keys = raw.get("keys") if isinstance(raw, dict) else None
        if isinstance(keys, dict):
            self._data = {k: v for k, v in keys.items() if isinstance(v, dict)}

    def _save(self) -> None:
        if self.path is None:
            return
        with contextlib.suppress(OSError):
            os.makedirs(self.path.parent, exist_ok=True)
            write_private_text(self.path, json.dumps({"version": 1, "keys": self._data}, indent=1) + "\n")

    @staticmethod
    def _id(hub: str, key_id: str) -> str:
        return f"{hub} {key_id}"

    def sent(self, hub: str, key_id: str, expires_at: datetime) -> set[int]:
        record = self._data.get(self._id(hub, key_id))
        if not record or record.get("expires_at") != format_ts(expires_at):
            return set()
        return {d for d in record.get("sent", []) if isinstance(d, int)}

    def mark(self, hub: str, key_id: str, expires_at: datetime, thresholds: Iterable[int]) -> None:
        ident = self._id(hub, key_id)
        done = self.sent(hub, key_id, expires_at) | set(thresholds)
        self._data[ident] = {"expires_at": format_ts(expires_at), "sent": sorted(done, reverse=True)}
        self._save()

    def forget_missing(self, hub: str, key_ids: Iterable[str]) -> None:
        """Drop records of this hub's keys that no longer exist (deleted)."""
        keep = {self._id(hub, k) for k in key_ids}
        stale = [k for k in self._data if k.startswith(f"{hub} ") and k not in keep]
        for k in stale:
            del self._data[k]
        if stale:
            self._save()


def due_reminders(keys: Iterable[_KeyLike], now: datetime, thresholds: Sequence[int], store: ReminderStore,
                  hub: str) -> list[Reminder]:
    """The reminders to show now: for each active key with an expiry ahead, the smallest threshold
    crossed and not yet shown (one notification per key, even when several thresholds passed
    while the app was closed); every crossed threshold is then marked as shown."""
    out = []
    for key in keys:
        expires = getattr(key, "expires_at", None)
        if expires is None or not key.is_active or getattr(key, "replaced_by", None):
            continue  # a rotated key's end is planned: its successor gets the reminders
        remaining = (expires - now).total_seconds()
        if remaining <= 0:
            continue
        crossed = [d for d in thresholds if remaining <= timedelta(days=d).total_seconds()]
        if not crossed:
            continue
        new = set(crossed) - store.sent(hub, key.id, expires)
        if not new:
            continue
        store.mark(hub, key.id, expires, crossed)
        out.append(Reminder(key.id, key.label, expires, min(crossed), remaining))
    return out


class ExpiryReminders(QObject):
    """Checks the latest key list against the thresholds on every list and every quarter hour.

    ``reminderDue(Reminder)`` for each new reminder; the controller shows it in the tray.
    """

    reminderDue = Signal(object)

    def __init__(self, store: ReminderStore, clock: Callable[[], datetime], *,
                 thresholds: Sequence[int] = DEFAULT_THRESHOLDS_DAYS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self.clock = clock
        self.thresholds = tuple(thresholds)
        self.hub = ""
        self._keys: list[Any] = []
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_INTERVAL_MS)
        self.timer.timeout.connect(self.check)
        self.timer.start()

    def set_keys(self, hub: str, keys: Sequence[Any]) -> None:
        """A fresh key list from ``hub``: remember it and check at once."""
        self.hub = hub
        self._keys = list(keys)
        self.store.forget_missing(hub, [k.id for k in self._keys])
        self.check()

    def check(self) -> list[Reminder]:
        if not self.hub:
            return []
        due = due_reminders(self._keys, self.clock(), self.thresholds, self.store, self.hub)
        for reminder in due:
            self.reminderDue.emit(reminder)
        return due
