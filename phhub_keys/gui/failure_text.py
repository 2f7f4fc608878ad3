"""What the error banner says for each kind of hub failure: words a person can act on."""

from __future__ import annotations

from ..api.errors import HubError, HubUnavailable, ProtocolError, RateLimited


def failure_message(exc: BaseException, hub: str) -> str:
    """The banner text for a failed hub call (sign-in problems are handled by the window).

    ``hub`` is the hub's host:port, named when the hub could not be reached at all.
    """
    if isinstance(exc, RateLimited):
        wait = f" Try again in {int(exc.retry_after)} s." if exc.retry_after else ""
        return f"The hub is busy and asked us to slow down.{wait}"
    if isinstance(exc, HubUnavailable):
        detail = exc.message.rstrip()
        if exc.status is not None:  # the hub answered, with a server error
            return f"{detail} Press Retry to try again."
        if hub not in detail:
            detail = f"Can't reach the hub at {hub}: {detail}"
        return f"{detail} Check your network connection, then press Retry."
    if isinstance(exc, ProtocolError):  # an answer we could not read: not a refusal
        return f"{exc.message} Press Retry to try again."
    if isinstance(exc, HubError):
        return f"The hub refused the request: {exc.message}"
    return f"Something went wrong talking to the hub ({type(exc).__name__}: {exc})."
