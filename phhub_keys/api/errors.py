"""Typed errors for hub API failures, each with a message a person can act on."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..core.models import McpKey


class HubError(Exception):
    """Any failure talking to the hub: data for ``api.messages``, plus the client's own sentence.

    ``code`` is the hub's machine code when it sent one, ``status`` the HTTP status when the hub
    answered, ``host`` the hub's host:port (set by the ``HubClient`` that raised it).
    """

    def __init__(self, message: str, *, code: str = "error", status: int | None = None,
                 host: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.host = host


class AuthenticationError(HubError):
    """Bad credentials, or the session token expired or was revoked (401): sign in again."""


class NotFound(HubError):
    """The key does not exist (or belongs to someone else) (404)."""


class KeyActive(HubError):
    """Deleting an active key was refused (409 key_active): deactivate it first."""


class KeyLimit(HubError):
    """The account has as many keys as the hub allows (409 key_limit)."""


class IdempotencyReplayUnavailable(HubError):
    """A retried create already made a key whose secret the hub can no longer send (409
    ``idempotency_replay_unavailable``: the hub restarted, or the replay expired).

    ``key`` is that key (its current state) when the hub named it. Its secret is gone for
    good: the key should be deactivated and a new one created.
    """

    def __init__(self, message: str, *, key: McpKey | None, code: str = "idempotency_replay_unavailable",
                 status: int | None = 409) -> None:
        super().__init__(message, code=code, status=status)
        self.key = key

    @property
    def key_id(self) -> str | None:
        return self.key.id if self.key is not None else None


class InvalidLabel(HubError):
    """The hub refused a label (422 invalid_label)."""


class InvalidExpiry(HubError):
    """The hub refused an expiry or a rotation grace (422 invalid_expiry); the message names the rule,
    ``rule`` is its code (past, policy_max, no_expiry, format, both, grace) when the hub sent one."""

    rule: str | None = None


class KeyInactive(HubError):
    """Rotating a deactivated or expired key (409 key_inactive), or reactivating an expired one
    (409 key_expired: renew it instead)."""


class AlreadyRotated(HubError):
    """The key was rotated before (409 already_rotated); ``successor`` is the id of the key that
    replaced it, ``successor_key`` that key as the hub sent it (label and preview, to name it to
    a person) when it did."""

    def __init__(self, message: str, *, successor: str | None = None, code: str = "already_rotated",
                 status: int | None = 409, successor_key: McpKey | None = None) -> None:
        super().__init__(message, code=code, status=status)
        self.successor = successor
        self.successor_key = successor_key


class InvalidRequest(HubError):
    """The hub refused a request as malformed (other 4xx)."""


class RateLimited(HubError):
    """Too many requests (429); ``retry_after`` is in seconds when the hub said."""

    def __init__(self, message: str, *, retry_after: float | None = None, code: str = "rate_limited",
                 status: int | None = 429) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class HubUnavailable(HubError):
    """The hub could not be reached, timed out, or answered 5xx: try again later.

    For a create whose outcome is unknown, ``idempotency_key`` is set: calling
    ``create_key`` again with it (within the hub's 10 minutes) returns the same
    key and secret instead of minting a second key.
    """

    idempotency_key: str | None = None


class HubTimeout(HubUnavailable):
    """The hub accepted the connection but did not answer within the client's timeout."""


class TlsError(HubUnavailable):
    """The secure connection failed (certificate not trusted, wrong host name, ...)."""


class ProtocolError(HubError):
    """The hub answered something that is not the API's shape (malformed JSON, wrong fields)."""


class InsecureTransportError(HubError):
    """Plain http:// to a non-loopback host, refused unless explicitly allowed."""


class KeyringUnavailable(Exception):
    """No usable OS keyring: the session cannot be remembered (never falls back to a file).

    ``reason`` is ``"missing"`` (no trusted backend: none, turned off, or only a
    plaintext file / low-priority one), ``"locked"`` (the user did not unlock it) or
    ``"error"`` (the backend failed); the message says what to do in the app.
    ``problem`` is the why alone, for callers (the CLI) that give their own advice.
    """

    def __init__(self, message: str, *, reason: str = "missing", problem: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.problem = problem or message
