"""RFC 3339 UTC timestamps with second precision, as the hub API uses them."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time, aware, truncated to whole seconds."""
    return datetime.now(UTC).replace(microsecond=0)


def format_ts(value: datetime | None) -> str | None:
    """``2026-11-26T10:04:05Z`` for an aware datetime; None stays None."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: timestamps must be timezone-aware")
    # isoformat, not strftime("%Y"): glibc writes year 999 as "999", which is not RFC 3339.
    return value.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def parse_ts(text: str | None) -> datetime | None:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; empty gives None.

    Raises ValueError for text that is not a timestamp or has no timezone.
    """
    if text is None:
        return None
    text = text.strip()
    if not text:
        return None
    value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if value.tzinfo is None:
        raise ValueError(f"timestamp without a timezone: {text!r}")
    try:
        return value.astimezone(UTC)
    except OverflowError:
        # 0001-01-01T00:00:00+01:00 and 9999-12-31T23:59:59-01:00 are valid RFC 3339 but have
        # no UTC datetime: a ValueError like any other bad time (was a 500 on the hub, a
        # traceback in review and the client), since every caller handles ValueError.
        raise ValueError(f"timestamp outside the years 1-9999 in UTC: {text!r}") from None
