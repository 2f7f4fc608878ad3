"""HubClient: the hub API (docs hub-api.md) over one ``requests.Session``.

Why it looks the way it does:

- Every call has a (connect, read) timeout and an overall deadline (3x the
  timeout by default: a server dripping a byte every few seconds cannot hold a
  call longer), and reads at most ``MAX_RESPONSE_BYTES`` of any answer
  (``transport.py``), so a dead, slow or hostile server can never hang a
  worker thread or fill memory.
- Only GETs are retried by the transport (urllib3 ``Retry`` on the adapter):
  they are idempotent. A POST/PATCH/DELETE is never retried blindly; the one
  exception is ``create_key``, which retries once *with the same
  Idempotency-Key*, so a response lost in transit returns the same key and
  secret instead of minting a second key.
- Every failure becomes one of the typed errors of ``errors.py`` with a
  message a person can act on; no ``requests`` exception leaks out.
- TLS verification is always on; plain http:// is accepted only for loopback
  hosts unless explicitly allowed (``core.net.validate_hub_url``).
- The session token is sent per request (not stored in session headers) and
  never appears in ``repr``, logs or the call log.

Threads: one client may be used from worker threads. urllib3's connection
pool is thread-safe and the client keeps no per-call state on the session
(no cookies, no session-level auth), so concurrent calls work; the tests run
several at once. Changing ``token`` while calls run affects only later calls.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote, urlsplit

import requests
from urllib3.connectionpool import ConnectionPool
from urllib3.exceptions import MaxRetryError, NameResolutionError, NewConnectionError, ReadTimeoutError
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from .. import __version__
from ..core.expiry import KeyPolicy
from ..core.keyformat import is_valid_key, redact
from ..core.models import (
    EventPage,
    McpConfig,
    McpKey,
    ModelError,
    NewKey,
    RotatedKey,
    User,
    keys_from_json,
    keys_from_list_body,
)
from ..core.net import MAX_RESPONSE_BYTES, InsecureUrlError, display_host, proxies_for, validate_hub_url
from ..core.timestamps import format_ts, parse_ts
from .errors import (
    AlreadyRotated,
    AuthenticationError,
    HubError,
    HubTimeout,
    HubUnavailable,
    IdempotencyReplayUnavailable,
    InsecureTransportError,
    InvalidExpiry,
    InvalidLabel,
    InvalidRequest,
    KeyActive,
    KeyInactive,
    KeyLimit,
    NotFound,
    ProtocolError,
    RateLimited,
    TlsError,
)
from .messages import rate_limited_text
from .transport import BodyTooLarge, CallDeadline, DeadlineAdapter, read_capped

API_PREFIX = "/api/v1"
_KEY_ID = re.compile(r"mk_[0-9a-f]{16}")
GATEWAY_STATUSES = (502, 503, 504)
MAX_HUB_MESSAGE = 300
CALL_LOG_SIZE = 1000
DEADLINE_FACTOR = 3.0  # a call's overall deadline, in timeouts

__all__ = [
    "CallRecord",
    "HubClient",
    "LoginResult",
]


# A hub's Date this far from this computer's clock is ignored (hub_now() stays on this computer's).
MAX_HUB_CLOCK_SKEW = 100 * 365 * 86400.0


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class LoginResult:
    """What signing in returns; repr shows only the redacted token."""

    token: str = field(repr=False)
    expires_at: datetime | None
    user: User

    def __repr__(self) -> str:
        return (
            f"LoginResult(token={redact(self.token)!r}, expires_at={self.expires_at!r}, user={self.user!r})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class CallRecord:
    """One HTTP exchange, for diagnostics and tests (e.g. "no call ran on the GUI
    thread"). Holds no body, header or token: only the method and API path."""

    method: str
    path: str
    thread_name: str
    thread_id: int
    status: int | None  # None when no HTTP answer arrived
    outcome: str  # "ok" or the error class name
    seconds: float

    @property
    def on_main_thread(self) -> bool:
        return self.thread_id == threading.main_thread().ident


class _GetOnlyRetry(Retry):
    """Retry policy for the adapter: GETs retry on connection errors, broken
    connections and 502/503/504; read timeouts are not retried (a slow hub will
    not get faster, and the user would wait a multiple of the timeout); every
    other method fails on the first error, even a connect error, so that only
    ``create_key`` decides when a POST is repeated."""

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if (method or "").upper() != "GET" or isinstance(error, ReadTimeoutError):
            # read=False re-raises a read error as itself, so requests still
            # reports a read timeout as ReadTimeout (not a ConnectionError).
            return Retry.increment(self.new(total=0, read=False), method, url, response, error, _pool,
                                   _stacktrace)
        return super().increment(method, url, response, error, _pool, _stacktrace)


# --------------------------------------------------------------------------- client


class HubClient:
    """The hub's management API. Methods raise HubError subclasses only."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 10.0,
        allow_insecure_http: bool = False,
        connect_timeout: float | None = None,
        get_retries: int = 2,
        retry_backoff: float = 0.3,
        on_request: Callable[[CallRecord], None] | None = None,
        deadline: float | None = None,
        max_response_bytes: int = MAX_RESPONSE_BYTES,
    ) -> None:
        try:
            self._base_url = validate_hub_url(base_url, allow_insecure_http)
        except InsecureUrlError as exc:
            raise InsecureTransportError(str(exc), code="insecure_transport") from None
        self.allow_insecure_http = allow_insecure_http  # the user's explicit choice; setup follows it too
        self._token = _checked_token(token)
        self._timeouts = (min(timeout, 5.0) if connect_timeout is None else connect_timeout, timeout)
        self.timeout = timeout
        self.deadline = DEADLINE_FACTOR * timeout if deadline is None else deadline
        self.max_response_bytes = max_response_bytes
        self.on_request = on_request
        self.calls: deque[CallRecord] = deque(maxlen=CALL_LOG_SIZE)
        # core.net's rule (shared with the key check): never a proxy for a hub on this machine.
        self._proxies = proxies_for(self._base_url)
        # The hub's clock minus ours, from the Date header of its last answer (see hub_now).
        self._clock_offset: float | None = None
        retry = _GetOnlyRetry(
            total=get_retries,
            connect=get_retries,
            read=get_retries,
            status=get_retries,
            other=0,
            backoff_factor=retry_backoff,
            status_forcelist=GATEWAY_STATUSES,
            allowed_methods=frozenset({"GET"}),
            raise_on_status=False,
            respect_retry_after_header=False,
        )
        self._session = requests.Session()
        agent = f"phhub-keys/{__version__} {requests.utils.default_user_agent()}"
        self._session.headers["User-Agent"] = agent
        self._session.headers["Accept"] = "application/json"
        self._session.verify = True
        adapter = DeadlineAdapter(max_retries=retry, pool_connections=2, pool_maxsize=8)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    # -- plumbing ----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def token(self) -> str | None:
        return self._token

    @token.setter
    def token(self, value: str | None) -> None:
        self._token = _checked_token(value)

    @property
    def signed_in(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        return f"HubClient({self._base_url!r}, signed_in={self.signed_in})"

    __str__ = __repr__

    def close(self) -> None:
        """Close pooled connections; the client can still be used afterwards."""
        self._session.close()

    def __enter__(self) -> HubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _record(self, method: str, path: str, status: int | None, outcome: str, started: float) -> None:
        thread = threading.current_thread()
        record = CallRecord(
            method, path, thread.name, threading.get_ident(), status, outcome, time.perf_counter() - started
        )
        self.calls.append(record)
        if self.on_request is not None:
            self.on_request(record)

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        auth: bool = True,
    ) -> requests.Response:
        """Send one request; return a 2xx response or raise a typed HubError."""
        send_headers = dict(headers or {})
        if auth:
            token = self._token
            if not token:
                raise AuthenticationError(
                    f"You are not signed in to the hub at {self._base_url}. Sign in first.",
                    code="not_signed_in",
                )
            send_headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        status: int | None = None
        outcome = "ok"
        try:
            deadline = CallDeadline(self.deadline)
            try:
                with deadline:
                    response = self._session.request(
                        method,
                        self._base_url + API_PREFIX + path,
                        json=body,
                        headers=send_headers,
                        timeout=self._timeouts,
                        allow_redirects=False,
                        # None means "no proxy" to requests (its stubs allow only str).
                        proxies=self._proxies,  # type: ignore[arg-type]
                        stream=True,
                    )
                    status = response.status_code
                    read_capped(response, self.max_response_bytes)
            except BodyTooLarge as exc:
                raise self._too_large(exc) from None
            except requests.RequestException as exc:
                if deadline.expired:
                    raise self._deadline_error() from exc
                raise self._transport_error(exc) from exc
            self._note_hub_clock(response)
            if not 200 <= status < 300:
                raise self._error_for(response)
        except HubError as exc:
            outcome = type(exc).__name__
            if exc.host is None:
                exc.host = display_host(self._base_url)
            raise
        finally:
            self._record(method, path, status, outcome, started)
        return response

    def _deadline_error(self) -> HubTimeout:
        return HubTimeout(
            f"The hub at {self._base_url} did not finish answering within {self.deadline:g} seconds "
            "(it is answering very slowly). Try again in a moment.",
            code="timeout",
        )

    def _too_large(self, exc: BodyTooLarge) -> ProtocolError:
        size = f" ({exc.declared:,} bytes)" if exc.declared else ""
        return ProtocolError(
            f"The server at {self._base_url} sent an answer larger than this app reads "
            f"({exc.limit // (1024 * 1024)} MiB){size}; it stopped reading. Check that the address is "
            "a Performance Hub.",
            code="too_large",
        )

    def _note_hub_clock(self, response: requests.Response) -> None:
        date = response.headers.get("Date")
        if not date:
            return
        try:
            when = parsedate_to_datetime(date)
        except (TypeError, ValueError, IndexError):
            return
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        offset = (when - datetime.now(UTC)).total_seconds()
        if abs(offset) > MAX_HUB_CLOCK_SKEW:
            # Not a clock, a broken or hostile answer: "Date: ... 9999 23:59:59" made hub_now() and
            # every "now + 30 days" after it overflow (a traceback in the CLI, the window's timers).
            return
        self._clock_offset = offset

    def hub_now(self) -> datetime:
        """The hub's time now, as its last answer's ``Date`` header put it (to the second).

        Why: "expired" and "in 6 days" are the hub's to decide; a computer whose clock is
        off by a day must not call a key expired that the hub still accepts. Before any
        answer, this computer's clock.
        """
        now = datetime.now(UTC)
        if self._clock_offset is not None and abs(self._clock_offset) >= 1.5:  # Date has 1 s resolution
            now = now + timedelta(seconds=self._clock_offset)
        return now.replace(microsecond=0)

    def _transport_error(self, exc: requests.RequestException) -> HubUnavailable:
        where = self._base_url
        if isinstance(exc, requests.exceptions.SSLError):
            if "certificate" not in str(exc).lower():  # no certificate seen: not TLS at all
                return TlsError(
                    f"The secure connection to {where} failed: no TLS handshake (the server may not "
                    "speak https at this address). Check the address: http:// or https://, and the port.",
                    code="tls",
                )
            return TlsError(
                f"The secure connection to {where} failed: the hub's certificate could not be "
                "verified. Check the address; if the hub uses a private certificate authority, "
                "install it in the system trust store.",
                code="tls",
            )
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return HubUnavailable(
                f"Can't reach the hub at {where}: connecting timed out. Check the address and your network.",
                code="unreachable",
            )
        reason: object = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(reason, ReadTimeoutError):
            return HubTimeout(
                f"The hub at {where} did not answer within {self.timeout:g} seconds. Try again in a moment.",
                code="timeout",
            )
        if isinstance(exc, requests.exceptions.ConnectionError):
            if isinstance(reason, NameResolutionError):
                host = urlsplit(where).hostname
                return HubUnavailable(
                    f"Can't find the hub host {host!r} (name lookup failed). "
                    "Check the address and your network.",
                    code="unreachable",
                )
            if isinstance(reason, NewConnectionError):
                return HubUnavailable(f"Can't reach the hub at {where} — is it running?", code="unreachable")
            return HubUnavailable(
                f"The connection to the hub at {where} was lost before it answered. Try again.",
                code="connection_lost",
            )
        return HubUnavailable(
            f"The connection to the hub at {where} broke off mid-answer ({type(exc).__name__}). Try again.",
            code="connection_lost",
        )

    def _error_for(self, response: requests.Response) -> HubError:
        """Turn a non-2xx answer (ideally the hub's error envelope) into a typed error."""
        status = response.status_code
        code, hub_message = _envelope(response)
        where = self._base_url
        detail = f": {hub_message}" if hub_message else "."
        if 300 <= status < 400:
            target = response.headers.get("Location", "another address")
            return ProtocolError(
                f"The hub at {where} redirected the request to {target}. If the hub has moved, "
                "use its new address.",
                code="redirect",
                status=status,
            )
        if status >= 500:
            if status in GATEWAY_STATUSES:
                return HubUnavailable(
                    f"The hub at {where} is unavailable right now (HTTP {status}). Try again in a moment.",
                    code=code or "unavailable",
                    status=status,
                )
            return HubUnavailable(
                f"The hub at {where} had an internal error (HTTP {status}). Try again; if it keeps "
                "happening, tell the hub's administrator.",
                code=code or "server_error",
                status=status,
            )
        if code is None and status in (404, 405):
            path = urlsplit(response.url).path if response.url else "the API"
            return ProtocolError(
                f"The server at {where} does not look like a Performance Hub (HTTP {status} for {path}). "
                "Check the hub address.",
                code="not_a_hub",
                status=status,
            )
        if status == 401:
            if code == "invalid_credentials":
                return AuthenticationError(
                    "The email or password is not correct. Check them and try again.",
                    code=code,
                    status=status,
                )
            return AuthenticationError(
                "Your session with the hub has expired or was signed out. Sign in again.",
                code=code or "unauthorized",
                status=status,
            )
        if status == 404:
            return NotFound(
                "That key no longer exists on the hub (it may have been deleted elsewhere). "
                "Refresh the list.",
                code=code or "not_found",
                status=status,
            )
        if status == 409 and code == "key_active":
            return KeyActive(
                "An active key can't be deleted. Deactivate it first, then delete it.",
                code=code,
                status=status,
            )
        if status == 409 and code == "key_limit":
            return KeyLimit(
                "Your account has as many keys as the hub allows. Delete keys you no longer use, "
                "then try again.",
                code=code,
                status=status,
            )
        if status == 409 and code == "idempotency_replay_unavailable":
            return _replay_unavailable(response)
        if status == 409 and code == "already_rotated":
            successor = None
            successor_key: McpKey | None = None
            with contextlib.suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError):
                successor = json.loads(response.content)["error"]["key"]["id"]
            with contextlib.suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError,
                                     ModelError):
                successor_key = McpKey.from_json(json.loads(response.content)["error"]["key"])
            if not isinstance(successor, str) or not _KEY_ID.fullmatch(successor):
                found = _KEY_ID.search(hub_message or "")  # a hub that names it only in the message
                successor = found.group() if found else None
            if successor_key is not None and successor_key.id != successor:
                successor_key = None
            named = (f" (“{_printable(successor_key.label)}”, {_printable(successor_key.redacted)})"
                     if successor_key is not None else "")
            return AlreadyRotated(
                "This key was already rotated" + (f" to {successor}{named}" if successor else "")
                + ": rotate or renew that key instead.",
                successor=successor, code=code, status=status, successor_key=successor_key,
            )
        if status == 409 and code in ("key_inactive", "key_expired"):
            return KeyInactive(hub_message or "The key is deactivated or expired.", code=code, status=status)
        if status == 422 and code == "invalid_expiry":
            refused = InvalidExpiry(hub_message or "The hub refused this expiry.", code=code, status=status)
            with contextlib.suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError):
                rule = json.loads(response.content)["error"]["rule"]
                refused.rule = rule if isinstance(rule, str) and rule.isidentifier() else None
            return refused
        if status == 422 and code == "invalid_label":
            return InvalidLabel(hub_message or "The hub refused this label.", code=code, status=status)
        if status == 429:
            retry_after = _retry_after(response.headers.get("Retry-After"))
            return RateLimited(
                rate_limited_text(retry_after),
                retry_after=retry_after,
                code=code or "rate_limited",
            )
        if status == 413:
            return InvalidRequest(
                f"The hub refused the request as too large{detail}", code=code or "too_large", status=status
            )
        return InvalidRequest(
            f"The hub refused the request (HTTP {status}){detail}",
            code=code or "invalid_request",
            status=status,
        )

    def _json(self, response: requests.Response, what: str) -> Any:
        try:
            return json.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ProtocolError(
                f"The hub at {self._base_url} sent a {what} reply that is not valid JSON. "
                "Check that the address is a Performance Hub.",
                code="bad_json",
                status=response.status_code,
                host=display_host(self._base_url),
            ) from None

    def _shape_error(self, what: str, exc: Exception) -> ProtocolError:
        return ProtocolError(
            f"The hub at {self._base_url} sent a {what} reply this app does not understand ({exc}). "
            "The hub may run a different version of the API: check the hub address, and update this "
            "app if the hub is newer.",
            code="bad_shape",
            host=display_host(self._base_url),
        )

    def _parse(self, response: requests.Response, what: str, parse: Callable[[Any], Any]) -> Any:
        data = self._json(response, what)
        try:
            return parse(data)
        except (ModelError, KeyError, TypeError, AttributeError, ValueError) as exc:
            raise self._shape_error(what, exc) from None

    @staticmethod
    def _key_path(key_id: str) -> str:
        if not isinstance(key_id, str) or not key_id:
            raise ValueError("key_id must be a non-empty string")
        # Quoting everything keeps an id like "../me" inside the keys collection.
        return "/mcp/keys/" + quote(key_id, safe="")

    # -- API ---------------------------------------------------------------

    def login(self, email: str, password: str) -> LoginResult:
        """Sign in; on success the client uses the new session token."""
        try:
            response = self._request(
                "POST", "/auth/login", body={"email": email, "password": password}, auth=False
            )
        except NotFound as exc:  # the base address has an extra path: not "the key was deleted"
            raise ProtocolError(
                f"The server at {self._base_url} has no sign-in address (HTTP 404 for "
                f"{API_PREFIX}/auth/login). Check the hub address: give only its base address, "
                "e.g. https://hub.example.org.",
                code="not_a_hub",
                status=exc.status,
                host=exc.host,
            ) from None

        def parse(data: Any) -> LoginResult:
            token = data["token"]
            if not isinstance(token, str) or not _is_header_safe(token):
                raise ModelError("field 'token' missing, empty or not plain text")
            expires = data.get("expires_at")
            return LoginResult(
                token=token,
                expires_at=parse_ts(expires) if isinstance(expires, str) else None,
                user=User.from_json(data["user"]),
            )

        result: LoginResult = self._parse(response, "sign-in", parse)
        self._token = result.token
        return result

    def logout(self) -> None:
        """Revoke the session on the hub and forget the token.

        A token the hub already rejects (401) counts as signed out: the goal, a
        token nobody can use, holds. Other failures raise (the token is kept so
        the caller may retry, e.g. when the hub is down).
        """
        with contextlib.suppress(AuthenticationError):
            self._request("POST", "/auth/logout")
        self._token = None

    def logout_all(self) -> int:
        """Sign out everywhere: the hub revokes every session of this account, this one
        included; returns how many it ended. Unlike ``logout``, a 401 raises: with a dead
        token nothing could be revoked, so the other sessions may still be live."""
        response = self._request("POST", "/auth/logout-all")

        def parse(data: Any) -> int:
            revoked = data["revoked"]
            if not isinstance(revoked, int) or isinstance(revoked, bool) or revoked < 0:
                raise ModelError("field 'revoked' is not a count")
            return revoked

        revoked: int = self._parse(response, "sign-out", parse)
        self._token = None
        return revoked

    def me(self) -> User:
        return self._parse(self._request("GET", "/me"), "account", User.from_json)

    def mcp_config(self) -> McpConfig:
        return self._parse(self._request("GET", "/mcp/config"), "MCP configuration", McpConfig.from_json)

    def list_keys(self) -> list[McpKey]:
        """All keys of the signed-in user, newest first (the hub's order)."""

        def parse(data: Any) -> list[McpKey]:
            keys = data["keys"]
            if not isinstance(keys, list):
                raise ModelError("field 'keys' is not a list")
            return keys_from_json(keys)  # = [McpKey.from_json(k) ...], ~2x faster on big lists

        response = self._request("GET", "/mcp/keys")
        fast = keys_from_list_body(response.content)  # the hub's own shape, decoded in C
        return fast if fast is not None else self._parse(response, "key list", parse)

    def key_policy(self) -> KeyPolicy | None:
        """The hub's key policy (default / max lifetime, max rotation grace); None from a v1 hub."""
        return self.mcp_config().key_policy

    def _post_once_more(self, path: str, body: dict[str, Any], ikey: str) -> requests.Response:
        """POST with an Idempotency-Key, sent a second time (same key) if the answer was lost.

        If that fails too, the raised HubUnavailable carries ``idempotency_key``:
        passing it back to the same method within the hub's window recovers the result.
        """
        send = {"body": body, "headers": {"Idempotency-Key": ikey}}
        try:
            try:
                return self._request("POST", path, **send)  # type: ignore[arg-type]
            except HubUnavailable as first:
                if not _worth_retrying(first):
                    raise
                time.sleep(0.1)
                return self._request("POST", path, **send)  # type: ignore[arg-type]
        except HubUnavailable as exc:
            exc.idempotency_key = ikey
            raise

    def create_key(self, label: str, *, idempotency_key: str | None = None,
                   expires_at: datetime | None = None, expires_in_days: int | None = None,
                   no_expiry: bool = False) -> NewKey:
        """Create a key; the returned NewKey holds its one-time secret.

        Expiry: at most one of ``expires_at``, ``expires_in_days`` and ``no_expiry``;
        none of them lets the hub's policy decide (and keeps the v1 request body).
        If the answer is lost (connection error, timeout, 502-504), the request is
        sent once more with the same Idempotency-Key, so the hub returns the key it
        already made instead of a second one. If that fails too, the raised
        HubUnavailable carries ``idempotency_key``: passing it back here within
        the hub's window recovers the same secret.
        """
        if sum((expires_at is not None, expires_in_days is not None, no_expiry)) > 1:
            raise ValueError("give at most one of expires_at, expires_in_days and no_expiry")
        body: dict[str, Any] = {"label": label}
        if expires_at is not None:
            body["expires_at"] = format_ts(expires_at)
        elif expires_in_days is not None:
            body["expires_in_days"] = expires_in_days
        elif no_expiry:
            body["expires_at"] = None
        ikey = idempotency_key or uuid.uuid4().hex
        response = self._post_once_more("/mcp/keys", body, ikey)

        def parse(data: Any) -> NewKey:
            secret = data["secret"]
            if not isinstance(secret, str) or not is_valid_key(secret):
                raise ModelError("the new key's secret is not a valid MCP key")
            return NewKey(key=McpKey.from_json(data["key"]), secret=secret)

        return self._parse(response, "new key", parse)

    def rename_key(self, key_id: str, label: str) -> McpKey:
        response = self._request("PATCH", self._key_path(key_id), body={"label": label})
        return self._parse(response, "renamed key", McpKey.from_json)

    def set_expiry(self, key_id: str, expires_at: datetime | None) -> McpKey:
        """Change when a key expires (None: never, if the policy allows). Extending an
        expired key renews it. Raises InvalidExpiry naming the rule broken."""
        response = self._request("PATCH", self._key_path(key_id), body={"expires_at": format_ts(expires_at)})
        return self._parse(response, "key", McpKey.from_json)

    def rotate_key(self, key_id: str, *, grace_seconds: int = 0, label: str | None = None,
                   idempotency_key: str | None = None) -> RotatedKey:
        """Replace a key by a new one; the result holds the new key's one-time secret and
        the old key as it is now (working until the grace ends; deactivated for 0).

        A lost answer is retried once with the same Idempotency-Key, so the hub returns
        the same new key and secret (never a second successor); see create_key. A key
        rotated before raises AlreadyRotated naming its successor; a deactivated or
        expired one KeyInactive.
        """
        body: dict[str, Any] = {"grace_seconds": grace_seconds}
        if label is not None:
            body["label"] = label
        ikey = idempotency_key or uuid.uuid4().hex
        response = self._post_once_more(self._key_path(key_id) + "/rotate", body, ikey)

        def parse(data: Any) -> RotatedKey:
            secret = data["secret"]
            if not isinstance(secret, str) or not is_valid_key(secret):
                raise ModelError("the new key's secret is not a valid MCP key")
            return RotatedKey(key=McpKey.from_json(data["key"]), secret=secret,
                              replaces=McpKey.from_json(data["replaces"]))

        return self._parse(response, "rotated key", parse)

    def key_events(self, key_id: str, *, limit: int = 50, before: str | None = None) -> EventPage:
        """One key's activity, newest first (a deleted key's too, while the hub keeps it)."""
        return self._events(self._key_path(key_id) + "/events", limit, before)

    def account_events(self, *, limit: int = 50, before: str | None = None) -> EventPage:
        """The account's activity, newest first, deleted keys included; page with ``next_before``."""
        return self._events("/mcp/events", limit, before)

    def _events(self, path: str, limit: int, before: str | None) -> EventPage:
        if not 1 <= limit <= 200:
            raise ValueError("limit must be 1 to 200")
        query = f"?limit={limit}" + (f"&before={quote(before, safe='')}" if before else "")
        return self._parse(self._request("GET", path + query), "activity", EventPage.from_json)

    def deactivate_key(self, key_id: str) -> McpKey:
        response = self._request("POST", self._key_path(key_id) + "/deactivate")
        return self._parse(response, "deactivated key", McpKey.from_json)

    def reactivate_key(self, key_id: str) -> McpKey:
        response = self._request("POST", self._key_path(key_id) + "/reactivate")
        return self._parse(response, "reactivated key", McpKey.from_json)

    def delete_key(self, key_id: str) -> None:
        """Delete a deactivated key (an active one raises KeyActive)."""
        self._request("DELETE", self._key_path(key_id))


# --------------------------------------------------------------------------- helpers


def _is_header_safe(token: str) -> bool:
    return bool(token) and token.isascii() and token.isprintable() and " " not in token


def _checked_token(token: str | None) -> str | None:
    """A token must fit in an Authorization header (e.g. one read back from a
    damaged keyring entry must fail here, not as a confusing transport error)."""
    if not token:
        return None
    if not isinstance(token, str) or not _is_header_safe(token):
        raise ValueError("a session token is visible ASCII text without spaces")
    return token


def _worth_retrying(error: HubUnavailable) -> bool:
    """Whether a create may have reached the hub and the answer got lost."""
    if isinstance(error, TlsError):
        return False
    if error.status is not None:
        return error.status in GATEWAY_STATUSES
    return True


def _envelope(response: requests.Response) -> tuple[str | None, str | None]:
    """(code, message) of ``{"error": {"code", "message"}}``, or (None, None)."""
    try:
        data = json.loads(response.content)
    except (ValueError, UnicodeDecodeError):
        return None, None
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return None, None
    message = error.get("message")
    if isinstance(message, str):
        # A hostile or broken server must not inject control text into our UI.
        message = "".join(ch if ch.isprintable() else " " for ch in message).strip()[:MAX_HUB_MESSAGE]
    else:
        message = None
    return error["code"][:64], message or None


def _replay_unavailable(response: requests.Response) -> IdempotencyReplayUnavailable:
    """The 409 for a retried create whose key exists but whose secret is gone, naming that key."""
    key: McpKey | None = None
    with contextlib.suppress(ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError, ModelError):
        key = McpKey.from_json(json.loads(response.content)["error"]["key"])
    if key is None:
        what = "a key"
    else:
        what = f"the key “{_printable(key.label)}” ({_printable(key.redacted)}, id {_printable(key.id)})"
    return IdempotencyReplayUnavailable(
        f"The hub already made {what} for this request, but can no longer show its secret (the hub "
        "restarted or too much time passed), and it will never be shown again. Deactivate that key "
        "and create a new one.",
        key=key,
    )


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else " " for ch in text)[:MAX_HUB_MESSAGE]


def _retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    if not value:
        return None
    value = value.strip()
    with contextlib.suppress(ValueError):
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


