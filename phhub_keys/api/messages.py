"""The words for a failed hub call, in one place: the window's banner, the tray and the CLI say
the same thing for the same failure.

Errors carry data (``api.errors.HubError``: code, status, host, and ``retry_after`` for a rate
limit); this module (Qt-free) turns that data into sentences a person can act on.
"""

from __future__ import annotations

from .errors import HubError, HubUnavailable, ProtocolError, RateLimited


def duration_text(seconds: float) -> str:
    """``1 second`` / ``45 seconds`` / ``3 minutes`` (whole seconds rounded up, at least one)."""
    whole = max(1, int(-(-seconds // 1)))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{-(-whole // 60)} minutes"


def rate_limited_text(retry_after: float | None) -> str:
    """A 429: how long the hub asked us to wait, when it said."""
    wait = f"Wait {duration_text(retry_after)}" if retry_after else "Wait a moment"
    return f"Too many requests to the hub. {wait} and try again."


def failure_text(exc: BaseException, hub: str = "") -> str:
    """The sentence shown for a failed hub call (sign-in problems are each surface's own).

    ``hub`` (host:port) names the hub when the error itself does not (``exc.host`` unset: an
    error that did not come from a ``HubClient``).
    """
    if isinstance(exc, RateLimited):
        return rate_limited_text(exc.retry_after)
    if isinstance(exc, HubUnavailable):
        detail = exc.message.rstrip()
        if exc.status is not None:  # the hub answered, with a server error
            return f"{detail} Press Retry to try again."
        if exc.host is None and hub:  # the client names the hub in its own messages
            detail = f"Can't reach the hub at {hub}: {detail}"
        return f"{detail} Check your network connection, then press Retry."
    if isinstance(exc, ProtocolError):  # an answer we could not read: not a refusal
        return f"{exc.message} Press Retry to try again."
    if isinstance(exc, HubError):
        return f"The hub refused the request: {exc.message}"
    return f"Something went wrong talking to the hub ({type(exc).__name__}: {exc})."
