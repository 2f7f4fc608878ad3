"""Offline review of key CSV files: a summary, the rows worth action, and what changed between two exports.

Qt-free so that the review window, ``phhub-keys review --summary`` and the
benchmarks share one definition of every figure. "Now" is a parameter so the
figures are reproducible (tests, ``--as-of``).

Definitions (the window and the JSON output use the same words):

- ``never_used``: rows with no last-used time.
- ``unused_90_days``: rows that were used, but not in the last 90 days
  (never-used keys are counted in ``never_used`` only, so the two add up).
- Flags, for keys that are active (or whose status the file does not give):
  ``unused_90_days`` (last used 90+ days ago), ``never_used_30_days`` (never
  used, created 30+ days ago), and ``duplicate_label`` for every row whose
  label (ignoring case and surrounding spaces) is on another row too.
- Expiry and rotation flags (files with an ``expires_at`` / ``replaces`` column,
  exports since v2): ``expired`` (status "expired", or an active key whose expiry is
  past), ``expires_within_30_days`` (an active key expiring within 30 days), and
  ``rotated_old_still_active`` (another row ``replaces`` this key, which is still
  active: after the grace it should stop; deactivate it once its clients use the new
  key). "Now" is this computer's clock or ``--as-of``: offline, there is no hub to ask.
- Figures a file cannot give (no status column, no last-used column) are None.
"""

from __future__ import annotations

import enum
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import compress, count
from typing import Any, NamedTuple, cast

from .csvio import CsvDocument, CsvProblem, CsvRow
from .keyformat import redact
from .models import KeyStatus
from .timestamps import format_ts, utcnow
from .wording import days_text

STALE_AFTER = timedelta(days=90)
EXPIRING_WITHIN = timedelta(days=30)
NEVER_USED_GRACE = timedelta(days=30)
MAX_LINES_NAMED = 5


class FlagKind(enum.StrEnum):
    UNUSED_90_DAYS = "unused_90_days"
    NEVER_USED_30_DAYS = "never_used_30_days"
    DUPLICATE_LABEL = "duplicate_label"
    EXPIRED = "expired"
    EXPIRES_SOON = "expires_within_30_days"
    ROTATED_OLD_ACTIVE = "rotated_old_still_active"

    @property
    def words(self) -> str:
        """The short words the table shows (not ``title``: that is str's own method)."""
        return _FLAG_TITLES[self]


_FLAG_TITLES = {
    FlagKind.UNUSED_90_DAYS: "Unused 90+ days",
    FlagKind.NEVER_USED_30_DAYS: "Never used",
    FlagKind.DUPLICATE_LABEL: "Duplicate label",
    FlagKind.EXPIRED: "Expired",
    FlagKind.EXPIRES_SOON: "Expires soon",
    FlagKind.ROTATED_OLD_ACTIVE: "Rotated, still active",
}
_FLAG_ORDER = {kind: n for n, kind in enumerate(FlagKind)}


def _date(value: datetime | None) -> str:
    return value.date().isoformat() if value else "unknown date"


def _lines_text(lines: tuple[int, ...], total: int) -> str:
    named = ", ".join(str(n) for n in lines[:MAX_LINES_NAMED])
    more = total - min(total, MAX_LINES_NAMED)
    if more > 0:
        return f"lines {named} and {more} more"
    return f"line {named}" if total == 1 else f"lines {named}"


class Flag(NamedTuple):
    """A row worth action; ``reason`` says why in a sentence a person can act on.

    A NamedTuple whose reason is written on demand: a 100,000-row file can have
    tens of thousands of flags, and the window shows a screenful at a time.
    """

    line: int
    kind: FlagKind
    id: str | None = None
    label: str | None = None
    when: datetime | None = None  # last used (unused_90_days) or created (never_used_30_days)
    days: int = 0  # days from ``when`` to "now"
    others: tuple[int, ...] = ()  # the first few other lines of a duplicate label
    other_count: int = 0  # how many other lines have that label
    status_known: bool = True
    successor: str | None = None  # rotated_old_still_active: the key that replaced this one

    @property
    def reason(self) -> str:
        state = "Active" if self.status_known else "Status not in the file"
        if self.kind is FlagKind.EXPIRED:
            return (f"Expired {days_text(self.days)} ago ({_date(self.when)}); "
                    "MCP clients using it are refused. "
                    "Renew it or rotate it, or delete it if nothing needs it.")
        if self.kind is FlagKind.EXPIRES_SOON:
            soon = "today" if self.days == 0 else f"in {days_text(self.days)}"
            return (f"{state}; expires {soon} ({_date(self.when)}). "
                    "Rotate it (or renew it) before then so its clients keep working.")
        if self.kind is FlagKind.ROTATED_OLD_ACTIVE:
            until = f" until {_date(self.when)}" if self.when else ""
            return (f"Rotated to {self.successor or 'a new key'} (line {', '.join(map(str, self.others))}), "
                    f"but this old key still works{until}. Deactivate it once its clients use the new key.")
        if self.kind is FlagKind.UNUSED_90_DAYS:
            return (
                f"{state}; last used {days_text(self.days)} ago ({_date(self.when)}). "
                "Deactivate it if nothing uses it any more."
            )
        if self.kind is FlagKind.NEVER_USED_30_DAYS:
            return (
                f"{state}; never used since it was created {days_text(self.days)} ago "
                f"({_date(self.when)}). Deactivate it if it was never set up."
            )
        return (
            f"The label {(self.label or '').strip()!r} is also on "
            f"{_lines_text(self.others, self.other_count)}; rename keys so each says where it is used."
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "kind": self.kind.value,
            "reason": self.reason,
            "id": self.id,
            "label": self.label,
        }


@dataclass(frozen=True, slots=True)
class Summary:
    """The figures of one file; None where the file has no column to say (e.g. no status column)."""

    total: int
    active: int | None
    deactivated: int | None
    status_unknown: int
    never_used: int | None
    unused_90_days: int | None
    oldest: CsvRow | None
    holds_secrets: bool
    kind: str
    expired: int | None = None  # None: neither status nor expires_at says
    expiring_30_days: int | None = None  # None: the file has no expires_at column


class Review:
    """Everything the review shows about one document.

    Flags are made on demand: ``flags_at(pos)`` for one row, ``flags`` for all.
    A 100,000-row file may have tens of thousands of them while the window
    shows a screenful; ``flagged`` (the row positions) is all the summary needs.
    """

    __slots__ = (
        "_duplicates", "_flags", "_has_last_used", "_has_status", "_rows", "_successors", "as_of", "flagged",
        "problems", "summary",
    )

    def __init__(
        self,
        summary: Summary,
        problems: list[CsvProblem],
        as_of: datetime,
        flagged: list[int],
        rows: list[CsvRow],
        has_status: bool,
        has_last_used: bool,
        duplicates: dict[str, list[int]],
        successors: dict[str, CsvRow] | None = None,
    ) -> None:
        self.summary = summary
        self.problems = problems
        self.as_of = as_of
        self.flagged = flagged  # positions in doc.rows of the rows with a flag, ascending
        self._rows = rows
        self._has_status = has_status
        self._has_last_used = has_last_used
        self._duplicates = duplicates  # label identity -> lines, for labels on several rows
        self._successors = successors or {}  # old key id -> the row that replaces it
        self._flags: list[Flag] | None = None

    def flags_at(self, pos: int) -> tuple[Flag, ...]:
        """The flags of the row at position ``pos`` of doc.rows: time flag first, then duplicate label."""
        row = self._rows[pos]
        found: list[Flag] = []
        if self._has_last_used and row.status is not KeyStatus.DEACTIVATED:
            used, made = row.last_used_at, row.created_at
            if used is not None:
                if used <= self.as_of - STALE_AFTER:
                    found.append(Flag(row.line, FlagKind.UNUSED_90_DAYS, row.id, row.label, used,
                                      (self.as_of - used).days, (), 0, self._has_status))
            elif made is not None and made <= self.as_of - NEVER_USED_GRACE:
                found.append(Flag(row.line, FlagKind.NEVER_USED_30_DAYS, row.id, row.label, made,
                                  (self.as_of - made).days, (), 0, self._has_status))
        found.extend(self._hygiene_flags(row))
        if self._duplicates:
            lines = self._duplicates.get(label_identity(row.label) or "")
            # A rotated-away key shares its successor's label without being a duplicate (the check
            # only when the file has rotations: a list search per row of a 100,000-row label group).
            if lines and (not self._successors or row.line in lines):
                others = tuple(n for n in lines[: MAX_LINES_NAMED + 1] if n != row.line)[:MAX_LINES_NAMED]
                found.append(Flag(row.line, FlagKind.DUPLICATE_LABEL, row.id, row.label, None, 0, others,
                                  len(lines) - 1))
        return tuple(found)

    def _hygiene_flags(self, row: CsvRow) -> list[Flag]:
        """Expired / expires soon / rotated but the old key still active, for one row."""
        found: list[Flag] = []
        now, expires, status = self.as_of, row.expires_at, row.status
        live = status is not KeyStatus.DEACTIVATED
        if status is KeyStatus.EXPIRED or (live and expires is not None and expires <= now):
            days = (now - expires).days if expires is not None and expires <= now else 0
            found.append(Flag(row.line, FlagKind.EXPIRED, row.id, row.label, expires, days, (), 0,
                              self._has_status))
        elif (live and expires is not None and expires <= now + EXPIRING_WITHIN
              and (row.id or "") not in self._successors):  # a rotated key's expiry ends its grace
            found.append(Flag(row.line, FlagKind.EXPIRES_SOON, row.id, row.label, expires,
                              (expires - now).days, (), 0, self._has_status))
        successor = self._successors.get(row.id or "")
        past = expires is not None and expires <= now
        if successor is not None and status is KeyStatus.ACTIVE and not past:
            found.append(Flag(row.line, FlagKind.ROTATED_OLD_ACTIVE, row.id, row.label, expires, 0,
                              (successor.line,), 1, self._has_status, successor.id))
        return found

    @property
    def flags(self) -> list[Flag]:
        """Every flag, in row order."""
        if self._flags is None:
            self._flags = [flag for pos in self.flagged for flag in self.flags_at(pos)]
        return self._flags

    def to_json(self) -> dict[str, Any]:
        """The ``--summary --json`` object; never contains a full secret."""
        s = self.summary
        return {
            "kind": s.kind,
            "holds_secrets": s.holds_secrets,
            "as_of": format_ts(self.as_of),
            "total": s.total,
            "active": s.active,
            "deactivated": s.deactivated,
            "status_unknown": s.status_unknown,
            "never_used": s.never_used,
            "unused_90_days": s.unused_90_days,
            "expired": s.expired,
            "expiring_30_days": s.expiring_30_days,
            "oldest_key": row_json(s.oldest) if s.oldest else None,
            "flags": [f.to_json() for f in self.flags],
            "problems": [{"line": p.line, "message": p.message} for p in self.problems],
        }


def shown_key(row: CsvRow) -> str | None:
    """The key as it may be shown or printed: a full secret is redacted."""
    if row.key is None:
        return None
    return redact(row.key) if row.holds_secret else row.key


def row_json(row: CsvRow) -> dict[str, Any]:
    """A row for JSON output; the key is always the redacted form."""
    return {
        "line": row.line,
        "id": row.id,
        "label": row.label,
        "key": shown_key(row),
        "status": row.status.value if row.status else None,
        "created_at": format_ts(row.created_at),
        "last_used_at": format_ts(row.last_used_at),
        "expires_at": format_ts(row.expires_at),
        "replaces": row.replaces,
    }


def label_identity(label: str | None) -> str | None:
    """What makes two labels "the same" to a person: case, spaces and Unicode form ignored."""
    if not label:
        return None
    text = label if label.isascii() else unicodedata.normalize("NFC", label)
    return text.strip().casefold() or None


def review(doc: CsvDocument, now: datetime | None = None) -> Review:
    """Summarise ``doc`` and flag its rows as of ``now`` (default: the current time).

    Works on whole columns (rows are tuples; itemgetter pulls a column out in C)
    so 100,000 rows take about 0.1 s.
    """
    return _review(doc, now or utcnow())


def _review(doc: CsvDocument, now: datetime) -> Review:
    rows = doc.rows
    has_status = "status" in doc.columns
    has_last_used = "last_used_at" in doc.columns
    labels, statuses, created, last_used = (
        doc.column(name) for name in ("label", "status", "created_at", "last_used_at")
    )
    worth_action: list[int] = []
    unused_90 = 0
    if has_last_used:
        stale_before = now - STALE_AFTER
        fresh_after = now - NEVER_USED_GRACE
        deactivated = KeyStatus.DEACTIVATED
        unused_90 = sum(map(stale_before.__ge__, filter(None, last_used)))  # used, 90+ days ago
        worth_action = [
            pos
            for pos, (used, status, made) in enumerate(zip(last_used, statuses, created, strict=True))
            if status is not deactivated
            and (used <= stale_before if used is not None else made is not None and made <= fresh_after)
        ]
    duplicates, duplicate_positions = _duplicates(rows, labels)
    successors, hygiene_positions, expired, expiring = _hygiene(doc, statuses, now)
    if duplicates and successors:
        duplicates, duplicate_positions = _without_rotations(rows, duplicates, duplicate_positions,
                                                             successors)
    extra = set(duplicate_positions).union(hygiene_positions)
    flagged = sorted(extra.union(worth_action)) if extra else worth_action

    known_created = [c for c in created if c is not None]
    oldest = rows[created.index(min(known_created))] if known_created else None
    summary = Summary(
        total=len(rows),
        active=statuses.count(KeyStatus.ACTIVE) if has_status else None,
        deactivated=statuses.count(KeyStatus.DEACTIVATED) if has_status else None,
        status_unknown=statuses.count(None),
        never_used=last_used.count(None) if has_last_used else None,
        unused_90_days=unused_90 if has_last_used else None,
        oldest=oldest,
        holds_secrets=doc.holds_secrets,
        kind=doc.kind,
        expired=expired,
        expiring_30_days=expiring,
    )
    return Review(summary, list(doc.problems), now, flagged, rows, has_status, has_last_used, duplicates,
                  successors)


def _hygiene(doc: CsvDocument, statuses: list[Any], now: datetime
             ) -> tuple[dict[str, CsvRow], list[int], int | None, int | None]:
    """Rotation links (old id -> the row replacing it), the positions of rows with an expiry or
    rotation flag, and the expired / expiring-within-30-days counts (None when the file cannot say)."""
    rows = doc.rows
    has_expiry = "expires_at" in doc.columns
    successors: dict[str, CsvRow] = {}
    if "replaces" in doc.columns:
        for row in rows:
            if row.replaces:
                successors.setdefault(row.replaces, row)
    expired_status = KeyStatus.EXPIRED
    if not has_expiry and not successors:
        by_status = [pos for pos, status in enumerate(statuses) if status is expired_status]
        return successors, by_status, len(by_status) if "status" in doc.columns else None, None
    soon = now + EXPIRING_WITHIN
    deactivated, active = KeyStatus.DEACTIVATED, KeyStatus.ACTIVE
    positions: list[int] = []
    expired = expiring = 0
    for pos, (row, status) in enumerate(zip(rows, statuses, strict=True)):
        expires = row.expires_at
        past = expires is not None and expires <= now
        is_expired = status is expired_status or (status is not deactivated and past)
        is_soon = (not is_expired and status is not deactivated and expires is not None and expires <= soon
                   and (row.id or "") not in successors)
        expired += is_expired
        expiring += is_soon
        rotated = status is active and not past and (row.id or "") in successors
        if is_expired or is_soon or rotated:
            positions.append(pos)
    return successors, positions, expired, expiring if has_expiry else None


def _duplicates(rows: list[CsvRow], labels: list[str | None]) -> tuple[dict[str, list[int]], list[int]]:
    """Labels on more than one row (case, spaces and Unicode form ignored): identity -> lines, positions."""
    # None -> "" in C (dict.get with the label as its own default): only str is left.
    texts = cast("list[str]", list(map(_EMPTY_FOR_NONE.get, labels, labels)) if None in labels else labels)
    joined = "\n".join(texts)
    if not joined.isascii():
        # One NFC pass over all labels instead of one call per label: a line break is a starter that
        # nothing composes with, so normalising the joined text normalises each label on its own.
        # (A label holding a line break itself takes the per-label path.)
        normal = unicodedata.normalize("NFC", joined).split("\n")
        texts = normal if len(normal) == len(texts) else [label_identity(text) or "" for text in texts]
    idents = list(map(str.casefold, map(str.strip, texts)))  # label_identity, in C (idempotent)
    repeated = {ident for ident, n in Counter(idents).items() if n > 1 and ident}
    if not repeated:
        return {}, []
    positions = list(compress(count(), map(repeated.__contains__, idents)))
    lines_of: dict[str, list[int]] = {}
    for pos in positions:
        lines_of.setdefault(idents[pos], []).append(rows[pos].line)
    return lines_of, positions


_EMPTY_FOR_NONE: dict[str | None, str | None] = {None: ""}


def _without_rotations(rows: list[CsvRow], duplicates: dict[str, list[int]], positions: list[int],
                       successors: dict[str, CsvRow]) -> tuple[dict[str, list[int]], list[int]]:
    """A rotation's new key takes the old key's label: the two are not a duplicate. Leave out each
    old key whose successor is on the same label; a label still on 2+ rows stays a duplicate."""
    row_at_line = {rows[pos].line: rows[pos] for pos in positions}
    kept: dict[str, list[int]] = {}
    for ident, lines in duplicates.items():
        own = set(lines)
        rest = []
        for line in lines:
            successor = successors.get(row_at_line[line].id or "")
            if successor is None or successor.line not in own:
                rest.append(line)
        if len(rest) > 1:
            kept[ident] = rest
    keep_lines = {n for lines in kept.values() for n in lines}
    return kept, [pos for pos in positions if rows[pos].line in keep_lines]


# --- comparing two exports ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Change:
    """One key present in both files."""

    old: CsvRow
    new: CsvRow

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.new.id or self.old.id,
            "key": shown_key(self.new) or shown_key(self.old),
            "old_line": self.old.line,
            "new_line": self.new.line,
            "old_label": self.old.label,
            "new_label": self.new.label,
            "old_status": self.old.status.value if self.old.status else None,
            "new_status": self.new.status.value if self.new.status else None,
        }


@dataclass(frozen=True, slots=True)
class Rotation:
    """A key of the newer file that replaces (``replaces``) a key of the older one: old -> new."""

    old: CsvRow  # the old key's row in the older file
    new: CsvRow  # the new key's row in the newer file
    old_now: CsvRow | None = None  # the old key's row in the newer file (None: gone from it)

    def to_json(self) -> dict[str, Any]:
        now = self.old_now
        return {
            "old_id": self.old.id, "new_id": self.new.id,
            "old_key": shown_key(self.old), "new_key": shown_key(self.new),
            "old_label": self.old.label, "new_label": self.new.label,
            "old_status": now.status.value if now is not None and now.status else None,  # in the newer file
            "old_line": self.old.line, "new_line": self.new.line,
        }


@dataclass(slots=True)
class Comparison:
    """What changed from an old export to a new one."""

    added: list[CsvRow]
    removed: list[CsvRow]
    status_changed: list[Change]
    label_changed: list[Change]
    unchanged: int
    matched_by_key: int
    rotations: list[Rotation] = field(default_factory=list)  # new keys that replace old ones (also in added)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed or self.status_changed or self.label_changed)

    def to_json(self) -> dict[str, Any]:
        return {
            "added": [row_json(r) for r in self.added],
            "removed": [row_json(r) for r in self.removed],
            "status_changed": [c.to_json() for c in self.status_changed],
            "label_changed": [c.to_json() for c in self.label_changed],
            "rotations": [r.to_json() for r in self.rotations],
            "unchanged": self.unchanged,
            "matched_by_key": self.matched_by_key,
        }


def _match_key(row: CsvRow) -> str | None:
    """The redacted key: the same for a full secret and for its Download-CSV preview."""
    shown = shown_key(row)
    return shown.strip() or None if shown else None


def compare(old: CsvDocument, new: CsvDocument) -> Comparison:
    """Match the rows of two exports and list what was added, removed, or changed.

    Rows are matched by id; a row without an id (e.g. the shown-once secret file)
    is matched by its redacted key instead. Two rows that both have ids never
    match by key, since different ids are different keys.
    """
    return _compare(old, new)


def _compare(old: CsvDocument, new: CsvDocument) -> Comparison:
    new_by_id: dict[str, int] = {}
    for pos, row in enumerate(new.rows):
        if row.id:
            new_by_id.setdefault(row.id, pos)
    taken = [False] * len(new.rows)
    pairs: list[tuple[CsvRow, CsvRow]] = []
    unmatched: list[CsvRow] = []
    for row in old.rows:
        pos = new_by_id.get(row.id, -1) if row.id else -1
        if pos >= 0 and not taken[pos]:
            taken[pos] = True
            pairs.append((row, new.rows[pos]))
        else:
            unmatched.append(row)

    removed: list[CsvRow] = []
    by_key = 0
    if unmatched:
        new_by_key: dict[str, list[int]] = {}
        for pos, row in enumerate(new.rows):
            k = None if taken[pos] else _match_key(row)
            if k:
                new_by_key.setdefault(k, []).append(pos)
        for row in unmatched:
            k = _match_key(row)
            candidates = new_by_key.get(k, []) if k else []
            pos = next((p for p in candidates if not taken[p] and not (row.id and new.rows[p].id)), -1)
            if pos < 0:
                removed.append(row)
            else:
                taken[pos] = True
                pairs.append((row, new.rows[pos]))
                by_key += 1

    status_changed: list[Change] = []
    label_changed: list[Change] = []
    unchanged = 0
    for before, after in pairs:
        status_differs = None not in (before.status, after.status) and before.status is not after.status
        label_differs = (before.label or "") != (after.label or "")
        if status_differs:
            status_changed.append(Change(before, after))
        if label_differs:
            label_changed.append(Change(before, after))
        if not (status_differs or label_differs):
            unchanged += 1
    status_changed.sort(key=_new_line)
    label_changed.sort(key=_new_line)
    added = [row for pos, row in enumerate(new.rows) if not taken[pos]]
    return Comparison(added, removed, status_changed, label_changed, unchanged, by_key,
                      _rotations(old, new, added))


def _rotations(old: CsvDocument, new: CsvDocument, added: list[CsvRow]) -> list[Rotation]:
    """Keys added in the newer file whose ``replaces`` names a key of the older one."""
    if "replaces" not in new.columns:
        return []
    before = {row.id: row for row in old.rows if row.id}
    now_rows = {row.id: row for row in new.rows if row.id}
    found = []
    for row in added:
        if row.replaces and row.replaces in before:
            found.append(Rotation(before[row.replaces], row, now_rows.get(row.replaces)))
    return found


def _new_line(change: Change) -> int:
    return change.new.line
