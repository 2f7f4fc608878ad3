"""Key expiry: the hub's key policy, its rules, durations like ``90d``, and "in 6 days" texts.

One home for these rules: the hub enforces them (422 ``invalid_expiry``), the CLI
and the window check them before asking, and every message comes from here.
Times are always the hub's: callers pass the hub's "now" (see HubClient.hub_now),
never a local clock that may be skewed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .timestamps import format_ts, parse_ts

# No expiry further out than this, whatever the policy says (keeps dates in range everywhere).
ABSOLUTE_MAX_LIFETIME_DAYS = 36_500
SECONDS_PER_DAY = 86_400


class InvalidExpiry(ValueError):
    """An expiry that breaks a rule; ``rule`` names it (past, policy_max, no_expiry, format, both)."""

    def __init__(self, message: str, rule: str) -> None:
        super().__init__(message)
        self.message = message
        self.rule = rule


@dataclass(frozen=True, slots=True)
class KeyPolicy:
    """The hub's key policy (``key_policy`` in /api/v1/mcp/config); None means no limit."""

    default_lifetime_days: int | None = 90
    max_lifetime_days: int | None = None
    max_rotation_grace_days: int = 30

    @property
    def allows_no_expiry(self) -> bool:
        return self.max_lifetime_days is None

    @property
    def max_grace_seconds(self) -> int:
        return self.max_rotation_grace_days * SECONDS_PER_DAY

    @property
    def max_days(self) -> int:
        """The longest lifetime a key may be given, in days."""
        return min(self.max_lifetime_days or ABSOLUTE_MAX_LIFETIME_DAYS, ABSOLUTE_MAX_LIFETIME_DAYS)

    def problem(self) -> str | None:
        """Why this policy is inconsistent, or None."""
        longest = ABSOLUTE_MAX_LIFETIME_DAYS
        if self.max_lifetime_days is not None and not 1 <= self.max_lifetime_days <= longest:
            return f"the maximum key lifetime must be 1 to {ABSOLUTE_MAX_LIFETIME_DAYS} days"
        if self.default_lifetime_days is not None:
            if not 1 <= self.default_lifetime_days <= self.max_days:
                return f"the default key lifetime must be 1 to {self.max_days} days (the maximum)"
        elif self.max_lifetime_days is not None:
            return "a hub with a maximum key lifetime needs a default lifetime too"
        if not 0 <= self.max_rotation_grace_days <= 365:
            return "the maximum rotation grace must be 0 to 365 days"
        return None

    @classmethod
    def from_json(cls, data: Any) -> KeyPolicy:
        if not isinstance(data, dict):
            raise ValueError("key_policy is not an object")

        def days(name: str, default: int | None, nullable: bool = True) -> int | None:
            value = data.get(name, default)
            if value is None and nullable:
                return None
            if type(value) is not int or value < 0:
                raise ValueError(f"key_policy.{name} is not a whole number of days")
            return value

        grace = days("max_rotation_grace_days", 30, nullable=False)
        assert grace is not None
        return cls(default_lifetime_days=days("default_lifetime_days", None),
                   max_lifetime_days=days("max_lifetime_days", None), max_rotation_grace_days=grace)

    def to_json(self) -> dict[str, Any]:
        return {"default_lifetime_days": self.default_lifetime_days,
                "max_lifetime_days": self.max_lifetime_days,
                "max_rotation_grace_days": self.max_rotation_grace_days}

    def resolve(self, now: datetime, *, expires_at: str | None = None, expires_in_days: int | None = None,
                no_expiry: bool = False, given: bool = True) -> datetime | None:
        """The expiry a create or change asks for, checked; None means "never expires".

        ``given`` False (the request said nothing about expiry) means "no expiry" when
        the policy allows it, else the default lifetime. Raises InvalidExpiry.
        """
        if sum((expires_at is not None, expires_in_days is not None, no_expiry)) > 1:
            raise InvalidExpiry("Give either expires_at or expires_in_days, not both.", "both")
        if expires_in_days is not None:
            if type(expires_in_days) is not int or not 1 <= expires_in_days <= self.max_days:
                raise InvalidExpiry(f"expires_in_days must be a whole number from 1 to {self.max_days}"
                                    + (" (this hub's maximum key lifetime)." if self.max_lifetime_days
                                       else "."), "policy_max")
            return now + timedelta(days=expires_in_days)
        if expires_at is not None:
            try:
                when = parse_ts(expires_at)
            except ValueError:
                when = None
            if when is None:
                raise InvalidExpiry("expires_at must be an RFC 3339 time with a timezone, "
                                    "e.g. 2027-03-01T00:00:00Z.", "format")
            when = when.replace(microsecond=0)
            if when <= now:
                raise InvalidExpiry(f"expires_at must be in the future (the hub's time is {format_ts(now)}).",
                                    "past")
            limit = now + timedelta(days=self.max_days)
            if when > limit:
                raise InvalidExpiry(f"expires_at may be at most {self.max_days} days ahead"
                                    + (" (this hub's maximum key lifetime)" if self.max_lifetime_days else "")
                                    + f", i.e. not after {format_ts(limit)}.", "policy_max")
            return when
        if no_expiry or not given:
            if self.allows_no_expiry:
                return None
            if no_expiry:
                raise InvalidExpiry(f"This hub does not allow keys without expiry (at most "
                                    f"{self.max_lifetime_days} days).", "no_expiry")
            return now + timedelta(days=self.default_lifetime_days or self.max_days)
        return None

    def check_grace(self, grace_seconds: int) -> int:
        """``grace_seconds`` if within 0..the policy's maximum; else InvalidExpiry (rule grace)."""
        if type(grace_seconds) is not int or not 0 <= grace_seconds <= self.max_grace_seconds:
            raise InvalidExpiry(f"grace_seconds must be 0 to {self.max_grace_seconds} "
                                f"({self.max_rotation_grace_days} days, this hub's maximum rotation grace).",
                                "grace")
        return grace_seconds


_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhdw]?)\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": SECONDS_PER_DAY, "w": 7 * SECONDS_PER_DAY,
                 "": SECONDS_PER_DAY}


def parse_duration(text: str) -> int:
    """Seconds in ``90d``, ``12h``, ``2w``, ``30m``, ``45s`` (a bare number is days); ValueError else."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"not a duration: {text!r} (use e.g. 90d, 12h, 2w or 0)")
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]


def parse_date(text: str) -> datetime:
    """An RFC 3339 time, or a plain date (``2027-03-01``, midnight UTC); ValueError otherwise."""
    text = (text or "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return datetime.fromisoformat(text).replace(tzinfo=UTC)
    try:
        value = parse_ts(text)
    except ValueError:
        value = None
    if value is None:
        raise ValueError(f"not a date: {text!r} (use 2027-03-01 or 2027-03-01T12:00:00Z)")
    return value


def duration_text(seconds: float) -> str:
    """``3 days``, ``5 hours``, ``1 minute``, ``0 seconds``: the largest whole unit."""
    seconds = abs(int(seconds))
    for unit, size in (("day", SECONDS_PER_DAY), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"


def remaining_text(seconds: float) -> str:
    """Time left: whole days rounded from 1.5 days on (``3 days`` for 2 days 23 hours, so a new
    30-day key reads ``30 days`` a second later), else ``duration_text``'s largest unit.

    Why one rule: the Expires column, its tooltip, the reminders and the CLI must say the same
    number of days for the same key.
    """
    if seconds >= 1.5 * SECONDS_PER_DAY:
        return f"{round(seconds / SECONDS_PER_DAY)} days"
    return duration_text(seconds)


def expiry_text(expires_at: datetime | None, now: datetime) -> str:
    """``Never``, ``in 6 days``, ``Expired 2 days ago``, as the list shows it (``now`` = the hub's time)."""
    if expires_at is None:
        return "Never"
    delta = (expires_at - now).total_seconds()
    if delta <= 0:
        return f"Expired {duration_text(delta)} ago" if delta <= -60 else "Expired just now"
    return f"in {remaining_text(delta)}"


def expires_within(expires_at: datetime | None, now: datetime, seconds: float) -> bool:
    """Whether a key with this expiry has not expired yet but will within ``seconds``."""
    return expires_at is not None and now < expires_at <= now + timedelta(seconds=seconds)
